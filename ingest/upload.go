package ingest

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"lifttrust"
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
	LookupDirectory(ctx context.Context, lifts, firms, agencies, techs []string) (DirectoryData, error)
	WriteBatch(ctx context.Context, b *Batch) error
}

// Uploader takes maintenance and inspection records and the technician
// registry by HTTP, for firms and agencies that upload files instead of
// streaming: the same decoders and checks as MQTT, the same writes,
// rejected lines to dead_letters (at most DeadLetterLimit per user and
// hour; the answer still lists every refusal's count).
type Uploader struct {
	store UploadStore
	now   func() time.Time
	mu    sync.Mutex
	limit *deadLetterLimit
}

// NewUploader returns an Uploader on store.
func NewUploader(store UploadStore) *Uploader {
	return &Uploader{store: store, now: time.Now, limit: newDeadLetterLimit(1000)}
}

// Record is one line of an upload as JSON.
type Record struct {
	Line int
	JSON []byte
}

// UploadResult is the answer to an upload: every line is counted once,
// in exactly one of the four counts.
type UploadResult struct {
	Stored         int           `json:"stored"`          // new records, stored now
	AlreadyPresent int           `json:"already_present"` // identical to what the uploader filed before: nothing stored
	Corrected      int           `json:"corrected"`       // registry entries updated (technicians only; records are never overwritten)
	Rejected       int           `json:"rejected"`        // refused, each with its line and reason
	Errors         []UploadError `json:"errors"`          // the first 100 refusals, by line
}

// UploadError says why one line was refused.
type UploadError struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}

// Upload checks and stores records of kind for user in one transaction.
// A firm user uploads maintenance records for lifts it maintained at
// their time, and its technician registry; an agency user uploads
// inspections.
func (u *Uploader) Upload(ctx context.Context, user UploadUser, kind string, records []Record) (UploadResult, error) {
	var id string
	switch {
	case (kind == KindMaintenance || kind == KindTechnicians) && user.Role == "firm":
		id = user.Firm
	case kind == KindInspections && user.Role == "agency":
		id = user.Agency
	case kind != KindMaintenance && kind != KindInspections && kind != KindTechnicians:
		return UploadResult{}, lifttrust.Errorf(lifttrust.ErrNotFound, "未知的上传类型 / unknown upload kind %q: maintenance, inspections or technicians", bounded(kind, 40))
	default:
		return UploadResult{}, lifttrust.Errorf(lifttrust.ErrForbidden, "此账号不能上传%s / this account may not upload %s: firms upload maintenance and technicians, agencies inspections", kind, kind)
	}
	now := u.now()
	msgs := make([]*Msg, len(records))
	rejects := make([]*Reject, len(records))
	var lifts, techs []string
	for i, r := range records {
		msgs[i], rejects[i] = DecodeKind(kind, id, r.JSON, now)
		if msgs[i] != nil {
			if l := msgs[i].Lift(); l != "" {
				lifts = append(lifts, l)
			}
			if msgs[i].Maintenance != nil {
				techs = append(techs, msgs[i].Maintenance.Technicians...)
			}
		}
	}
	var firms, agencies []string
	if kind == KindInspections {
		agencies = []string{id}
	} else {
		firms = []string{id}
	}
	found, err := u.store.LookupDirectory(ctx, lifts, firms, agencies, techs)
	if err != nil {
		return UploadResult{}, err
	}
	dir := NewDirectory(found)
	b := &Batch{}
	res := UploadResult{Errors: []UploadError{}}
	var refused []UploadError
	var mLines, iLines, tLines []int // the line of each b.Maintenance, b.Inspections, b.Technicians
	changed, facts := map[string]struct{}{}, map[Fact]struct{}{}
	topic := func(n int) string { return fmt.Sprintf("POST /api/v1/ingest/%s line %d", kind, n) }
	u.mu.Lock()
	for i, r := range records {
		if rejects[i] == nil {
			rejects[i] = dir.Check(msgs[i])
		}
		if rj := rejects[i]; rj != nil {
			refused = append(refused, UploadError{Line: r.Line, Reason: rj.Reason, Detail: rj.Detail})
			if u.limit.allow(fmt.Sprintf("user %d", user.ID), now) {
				b.DeadLetters = append(b.DeadLetters, DeadLetter{Source: "http", Topic: topic(r.Line),
					Reason: rj.Reason, Detail: rj.Detail, Payload: r.JSON[:min(len(r.JSON), MaxPayload)], Size: len(r.JSON)})
			} else {
				mUnstored.WithLabelValues("http").Inc()
			}
			continue
		}
		m := msgs[i]
		switch {
		case m.Maintenance != nil:
			mLines = append(mLines, r.Line)
			changed[m.Lift()] = struct{}{}
			b.Maintenance = append(b.Maintenance, MaintenanceItem{Firm: id, Source: "upload", Topic: topic(r.Line), Payload: r.JSON, Maintenance: m.Maintenance})
		case m.Inspection != nil:
			iLines = append(iLines, r.Line)
			changed[m.Lift()] = struct{}{}
			b.Inspections = append(b.Inspections, InspectionItem{Agency: id, Source: "upload", Topic: topic(r.Line), Payload: r.JSON, Inspection: m.Inspection})
			if firm := dir.FirmAt(m.Lift(), inspectionTime(m.Inspection)); firm != "" && m.Inspection.Result == "fail" {
				facts[Fact{Firm: firm, Record: RecordInspection}] = struct{}{}
			}
		case m.Technician != nil:
			tLines = append(tLines, r.Line)
			b.Technicians = append(b.Technicians, TechnicianItem{Firm: id, Technician: m.Technician})
		}
	}
	u.mu.Unlock()
	b.LiftsChanged = keys(changed)
	for f := range facts {
		b.Facts = append(b.Facts, f)
	}
	if err := u.store.WriteBatch(ctx, b); err != nil {
		return UploadResult{}, fmt.Errorf("store upload: %w", err)
	}
	count := func(o Outcome, n int, reason, detail string) {
		switch o {
		case OutcomeStored:
			res.Stored++
		case OutcomePresent:
			res.AlreadyPresent++
		case OutcomeCorrected:
			res.Corrected++
		case OutcomeConflict:
			refused = append(refused, UploadError{Line: n, Reason: reason, Detail: detail})
		}
	}
	for i, it := range b.Maintenance {
		count(it.Outcome, mLines[i], ReasonConflict, "此编号已有不同内容的记录 / you already filed a different record under id "+it.ID)
	}
	for i, it := range b.Inspections {
		count(it.Outcome, iLines[i], ReasonConflict, "此编号已有不同内容的记录 / you already filed a different record under id "+it.ID)
	}
	for i, it := range b.Technicians {
		count(it.Outcome, tLines[i], ReasonTechnicianOfOtherFirm, "该技术人员在此期间登记于另一单位 / the technician is registered with another firm for an overlapping period")
	}
	sort.Slice(refused, func(i, j int) bool { return refused[i].Line < refused[j].Line })
	res.Rejected = len(refused)
	res.Errors = append(res.Errors, refused[:min(len(refused), 100)]...)
	for _, e := range refused {
		mRejected.WithLabelValues(e.Reason).Inc()
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
	csvBools = map[string]bool{"countersigned": true, "certified": true}
)

func parseCSV(body []byte) ([]Record, error) {
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = 0
	header, err := r.Read()
	if err != nil {
		return nil, lifttrust.Errorf(lifttrust.ErrInvalid, "CSV 表头无法读取 / cannot read the CSV header: %v", err)
	}
	for _, h := range header {
		if !utf8.ValidString(h) {
			return nil, lifttrust.Errorf(lifttrust.ErrInvalid, "CSV 表头不是有效的 UTF-8 编码 / the CSV header is not valid UTF-8")
		}
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
		for _, v := range row {
			// encoding/json would turn invalid bytes into U+FFFD: a
			// record altered on the way in. JSON lines refuse them too.
			if !utf8.ValidString(v) {
				return nil, lifttrust.Errorf(lifttrust.ErrInvalid, "CSV 第 %d 行不是有效的 UTF-8 编码 / CSV line %d is not valid UTF-8", line, line)
			}
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
			case csvBools[name] && v != "": // empty is missing, never false
				b, err := strconv.ParseBool(v)
				if err != nil {
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
