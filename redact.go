package lifttrust

import (
	"net/url"
	"strings"
)

// RedactURL returns u with the password of its user info replaced by ***,
// for logs and printed configuration: MQTT_URL and DATABASE_URL may carry
// credentials, and no secret is ever printed. A string that does not parse
// as a URL is returned as "(unparsable URL)", since it may hold a secret
// in a place we cannot find.
func RedactURL(u string) string {
	if u == "" {
		return ""
	}
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	masked := false
	if p.User != nil {
		if _, has := p.User.Password(); has {
			p.User = url.User(p.User.Username())
			masked = true
		}
	}
	q := p.Query()
	for _, k := range []string{"password", "sslpassword"} {
		if q.Has(k) {
			q.Set(k, "***")
		}
	}
	if len(q) > 0 {
		p.RawQuery = strings.ReplaceAll(q.Encode(), "%2A%2A%2A", "***")
	}
	out := p.String()
	if masked {
		user := p.User.String() + "@"
		out = strings.Replace(out, "//"+user, "//"+p.User.String()+":***@", 1)
	}
	return out
}
