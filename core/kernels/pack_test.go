package kernels

import (
	"math"
	"math/rand"
	"testing"
)

// TestPackBTransposer checks each set's transposing pack of Bᵀ against the
// scalar pack on sizes around the 16-wide blocks and the slivers (partial
// blocks along k, partial row groups and partial slivers along n), with
// offsets into a B whose rows are longer than the packed part. Every value
// of the destination, zero padding included, must match bit for bit, and
// nothing past it may be written.
func TestPackBTransposer(t *testing.T) {
	sizes := blockSizes
	r := rand.New(rand.NewSource(8))
	forEachAsmPack(t, "a transposing pack of B",
		func(ks *kernelSet) bool { return ks.packBT != nil },
		func(ks *kernelSet) { ks.packBT = nil },
		func(name string, ks, scalar *kernelSet) {
			// The transposer serves any sliver width that is a multiple of
			// its group width.
			w := ks.transposerCols()
			for _, nr := range []int{w, 2 * w, ks.nr} {
				withNR, scalarNR := *ks, *scalar
				withNR.nr, scalarNR.nr = nr, nr
				checkPackB(t, name, &withNR, &scalarNR, true, sizes, r)
			}
		})
}

// blockSizes are the kb (and nb) the pack tests try: around the 8- and
// 16-value blocks of the assembly packs, with every remainder modulo 8 and
// 16 (each takes another path through a partial block), whole slivers of
// every width (a full last sliver is not followed by a partial one, which
// would overwrite what a copy wrote past its end), and larger.
var blockSizes = []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 24, 31, 32, 33, 47, 48, 49, 63, 255, 257}

// TestPackBCopy checks each set's copying pack of an untransposed B
// against the scalar pack in the same way: full slivers go through the
// set's packCopy, a partial last one through the scalar loop.
func TestPackBCopy(t *testing.T) {
	sizes := append([]int{97}, blockSizes...)
	r := rand.New(rand.NewSource(10))
	forEachAsmPack(t, "a copying pack of B",
		func(ks *kernelSet) bool { return ks.packCopy != nil },
		func(ks *kernelSet) { ks.packCopy = nil },
		func(name string, ks, scalar *kernelSet) { checkPackB(t, name, ks, scalar, false, sizes, r) })
}

// forEachAsmPack runs f, in a subtest, for every kernel set in this build
// that has the pack under test (has), with scalar: the same set without it
// (drop), whose Go pack is the reference. A set this CPU cannot run is
// skipped with the features it lacks.
func forEachAsmPack(t *testing.T, what string, has func(*kernelSet) bool, drop func(*kernelSet),
	f func(name string, ks, scalar *kernelSet)) {
	t.Helper()
	found := 0
	for _, name := range All() {
		ks := sets[name]
		if !has(ks) {
			continue
		}
		found++
		t.Run(name, func(t *testing.T) {
			skipUnlessRuns(t, ks)
			scalar := *ks
			drop(&scalar)
			f(name, ks, &scalar)
		})
	}
	if found == 0 {
		t.Skip("no kernel set in this build has " + what)
	}
}

// checkPackB packs op(B)[p0:p0+kb][j0:j0+nb] with ks and with scalar for
// every kb and nb of sizes, from a B whose rows are longer than the packed
// part, and fails at the first value (padding included, and the poisoned
// values past the end) whose bits differ.
func checkPackB(t *testing.T, name string, ks, scalar *kernelSet, transB bool, sizes []int, r *rand.Rand) {
	t.Helper()
	nr := ks.nr
	for _, kb := range sizes {
		for _, nb := range sizes {
			p0, j0 := 3, 5
			ldb, rows := j0+nb+9, p0+kb // B's row length and row count as stored
			if transB {
				ldb, rows = p0+kb+9, j0+nb
			}
			b := randSlice(r, rows*ldb)
			size := (nb + nr - 1) / nr * nr * kb
			want, got := poisoned(size+64), poisoned(size+64)
			scalar.packB(want, b, ldb, transB, p0, kb, j0, nb)
			ks.packB(got, b, ldb, transB, p0, kb, j0, nb)
			for i := range got {
				if !sameBits(got[i], want[i]) {
					t.Fatalf("%s nr=%d kb=%d nb=%d: packed[%d] = %v, scalar pack gives %v (sliver %d, row %d, column %d)",
						name, nr, kb, nb, i, got[i], want[i], i/(nr*kb), i%(nr*kb)/nr, i%nr)
				}
			}
		}
	}
}

// TestPackA checks each set's assembly packs of A, untransposed and
// transposed, against the scalar pack in the same way, with a negative
// alpha (the zero padding must stay +0) and partial slivers of several
// heights.
func TestPackA(t *testing.T) {
	sizes := blockSizes
	r := rand.New(rand.NewSource(9))
	forEachAsmPack(t, "an assembly pack of A",
		func(ks *kernelSet) bool { return ks.packRows != nil || ks.packCols != nil },
		func(ks *kernelSet) { ks.packRows, ks.packCols = nil, nil },
		func(name string, ks, scalar *kernelSet) {
			mr := ks.mr
			for _, transA := range []bool{false, true} {
				for _, kb := range sizes {
					// A whole sliver, and two whose second has each height.
					mbs := []int{1}
					for rows := 1; rows <= mr; rows++ {
						mbs = append(mbs, mr+rows)
					}
					for _, mb := range mbs {
						for _, alpha := range []float32{1, -0.75} {
							i0, p0 := 3, 5
							// Stored A: mb rows of kb values, or kb rows of mb values.
							rowsA, colsA := i0+mb, p0+kb
							if transA {
								rowsA, colsA = p0+kb, i0+mb
							}
							lda := colsA + 9
							a := randSlice(r, rowsA*lda)
							size := (mb + mr - 1) / mr * mr * kb
							want, got := poisoned(size+64), poisoned(size+64)
							scalar.packA(want, a, lda, transA, i0, mb, p0, kb, alpha)
							ks.packA(got, a, lda, transA, i0, mb, p0, kb, alpha)
							for i := range got {
								if !sameBits(got[i], want[i]) {
									t.Fatalf("%s transA=%v kb=%d mb=%d alpha=%v: packed[%d] = %v, scalar pack gives %v (sliver %d, column %d, row %d)",
										name, transA, kb, mb, alpha, i, got[i], want[i], i/(mr*kb), i%(mr*kb)/mr, i%mr)
								}
							}
						}
					}
				}
			}
		})
}

// poisoned returns n NaNs with a recognisable payload, so that a value the
// pack should have written but did not cannot pass for a zero.
func poisoned(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = math.Float32frombits(0x7fc0dead)
	}
	return s
}

// TestTranspose checks Transpose on every kernel set this CPU runs, with
// row counts around the transposers' groups of 8 and 16 and column counts
// around their vector widths, strided source and destination: every value
// moved exactly, and the destination's padding untouched.
func TestTranspose(t *testing.T) {
	r := rand.New(rand.NewSource(21))
	for _, name := range Available() {
		restore, err := Force(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, rows := range []int{1, 7, 8, 15, 16, 17, 33, 156} {
			for _, cols := range []int{1, 3, 16, 17, 40, 512} {
				lds, ldd := cols+3, rows+5
				src := randSlice(r, rows*lds)
				dst := make([]float32, cols*ldd)
				for i := range dst {
					dst[i] = float32(math.NaN())
				}
				Transpose(rows, cols, src, lds, dst, ldd)
				for j := 0; j < cols; j++ {
					for i := 0; i < ldd; i++ {
						got := dst[j*ldd+i]
						if i >= rows {
							if !math.IsNaN(float64(got)) {
								t.Fatalf("%s %d×%d: wrote padding dst[%d][%d]", name, rows, cols, j, i)
							}
							continue
						}
						if want := src[i*lds+j]; !sameBits(got, want) {
							t.Fatalf("%s %d×%d: dst[%d][%d] = %v, want %v", name, rows, cols, j, i, got, want)
						}
					}
				}
			}
		}
		restore()
	}
	for name, f := range map[string]func(){
		"short source":      func() { Transpose(4, 5, make([]float32, 19), 5, make([]float32, 20), 4) },
		"short destination": func() { Transpose(4, 5, make([]float32, 20), 5, make([]float32, 19), 4) },
		"negative":          func() { Transpose(-1, 5, nil, 5, nil, 4) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Transpose with a %s did not panic", name)
				}
			}()
			f()
		}()
	}
}
