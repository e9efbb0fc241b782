package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"lifttrust"
	"lifttrust/scoring"
)

// Actor is who does something, for the audit log: a user id when the
// actor is a logged-in user, and a name (a username, or "system").
type Actor struct {
	UserID *int64
	Name   string
}

// AppealFiling is a firm's dispute of one evidence record.
type AppealFiling struct {
	FirmUSCC   string
	RecordKind string
	RecordID   string
	Indicator  string // optional: dispute the record for this indicator only
	Reason     string
}

// Appeal is a stored appeal.
type Appeal struct {
	ID             int64
	FirmUSCC       string
	RecordKind     string
	RecordID       string
	Indicator      string
	Reason         string
	Status         string // pending, accepted, rejected
	FiledBy        *int64
	FiledAt        time.Time
	DecidedBy      *int64
	DecidedAt      *time.Time
	DecisionReason string
}

// appealErr turns a broken appeal rule (scoring.AppealError) into an
// invalid-input error whose bilingual message the firm sees.
func appealErr(err error) error {
	var ae *scoring.AppealError
	if errors.As(err, &ae) {
		return lifttrust.Errorf(lifttrust.ErrInvalid, "%s", ae.Msg)
	}
	return err
}

// FileAppeal records a firm's appeal against a record that is evidence in
// its current score, with an audit-log row. The rules (kind, reason, the
// window after the run that first charged the record) are package
// scoring's; a record of another firm is not found. A second pending
// appeal on the same record is a conflict.
func (s *ScoreStore) FileAppeal(ctx context.Context, f AppealFiling, by Actor) (Appeal, error) {
	checked, err := scoring.CheckFiling(scoring.AppealFiling{RecordKind: f.RecordKind, RecordID: f.RecordID, Indicator: f.Indicator, Reason: f.Reason})
	if err != nil {
		return Appeal{}, appealErr(err)
	}
	f.RecordID, f.Reason = checked.RecordID, checked.Reason
	reason := f.Reason
	var a Appeal
	err = s.db.InTx(ctx, func(tx pgx.Tx) error {
		// Only what costs the firm points now can be contested.
		var found bool
		err := tx.QueryRow(ctx, `
			SELECT EXISTS (SELECT 1 FROM score_evidence e
			    JOIN (SELECT max(run_id) AS run_id FROM scores WHERE firm_uscc = $1) l ON l.run_id = e.run_id
			    WHERE e.firm_uscc = $1 AND e.record_kind = $2 AND e.record_id = $3 AND ($4 = '' OR e.indicator = $4))`,
			f.FirmUSCC, f.RecordKind, f.RecordID, f.Indicator).Scan(&found)
		if err != nil {
			return fmt.Errorf("find evidence: %w", MapErr(err))
		}
		if !found {
			return lifttrust.Errorf(lifttrust.ErrNotFound, "该记录不是本单位当前评分的扣分依据 / This record is not evidence in your current score")
		}
		var first time.Time
		err = tx.QueryRow(ctx, `SELECT first_charged FROM evidence_charges WHERE firm_uscc = $1 AND record_kind = $2 AND record_id = $3`,
			f.FirmUSCC, f.RecordKind, f.RecordID).Scan(&first)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("first charge of %s %s: %w", f.RecordKind, f.RecordID, MapErr(err))
		}
		if err == nil { // no row: charged before charges were remembered, so by the current run
			if err := scoring.CheckWindow(first, s.now(), s.AppealWindow); err != nil {
				return appealErr(err)
			}
		}
		err = tx.QueryRow(ctx, `
			INSERT INTO appeals (firm_uscc, record_kind, record_id, indicator, reason, filed_by)
			VALUES ($1, $2, $3, $4, $5, $6)
			RETURNING id, firm_uscc, record_kind, record_id, indicator, reason, status, filed_by, filed_at, decided_by, decided_at, decision_reason`,
			f.FirmUSCC, f.RecordKind, f.RecordID, f.Indicator, reason, by.UserID).Scan(appealDest(&a)...)
		if err != nil {
			err = MapErr(err)
			if errors.Is(err, lifttrust.ErrConflict) {
				return lifttrust.Errorf(lifttrust.ErrConflict, "此记录已有待处理的申诉 / This record already has a pending appeal")
			}
			return fmt.Errorf("insert appeal: %w", err)
		}
		return audit(ctx, tx, by, "appeal.filed", a)
	})
	if err != nil {
		return Appeal{}, err
	}
	return a, nil
}

// DecideAppeal accepts or rejects a pending appeal with a reason, writes
// the audit log and asks for the firm to be rescored (ChanScoreNeeded) in
// the same transaction. An accepted appeal removes the record from the
// firm's scoring from then on.
func (s *ScoreStore) DecideAppeal(ctx context.Context, id int64, accept bool, reason string, by Actor) (Appeal, error) {
	reason, err := scoring.CheckReason(reason)
	if err != nil {
		return Appeal{}, appealErr(err)
	}
	status := scoring.Decision(accept)
	var a Appeal
	err = s.db.InTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			UPDATE appeals SET status = $2, decided_by = $3, decided_at = now(), decision_reason = $4
			WHERE id = $1 AND status = 'pending'
			RETURNING id, firm_uscc, record_kind, record_id, indicator, reason, status, filed_by, filed_at, decided_by, decided_at, decision_reason`,
			id, status, by.UserID, reason).Scan(appealDest(&a)...)
		if errors.Is(err, pgx.ErrNoRows) {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM appeals WHERE id = $1)`, id).Scan(&exists); err != nil {
				return fmt.Errorf("find appeal: %w", MapErr(err))
			}
			if exists {
				return lifttrust.Errorf(lifttrust.ErrConflict, "此申诉已处理 / This appeal has already been decided")
			}
			return lifttrust.Errorf(lifttrust.ErrNotFound, "没有此申诉 / No such appeal")
		}
		if err != nil {
			return fmt.Errorf("decide appeal %d: %w", id, MapErr(err))
		}
		if err := audit(ctx, tx, by, "appeal."+status, a); err != nil {
			return err
		}
		// Rescore reading the part the record belongs to (a complaint or a
		// penalty is always read).
		need := scoring.ScoreNeed{USCC: a.FirmUSCC, Read: scoring.PartOf(a.RecordKind)}
		return Notify(ctx, tx, ChanScoreNeeded, []string{need.String()})
	})
	if err != nil {
		return Appeal{}, err
	}
	return a, nil
}

// AppealFilter selects appeals; empty fields match everything.
type AppealFilter struct {
	FirmUSCC string
	Status   string
	Limit    int // default 100, at most 1000
}

// Appeals lists appeals, newest first.
func (s *ScoreStore) Appeals(ctx context.Context, f AppealFilter) ([]Appeal, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	rows, err := s.db.Pool.Query(ctx, `
		SELECT id, firm_uscc, record_kind, record_id, indicator, reason, status, filed_by, filed_at, decided_by, decided_at, decision_reason
		FROM appeals WHERE ($1 = '' OR firm_uscc = $1) AND ($2 = '' OR status = $2)
		ORDER BY filed_at DESC, id DESC LIMIT $3`, f.FirmUSCC, f.Status, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list appeals: %w", MapErr(err))
	}
	var out []Appeal
	var a Appeal
	_, err = pgx.ForEachRow(rows, appealDest(&a), func() error {
		out = append(out, a)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list appeals: %w", MapErr(err))
	}
	return out, nil
}

func appealDest(a *Appeal) []any {
	return []any{&a.ID, &a.FirmUSCC, &a.RecordKind, &a.RecordID, &a.Indicator, &a.Reason, &a.Status, &a.FiledBy, &a.FiledAt,
		&a.DecidedBy, &a.DecidedAt, &a.DecisionReason}
}

func audit(ctx context.Context, tx pgx.Tx, by Actor, action string, a Appeal) error {
	detail, err := json.Marshal(map[string]any{
		"firm": a.FirmUSCC, "record_kind": a.RecordKind, "record_id": a.RecordID, "indicator": a.Indicator,
		"reason": a.Reason, "status": a.Status, "decision_reason": a.DecisionReason,
	})
	if err != nil {
		return fmt.Errorf("encode audit detail: %w", err)
	}
	name := by.Name
	if name == "" {
		name = "system"
	}
	if _, err := tx.Exec(ctx, `INSERT INTO audit_log (actor_id, actor, action, object_kind, object_id, detail) VALUES ($1, $2, $3, 'appeal', $4, $5)`,
		by.UserID, name, action, fmt.Sprint(a.ID), string(detail)); err != nil {
		return fmt.Errorf("audit %s: %w", action, MapErr(err))
	}
	return nil
}
