package spin

import (
	"testing"
	"time"
)

func TestWaitedChecksTheClockEveryCheckEveryCalls(t *testing.T) {
	var p Poller
	var last time.Duration
	checks := 0
	for i := 1; i <= 10*checkEvery; i++ {
		d, ok := p.Waited()
		if ok != (i%checkEvery == 0) {
			t.Fatalf("call %d: checked = %v", i, ok)
		}
		if ok {
			checks++
			if d < last {
				t.Fatalf("call %d: waited %v after %v", i, d, last)
			}
			last = d
		} else if d != 0 {
			t.Fatalf("call %d: an unchecked call reported %v", i, d)
		}
	}
	if checks != 10 {
		t.Fatalf("%d checks, want 10", checks)
	}
	time.Sleep(2 * YieldAfter)
	for i := 0; i < checkEvery-1; i++ {
		p.Waited()
	}
	if d, ok := p.Waited(); !ok || d < 2*YieldAfter {
		t.Fatalf("after sleeping %v: waited %v (checked %v)", 2*YieldAfter, d, ok)
	}
}
