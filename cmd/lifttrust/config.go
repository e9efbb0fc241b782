package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"lifttrust"
)

// Config is the whole configuration, read once from the environment
// (12-factor) with defaults that work on a laptop.
type Config struct {
	DatabaseURL string // DATABASE_URL; empty = private cluster under DataDir/pg
	MQTTURL     string // MQTT_URL; empty = embedded broker. May carry user:password.
	// MQTTUsername and MQTTPassword are ingest's service credentials on an
	// external broker (MQTT_USERNAME, MQTT_PASSWORD; user info in MQTT_URL
	// takes precedence). Issue them with lifttrust mqtt-user add --service.
	MQTTUsername  string
	MQTTPassword  string
	HTTPAddr      string // HTTP_ADDR
	PublicBaseURL string // PUBLIC_BASE_URL, used in QR codes and links
	DataDir       string // LIFTTRUST_DATA_DIR
	Secret        string // LIFTTRUST_SECRET; generated into DataDir when unset
	SecretSource  string // "env" or the file it was read from
	EmergencyNo   string // LIFTTRUST_EMERGENCY_NUMBER, shown on every public page
	// MQTTShareGroup, when set, makes ingest subscribe through
	// $share/<group>/... so several instances split the load.
	MQTTShareGroup string // LIFTTRUST_MQTT_SHARE_GROUP
	MQTTClientID   string // LIFTTRUST_MQTT_CLIENT_ID (stable: persistent sessions)
	// MQTTTopicPrefix is a deployment prefix before every topic ("t42/"
	// gives "t42/lifts/{code}/status"), so deployments and tests sharing a
	// broker never see each other's traffic.
	MQTTTopicPrefix string        // LIFTTRUST_MQTT_TOPIC_PREFIX
	OfflineAfter    time.Duration // LIFTTRUST_OFFLINE_AFTER: heartbeats missing this long = offline
	ArrivalLimit    time.Duration // LIFTTRUST_ARRIVAL_LIMIT: entrapment arrival deadline (30 min in a city)
	Retention       time.Duration // LIFTTRUST_TELEMETRY_RETENTION: raw telemetry kept this long
	// DeadLetterRetention: dead letters kept this long (LIFTTRUST_DEAD_LETTER_RETENTION, 90 days).
	DeadLetterRetention time.Duration
	// DeadLetterLimit: dead letters stored per source and hour beyond
	// which refusals are only counted (LIFTTRUST_DEAD_LETTER_LIMIT, 1000).
	DeadLetterLimit int
	AllowInstall    bool   // LIFTTRUST_ALLOW_INSTALL: may apt-get install postgresql (default yes as root)
	LogLevel        string // LOG_LEVEL: info or debug
	LogFormat       string // LOG_FORMAT: text (default) or json, one object per line for a log collector
	// OpsToken, when set, is required (Authorization: Bearer) for /metrics
	// and for the per-check detail of /readyz (LIFTTRUST_OPS_TOKEN).
	OpsToken string
	// Sign-in (docs/operations.md, "Sign-in and sessions").
	SessionIdle     time.Duration // LIFTTRUST_SESSION_IDLE: a session unused this long ends (30m)
	SessionAbsolute time.Duration // LIFTTRUST_SESSION_ABSOLUTE: a session ends this long after sign-in (12h)
	LockAfter       int           // LIFTTRUST_LOCK_AFTER: wrong passwords in a row that lock a user name (5)
	LockFor         time.Duration // LIFTTRUST_LOCK_FOR: how long (15m)
	// LoginFailuresPerAddress failed sign-ins from one address per 15
	// minutes refuse further attempts from it (LIFTTRUST_LOGIN_FAILURES_PER_ADDRESS, 20).
	LoginFailuresPerAddress int
	// DemoPassword is the password of the demo logins that seed creates
	// (LIFTTRUST_DEMO_PASSWORD); empty means seed's default.
	DemoPassword string
	// Chromium is the browser that prints PDFs (LIFTTRUST_CHROMIUM); empty
	// finds Debian's chromium on PATH.
	Chromium string
}

// LoadConfig reads and validates the configuration.
func LoadConfig(getenv func(string) string) (Config, error) {
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		DatabaseURL:     get("DATABASE_URL", ""),
		MQTTURL:         get("MQTT_URL", ""),
		MQTTUsername:    get("MQTT_USERNAME", ""),
		MQTTPassword:    getenv("MQTT_PASSWORD"),
		HTTPAddr:        get("HTTP_ADDR", ":8080"),
		PublicBaseURL:   strings.TrimRight(get("PUBLIC_BASE_URL", ""), "/"),
		DataDir:         get("LIFTTRUST_DATA_DIR", ".data"),
		Secret:          get("LIFTTRUST_SECRET", ""),
		EmergencyNo:     get("LIFTTRUST_EMERGENCY_NUMBER", "96333"),
		MQTTShareGroup:  get("LIFTTRUST_MQTT_SHARE_GROUP", ""),
		MQTTClientID:    get("LIFTTRUST_MQTT_CLIENT_ID", ""),
		MQTTTopicPrefix: get("LIFTTRUST_MQTT_TOPIC_PREFIX", ""),
		LogLevel:        get("LOG_LEVEL", "info"),
		LogFormat:       get("LOG_FORMAT", "text"),
		OpsToken:        get("LIFTTRUST_OPS_TOKEN", ""),
		DemoPassword:    get("LIFTTRUST_DEMO_PASSWORD", ""),
		Chromium:        get("LIFTTRUST_CHROMIUM", ""),
	}
	var errs []error
	dur := func(k, def string) time.Duration {
		d, err := time.ParseDuration(get(k, def))
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: want a positive duration such as %s", k, def))
		}
		return d
	}
	c.OfflineAfter = dur("LIFTTRUST_OFFLINE_AFTER", "5m")
	c.ArrivalLimit = dur("LIFTTRUST_ARRIVAL_LIMIT", "30m")
	c.Retention = dur("LIFTTRUST_TELEMETRY_RETENTION", "9480h") // 13 months (395 days)
	c.SessionIdle = dur("LIFTTRUST_SESSION_IDLE", "30m")
	c.SessionAbsolute = dur("LIFTTRUST_SESSION_ABSOLUTE", "12h")
	c.LockFor = dur("LIFTTRUST_LOCK_FOR", "15m")
	count := func(k, def string) int {
		n, err := strconv.Atoi(get(k, def))
		if err != nil || n < 1 || n > 1000 {
			errs = append(errs, fmt.Errorf("%s: want a whole number from 1 to 1000 such as %s", k, def))
		}
		return n
	}
	c.LockAfter = count("LIFTTRUST_LOCK_AFTER", "5")
	c.LoginFailuresPerAddress = count("LIFTTRUST_LOGIN_FAILURES_PER_ADDRESS", "20")
	if c.SessionIdle > c.SessionAbsolute {
		errs = append(errs, errors.New("LIFTTRUST_SESSION_IDLE: longer than LIFTTRUST_SESSION_ABSOLUTE"))
	}
	c.DeadLetterRetention = dur("LIFTTRUST_DEAD_LETTER_RETENTION", "2160h")
	if n, err := strconv.Atoi(get("LIFTTRUST_DEAD_LETTER_LIMIT", "1000")); err != nil || n < 1 {
		errs = append(errs, errors.New("LIFTTRUST_DEAD_LETTER_LIMIT: want a positive number of dead letters per source and hour"))
	} else {
		c.DeadLetterLimit = n
	}
	allow, err := strconv.ParseBool(get("LIFTTRUST_ALLOW_INSTALL", "true"))
	if err != nil {
		errs = append(errs, errors.New("LIFTTRUST_ALLOW_INSTALL: want true or false"))
	}
	c.AllowInstall = allow

	if c.DatabaseURL != "" {
		if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			errs = append(errs, errors.New("DATABASE_URL: want postgres://user@host:port/db"))
		}
	}
	if c.MQTTURL != "" {
		if u, err := url.Parse(c.MQTTURL); err != nil || (u.Scheme != "tcp" && u.Scheme != "mqtt" && u.Scheme != "ssl" && u.Scheme != "tls") || u.Host == "" {
			errs = append(errs, errors.New("MQTT_URL: want tcp://host:port (or ssl://)"))
		}
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("HTTP_ADDR: want host:port or :port: %v", err))
	}
	if c.PublicBaseURL == "" {
		_, port, _ := net.SplitHostPort(c.HTTPAddr)
		c.PublicBaseURL = "http://localhost:" + port
	} else if u, err := url.Parse(c.PublicBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, errors.New("PUBLIC_BASE_URL: want http(s)://host[:port]"))
	}
	for _, ch := range c.EmergencyNo {
		if ch < '0' || ch > '9' {
			errs = append(errs, errors.New("LIFTTRUST_EMERGENCY_NUMBER: digits only"))
			break
		}
	}
	if c.MQTTClientID == "" {
		host, _ := os.Hostname()
		c.MQTTClientID = "lifttrust-ingest-" + host
	}
	if strings.ContainsAny(c.MQTTTopicPrefix, "+#") || (c.MQTTTopicPrefix != "" && !strings.HasSuffix(c.MQTTTopicPrefix, "/")) {
		errs = append(errs, errors.New("LIFTTRUST_MQTT_TOPIC_PREFIX: topic levels ending in / (such as sh/), no wildcards"))
	}
	if c.LogLevel != "info" && c.LogLevel != "debug" {
		errs = append(errs, errors.New("LOG_LEVEL: info or debug"))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, errors.New("LOG_FORMAT: text or json"))
	}
	if c.Secret != "" {
		c.SecretSource = "env"
		if len(c.Secret) < 32 {
			errs = append(errs, errors.New("LIFTTRUST_SECRET: at least 32 characters"))
		}
	}
	return c, errors.Join(errs...)
}

// EnsureSecret fills Secret from DataDir/secret, generating that file on
// first use, when LIFTTRUST_SECRET is unset.
func (c *Config) EnsureSecret() error {
	if c.Secret != "" {
		return nil
	}
	path := filepath.Join(c.DataDir, "secret")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		c.Secret, c.SecretSource = strings.TrimSpace(string(b)), path
		return nil
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return err
	}
	if err := os.MkdirAll(c.DataDir, 0o755); err != nil {
		return err
	}
	c.Secret = hex.EncodeToString(buf)
	if err := os.WriteFile(path, []byte(c.Secret+"\n"), 0o600); err != nil {
		return fmt.Errorf("write generated secret: %w", err)
	}
	c.SecretSource = path + " (generated)"
	return nil
}

// Print writes the configuration with secrets masked: passwords in
// DATABASE_URL and MQTT_URL, MQTT_PASSWORD and the secret are never printed.
func (c Config) Print(w io.Writer) {
	db := c.DatabaseURL
	if db == "" {
		db = "(unset: private cluster in " + filepath.Join(c.DataDir, "pg") + ")"
	} else {
		db = lifttrust.RedactURL(db)
	}
	mq := c.MQTTURL
	if mq == "" {
		mq = "(unset: embedded broker)"
	} else {
		mq = lifttrust.RedactURL(mq)
	}
	mqUser := c.MQTTUsername
	if c.MQTTPassword != "" {
		mqUser += " (password ***)"
	}
	secret := "(not loaded)"
	if c.Secret != "" {
		secret = "*** from " + c.SecretSource
	}
	fmt.Fprintf(w, "config: DATABASE_URL=%s MQTT_URL=%s MQTT_USERNAME=%s HTTP_ADDR=%s PUBLIC_BASE_URL=%s LIFTTRUST_DATA_DIR=%s LIFTTRUST_SECRET=%s emergency=%s share_group=%q topic_prefix=%q offline_after=%s arrival_limit=%s retention=%s session_idle=%s session_absolute=%s lock=%d/%s\n",
		db, mq, mqUser, c.HTTPAddr, c.PublicBaseURL, c.DataDir, secret, c.EmergencyNo, c.MQTTShareGroup, c.MQTTTopicPrefix, c.OfflineAfter, c.ArrivalLimit, c.Retention,
		c.SessionIdle, c.SessionAbsolute, c.LockAfter, c.LockFor)
}
