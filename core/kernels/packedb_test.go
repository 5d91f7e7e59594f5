package kernels

import (
	"fmt"
	"math/rand"
	"testing"
)

// packedCases are products whose B is packed once and multiplied by
// several A operands: every transposition, strided A, B and C (pad 3), beta
// 0 (C starts as NaN), 1 and other, and shapes that cross the register
// block's edges and, on the real blocks, kc (300 > 256), nc (1100 > 1024)
// and mc (500 > 480).
func packedCases(r *rand.Rand) [][]*gemmCase {
	var out [][]*gemmCase
	shapes := [][3]int{{1, 1, 1}, {5, 7, 3}, {13, 33, 17}, {64, 512, 128}, {64, 128, 512}, {40, 70, 300}, {97, 1100, 20}, {500, 50, 40}}
	for i, s := range shapes {
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				ab := [][2]float32{{1, 0}, {1, 1}, {0.7, 0.3}, {-1.5, 0}}[(i+len(out))%4]
				first := newGemmCase(r, ta, tb, s[0], s[1], s[2], 3, ab[0], ab[1])
				// The same B with two other A and C operands.
				group := []*gemmCase{first}
				for j := 0; j < 2; j++ {
					g := newGemmCase(r, ta, tb, s[0], s[1], s[2], 3, ab[0], ab[1])
					g.b = first.b
					group = append(group, g.redo())
				}
				out = append(out, group)
			}
		}
	}
	return out
}

// redo recomputes the reference after an operand was replaced.
func (g *gemmCase) redo() *gemmCase {
	r := *g
	r.want = append([]float32(nil), g.c...)
	NaiveGemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, r.want, g.ldc)
	r.bound = make([]float32, len(g.c))
	NaiveGemm(g.transA, g.transB, g.m, g.n, g.k, 1, absSlice(g.a), g.lda, absSlice(g.b), g.ldb, 0, r.bound, g.ldc)
	for i := range r.bound {
		r.bound[i] *= abs32(g.alpha)
		if g.beta != 0 { // C holds NaN otherwise
			r.bound[i] += abs32(g.beta * g.c[i])
		}
	}
	return &r
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

// runPacked calls SgemmPackedB with p on a fresh copy of C.
func (g *gemmCase) runPacked(p *PackedB) []float32 {
	c := append([]float32(nil), g.c...)
	SgemmPackedB(g.transA, g.m, g.alpha, g.a, g.lda, p, g.beta, c, g.ldc)
	return c
}

// checkPacked packs each group's B once and checks that every product with
// it equals Sgemm's bit for bit (and so the reference, within rounding),
// and that the driver did use the packing where Sgemm takes the packed path.
func checkPacked(t *testing.T, groups [][]*gemmCase) {
	t.Helper()
	var p PackedB
	for _, group := range groups {
		g0 := group[0]
		p.Pack(g0.transB, g0.m, g0.n, g0.k, g0.b, g0.ldb)
		args := gemmArgs{transB: g0.transB, m: g0.m, n: g0.n, k: g0.k}
		if dot := useNT(active, &args); (p.ks == nil) != dot {
			t.Fatalf("%v: packed for %v, but Sgemm takes the NT dot path: %v", g0, p.ks, dot)
		}
		for _, g := range group {
			got := g.runPacked(&p)
			g.check(t, got)
			if want := g.run(); !bitsEqual(got, want) {
				t.Fatalf("%v: SgemmPackedB differs from Sgemm", g)
			}
		}
	}
}

func TestSgemmPackedBMatchesSgemm(t *testing.T) {
	groups := packedCases(rand.New(rand.NewSource(11)))
	forEachPath(t, func(t *testing.T) { checkPacked(t, groups) })
}

// With cache blocks shrunk as in TestSgemmSmallBlocks, every case spans
// several blocks of k, n and m, so the packed blocks' offsets and the
// parallel plan's steps are all exercised.
func TestSgemmPackedBSmallBlocks(t *testing.T) {
	groups := packedCases(rand.New(rand.NewSource(12)))[:24]
	forEachPath(t, func(t *testing.T) {
		defer shrinkBlocks()()
		checkPacked(t, groups)
	})
}

// A B packed for one kernel set, then multiplied under another (Force
// between the two), or with a row count that picks the other register
// block, runs as Sgemm on the source and still gives Sgemm's numbers.
func TestSgemmPackedBOtherKernelSet(t *testing.T) {
	r := rand.New(rand.NewSource(13))
	sets := Available()
	if len(sets) < 2 {
		t.Skip("one kernel set on this CPU")
	}
	for _, tb := range []bool{false, true} {
		g := newGemmCase(r, false, tb, 24, 100, 70, 2, 1, 1)
		var p PackedB
		restore, err := Force(sets[0])
		if err != nil {
			t.Fatal(err)
		}
		p.Pack(g.transB, g.m, g.n, g.k, g.b, g.ldb)
		restore()
		for _, name := range sets[1:] {
			restore, err := Force(name)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := g.runPacked(&p), g.run(); !bitsEqual(got, want) {
				t.Errorf("%s: %v: packed for %s, differs from Sgemm", name, g, sets[0])
			}
			restore()
		}
	}
	// 16 rows pad better to 8×48 than to 12×32 on AVX-512, 13 the other
	// way round: a B packed for one is not used for the other.
	g16 := newGemmCase(r, false, false, 16, 96, 40, 0, 1, 0)
	g13 := newGemmCase(r, false, false, 13, 96, 40, 0, 1, 0)
	g13.b = g16.b
	g13 = g13.redo()
	var p PackedB
	p.Pack(false, 16, 96, 40, g16.b, g16.ldb)
	for _, g := range []*gemmCase{g16, g13} {
		got := g.runPacked(&p)
		g.check(t, got)
		if !bitsEqual(got, g.run()) {
			t.Errorf("%v: differs from Sgemm", g)
		}
	}
}

// Packing again and multiplying allocate nothing once the buffer has grown,
// on one thread or two.
func TestSgemmPackedBNoAllocs(t *testing.T) {
	r := rand.New(rand.NewSource(14))
	a, b, c := randSlice(r, 64*300), randSlice(r, 512*300), make([]float32, 64*512)
	forEachPath(t, func(t *testing.T) {
		var p PackedB
		for _, tb := range []bool{false, true} {
			p.Pack(tb, 64, 512, 300, b, map[bool]int{false: 512, true: 300}[tb])
			allocs := testing.AllocsPerRun(20, func() {
				p.Pack(tb, 64, 512, 300, b, map[bool]int{false: 512, true: 300}[tb])
				SgemmPackedB(false, 64, 1, a, 300, &p, 0, c, 512)
			})
			if allocs != 0 {
				t.Errorf("transB=%v: Pack and SgemmPackedB allocated %v times per call", tb, allocs)
			}
		}
	})
}

func TestSgemmPackedBBadArgsPanic(t *testing.T) {
	b := make([]float32, 10*20)
	var p PackedB
	for name, f := range map[string]func(){
		"unpacked": func() { SgemmPackedB(false, 2, 1, make([]float32, 40), 20, &PackedB{}, 0, make([]float32, 20), 10) },
		"short B":  func() { p.Pack(false, 4, 20, 11, b, 20) },
		"negative": func() { p.Pack(false, -1, 20, 10, b, 20) },
		"short A": func() {
			p.Pack(false, 4, 20, 10, b, 20)
			SgemmPackedB(false, 4, 1, make([]float32, 39), 10, &p, 0, make([]float32, 80), 20)
		},
		"short C": func() {
			p.Pack(true, 4, 10, 20, b, 20)
			SgemmPackedB(true, 4, 1, make([]float32, 80), 4, &p, 0, make([]float32, 39), 10)
		},
		"stride lt": func() { p.Pack(true, 4, 10, 20, b, 19) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("no panic")
				} else {
					t.Log(fmt.Sprint(r))
				}
			}()
			f()
		})
	}
}
