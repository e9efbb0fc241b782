package web

import "testing"

func TestDoorkeeperAdmitsASecondVisit(t *testing.T) {
	// Slots are picked by the hash's top bits: a and b share one, c has
	// its own.
	const a, b, c = 1<<50 | 0x10, 1<<50 | 0x20, 2<<50 | 0x10
	tests := []struct {
		name   string
		visits []uint64
		want   []bool
	}{
		{"a first visit is not admitted", []uint64{a}, []bool{false}},
		{"a second visit is", []uint64{a, a}, []bool{false, true}},
		{"and so is every later one", []uint64{a, a, a}, []bool{false, true, true}},
		{"a key in another slot does not make it forget", []uint64{a, c, a, c}, []bool{false, false, true, true}},
		{"a key that takes its slot does", []uint64{a, b, a}, []bool{false, false, false}},
		{"which then has to come back twice too", []uint64{a, b, b, a}, []bool{false, false, true, false}},
		{"a hash of zero is not an empty slot's", []uint64{0, 0}, []bool{false, true}},
		{"and neither is a hash of one (one and zero share a mark)", []uint64{0, 1}, []bool{false, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d doorkeeper
			for i, h := range tt.visits {
				if got := d.admit(h); got != tt.want[i] {
					t.Errorf("visit %d (%#x): admit = %v, want %v", i+1, h, got, tt.want[i])
				}
			}
			d.reset()
			if d.admit(tt.visits[0]) {
				t.Error("admitted after a reset")
			}
		})
	}
}
