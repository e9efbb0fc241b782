package alert

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Webhook headers (docs/api.md).
const (
	HeaderTimestamp = "X-LiftTrust-Timestamp" // Unix seconds when signed
	HeaderSignature = "X-LiftTrust-Signature" // "v1=" + hex HMAC-SHA256
	HeaderDelivery  = "X-LiftTrust-Delivery"  // delivery id, the same on every retry
	HeaderIncident  = "X-LiftTrust-Incident"  // the incident id, for de-duplication
)

// SignatureTolerance is how far a webhook's timestamp may be from the
// receiver's clock before Verify refuses it (a replayed request).
const SignatureTolerance = 5 * time.Minute

// Sign returns the signature header value of body sent at ts: HMAC-SHA256
// keyed by the firm's secret over "<unix seconds>.<body>". The timestamp is
// inside the MAC so a captured request cannot be replayed later with a
// new one.
func Sign(secret []byte, ts time.Time, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// Errors of Verify.
var (
	ErrBadSignature = errors.New("webhook signature does not match")
	ErrStale        = errors.New("webhook timestamp outside the tolerance")
)

// Verify checks a received webhook as a firm's receiver should: the
// timestamp header within SignatureTolerance of now, and the signature
// header equal (in constant time) to Sign over the body.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q", ErrBadSignature, timestamp)
	}
	ts := time.Unix(sec, 0)
	if d := now.Sub(ts); d > SignatureTolerance || d < -SignatureTolerance {
		return fmt.Errorf("%w: %s off", ErrStale, d.Round(time.Second))
	}
	if !hmac.Equal([]byte(signature), []byte(Sign(secret, ts, body))) {
		return ErrBadSignature
	}
	return nil
}

// ValidWebhookURL says whether u may receive alerts: absolute HTTPS with a
// host, no credentials in the URL (the signature authenticates us; a
// password in a URL ends up in logs).
func ValidWebhookURL(u string) error {
	p, err := url.Parse(u)
	switch {
	case err != nil:
		return fmt.Errorf("webhook URL: %w", err)
	case p.Scheme != "https":
		return errors.New("webhook URL must start with https://")
	case p.Host == "" || strings.HasPrefix(p.Host, ":"):
		return errors.New("webhook URL has no host")
	case p.User != nil:
		return errors.New("webhook URL must not carry credentials")
	case len(u) > 500:
		return errors.New("webhook URL longer than 500 characters")
	}
	return nil
}
