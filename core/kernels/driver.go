package kernels

import "math"

// The packed GEMM follows Goto and van de Geijn ("Anatomy of high-performance
// matrix multiplication", 2008) and BLIS: C is computed in blocks of nc
// columns; for each block of kc along k, the kc×nc part of op(B) is packed
// into NR-wide slivers, then for each block of mc rows, the mc×kc part of
// op(A) is packed (scaled by alpha) into MR-tall slivers, and the
// micro-kernel multiplies one A sliver by one B sliver into an MR×NR tile of
// C. Packing makes the kernel's reads contiguous whatever the transposition
// flags and strides, and zero padding lets the kernel always compute full
// tiles; partial tiles go through a scratch tile.

// gemmArgs is one Sgemm call, passed by pointer within a goroutine and
// copied into a gemmCall when shared with workers.
type gemmArgs struct {
	transA, transB bool
	m, n, k        int
	alpha          float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	beta           float32
	c              []float32
	ldc            int
	// dotNT is set when the NT dot kernel computes the product (see useNT),
	// decided once per call so that every part takes the same path.
	dotNT bool
	// bRows, if set (NT path only), is where each row of B starts in b,
	// instead of row·ldb (see SgemmNTRuns).
	bRows []int
	// packedB, if set (packed path only), holds every block of op(B)
	// packed (see PackedB), so the driver packs no B.
	packedB []float32
}

// rowB is where row j of the transposed B starts in b.
func (g *gemmArgs) rowB(j int) int {
	if g.bRows != nil {
		return g.bRows[j]
	}
	return j * g.ldb
}

func packedGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	CheckGemmArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		// The product vanishes; BLAS then scales C without reading A or B.
		scaleMatrix(beta, c, m, n, ldc)
		return
	}
	g := gemmArgs{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
		a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}
	g.dotNT = useNT(active, &g)
	runGemm(active.forShape(&g), &g)
}

// forShape returns ks, or its alternative register block if that pads the
// m×n product to a strictly smaller area. The choice depends only on the
// shape, so results stay independent of the thread count.
func (ks *kernelSet) forShape(g *gemmArgs) *kernelSet {
	if ks.alt != nil && !g.dotNT && ks.alt.paddedArea(g) < ks.paddedArea(g) {
		return ks.alt
	}
	return ks
}

// paddedArea is the m×n area of the whole tiles ks computes for g.
func (ks *kernelSet) paddedArea(g *gemmArgs) int {
	return (g.m + ks.mr - 1) / ks.mr * ks.mr * ((g.n + ks.nr - 1) / ks.nr * ks.nr)
}

// scaleMatrix sets C = beta·C; beta == 0 writes zeros without reading C, so
// NaN garbage in an output buffer does not survive.
func scaleMatrix(beta float32, c []float32, m, n, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// ntPath overrides the choice of useNT, so that tests can run every NT
// product on both paths and benchmarks can compare them.
var ntPath = ntByShape

const (
	ntByShape = iota // ks.packedNTFaster decides
	ntDot            // the dot kernel computes every NT product
	ntPacked         // the packed path computes every NT product
)

// useNT reports whether the NT path (driver_nt.go) computes g, an A·Bᵀ
// product on a kernel set that has a dot kernel.
func useNT(ks *kernelSet, g *gemmArgs) bool {
	if ks.ntKernel == nil || g.transA || !g.transB {
		return false
	}
	switch ntPath {
	case ntDot:
		return true
	case ntPacked:
		return false
	}
	return !ks.packedNTFaster(g)
}

// block computes rows [m0,m1) and columns [n0,n1) of C on this goroutine.
func (ws *workspace) block(ks *kernelSet, g *gemmArgs, m0, m1, n0, n1 int) {
	if g.dotNT {
		ws.gemmBlockNT(ks, g, m0, m1, n0, n1)
		return
	}
	ws.gemmBlock(ks, g, m0, m1, n0, n1)
}

// splitEven cuts total into parts of at most limit each, all the same size
// rounded up to a multiple of unit, so that no block is a thin remainder.
func splitEven(total, limit, unit int) int {
	parts := (total + limit - 1) / limit
	size := (total + parts - 1) / parts
	return (size + unit - 1) / unit * unit
}

// gemmBlock computes rows [m0,m1) and columns [n0,n1) of C on the calling
// goroutine, with ws's packing buffers. The k blocking depends only on k and
// the kernel set, so every thread count sums in the same order and gives
// bit-identical results.
func (ws *workspace) gemmBlock(ks *kernelSet, g *gemmArgs, m0, m1, n0, n1 int) {
	ws.ensure(ks)
	kc := splitEven(g.k, ks.kc, 1)
	mc := splitEven(m1-m0, ks.mc, ks.mr)
	nc := splitEven(n1-n0, ks.nc, ks.nr)
	// With few rows, each B sliver is used by few A slivers and copying it
	// costs more than it saves: the kernel then reads full-width slivers of
	// an untransposed B in place, and only a partial last sliver is packed.
	// A packed B (PackedB) holds the blocks of this nc, which is that of
	// all n columns: the packed path's single-threaded calls take n0 = 0
	// and n1 = n.
	direct := !g.transB && m1-m0 <= ks.directMaxM && g.packedB == nil
	for jc := n0; jc < n1; jc += nc {
		nb := min(nc, n1-jc)
		for pc := 0; pc < g.k; pc += kc {
			kb := min(kc, g.k-pc)
			beta := g.beta
			if pc > 0 {
				beta = 1 // later k blocks accumulate onto the first one's result
			}
			panel := ws.b
			switch full := nb / ks.nr * ks.nr; {
			case g.packedB != nil:
				panel = g.packedB[packedOffset(ks, jc, nb, pc, g.k):]
			case !direct:
				ks.packB(ws.b, g.b, g.ldb, g.transB, pc, kb, jc, nb)
			case full < nb:
				ks.packB(ws.b[full*kb:], g.b, g.ldb, false, pc, kb, jc+full, nb-full)
			}
			for ic := m0; ic < m1; ic += mc {
				mb := min(mc, m1-ic)
				ks.packA(ws.a, g.a, g.lda, g.transA, ic, mb, pc, kb, g.alpha)
				ws.macroKernel(ks, g, panel, ic, mb, jc, nb, pc, kb, beta, direct)
			}
		}
	}
}

// macroKernel sweeps the packed mb×kb block of A against the kb×nb block of
// B (packed into b, or in place if direct). The B sliver is the outer loop
// so it stays in L1 while the A slivers stream from L2.
func (ws *workspace) macroKernel(ks *kernelSet, g *gemmArgs, b []float32, ic, mb, jc, nb, pc, kb int, beta float32, direct bool) {
	mr, nr := ks.mr, ks.nr
	betaBits := math.Float32bits(beta)
	if beta == 0 {
		betaBits = 0 // -0 also means "do not read C"
	}
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		pb, stride := &b[jr*kb], uintptr(nr*4)
		if direct && cols == nr {
			pb, stride = &g.b[pc*g.ldb+jc+jr], uintptr(g.ldb*4)
		}
		for ir := 0; ir < mb; ir += mr {
			rows := min(mr, mb-ir)
			pa := &ws.a[ir*kb]
			ci := (ic+ir)*g.ldc + jc + jr
			if rows == mr && cols == nr {
				ks.micro(kb, pa, pb, stride, &g.c[ci], g.ldc, betaBits)
				continue
			}
			ks.micro(kb, pa, pb, stride, &ws.tile[0], nr, 0)
			mergeTile(g.c[ci:], g.ldc, ws.tile, nr, rows, cols, beta)
		}
	}
}

// mergeTile writes the valid rows×cols corner of a scratch tile into C.
func mergeTile(c []float32, ldc int, tile []float32, nr, rows, cols int, beta float32) {
	for i := 0; i < rows; i++ {
		dst := c[i*ldc : i*ldc+cols]
		src := tile[i*nr : i*nr+cols]
		if beta == 0 {
			copy(dst, src)
			continue
		}
		for j, v := range src {
			dst[j] = v + beta*dst[j]
		}
	}
}
