// Package seed generates a synthetic Shanghai lift fleet with a year of
// history and a hidden, planted quality profile for every maintenance firm,
// so that demos, tests, benchmarks and the validation of the scoring model
// all stand on data that looks like the real city and carries known truth.
//
// Generation is pure and deterministic: the same Options give the same rows
// (math/rand/v2 PCG streams seeded from Options.Seed; the fleet is drawn in
// one stream, each lift's history in a stream of its own so that histories
// can be generated in parallel and in any order). Nothing here touches the
// database; postgres.LoadSeed loads what Generate and Fleet.History produce.
//
// # Planted truth
//
// Truth.Profiles maps every firm's USCC to "excellent", "good", "poor" or
// "fraudulent". The profile drives behaviour and is never stored in the
// database: poor firms visit late, fail inspections more often, arrive late
// at entrapments and leave lifts with repeat faults; fraudulent firms file
// records that nothing corroborates. Good firms are not perfect (the odd
// late visit, a failed inspection, a visit during which the monitor was
// offline), and size does not predict the profile: every size band has
// poor or fraudulent firms, and some of the largest firms are excellent.
//
// Truth.Quality gives every firm a latent quality in [0, 1], higher is
// better, drawn within its profile's range (poor 0.05-0.30, fraudulent
// 0.30-0.50, good 0.50-0.85, excellent 0.85-1); within a profile the
// firm's neglect scales with it (quality.go). Truth.SpotFail gives every
// lift the planted probability that a regulator's spot check finds a failed
// item, from its firm's quality, its age and a latent wear that also
// raises its fault rate.
//
// Truth.FakeVisits lists, sorted, the ids of the maintenance records that
// record a visit that did not happen as filed. Each one is detectable from
// the data alone, by one of three tests:
//   - uncorroborated: the lift is IoT-connected and online, yet no
//     inspection-mode (检修) episode overlaps the record;
//   - implausibly short: the record lasts under 10 minutes;
//   - overlapping technician: a technician on the record is on another
//     record at a different site at an overlapping time (the fake is the
//     extra record, which also has no inspection episode).
//
// Some records look odd but are genuine and are not listed: visits during
// which the lift's monitor was offline (an offline episode covers them) and
// the rare real visit where the technician did not switch to inspection
// mode. A scoring model should tolerate them.
//
// # Schedules
//
// Technicians work in fixed pairs, and each pair looks after a crew of up
// to 55 of its firm's lifts, taken in site order, in 14-day cycles: eleven
// routine days of four or five visits one after another from 08:00, with
// travel between sites and a lunch break, and three catch-up days for the
// late visits (about 1-6 days overdue); a missed visit waits for the next cycle.
// The plan of a pair's day is drawn from a stream keyed by seed, firm,
// pair and cycle, which every lift of the crew re-creates on its own (see
// plan.go), so histories drawn apart still agree: an honest technician is
// never at two sites at once. A repair starts at once unless that would
// cut into the pair's planned day, and after the day's visits otherwise;
// two repairs of one crew close together can still meet, which is all
// the double-booking honest firms show (under 0.5 % of records).
//
// # Identifiers
//
// Registration codes are 31xxxx-district codes with the installation month
// and a per-month sequence; USCCs are "91" (companies) or "12" (public
// institutions, the agencies), a Shanghai division, an organisation code
// unique by kind and index, and the GB 32100 check character. Lift ages,
// and so registration months, count back from Options.Now: the same seed
// with another Now draws another fleet. Load one fleet per database.
package seed
