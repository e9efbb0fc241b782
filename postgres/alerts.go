package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"lifttrust"
	"lifttrust/alert"
)

// ChanAlertDue carries the ids of entrapments whose alerts are due; the
// alert senders of every instance listen, and live screens may too.
const ChanAlertDue = "alert_due"

// AlertStore keeps firms' webhooks and the alert outbox (migration
// alerts): deliveries claimed with FOR UPDATE SKIP LOCKED and a lease, so
// of several instances exactly one sends each.
type AlertStore struct {
	db *DB
}

// NewAlertStore returns the alert store.
func NewAlertStore(db *DB) *AlertStore { return &AlertStore{db: db} }

// enqueueAlerts creates, in the transaction that opened them, the alerts
// of the entrapments in ids that are still open and have none yet: one
// delivery on MQTT and one by webhook when the firm has one. An entrapment
// on a lift that already has an open, alerted incident from within
// alert.JoinWindow joins it instead (no deliveries: the firm was told).
func enqueueAlerts(ctx context.Context, tx pgx.Tx, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `
		WITH fresh AS (
		    SELECT e.id, e.lift_code, e.firm_uscc FROM entrapments e
		     WHERE e.id = ANY($1) AND e.released_at IS NULL AND NOT e.false_alarm
		       AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.entrapment_id = e.id)
		), ins AS (
		    INSERT INTO alerts (entrapment_id, firm_uscc, joined_to)
		    SELECT f.id, f.firm_uscc,
		           (SELECT o.id FROM entrapments o JOIN alerts oa ON oa.entrapment_id = o.id AND oa.joined_to IS NULL
		             WHERE o.lift_code = f.lift_code AND o.id <> f.id AND o.released_at IS NULL AND NOT o.false_alarm
		               AND o.occurred_at > now() - $2::interval
		             ORDER BY o.occurred_at LIMIT 1)
		      FROM fresh f
		    ON CONFLICT DO NOTHING
		    RETURNING entrapment_id, firm_uscc, joined_to
		)
		INSERT INTO alert_deliveries (entrapment_id, channel)
		SELECT i.entrapment_id, 'mqtt' FROM ins i WHERE i.joined_to IS NULL
		UNION ALL
		SELECT i.entrapment_id, 'webhook' FROM ins i JOIN firm_webhooks w ON w.firm_uscc = i.firm_uscc WHERE i.joined_to IS NULL`,
		ids, alert.JoinWindow)
	if err != nil {
		return fmt.Errorf("enqueue alerts: %w", MapErr(err))
	}
	return Notify(ctx, tx, ChanAlertDue, ids)
}

// joinOrOpenReportIncident ties a passenger's trapped report to its
// lift's open entrapment from within alert.JoinWindow, or opens one
// (source 'report', alerted like the lift's own) when there is none. A
// lift with no maintaining firm gets no incident: nobody to alert.
func joinOrOpenReportIncident(ctx context.Context, tx pgx.Tx, lift, tracking string) error {
	var id string
	err := tx.QueryRow(ctx, `SELECT id FROM entrapments
	                          WHERE lift_code = $1 AND released_at IS NULL AND NOT false_alarm
	                            AND occurred_at > now() - $2::interval
	                          ORDER BY occurred_at LIMIT 1`, lift, alert.JoinWindow).Scan(&id)
	switch {
	case err == nil:
		_, err = tx.Exec(ctx, `UPDATE reports SET entrapment_id = $2 WHERE tracking_no = $1`, tracking, id)
		if err != nil {
			return fmt.Errorf("join report %s to %s: %w", tracking, id, MapErr(err))
		}
		return nil
	case err != pgx.ErrNoRows:
		return fmt.Errorf("find open entrapment on %s: %w", lift, MapErr(err))
	}
	id = alert.ReportIncidentID(tracking)
	tag, err := tx.Exec(ctx, `INSERT INTO entrapments (id, lift_code, firm_uscc, source, occurred_at)
	                          SELECT $1, registration_code, firm_uscc, 'report', now() FROM lifts
	                           WHERE registration_code = $2 AND firm_uscc IS NOT NULL`, id, lift)
	if err != nil {
		return fmt.Errorf("open entrapment for report %s: %w", tracking, MapErr(err))
	}
	if tag.RowsAffected() == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE reports SET entrapment_id = $2 WHERE tracking_no = $1`, tracking, id); err != nil {
		return fmt.Errorf("link report %s: %w", tracking, MapErr(err))
	}
	return enqueueAlerts(ctx, tx, []string{id})
}

// Claim leases up to n due deliveries on channel for lease and returns
// them with their payloads (the URL left empty: the sender knows the base
// URL). Rows another sender holds (locked, or leased and not expired) are
// skipped, so each delivery goes to one sender at a time.
func (s *AlertStore) Claim(ctx context.Context, channel string, n int, lease time.Duration) ([]alert.Delivery, error) {
	rows, err := s.db.Pool.Query(ctx, `
		WITH c AS (
		    UPDATE alert_deliveries d SET leased_until = now() + $3::interval, attempts = d.attempts + 1
		     WHERE d.id IN (SELECT id FROM alert_deliveries
		                     WHERE channel = $1 AND status = 'pending' AND next_at <= now()
		                       AND (leased_until IS NULL OR leased_until <= now())
		                     ORDER BY next_at LIMIT $2 FOR UPDATE SKIP LOCKED)
		    RETURNING d.id, d.entrapment_id, d.attempts
		)
		SELECT c.id, c.attempts, e.id, e.firm_uscc, e.lift_code, l.address, l.building, l.lift_no,
		       coalesce(ev.floor, st.floor), e.occurred_at, e.source, coalesce(w.url, ''), coalesce(w.secret, '')
		  FROM c
		  JOIN entrapments e ON e.id = c.entrapment_id
		  JOIN lifts l ON l.registration_code = e.lift_code
		  LEFT JOIN events ev ON ev.lift_code = e.lift_code AND ev.id = e.event_id
		  LEFT JOIN lift_status st ON st.lift_code = e.lift_code
		  LEFT JOIN firm_webhooks w ON w.firm_uscc = e.firm_uscc AND $1 = 'webhook'
		 ORDER BY e.occurred_at`, channel, n, lease)
	if err != nil {
		return nil, fmt.Errorf("claim %s alert deliveries: %w", channel, MapErr(err))
	}
	defer rows.Close()
	var out []alert.Delivery
	for rows.Next() {
		d := alert.Delivery{Channel: channel}
		var address, building, liftNo, source string
		var floor *int16
		if err := rows.Scan(&d.ID, &d.Attempt, &d.Alert.Incident, &d.Alert.Firm, &d.Alert.Lift, &address, &building, &liftNo,
			&floor, &d.Alert.RaisedAt, &source, &d.WebhookURL, &d.Secret); err != nil {
			return nil, fmt.Errorf("claim %s alert deliveries: %w", channel, err)
		}
		d.Alert.Address = alert.Place(address, building, liftNo)
		d.Alert.Source = alert.SourceOf(source)
		if floor != nil {
			f := int(*floor)
			d.Alert.Floor = &f
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim %s alert deliveries: %w", channel, MapErr(err))
	}
	return out, nil
}

// Finish records an attempt and what follows from it (alert.Delivery.After):
// sent (the alert's notified clock starts at the first), retried later,
// or dead (the firm's webhook marked dead). One transaction.
func (s *AlertStore) Finish(ctx context.Context, d alert.Delivery, o alert.Outcome) error {
	status, wait := d.After(o)
	errText := o.Err
	if len(errText) > 500 {
		errText = errText[:500]
	}
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		var status0 *int
		if o.HTTPStatus != 0 {
			status0 = &o.HTTPStatus
		}
		if _, err := tx.Exec(ctx, `INSERT INTO alert_attempts (delivery_id, attempt, ok, http_status, error, took_ms)
		                           VALUES ($1, $2, $3, $4, $5, $6)`,
			d.ID, d.Attempt, o.OK, status0, errText, o.Took.Milliseconds()); err != nil {
			return MapErr(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE alert_deliveries
		                              SET status = $2, leased_until = NULL, last_error = $3,
		                                  next_at = now() + $4::interval,
		                                  sent_at = CASE WHEN $2 = 'sent' THEN now() ELSE sent_at END
		                            WHERE id = $1`, d.ID, status, errText, wait); err != nil {
			return MapErr(err)
		}
		switch {
		case status == "sent":
			if _, err := tx.Exec(ctx, `UPDATE alerts SET notified_at = coalesce(notified_at, now()) WHERE entrapment_id = $1`,
				d.Alert.Incident); err != nil {
				return MapErr(err)
			}
			if d.Channel == alert.ChannelWebhook {
				if _, err := tx.Exec(ctx, `UPDATE firm_webhooks SET dead_since = NULL WHERE firm_uscc = $1`, d.Alert.Firm); err != nil {
					return MapErr(err)
				}
			}
		case status == "dead" && d.Channel == alert.ChannelWebhook:
			if _, err := tx.Exec(ctx, `UPDATE firm_webhooks SET dead_since = coalesce(dead_since, now()) WHERE firm_uscc = $1`,
				d.Alert.Firm); err != nil {
				return MapErr(err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("finish %s delivery %d of %s: %w", d.Channel, d.ID, d.Alert.Incident, err)
	}
	return nil
}

// SetWebhook registers (or replaces) firm's webhook and returns its new
// signing secret, which is shown once to the firm and never again.
func (s *AlertStore) SetWebhook(ctx context.Context, firm, url string) (secret string, err error) {
	if err := alert.ValidWebhookURL(url); err != nil {
		return "", lifttrust.Errorf(lifttrust.ErrInvalid, "%v", err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("webhook secret: %w", err)
	}
	secret = hex.EncodeToString(b)
	_, err = s.db.Pool.Exec(ctx, `INSERT INTO firm_webhooks (firm_uscc, url, secret) VALUES ($1, $2, $3)
	                               ON CONFLICT (firm_uscc) DO UPDATE SET url = EXCLUDED.url, secret = EXCLUDED.secret,
	                                   created_at = now(), dead_since = NULL`, firm, url, secret)
	if err != nil {
		return "", fmt.Errorf("set webhook of %s: %w", firm, MapErr(err))
	}
	return secret, nil
}

// DeleteWebhook removes firm's webhook; later alerts go on MQTT only.
func (s *AlertStore) DeleteWebhook(ctx context.Context, firm string) error {
	if _, err := s.db.Pool.Exec(ctx, `DELETE FROM firm_webhooks WHERE firm_uscc = $1`, firm); err != nil {
		return fmt.Errorf("delete webhook of %s: %w", firm, MapErr(err))
	}
	return nil
}

// OpenIncident is an open entrapment with the times its clocks need.
type OpenIncident struct {
	ID       string
	Lift     string
	District string
	Address  string
	Firm     string
	FirmName string
	Source   string // alert.SourceIoT or alert.SourcePassenger
	Times    alert.Incident
}

// OpenIncidents lists the open entrapments (not released, not a false
// alarm, not joined to another) of firm (every firm when empty), oldest
// first: the live screens' list.
func (s *AlertStore) OpenIncidents(ctx context.Context, firm string) ([]OpenIncident, error) {
	rows, err := s.db.Pool.Query(ctx, `
		SELECT e.id, e.lift_code, l.district_code, l.address, l.building, l.lift_no, e.firm_uscc, f.name, e.source,
		       e.occurred_at, a.notified_at, e.responded_at, e.arrived_at
		  FROM entrapments e
		  JOIN lifts l ON l.registration_code = e.lift_code
		  JOIN firms f ON f.uscc = e.firm_uscc
		  LEFT JOIN alerts a ON a.entrapment_id = e.id
		 WHERE e.released_at IS NULL AND NOT e.false_alarm AND a.joined_to IS NULL
		   AND ($1 = '' OR e.firm_uscc = $1)
		 ORDER BY e.occurred_at`, firm)
	if err != nil {
		return nil, fmt.Errorf("open incidents: %w", MapErr(err))
	}
	defer rows.Close()
	var out []OpenIncident
	for rows.Next() {
		var in OpenIncident
		var address, building, liftNo, source string
		var notified, responded, arrived *time.Time
		if err := rows.Scan(&in.ID, &in.Lift, &in.District, &address, &building, &liftNo, &in.Firm, &in.FirmName, &source,
			&in.Times.Occurred, &notified, &responded, &arrived); err != nil {
			return nil, fmt.Errorf("open incidents: %w", err)
		}
		in.Address = alert.Place(address, building, liftNo)
		in.Source = alert.SourceOf(source)
		for _, p := range []struct {
			src *time.Time
			dst *time.Time
		}{{notified, &in.Times.Notified}, {responded, &in.Times.Responded}, {arrived, &in.Times.Arrived}} {
			if p.src != nil {
				*p.dst = *p.src
			}
		}
		out = append(out, in)
	}
	return out, MapErr(rows.Err())
}
