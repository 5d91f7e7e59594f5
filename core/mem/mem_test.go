package mem

import (
	"runtime"
	"testing"
	"unsafe"
)

func addr(s []float32) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(s))) }

// allocated is the bytes the heap handed out while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestFloatsLargeAreAlignedZeroedAndExact(t *testing.T) {
	for _, n := range []int{HugeMin / 4, HugeMin/4 + 1, 2048 * 2048, 3_000_001} {
		s := Floats(n)
		if len(s) != n || cap(s) != n {
			t.Fatalf("Floats(%d): len %d cap %d, want both %d (a cap beyond n would let append run into the slack)", n, len(s), cap(s), n)
		}
		if a := addr(s); a%hugeAlign != 0 {
			t.Errorf("Floats(%d) starts at %#x, not on a %d-byte boundary", n, a, hugeAlign)
		}
		for i, v := range s {
			if v != 0 {
				t.Fatalf("Floats(%d)[%d] = %v, want 0", n, i, v)
			}
		}
	}
}

// Below HugeMin a buffer is what make gives: no slack, no alignment asked.
func TestFloatsSmallAreAPlainMake(t *testing.T) {
	for _, n := range []int{1, 1000, HugeMin/4 - 1} {
		var s []float32
		got := allocated(func() { s = Floats(n) })
		// make rounds to a size class (or whole 8 KiB pages for large
		// objects), and the race detector's runtime allocates a little of
		// its own meanwhile; the huge path would add 2 MiB.
		if want := uint64(n * 4); got < want || got > want+64<<10 {
			t.Errorf("Floats(%d) allocated %d bytes, want %d plus at most a size class's rounding", n, got, want)
		}
		if len(s) != n || cap(s) != n {
			t.Errorf("Floats(%d): len %d cap %d", n, len(s), cap(s))
		}
	}
}

// A large buffer costs one allocation: n values plus the alignment slack.
func TestFloatsLargeAllocateOnce(t *testing.T) {
	n := HugeMin / 4
	if a := testing.AllocsPerRun(5, func() { _ = Floats(n) }); a != 1 {
		t.Errorf("Floats(%d) made %v allocations per call, want 1", n, a)
	}
	if got, most := allocated(func() { _ = Floats(n) }), uint64(n*4+hugeAlign+8192); got > most {
		t.Errorf("Floats(%d) allocated %d bytes, want at most %d", n, got, most)
	}
}

// The GC keeps the allocation alive through the aligned slice alone (it
// points inside it), so values survive collections and the memory is
// reused once the slice is dropped.
func TestFloatsSurviveGC(t *testing.T) {
	s := Floats(HugeMin / 4)
	for i := range s {
		s[i] = float32(i)
	}
	for range 3 {
		_ = Floats(HugeMin / 4) // garbage that a collection may reuse
		runtime.GC()
	}
	for i, v := range s {
		if v != float32(i) {
			t.Fatalf("s[%d] = %v after GC, want %d", i, v, i)
		}
	}
}

// Memory the GC frees and Floats hands out again (given back to the kernel
// on Linux so it can come back on huge pages) reads as zeros.
func TestFloatsReusedMemoryIsZero(t *testing.T) {
	for range 4 {
		s := Floats(HugeMin/4 + 777)
		for i, v := range s {
			if v != 0 {
				t.Fatalf("Floats reused memory: s[%d] = %v, want 0", i, v)
			}
			s[i] = 7
		}
		s = nil
		runtime.GC()
	}
}

// A buffer the machine cannot hold is refused with an error value (which
// the C ABI turns into Python's MemoryError) before Go's runtime would
// abort the process; sizes past a machine word are refused as well.
func TestFloatsRefusesWhatCannotFit(t *testing.T) {
	for _, n := range []int{maxFloats, 1 << 60 / 4} {
		func() {
			defer func() {
				oom, ok := recover().(*OutOfMemoryError)
				if !ok {
					t.Fatalf("Floats(%d): want an *OutOfMemoryError panic", n)
				}
				if oom.Error() == "" {
					t.Fatal("empty message")
				}
			}()
			_ = Floats(n)
		}()
	}
}
