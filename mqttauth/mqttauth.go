// Package mqttauth is who may say what on the MQTT broker: the identities
// LiftTrust issues (one per IoT lift, maintenance firm, inspection agency
// and LiftTrust service), their passwords, and the topic rules every
// broker enforces: the embedded mochi-mqtt through a hook (localenv),
// Mosquitto through the files WriteMosquitto produces, EMQX through its
// PostgreSQL authorization (docs/operations.md). The rules live here once.
package mqttauth

import (
	"fmt"
	"regexp"
	"strings"

	"lifttrust/fleet"
)

// Role is what kind of publisher an identity is.
type Role string

// The roles. The username of a lift is its registration code, of a firm or
// agency its USCC, of a service its name: the topics name the same
// identity, so the rules need nothing but the username.
const (
	RoleLift    Role = "lift"
	RoleFirm    Role = "firm"
	RoleAgency  Role = "agency"
	RoleService Role = "service"
)

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool {
	return r == RoleLift || r == RoleFirm || r == RoleAgency || r == RoleService
}

var serviceName = regexp.MustCompile(`^[a-z][a-z0-9_-]{1,31}$`)

// CheckUsername refuses a username that cannot be role's: a lift's must be
// a registration code, a firm's or agency's a USCC, a service's a lower-case
// name starting with a letter (so it can never be a code).
func CheckUsername(role Role, username string) error {
	switch role {
	case RoleLift:
		if !fleet.ValidRegistrationCode(username) {
			return fmt.Errorf("%q is not a lift registration code", username)
		}
	case RoleFirm, RoleAgency:
		if err := fleet.ValidateUSCC(username); err != nil {
			return fmt.Errorf("%q: %w", username, err)
		}
	case RoleService:
		if !serviceName.MatchString(username) {
			return fmt.Errorf("service name %q: want 2-32 of a-z 0-9 _ -, starting with a letter", username)
		}
	default:
		return fmt.Errorf("unknown role %q", role)
	}
	return nil
}

// Rules are the topic permissions under a deployment's topic prefix
// (LIFTTRUST_MQTT_TOPIC_PREFIX, e.g. "sh/"):
//
//   - a lift publishes only under {prefix}lifts/{its code}/;
//   - a firm publishes only under {prefix}firms/{its USCC}/ and subscribes
//     only to {prefix}firms/{its USCC}/alerts;
//   - an agency publishes only under {prefix}agencies/{its code}/;
//   - LiftTrust's services publish and subscribe to anything under the
//     prefix (ingest reads everything, the simulator plays every role);
//   - nobody else connects (anonymous clients are refused by the brokers).
//
// Topics starting with $ ($SYS) are refused to everyone.
type Rules struct {
	Prefix string
}

// own is the topic level under which username of role may publish, "" for
// a service (anything under the prefix).
func (r Rules) own(role Role, username string) (string, bool) {
	switch role {
	case RoleLift:
		return r.Prefix + "lifts/" + username + "/", true
	case RoleFirm:
		return r.Prefix + "firms/" + username + "/", true
	case RoleAgency:
		return r.Prefix + "agencies/" + username + "/", true
	case RoleService:
		return r.Prefix, true
	}
	return "", false
}

// MayPublish reports whether username of role may publish to topic.
func (r Rules) MayPublish(role Role, username, topic string) bool {
	if strings.HasPrefix(topic, "$") || strings.ContainsAny(topic, "+#") {
		return false
	}
	own, ok := r.own(role, username)
	return ok && strings.HasPrefix(topic, own) && len(topic) > len(own)
}

// MayRead reports whether username of role may subscribe to filter, or
// receive a message on topic (the same check: a topic is a filter without
// wildcards). Shared subscriptions ($share/group/filter) are checked on
// their filter.
func (r Rules) MayRead(role Role, username, filter string) bool {
	if rest, ok := strings.CutPrefix(filter, "$share/"); ok {
		_, f, found := strings.Cut(rest, "/")
		if !found {
			return false
		}
		filter = f
	}
	if strings.HasPrefix(filter, "$") {
		return false
	}
	switch role {
	case RoleService:
		return strings.HasPrefix(filter, r.Prefix) && (r.Prefix == "" || len(filter) > len(r.Prefix) || filter == r.Prefix)
	case RoleFirm:
		return filter == r.Alerts(username)
	}
	return false
}

// Alerts is the topic a firm's system subscribes to for its alerts.
func (r Rules) Alerts(uscc string) string { return r.Prefix + "firms/" + uscc + "/alerts" }
