package tensor

import (
	"runtime"
	"testing"
	"unsafe"
)

func TestEnsureReusesStorage(t *testing.T) {
	a := New(4, 5)
	p := &a.Data[0]
	b := Ensure(a, 2, 3)
	if &b.Data[0] != p || b.Len() != 6 || ShapeString(b.Shape) != "(2, 3)" {
		t.Fatalf("Ensure did not reuse storage: %v", b.Shape)
	}
	c := Ensure(b, 10, 10)
	if c.Len() != 100 {
		t.Fatalf("Ensure did not grow: %d", c.Len())
	}
}

func TestFromDataRejectsWrongSize(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("expected a panic for 5 values in shape (2, 3)")
		}
	}()
	FromData(make([]float32, 5), 2, 3)
}

func TestRows(t *testing.T) {
	for _, c := range []struct {
		shape      []int
		rows, cols int
	}{{[]int{7}, 1, 7}, {[]int{3, 4}, 3, 4}, {[]int{2, 3, 4}, 2, 12}} {
		r, k := New(c.shape...).Rows()
		if r != c.rows || k != c.cols {
			t.Errorf("%v: got %d×%d, want %d×%d", c.shape, r, k, c.rows, c.cols)
		}
	}
}

// Tensors of mem.HugeMin bytes and more lie on 2 MiB boundaries on Linux
// (huge pages, as numpy's arrays do) however they are made; smaller ones
// are a plain allocation of their own size.
func TestLargeTensorDataIsHugePageAligned(t *testing.T) {
	const huge = 2 << 20
	aligned := func(d []float32) bool { return uintptr(unsafe.Pointer(&d[0]))%huge == 0 }
	big := New(1024, 1024) // 4 MiB
	grown := Ensure(New(2), 1500, 1000)
	cloned := big.Clone()
	for name, d := range map[string][]float32{"New": big.Data, "Ensure": grown.Data, "Clone": cloned.Data} {
		if runtime.GOOS == "linux" && !aligned(d) {
			t.Errorf("%s: %d values at %p, not on a 2 MiB boundary", name, len(d), &d[0])
		}
		if cap(d) != len(d) {
			t.Errorf("%s: cap %d beyond len %d", name, cap(d), len(d))
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	small := New(1023, 1024) // 4 KiB under 4 MiB
	runtime.ReadMemStats(&after)
	// A little beyond the size (page rounding, and under -race the detector's
	// own allocations) is fine; the huge-page path would add 2 MiB.
	if got, want := after.TotalAlloc-before.TotalAlloc, uint64(small.Len()*4); got > want+64<<10 {
		t.Errorf("New(1023, 1024) allocated %d bytes, want about %d: small tensors take no slack", got, want)
	}
}
