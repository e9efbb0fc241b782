// Package fleet owns the lift domain's vocabulary: the identifiers (lift
// registration codes, device codes, unified social credit codes) with their
// validators, the districts of Shanghai, and the enumerations of
// shared/DOMAIN.md (service modes, fault codes, maintenance kinds, rescue
// stages and causes). It is pure: no I/O, no database, no framework.
package fleet
