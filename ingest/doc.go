// Package ingest owns how data enters LiftTrust over MQTT: the wire format
// (messages.go, shared with the simulator), the decoders that validate it,
// the paho client with its persistent session, the bounded queue and the
// batch writer that acknowledges messages only after PostgreSQL committed
// them, and the derivation of lift state episodes from the status stream.
// See docs/mqtt.md for the interface.
package ingest
