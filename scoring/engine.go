package scoring

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"lifttrust"
)

// Store is what the engine needs from storage (package postgres
// implements it).
type Store interface {
	// Firms lists every firm's USCC.
	Firms(ctx context.Context) ([]string, error)
	// LoadFirm reads one firm's inputs for the period.
	LoadFirm(ctx context.Context, uscc string, p Period) (FirmInput, error)
	// LoadFirmParts is LoadFirm reading only the parts in read (and the
	// always-read contracts, complaints, penalties and firm row).
	LoadFirmParts(ctx context.Context, uscc string, p Period, read Parts) (FirmInput, error)
	// Carried returns the carry parts of the firm's latest score for the
	// period and ModelVersion; ok is false when there is none to carry
	// (no such score, or an appeal on a carried record accepted since).
	Carried(ctx context.Context, uscc string, p Period, carry Parts) (c Carried, ok bool, err error)
	// LatestBaseline returns the latest full run of ModelVersion and its
	// baseline; ok is false when there is none.
	LatestBaseline(ctx context.Context) (run Run, b Baseline, ok bool, err error)
	// LatestScores returns every firm's latest score (USCC, Score, Vetoes).
	LatestScores(ctx context.Context) ([]Result, error)
	// FirmLifts returns how many lifts each firm maintains during the
	// period: the measure of how much memory reading the firm takes.
	FirmLifts(ctx context.Context, p Period) (map[string]int, error)
	// SaveRun stores a run with its results and evidence and notifies
	// ChanFirmScored, in one transaction; baseline is nil for a run of
	// some firms only.
	SaveRun(ctx context.Context, run Run, results []Result, baseline *Baseline) (int64, error)
}

// Run describes one scoring run as stored in score_runs.
type Run struct {
	ID             int64
	ModelVersion   string
	Period         Period
	Trigger        string // daily, manual, event, appeal, seed
	Full           bool
	InputsChecksum string
	StartedAt      time.Time
	FinishedAt     time.Time
	Firms          int
}

// Engine runs the model over the store's data.
type Engine struct {
	Store  Store
	Config Config
	Now    func() time.Time // the clock; the period is the rolling year ending today
	Log    *slog.Logger
	// Workers load firms concurrently (the database does the work; two or
	// three keep a 2-core server busy without starving ingest).
	Workers int
	// WorkingSet bounds the lifts whose records are in memory at once,
	// summed over the firms being read (0: DefaultWorkingSet). A firm
	// larger than the bound is read alone.
	WorkingSet int
}

// DefaultWorkingSet is the lifts a full run reads at once: the largest
// firm of the city (33,654 lifts), whose records and their measuring take
// about half a gigabyte, is read alone, and the small firms three at a
// time. A full run's memory then follows the largest firm, not the city
// (docs/operations.md).
const DefaultWorkingSet = 34000

// ScoreAll rescores every firm and stores a full run with a new baseline.
func (e *Engine) ScoreAll(ctx context.Context, trigger string) (Run, []Result, error) {
	started, wall := e.Now(), time.Now()
	p := RollingYear(started)
	firms, err := e.Store.Firms(ctx)
	if err != nil {
		return Run{}, nil, fmt.Errorf("list firms: %w", err)
	}
	ms, sum, err := e.measure(ctx, firms, p)
	if err != nil {
		return Run{}, nil, err
	}
	b := NewBaseline(ms)
	rs := scoreReleasing(ms, b)
	run := Run{ModelVersion: ModelVersion, Period: p, Trigger: trigger, Full: true, InputsChecksum: sum, StartedAt: started, Firms: len(rs)}
	run.FinishedAt = e.Now()
	id, err := e.Store.SaveRun(ctx, run, rs, &b)
	if err != nil {
		return Run{}, nil, fmt.Errorf("save run: %w", err)
	}
	run.ID = id
	e.Log.Info("scored all firms", "run", id, "firms", len(rs), "period_end", p.End.Format(time.DateOnly), "took", time.Since(wall).Round(time.Millisecond))
	return run, rs, nil
}

// scoreReleasing is Score for a full run that owns ms: each firm's
// evidence candidates are let go once its result holds the rows it
// lists, so the city's candidates and results are not held together.
func scoreReleasing(ms []Measures, b Baseline) []Result {
	slices.SortFunc(ms, func(a, b Measures) int { return strings.Compare(a.USCC, b.USCC) })
	out := make([]Result, len(ms))
	for i := range ms {
		out[i] = scoreOne(ms[i], b)
		ms[i].Evidence, ms[i].tails = nil, nil
	}
	Rank(out)
	return out
}

// ScoreAsOf scores every firm for the rolling year ending at at, without
// storing anything: what the scores would have been then. The risk
// forecast's time-split validation uses it, so that a lift's firm score
// as a feature knows nothing of the months it is tested on.
func (e *Engine) ScoreAsOf(ctx context.Context, at time.Time) ([]Result, error) {
	p := RollingYear(at)
	firms, err := e.Store.Firms(ctx)
	if err != nil {
		return nil, fmt.Errorf("list firms: %w", err)
	}
	ms, _, err := e.measure(ctx, firms, p)
	if err != nil {
		return nil, err
	}
	return Score(ms, NewBaseline(ms)), nil
}

// ScoreFirms rescores some firms against the baseline of the latest full
// run (a full run is made instead when there is none), ranking them among
// every other firm's latest score. Trigger "event" reads each firm's
// EventParts and carries its visit indicators (see ScoreChanged); any
// other trigger reads the firms in full.
func (e *Engine) ScoreFirms(ctx context.Context, usccs []string, trigger string) (Run, []Result, error) {
	read := AllParts
	if trigger == "event" {
		read = EventParts
	}
	changed := make(map[string]Parts, len(usccs))
	for _, u := range usccs {
		changed[u] |= read
	}
	return e.scoreSome(ctx, changed, trigger)
}

// ScoreChanged rescores firms after events, reading for each firm only the
// parts named (the rest carried from its latest score when the store
// offers it, see Carried), with trigger "event".
func (e *Engine) ScoreChanged(ctx context.Context, changed map[string]Parts) (Run, []Result, error) {
	return e.scoreSome(ctx, changed, "event")
}

func (e *Engine) scoreSome(ctx context.Context, changed map[string]Parts, trigger string) (Run, []Result, error) {
	_, b, ok, err := e.Store.LatestBaseline(ctx)
	if err != nil {
		return Run{}, nil, fmt.Errorf("load baseline: %w", err)
	}
	if !ok {
		return e.ScoreAll(ctx, trigger)
	}
	started, wall := e.Now(), time.Now()
	p := RollingYear(started)
	known, err := e.Store.Firms(ctx)
	if err != nil {
		return Run{}, nil, fmt.Errorf("list firms: %w", err)
	}
	usccs := intersect(sortedKeys(changed), known)
	if len(usccs) == 0 {
		return Run{}, nil, lifttrust.Errorf(lifttrust.ErrNotFound, "no such firm to score")
	}
	var ms []Measures
	var sum string
	if trigger == "event" {
		ms, sum, err = e.measureEvent(ctx, usccs, changed, p, b)
	} else {
		ms, sum, err = e.measure(ctx, usccs, p)
	}
	if err != nil {
		return Run{}, nil, err
	}
	rs := Score(ms, b)
	others, err := e.Store.LatestScores(ctx)
	if err != nil {
		return Run{}, nil, fmt.Errorf("load latest scores: %w", err)
	}
	latest := make(map[string]Result, len(others)+len(rs))
	for _, o := range others {
		latest[o.USCC] = o
	}
	for _, r := range rs {
		latest[r.USCC] = r
	}
	all := make([]Result, 0, len(latest))
	for _, k := range sortedKeys(latest) {
		all = append(all, latest[k])
	}
	for i := range rs {
		rs[i].Rank = RankAmong(rs[i], all)
	}
	run := Run{ModelVersion: ModelVersion, Period: p, Trigger: trigger, InputsChecksum: sum, StartedAt: started, Firms: len(rs)}
	run.FinishedAt = e.Now()
	id, err := e.Store.SaveRun(ctx, run, rs, nil)
	if err != nil {
		return Run{}, nil, fmt.Errorf("save run: %w", err)
	}
	run.ID = id
	e.Log.Info("rescored firms", "run", id, "firms", usccs, "trigger", trigger, "took", time.Since(wall).Round(time.Millisecond))
	return run, rs, nil
}

// measureEvent measures firms for a run events triggered: each firm reads
// the parts changed[firm] and carries the others from its latest score
// when the store offers them (Carried); otherwise, or when a carried part
// cannot be explained record by record (CarryIsStale), the firm is read in
// full. The checksum covers what was read and the runs carried from.
func (e *Engine) measureEvent(ctx context.Context, firms []string, changed map[string]Parts, p Period, b Baseline) ([]Measures, string, error) {
	ms := make([]Measures, 0, len(firms))
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%s|event\n", ModelVersion, p.Start.Format(time.RFC3339), p.End.Format(time.RFC3339), e.Config.ArrivalLimit)
	for _, f := range firms {
		read := changed[f]
		if read != AllParts {
			c, ok, err := e.Store.Carried(ctx, f, p, AllParts&^read)
			if err != nil {
				return nil, "", fmt.Errorf("carried indicators of %s: %w", f, err)
			}
			if ok {
				in, err := e.Store.LoadFirmParts(ctx, f, p, read)
				if err != nil {
					return nil, "", fmt.Errorf("load firm %s: %w", f, err)
				}
				m := Carry(Measure(in, p, e.Config), c)
				if !CarryIsStale(scoreOne(m, b), c) {
					ms = append(ms, m)
					h.Write(Checksum(in))
					fmt.Fprintf(h, "read %s, carried %s from run %d\n", read, c.Parts, c.RunID)
					continue
				}
				e.Log.Info("carried indicators would cost points without records; reading the firm in full", "firm", f, "run", c.RunID)
			}
		}
		in, err := e.Store.LoadFirm(ctx, f, p)
		if err != nil {
			return nil, "", fmt.Errorf("load firm %s: %w", f, err)
		}
		ms = append(ms, Measure(in, p, e.Config))
		h.Write(Checksum(in))
	}
	return ms, hex.EncodeToString(h.Sum(nil)), nil
}

// measure loads and measures firms with a few workers; the checksum covers
// every input in USCC order, so it does not depend on the workers.
func (e *Engine) measure(ctx context.Context, firms []string, p Period) ([]Measures, string, error) {
	sizes, err := e.Store.FirmLifts(ctx, p)
	if err != nil {
		return nil, "", fmt.Errorf("firm sizes: %w", err)
	}
	budget := int64(e.WorkingSet)
	if budget <= 0 {
		budget = DefaultWorkingSet
	}
	set := semaphore.NewWeighted(budget)
	ms := make([]Measures, len(firms))
	sums := make([][]byte, len(firms))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(e.Workers, 1))
	for i := range firms {
		w := min(max(int64(sizes[firms[i]]), 1), budget)
		if set.Acquire(gctx, w) != nil {
			break // a load failed: start no more
		}
		g.Go(func() error {
			defer set.Release(w)
			in, err := e.Store.LoadFirm(gctx, firms[i], p)
			if err != nil {
				return fmt.Errorf("load firm %s: %w", firms[i], err)
			}
			ms[i] = Measure(in, p, e.Config)
			sums[i] = Checksum(in)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, "", err
	}
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%s\n", ModelVersion, p.Start.Format(time.RFC3339), p.End.Format(time.RFC3339), e.Config.ArrivalLimit)
	for i := range firms {
		h.Write(sums[i])
	}
	return ms, hex.EncodeToString(h.Sum(nil)), nil
}

// Checksum is a digest of every input field, in a canonical order, so
// that two runs over the same data can be shown to have read the same.
func Checksum(in FirmInput) []byte {
	h := checksummer{h: sha256.New()}
	h.str(in.USCC)
	h.bool(in.SeriousViolator)
	h.time(in.LicenceExpires)
	for _, k := range sortedKeys(in.Lifts) {
		l := in.Lifts[k]
		h.str("L", l.Code, l.Category, l.Site)
		h.time(l.Installed)
		h.bool(l.IoT)
	}
	cs := append([]Contract(nil), in.Contracts...)
	sort.Slice(cs, func(i, j int) bool { return lessTimeID(cs[i].Start, cs[i].Lift, cs[j].Start, cs[j].Lift) })
	for _, c := range cs {
		h.str("C", c.Lift)
		h.time(c.Start, c.End)
	}
	for _, i := range inOrder(in.Visits, func(a, b *Visit) bool { return a.ID < b.ID }) {
		v := &in.Visits[i]
		h.str("V", v.ID, v.Lift, v.Kind)
		h.time(v.Start, v.End)
		h.strs(v.Technicians)
		h.bool(v.Countersigned, v.Assessable, v.Corroborated)
	}
	xs := append([]Inspection(nil), in.Inspections...)
	sort.Slice(xs, func(i, j int) bool { return xs[i].ID < xs[j].ID })
	for _, x := range xs {
		h.str("I", x.ID, x.Lift)
		h.time(x.On)
		h.str(x.Kind, x.Result)
		h.time(x.NextDue)
	}
	// In EventRecordID order (lift, then id: registration codes have one
	// length), without building the ids.
	for _, i := range inOrder(in.Faults, func(a, b *Fault) bool {
		if a.Lift != b.Lift {
			return a.Lift < b.Lift
		}
		return a.ID < b.ID
	}) {
		f := &in.Faults[i]
		h.str("F", f.ID, f.Lift)
		h.int(f.Code)
		h.time(f.Raised)
		h.str(f.Cause)
	}
	es := append([]Entrapment(nil), in.Entrapments...)
	sort.Slice(es, func(i, j int) bool { return es[i].ID < es[j].ID })
	for _, x := range es {
		h.str("E", x.ID, x.Lift)
		h.time(x.Occurred, x.Arrived, x.Released)
		h.bool(x.FalseAlarm)
		h.str(x.Cause)
	}
	cps := append([]Complaint(nil), in.Complaints...)
	sort.Slice(cps, func(i, j int) bool { return cps[i].ID < cps[j].ID })
	for _, c := range cps {
		h.str("R", c.ID, c.Lift)
		h.time(c.Created, c.Handled)
	}
	ps := append([]Penalty(nil), in.Penalties...)
	sort.Slice(ps, func(i, j int) bool { return ps[i].ID < ps[j].ID })
	for _, p := range ps {
		h.str("P", p.ID, p.Lift, p.Kind)
		h.time(p.Decided)
		h.bool(p.Revoked)
	}
	scs := append([]SpotCheck(nil), in.SpotChecks...)
	sort.Slice(scs, func(i, j int) bool { return scs[i].ID < scs[j].ID })
	for _, c := range scs {
		h.str("S", c.ID, c.Lift)
		h.time(c.On)
		h.bool(c.Failed)
		h.strs(c.FailedItems)
		h.str(strconv.FormatFloat(c.Probability, 'g', -1, 64))
	}
	ex := append([]Exclusion(nil), in.Excluded...)
	sort.Slice(ex, func(i, j int) bool {
		return ex[i].Kind+"\x00"+ex[i].ID+"\x00"+ex[i].Indicator < ex[j].Kind+"\x00"+ex[j].ID+"\x00"+ex[j].Indicator
	})
	for _, x := range ex {
		h.str("X", x.Kind, x.ID, x.Indicator)
	}
	return h.h.Sum(nil)
}

// inOrder returns the indices of xs in the order less gives: a large
// firm's records are walked in order without copying them.
func inOrder[T any](xs []T, less func(a, b *T) bool) []int32 {
	idx := make([]int32, len(xs))
	for i := range idx {
		idx[i] = int32(i)
	}
	sort.Slice(idx, func(i, j int) bool { return less(&xs[idx[i]], &xs[idx[j]]) })
	return idx
}

// checksummer writes fields to a hash in a fixed binary form, without
// boxing them: the largest firm's inputs are two million fields.
type checksummer struct {
	h   hash.Hash
	buf [8]byte
}

func (c *checksummer) str(ss ...string) {
	for _, s := range ss {
		writeStr(c.h, s)
	}
}

func (c *checksummer) strs(ss []string) {
	c.int(len(ss))
	c.str(ss...)
}

func (c *checksummer) int(v int) { writeStr(c.h, strconv.Itoa(v)) }

func (c *checksummer) time(ts ...time.Time) {
	for _, t := range ts {
		binary.LittleEndian.PutUint64(c.buf[:], uint64(t.UnixNano()))
		c.h.Write(c.buf[:])
	}
}

func (c *checksummer) bool(bs ...bool) {
	for _, b := range bs {
		c.buf[0] = 0
		if b {
			c.buf[0] = 1
		}
		c.h.Write(c.buf[:1])
	}
}

func writeStr(h hash.Hash, s string) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(len(s)))
	h.Write(b[:])
	h.Write([]byte(s))
}

// intersect returns the sorted, distinct elements of a that are in b.
func intersect(a, b []string) []string {
	in := make(map[string]bool, len(b))
	for _, x := range b {
		in[x] = true
	}
	seen := map[string]bool{}
	var out []string
	for _, x := range a {
		if in[x] && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

// Triggers accepted in score_runs.trigger.
var Triggers = map[string]bool{"daily": true, "manual": true, "event": true, "appeal": true, "seed": true}

// ValidTrigger checks a trigger name.
func ValidTrigger(t string) error {
	if !Triggers[t] {
		return lifttrust.Errorf(lifttrust.ErrInvalid, "trigger %q: want daily, manual, event, appeal or seed", t)
	}
	return nil
}
