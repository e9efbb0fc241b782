package scoring

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// The appeal rules. A firm contests one record that costs it points; an
// inspector decides. They live here, not in the store, because they are
// the model's rules (which records may be contested, for how long) and
// the store only keeps what they allow.

// Appeal states.
const (
	AppealPending  = "pending"
	AppealAccepted = "accepted"
	AppealRejected = "rejected"
)

// AppealableKinds are the record kinds a firm may contest: each names a
// record of the firm's own. KindFirm (the part of a loss that comes from
// shrinkage toward the prior, not from any record) cannot be contested.
var AppealableKinds = []string{KindMaintenance, KindInspection, KindEvent, KindEntrapment, KindReport, KindPenalty, KindLift, KindSpotCheck}

// Reason bounds, in characters (not bytes: a Chinese reason of 2,000
// characters is 6,000 bytes of UTF-8).
const (
	MinReason = 1
	MaxReason = 2000
)

// DefaultAppealWindow is how long a record stays contestable after the
// scoring run that first charged it (CPARS gives 14 days to comment and
// reviews later; a month fits a firm that checks its portal monthly).
const DefaultAppealWindow = 30 * Day

// AppealError is a rule broken by an appeal or a decision: its message is
// bilingual and safe to show the firm.
type AppealError struct{ Msg string }

func (e *AppealError) Error() string { return e.Msg }

// IsAppealable reports whether records of kind may be contested.
func IsAppealable(kind string) bool {
	for _, k := range AppealableKinds {
		if k == kind {
			return true
		}
	}
	return false
}

// CheckReason trims a reason (an appeal's or a decision's) and checks its
// length: 1 to 2,000 characters, valid UTF-8, after trimming.
func CheckReason(r string) (string, error) {
	if !utf8.ValidString(r) {
		return "", &AppealError{"理由含有无法识别的字符 / The reason holds characters that cannot be read"}
	}
	r = strings.TrimSpace(r)
	if n := utf8.RuneCountInString(r); n < MinReason || n > MaxReason {
		return "", &AppealError{fmt.Sprintf("请填写理由（%d–%d 字）/ Give a reason (%d–%d characters)", MinReason, MaxReason, MinReason, MaxReason)}
	}
	return r, nil
}

// AppealFiling is what a firm submits.
type AppealFiling struct {
	RecordKind string
	RecordID   string
	Indicator  string // optional: contest the record for this indicator only
	Reason     string
}

// CheckFiling validates a filing on its own (kind, id, reason) and returns
// it with the reason trimmed.
func CheckFiling(f AppealFiling) (AppealFiling, error) {
	if !IsAppealable(f.RecordKind) {
		return f, &AppealError{fmt.Sprintf("无法申诉此类记录 / Records of kind %q cannot be appealed", f.RecordKind)}
	}
	f.RecordID = strings.TrimSpace(f.RecordID)
	if n := len(f.RecordID); n < 1 || n > 120 {
		return f, &AppealError{"记录编号有误 / The record id is not valid"}
	}
	if f.Indicator != "" {
		if _, ok := indicatorIndex[f.Indicator]; !ok {
			return f, &AppealError{fmt.Sprintf("没有指标 %q / No indicator %q", f.Indicator, f.Indicator)}
		}
	}
	r, err := CheckReason(f.Reason)
	if err != nil {
		return f, err
	}
	f.Reason = r
	return f, nil
}

// AppealDeadline is the last moment a record first charged by a run that
// started at firstCharged may be contested.
func AppealDeadline(firstCharged time.Time, window time.Duration) time.Time {
	if window <= 0 {
		window = DefaultAppealWindow
	}
	return firstCharged.Add(window)
}

// CheckWindow refuses an appeal filed after the window: the record was
// first charged by the run started at firstCharged.
func CheckWindow(firstCharged, now time.Time, window time.Duration) error {
	if end := AppealDeadline(firstCharged, window); now.After(end) {
		return &AppealError{fmt.Sprintf("申诉期已过（扣分后 %d 天内，截至 %s）/ The appeal period has ended (%d days after the record was first charged, until %s)",
			windowDays(window), end.In(Shanghai).Format("2006-01-02"), windowDays(window), end.In(Shanghai).Format("2006-01-02"))}
	}
	return nil
}

func windowDays(window time.Duration) int {
	if window <= 0 {
		window = DefaultAppealWindow
	}
	return int(window / Day)
}

// Decision is the state an inspector's decision gives a pending appeal.
func Decision(accept bool) string {
	if accept {
		return AppealAccepted
	}
	return AppealRejected
}
