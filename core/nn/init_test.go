package nn

import (
	"strings"
	"testing"
)

func TestFanRulesAreBigDLs(t *testing.T) {
	for _, c := range []struct {
		name        string
		rule        func([]int) (int, int)
		shape       []int
		fanIn, fout int
	}{
		{"OUT_IN (Linear weight)", FansOutIn, []int{10, 784}, 784, 10},
		{"ONE_D (bias)", FansOneD, []int{10}, 10, 1},
		{"OUT_IN_KW_KH", FansOutInKwKh, []int{12, 6, 5, 3}, 6 * 15, 12 * 15},
		{"OUT_IN_KT_KH_KW (VolumetricConvolution)", FansOutInKwKh, []int{12, 6, 2, 5, 3}, 6 * 30, 12 * 30},
		// SpatialConvolution(6, 12, 5, 3, n_group=2): (2, 6, 3, 3, 5); no division by the groups.
		{"GP_OUT_IN_KW_KH (SpatialConvolution)", FansGroupOutInKwKh, []int{2, 6, 3, 3, 5}, 6 * 15, 12 * 15},
		{"GP_IN_OUT_KW_KH (SpatialFullConvolution)", FansGroupInOutKwKh, []int{2, 3, 6, 3, 5}, 6 * 15, 12 * 15},
		{"Default", FansDefault, []int{4, 5, 6}, 120, 120},
	} {
		in, out := c.rule(c.shape)
		if in != c.fanIn || out != c.fout {
			t.Errorf("%s of %v: fans (%d, %d), want (%d, %d)", c.name, c.shape, in, out, c.fanIn, c.fout)
		}
	}
}

func TestLinearDeclaresItsFans(t *testing.T) {
	l := NewLinear(7, 3, true)
	var m Module = l
	init, ok := m.(Initialized)
	if !ok {
		t.Fatal("Linear does not declare its fans")
	}
	if in, out := init.Fans(l.Weight); in != 7 || out != 3 {
		t.Errorf("weight fans (%d, %d), want (7, 3)", in, out)
	}
	if in, out := init.Fans(l.Bias); in != 3 || out != 1 {
		t.Errorf("bias fans (%d, %d), want (3, 1)", in, out)
	}
}

func TestInitMethodsAreRefusedWhereTheyCannotApply(t *testing.T) {
	if err := SetInitMethods(NewReLU(false), map[string]any{"class": "Xavier"}, nil); err == nil ||
		!strings.Contains(err.Error(), "no parameters") {
		t.Errorf("ReLU: %v", err)
	}
	if err := SetInitMethods(NewLinear(3, 3, true), map[string]any{"class": "BilinearFiller"}, nil); err == nil {
		t.Error("BilinearFiller on a 2-D weight was accepted")
	}
	if _, err := NewInitMethod(map[string]any{"class": "Glorot"}); err == nil {
		t.Error("an unknown init method was accepted")
	}
}
