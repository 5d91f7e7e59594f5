package tensor

import "testing"

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
