package web

import "lifttrust/web/view"

// fact is one true statement in a lift's status block: its message key
// (status_KEY in messages) doubles as the CSS class (colour) and icon.
type fact string

// The facts, worst first. A passenger reads the first line only, so it
// must be the worst thing that is true: a lift in service whose
// certificate has expired is not shown as a green "in service".
const (
	factTrapped      fact = "trapped"
	factFault        fact = "fault"
	factMaintenance  fact = "maintenance"
	factOutOfService fact = "out_of_service"
	factInspExpired  fact = "insp_expired"
	factInspNone     fact = "insp_none"
	factMaintOverdue fact = "maint_overdue"
	factOffline      fact = "offline"
	factNoIoT        fact = "no_iot"
	factInService    fact = "in_service"
)

// status orders what is true of a lift: the live state when it says "do
// not use" (trapped, fault, maintenance, out of service), then an expired
// (or missing) inspection, overdue maintenance, and a monitor that is
// silent or absent; "in service" only when nothing else is true. The
// first is the headline, the rest are listed under it (appended to dst).
func status(dst []fact, st view.State, expired, noInsp, overdue bool) (fact, []fact) {
	all := dst
	switch st {
	case view.StateTrapped:
		all = append(all, factTrapped)
	case view.StateFault:
		all = append(all, factFault)
	case view.StateMaintenance:
		all = append(all, factMaintenance)
	case view.StateOutOfService:
		all = append(all, factOutOfService)
	}
	if expired {
		all = append(all, factInspExpired)
	}
	if noInsp {
		all = append(all, factInspNone)
	}
	if overdue {
		all = append(all, factMaintOverdue)
	}
	switch st {
	case view.StateOffline:
		all = append(all, factOffline)
	case view.StateNoIoT:
		all = append(all, factNoIoT)
	}
	if len(all) == 0 {
		return factInService, nil
	}
	return all[0], all[1:]
}

// icons draw each fact (24×24 paths; aria-hidden, the sentence says it).
var icons = map[fact]string{
	factInService:    "M9 16.2 4.8 12l-1.4 1.4L9 19 21 7l-1.4-1.4z",
	factTrapped:      "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm1 15h-2v-2h2zm0-4h-2V7h2z",
	factFault:        "M1 21h22L12 2zm12-3h-2v-2h2zm0-4h-2v-4h2z",
	factMaintenance:  "M22.7 19 13.6 9.9c.9-2.3.4-5-1.5-6.9-2-2-5-2.4-7.4-1.3L9 6 6 9 1.6 4.7C.4 7.1.9 10.1 2.9 12.1c1.9 1.9 4.6 2.4 6.9 1.5l9.1 9.1c.4.4 1 .4 1.4 0l2.3-2.3c.5-.4.5-1.1.1-1.4z",
	factOutOfService: "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zM5 11h14v2H5z",
	factInspExpired:  "M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8zm-1 16h-2v-2h2zm0-4h-2V9h2z",
	factInspNone:     "M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8zM8 13h8v2H8z",
	factMaintOverdue: "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm4.2 14.2L11 13V7h1.5v5.2l4.5 2.7z",
	factOffline:      "M2 4.3 3.3 3 21 20.7 19.7 22l-3-3H12a5 5 0 0 1-1-9.9zM23 12c0 1.8-.8 3.4-2 4.5l-1.4-1.4A4 4 0 0 0 16 9.1l-1.5-1.5c4.7-.9 8.5 1.3 8.5 4.4z",
	factNoIoT:        "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm1 15h-2v-6h2zm0-8h-2V7h2z",
}

// Icon is the fact's icon path.
func (f fact) Icon() string { return icons[f] }
