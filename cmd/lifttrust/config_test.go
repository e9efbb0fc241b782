package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // substring; "" = valid
	}{
		{"an empty environment gives laptop defaults", nil, ""},
		{"a postgres URL is accepted", map[string]string{"DATABASE_URL": "postgres://u@db:5432/lt"}, ""},
		{"a mysql URL is rejected", map[string]string{"DATABASE_URL": "mysql://u@db/lt"}, "DATABASE_URL"},
		{"an MQTT URL without host is rejected", map[string]string{"MQTT_URL": "tcp://"}, "MQTT_URL"},
		{"an HTTP address without port is rejected", map[string]string{"HTTP_ADDR": "localhost"}, "HTTP_ADDR"},
		{"a short secret is rejected", map[string]string{"LIFTTRUST_SECRET": "short"}, "LIFTTRUST_SECRET"},
		{"an emergency number with letters is rejected", map[string]string{"LIFTTRUST_EMERGENCY_NUMBER": "96x33"}, "EMERGENCY"},
		{"a negative offline threshold is rejected", map[string]string{"LIFTTRUST_OFFLINE_AFTER": "-1m"}, "LIFTTRUST_OFFLINE_AFTER"},
		{"an idle timeout longer than the absolute one is rejected", map[string]string{"LIFTTRUST_SESSION_IDLE": "13h"}, "LIFTTRUST_SESSION_IDLE"},
		{"a lock-out after zero failures is rejected", map[string]string{"LIFTTRUST_LOCK_AFTER": "0"}, "LIFTTRUST_LOCK_AFTER"},
		{"a public base URL must be http(s)", map[string]string{"PUBLIC_BASE_URL": "ftp://x"}, "PUBLIC_BASE_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(envOf(tt.env))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if c.HTTPAddr == "" || c.PublicBaseURL == "" || c.DataDir == "" || c.EmergencyNo == "" {
					t.Fatalf("defaults missing: %+v", c)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
			}
		})
	}
}

func TestConfigPrintMasksSecrets(t *testing.T) {
	c, err := LoadConfig(envOf(map[string]string{
		"DATABASE_URL":     "postgres://lt:hunter2hunter2@db:5432/lt",
		"MQTT_URL":         "tcp://ingest:mqttpass-in-url@broker:1883",
		"MQTT_USERNAME":    "ingest",
		"MQTT_PASSWORD":    "mqttpass-in-env",
		"LIFTTRUST_SECRET": "0123456789abcdef0123456789abcdef-topsecret",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	c.Print(&b)
	for _, secret := range []string{"hunter2", "topsecret", "mqttpass"} {
		if strings.Contains(b.String(), secret) {
			t.Fatalf("printed config leaks %q: %s", secret, b.String())
		}
	}
}

func TestEnsureSecretGeneratesOnceAndKeepsIt(t *testing.T) {
	dir := t.TempDir()
	c, _ := LoadConfig(envOf(map[string]string{"LIFTTRUST_DATA_DIR": dir}))
	if err := c.EnsureSecret(); err != nil {
		t.Fatal(err)
	}
	first := c.Secret
	c2, _ := LoadConfig(envOf(map[string]string{"LIFTTRUST_DATA_DIR": dir}))
	if err := c2.EnsureSecret(); err != nil {
		t.Fatal(err)
	}
	if len(first) < 32 || c2.Secret != first {
		t.Fatalf("secret not generated once and reused: %q vs %q", first, c2.Secret)
	}
}

func TestLogFormatJSONWritesOneObjectPerLine(t *testing.T) {
	cfg, err := LoadConfig(envOf(map[string]string{"LOG_FORMAT": "json"}))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	newLogger(cfg, &b).With("component", "http").Info("request", "request_id", "abc")
	var line map[string]any
	if err := json.Unmarshal(b.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON object: %q: %v", b.String(), err)
	}
	for k, want := range map[string]string{"msg": "request", "level": "INFO", "component": "http", "request_id": "abc"} {
		if line[k] != want {
			t.Errorf("%s = %v, want %q", k, line[k], want)
		}
	}
	if _, err := LoadConfig(envOf(map[string]string{"LOG_FORMAT": "xml"})); err == nil || !strings.Contains(err.Error(), "LOG_FORMAT") {
		t.Errorf("LOG_FORMAT=xml: err = %v, want one naming LOG_FORMAT", err)
	}
}
