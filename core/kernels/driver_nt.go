package kernels

import (
	"fmt"
	"math"
	"unsafe"
)

// The NT path: C = alpha·A·Bᵀ + beta·C with A and B both row-major, the
// product a Linear layer's forward pass computes (x·Wᵀ). Every element of
// C is a dot product of a row of A with a row of B, both contiguous, so a
// kernel that accumulates dot products along k needs no packing at all,
// while the packed path has to transpose B and interleave A first — for a
// small batch, that costs more than the faster micro-kernel saves. Kernel
// sets with a fast transposing pack weigh the two by shape (ntCostModel).

// ntCostModel weighs, per unit of k, the two ways to compute A·Bᵀ. The dot
// kernel packs nothing and pads n only to a multiple of dotNR; the packed
// path runs a faster micro-kernel on whole tiles of its register block but
// first packs A and transposes B, which a small m or n does not repay.
type ntCostModel struct {
	dotRate    float64 // multiply-adds per ns of the dot kernel
	packedRate float64 // multiply-adds per ns of the micro-kernel, padding included
	packNs     float64 // ns to pack one value of A or of Bᵀ
}

// packedNTFaster reports whether, by ks.ntCost, the packed path computes the
// A·Bᵀ product g faster than the dot kernel. It reads only the shape and
// the kernel set, never the thread count, so that results stay
// bit-identical for any thread count.
func (ks *kernelSet) packedNTFaster(g *gemmArgs) bool {
	c := ks.ntCost
	if c == nil {
		return false
	}
	area := ks.paddedArea(g)
	if ks.alt != nil {
		area = min(area, ks.alt.paddedArea(g)) // the block forShape will pick
	}
	dot := float64(g.m*((g.n+dotNR-1)/dotNR*dotNR)) / c.dotRate
	packed := float64(area)/c.packedRate + float64(g.m+g.n)*c.packNs
	return packed < dot
}

// dotKernel computes, for each of t.pairs pairs of rows of A (rows 2i and
// 2i+1 at a + 2i·lda and a + (2i+1)·lda bytes), the dot products of its
// rows with the four rows t.b[0..3] of B over k contiguous values, and
// writes the 2×4 tile of C at t.c + 2i·t.ldc bytes as alpha·sum + beta·C
// (C not read when beta is 0). alpha and beta are IEEE bits (see
// microKernel); k, t.pairs ≥ 1.
type dotKernel func(k int, a unsafe.Pointer, lda uintptr, t *dotTile)

// dotTile is where a dotKernel call writes, kept in the workspace.
type dotTile struct {
	b           [dotNR]unsafe.Pointer
	pairs       int
	c           unsafe.Pointer
	ldc         uintptr
	alpha, beta uint32
}

const (
	dotMR, dotNR = 2, 4
	// dotScratchPairs bounds the row pairs written to the scratch tile at
	// once when a tile of C is partial.
	dotScratchPairs = 64
)

// gemmBlockNT computes rows [m0,m1) and columns [n0,n1) of C with the dot
// kernel. Full 2×4 tiles are written in place; a partial tile (an odd last
// row, or fewer than four columns at the right edge, where B's missing rows
// repeat a real one) goes through a scratch tile. As in gemmBlock, the k
// blocking depends only on k.
func (ws *workspace) gemmBlockNT(ks *kernelSet, g *gemmArgs, m0, m1, n0, n1 int) {
	kc := splitEven(g.k, ks.ntKC, 1)
	mc := splitEven(m1-m0, ks.ntMC, dotMR)
	alpha := math.Float32bits(g.alpha)
	lda, ldc := uintptr(g.lda*4), uintptr(g.ldc*4)
	scratch := unsafe.Pointer(&ws.dotTile[0])
	defer func() { ws.dot = dotTile{} }() // do not keep the caller's matrices reachable
	for pc := 0; pc < g.k; pc += kc {
		kb := min(kc, g.k-pc)
		beta := g.beta
		if pc > 0 {
			beta = 1 // later k blocks accumulate onto the first one's result
		}
		betaBits := math.Float32bits(beta)
		if beta == 0 {
			betaBits = 0
		}
		for ic := m0; ic < m1; ic += mc {
			icEnd := min(ic+mc, m1)
			// The four B rows stay in L1 while the block of A rows streams past.
			for jr := n0; jr < n1; jr += dotNR {
				cols := min(dotNR, n1-jr)
				t := &ws.dot
				for c := range t.b {
					t.b[c] = f32(g.b, g.rowB(jr+min(c, cols-1))+pc)
				}
				t.alpha = alpha
				ir := ic
				if cols == dotNR {
					if pairs := (icEnd - ic) / 2; pairs > 0 {
						t.pairs, t.c, t.ldc, t.beta = pairs, f32(g.c, ic*g.ldc+jr), ldc, betaBits
						ks.ntKernel(kb, f32(g.a, ic*g.lda+pc), lda, t)
						ir += 2 * pairs
					}
				}
				for ir < icEnd {
					// Whole pairs, or a last single row read twice (row step 0).
					rows := min(icEnd-ir, 2*dotScratchPairs)
					step := lda
					if rows > 1 {
						rows &^= 1
					} else {
						step = 0
					}
					t.pairs, t.c, t.ldc, t.beta = (rows+1)/2, scratch, dotNR*4, 0
					ks.ntKernel(kb, f32(g.a, ir*g.lda+pc), step, t)
					mergeTile(g.c[ir*g.ldc+jr:], g.ldc, ws.dotTile[:], dotNR, rows, cols, beta)
					ir += rows
				}
			}
		}
	}
}

// SgemmNTRuns adds Σ_s A_s·B_sᵀ over s < count to the m×len(rows) matrix C
// (row-major, ldc), where A_s is the m×k matrix at a[s·aStep:] (lda) and
// row j of B_s is the run of k values b[s·bStep + rows[j]:]. A stride-1
// convolution's unfolded rows are such runs of each image (see
// Im2colWide), so its weight gradient needs no unfolding written out. The
// products are summed image after image on the calling goroutine: each is
// too small to share.
func SgemmNTRuns(count, m, k int, a []float32, lda, aStep int, b []float32, bStep int, rows []int, c []float32, ldc int) {
	n := len(rows)
	if count < 0 || m < 0 || k < 0 {
		panic(fmt.Sprintf("kernels: SgemmNTRuns: negative size count=%d m=%d k=%d", count, m, k))
	}
	if count == 0 || m == 0 || n == 0 || k == 0 {
		return
	}
	if lda < k || len(a) < (count-1)*aStep+(m-1)*lda+k {
		panic(fmt.Sprintf("kernels: SgemmNTRuns: A buffer of %d values, stride %d, step %d, is too small for %d products of %d×%d", len(a), lda, aStep, count, m, k))
	}
	if ldc < n || len(c) < (m-1)*ldc+n {
		panic(fmt.Sprintf("kernels: SgemmNTRuns: C buffer of %d values, stride %d, is too small for %d×%d", len(c), ldc, m, n))
	}
	for j, r := range rows {
		if r < 0 || (count-1)*bStep+r+k > len(b) {
			panic(fmt.Sprintf("kernels: SgemmNTRuns: row %d of B, %d values from %d (step %d, %d products), lies outside its buffer of %d", j, k, r, bStep, count, len(b)))
		}
	}
	ks := active
	if ks.ntKernel == nil {
		for s := 0; s < count; s++ {
			as, bs := a[s*aStep:], b[s*bStep:]
			for i := 0; i < m; i++ {
				for j, r := range rows {
					c[i*ldc+j] += ks.dot(as[i*lda:i*lda+k], bs[r:r+k])
				}
			}
		}
		return
	}
	ws := getWorkspace()
	defer putWorkspace(ws)
	g := gemmArgs{transB: true, m: m, n: n, k: k, alpha: 1, lda: lda, beta: 1, c: c, ldc: ldc, dotNT: true, bRows: rows}
	for s := 0; s < count; s++ {
		g.a, g.b = a[s*aStep:], b[s*bStep:]
		ws.gemmBlockNT(ks, &g, 0, m, 0, n)
	}
}
