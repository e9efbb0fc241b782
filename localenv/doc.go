// Package localenv brings up what LiftTrust needs on a laptop or a fresh
// Debian machine when no external services are configured: a private
// PostgreSQL cluster under the data directory (initdb + pg_ctl, installing
// Debian's postgresql package when it is missing and permitted) and an
// embedded MQTT broker (mochi-mqtt). Production points DATABASE_URL and
// MQTT_URL at real services and never calls this package.
package localenv
