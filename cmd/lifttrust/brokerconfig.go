package main

import (
	"context"
	"fmt"
	"time"

	"lifttrust/mqttauth"
	"lifttrust/postgres"
)

// runBrokerConfig writes a Mosquitto configuration that enforces every
// credential issued so far:
//
//	lifttrust broker-config --listen HOST:PORT --out DIR [--data DIR]
//
// DIR/mosquitto.conf names DIR/passwd (mosquitto_passwd's $7$ format) and
// DIR/acl (pattern and per-user rules); anonymous clients are refused.
// Re-run it after issuing or revoking credentials and send Mosquitto
// SIGHUP (docs/operations.md).
func runBrokerConfig(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("broker-config", e)
	listen := fs.String("listen", "127.0.0.1:1883", "HOST:PORT Mosquitto listens on")
	out := fs.String("out", "", "directory to write mosquitto.conf, passwd and acl into")
	data := fs.String("data", "/var/lib/mosquitto/", "Mosquitto's persistence directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("broker-config: --out DIR is required")
	}
	return e.withMQTTUsers(ctx, func(s *postgres.MQTTUserStore) error {
		users, err := s.ChangedSince(ctx, time.Time{})
		if err != nil {
			return err
		}
		cfg := mqttauth.MosquittoConfig{Listen: *listen, Dir: *out, DataDir: *data, Rules: mqttauth.Rules{Prefix: e.cfg.MQTTTopicPrefix}}
		if err := mqttauth.WriteMosquitto(cfg, users); err != nil {
			return err
		}
		valid := 0
		for _, u := range users {
			if !u.Revoked() {
				valid++
			}
		}
		fmt.Fprintf(e.stdout, "wrote %s/{%s,%s,%s}: %d identities (%d revoked left out), topic prefix %q\n",
			*out, mqttauth.MosquittoConfFile, mqttauth.MosquittoPassFile, mqttauth.MosquittoACLFile, valid, len(users)-valid, e.cfg.MQTTTopicPrefix)
		return nil
	})
}
