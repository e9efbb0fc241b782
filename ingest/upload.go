package ingest

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"lifttrust"
	"lifttrust/scoring"
)

// MaxUploadRecords bounds one bulk upload (the HTTP body limit bounds bytes).
const MaxUploadRecords = 50000

// UploadUser is the uploader: the user of the API token that api's
// authentication layer checked.
type UploadUser struct {
	ID     int64
	Role   string // firm, agency, inspector, admin
	Firm   string // USCC, for role firm
	Agency string // USCC, for role agency
}

// UploadStore is what the bulk upload needs from PostgreSQL.
type UploadStore interface {
	LookupDirectory(ctx context.Context, lifts, firms, agencies []string) (DirectoryData, error)
	WriteBatch(ctx context.Context, b *Batch) error
}

// Uploader takes maintenance and inspection records by HTTP, for firms and
// agencies that upload files instead of streaming: the same decoders and
// checks as MQTT, the same idempotent writes, rejected lines to
// dead_letters.
type Uploader struct {
	store UploadStore
	now   func() time.Time
}

// NewUploader returns an Uploader on store.
func NewUploader(store UploadStore) *Uploader {
	return &Uploader{store: store, now: time.Now}
}

// Record is one line of an upload as JSON.
type Record struct {
	Line int
	JSON []byte
}

// UploadResult is the answer to an upload.
type UploadResult struct {
	Accepted int           `json:"accepted"` // stored (a re-uploaded record counts, and is stored once)
	Rejected int           `json:"rejected"` // written to dead_letters instead
	Errors   []UploadError `json:"errors"`   // the first 100 rejections
}

// UploadError says why one line was refused.
type UploadError struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}

// Upload checks and stores records of kind for user in one transaction.
// A firm user uploads maintenance records for lifts it maintains; an
// agency user uploads inspections.
func (u *Uploader) Upload(ctx context.Context, user UploadUser, kind string, records []Record) (UploadResult, error) {
	var id string
	switch {
	case kind == KindMaintenance && user.Role == "firm":
		id = user.Firm
	case kind == KindInspections && user.Role == "agency":
		id = user.Agency
	case kind != KindMaintenance && kind != KindInspections:
		return UploadResult{}, lifttrust.Errorf(lifttrust.ErrNotFound, "未知的上传类型 / unknown upload kind %q: maintenance or inspections", bounded(kind, 40))
	default:
		return UploadResult{}, lifttrust.Errorf(lifttrust.ErrForbidden, "此账号不能上传%s / this account may not upload %s: firms upload maintenance, agencies inspections", kind, kind)
	}
	now := u.now()
	msgs := make([]*Msg, len(records))
	rejects := make([]*Reject, len(records))
	var lifts []string
	for i, r := range records {
		msgs[i], rejects[i] = DecodeKind(kind, id, r.JSON, now)
		if msgs[i] != nil {
			lifts = append(lifts, msgs[i].Lift())
		}
	}
	var firms, agencies []string
	if kind == KindMaintenance {
		firms = []string{id}
	} else {
		agencies = []string{id}
	}
	found, err := u.store.LookupDirectory(ctx, lifts, firms, agencies)
	if err != nil {
		return UploadResult{}, err
	}
	dir := NewDirectory(found)
	b := &Batch{}
	res := UploadResult{Errors: []UploadError{}}
	changed, score := map[string]struct{}{}, map[string]struct{}{}
	for i, r := range records {
		if rejects[i] == nil {
			rejects[i] = dir.Check(msgs[i])
		}
		if rj := rejects[i]; rj != nil {
			res.Rejected++
			if len(res.Errors) < 100 {
				res.Errors = append(res.Errors, UploadError{Line: r.Line, Reason: rj.Reason, Detail: rj.Detail})
			}
			b.DeadLetters = append(b.DeadLetters, DeadLetter{Source: "http", Topic: fmt.Sprintf("POST /api/v1/ingest/%s line %d", kind, r.Line),
				Reason: rj.Reason, Detail: rj.Detail, Payload: r.JSON[:min(len(r.JSON), MaxPayload)], Size: len(r.JSON)})
			continue
		}
		res.Accepted++
		m := msgs[i]
		changed[m.Lift()] = struct{}{}
		if m.Maintenance != nil {
			b.Maintenance = append(b.Maintenance, MaintenanceItem{Firm: id, Source: "upload", Maintenance: m.Maintenance})
		} else {
			b.Inspections = append(b.Inspections, InspectionItem{Agency: id, Source: "upload", Inspection: m.Inspection})
			if firm, _ := dir.Lift(m.Lift()); firm != "" && m.Inspection.Result == "fail" {
				score[firm] = struct{}{}
			}
		}
	}
	b.LiftsChanged = keys(changed)
	for _, firm := range keys(score) {
		b.ScoreNeeded = append(b.ScoreNeeded, scoring.ScoreNeed{USCC: firm, Read: scoring.Inspections}.String())
	}
	if err := u.store.WriteBatch(ctx, b); err != nil {
		return UploadResult{}, fmt.Errorf("store upload: %w", err)
	}
	for _, rj := range rejects {
		if rj != nil {
			mRejected.WithLabelValues(rj.Reason).Inc()
		}
	}
	return res, nil
}

// ParseUpload splits a body into records: JSON lines (one object a line),
// or CSV with a header row naming the JSON fields, lists separated by ";".
// contentType "text/csv" selects CSV; anything else is JSON lines.
func ParseUpload(contentType string, body []byte) ([]Record, error) {
	var recs []Record
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "text/csv") {
		var err error
		if recs, err = parseCSV(body); err != nil {
			return nil, err
		}
	} else {
		for i, line := range bytes.Split(body, []byte("\n")) {
			line = bytes.TrimSpace(line)
			if len(line) == 0 {
				continue
			}
			recs = append(recs, Record{Line: i + 1, JSON: line})
		}
	}
	if len(recs) == 0 {
		return nil, lifttrust.Errorf(lifttrust.ErrInvalid, "上传内容为空 / the upload has no records")
	}
	if len(recs) > MaxUploadRecords {
		return nil, lifttrust.Errorf(lifttrust.ErrInvalid, "一次最多上传 %d 条 / at most %d records per upload", MaxUploadRecords, MaxUploadRecords)
	}
	return recs, nil
}

// csvLists are the fields holding lists; csvBools those holding booleans.
var (
	csvLists = map[string]bool{"technicians": true, "items": true, "parts": true, "defects": true}
	csvBools = map[string]bool{"countersigned": true}
)

func parseCSV(body []byte) ([]Record, error) {
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = 0
	header, err := r.Read()
	if err != nil {
		return nil, lifttrust.Errorf(lifttrust.ErrInvalid, "CSV 表头无法读取 / cannot read the CSV header: %v", err)
	}
	for i := range header {
		header[i] = strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff"))
	}
	var recs []Record
	for line := 2; ; line++ {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, lifttrust.Errorf(lifttrust.ErrInvalid, "CSV 第 %d 行有误 / CSV line %d: %v", line, line, err)
		}
		obj := make(map[string]any, len(header))
		for i, name := range header {
			v := strings.TrimSpace(row[i])
			switch {
			case csvLists[name]:
				list := []string{}
				for _, p := range strings.Split(v, ";") {
					if p = strings.TrimSpace(p); p != "" {
						list = append(list, p)
					}
				}
				obj[name] = list
			case csvBools[name]:
				b, err := strconv.ParseBool(v)
				if err != nil && v != "" {
					obj[name] = v // the decoder reports the bad value
				} else {
					obj[name] = b
				}
			case v != "":
				obj[name] = v
			}
		}
		js, err := json.Marshal(obj)
		if err != nil {
			return nil, err
		}
		recs = append(recs, Record{Line: line, JSON: js})
	}
	return recs, nil
}
