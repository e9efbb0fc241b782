package web

import "strings"

// liftWords are the messages a lift page's own part says, looked up and
// HTML-escaped once per language rather than on every first visit.
//
// Why: a first visit of a lift nobody asked for since the start is
// rendered, and in the wrk profile of cold English pages the writer was a
// sixth of its server CPU, most of it looking messages up by keys built
// per request ("status_" + fact, "kind_" + kind) and escaping the same
// constant sentences byte by byte (docs/benchmarks.md, "Cold without
// warming"). The words are constants, so their escaped form is too.
// TestLiftWriterMatchesTemplate still holds the writer to the template's
// bytes.
type liftWords struct {
	// Escaped messages, by key.
	regCode, statusTitle, firmDuty, lastHeartbeat, none, since, openFaults,
	firmTitle, grade, provisional, score, points, rank, notScored,
	firmLink, noFirm, maintTitle, maintOverdue, inspExpired, inspNoneDetail,
	lastMaint, technicians, noMaint, maintOK, lastInsp, noInsp, nextDue,
	identityTitle, address, building, liftNo, useUnit, useUnitPhone,
	identityHint string
	// Formats, unescaped: textf escapes them with their arguments.
	metaLift, rankOf string
	// status is each fact's sentence and icon is its drawing, escaped.
	status, icon map[fact]string
	// kind, result and grade are the escaped names of maintenance kinds,
	// inspection results and grades, by the code after their key's
	// prefix ("kind_", "result_", "grade_").
	kinds, results, grades map[string]string
}

var liftWordsByLang = [2]*liftWords{newLiftWords(langZH), newLiftWords(langEN)}

// wordsFor returns the words of a page language.
func wordsFor(lang string) *liftWords {
	if lang == langEN {
		return liftWordsByLang[1]
	}
	return liftWordsByLang[0]
}

func newLiftWords(lang string) *liftWords {
	esc := func(key string) string { return string(appendHTMLEscaped(nil, tr(lang, key))) }
	w := &liftWords{
		regCode: esc("reg_code"), statusTitle: esc("status_title"), firmDuty: esc("firm_duty"),
		lastHeartbeat: esc("last_heartbeat"), none: esc("none"), since: esc("since"),
		openFaults: esc("open_faults"), firmTitle: esc("firm_title"), grade: esc("grade"),
		provisional: esc("provisional"), score: esc("score"), points: esc("points"),
		rank: esc("rank"), notScored: esc("not_scored"), firmLink: esc("firm_link"),
		noFirm: esc("no_firm"), maintTitle: esc("maint_title"), maintOverdue: esc("maint_overdue"),
		inspExpired: esc("insp_expired"), inspNoneDetail: esc("insp_none_detail"),
		lastMaint: esc("last_maint"), technicians: esc("technicians"), noMaint: esc("no_maint"),
		maintOK: esc("maint_ok"), lastInsp: esc("last_insp"), noInsp: esc("no_insp"),
		nextDue: esc("next_due"), identityTitle: esc("identity_title"), address: esc("address"),
		building: esc("building"), liftNo: esc("lift_no"), useUnit: esc("use_unit"),
		useUnitPhone: esc("use_unit_phone"), identityHint: esc("identity_hint"),
		metaLift: tr(lang, "meta_lift"), rankOf: tr(lang, "rank_of"),
		status: map[fact]string{}, icon: map[fact]string{},
		kinds: map[string]string{}, results: map[string]string{}, grades: map[string]string{},
	}
	for f := range icons {
		w.status[f] = esc("status_" + string(f))
		var pw pageWriter
		pw.iconOf(f)
		w.icon[f] = string(pw.b)
	}
	for key := range messages {
		for prefix, m := range map[string]map[string]string{"kind_": w.kinds, "result_": w.results, "grade_": w.grades} {
			if code, ok := strings.CutPrefix(key, prefix); ok {
				m[code] = esc(key)
			}
		}
	}
	return w
}

// named appends the escaped name of code from m, or, for a code with no
// message, the key itself as tr would give it.
func (w *pageWriter) named(m map[string]string, prefix, code string) {
	if s, ok := m[code]; ok {
		w.raw(s)
		return
	}
	w.text(prefix + code)
}

// status appends a fact's sentence.
func (w *pageWriter) status(t *liftWords, f fact) {
	if s, ok := t.status[f]; ok {
		w.raw(s)
		return
	}
	w.text("status_" + string(f))
}

// icon appends a fact's icon.
func (w *pageWriter) icon(t *liftWords, f fact) {
	if s, ok := t.icon[f]; ok {
		w.raw(s)
		return
	}
	w.iconOf(f)
}
