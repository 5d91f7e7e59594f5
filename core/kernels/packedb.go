package kernels

import "fmt"

// PackedB is a B operand packed once for several products with it, as an
// LSTM multiplies each step's state by the same recurrent weights: Sgemm
// packs op(B) at every call, which for those products cost a quarter of the
// micro-kernels' time. It holds every kc×nc block of op(B), in the order and
// layout the driver packs them (gemmBlock), for the kernel set that Sgemm
// would pick for the shape; SgemmPackedB then runs the same micro-kernel
// calls over the same blocks as Sgemm, so the results are bit-identical.
//
// The packing is a copy: it is stale once B changes, and products with it
// then compute with the old values. Pack again after every change.
type PackedB struct {
	transB bool
	n, k   int
	// b is the source, for products the packing does not fit (another
	// kernel set is active, or Sgemm would take the NT dot path, which
	// packs nothing): they run as Sgemm on it.
	b      []float32
	ldb    int
	ks     *kernelSet // the set the blocks are packed for; nil: none packed
	buf    []float32  // the blocks, in gemmBlock's order (see packedOffset)
	filled bool       // Pack has run: a zero PackedB holds no operand
}

// Pack packs op(B) (k×n: B is n×k if transB, else k×n, row-major with
// stride ldb) for products with m-row A operands: m decides the register
// block, as in Sgemm. The buffer grows to the largest size packed and is
// reused, so packing the same shape again allocates nothing. It panics if
// b is too short.
func (p *PackedB) Pack(transB bool, m, n, k int, b []float32, ldb int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels: PackedB.Pack: negative size m=%d n=%d k=%d", m, n, k))
	}
	_, _, rowsB, colsB := operandShapes(false, transB, m, n, k)
	checkOperand("B", b, rowsB, colsB, ldb)
	p.transB, p.n, p.k, p.b, p.ldb, p.ks, p.filled = transB, n, k, b, ldb, nil, true
	g := gemmArgs{transB: transB, m: m, n: n, k: k, alpha: 1}
	if m == 0 || n == 0 || k == 0 || useNT(active, &g) {
		return
	}
	ks := active.forShape(&g)
	kc, nc := splitEven(k, ks.kc, 1), splitEven(n, ks.nc, ks.nr)
	if size := packedSize(ks, n, k, nc); len(p.buf) < size {
		p.buf = alignedFloats(size)
	}
	for jc := 0; jc < n; jc += nc {
		nb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			ks.packB(p.buf[packedOffset(ks, jc, nb, pc, k):], b, ldb, transB, pc, min(kc, k-pc), jc, nb)
		}
	}
	p.ks = ks
}

// packedSize is the length of op(B) (k×n) packed in column blocks of nc:
// every block but the last is whole slivers.
func packedSize(ks *kernelSet, n, k, nc int) int {
	last := (n - 1) / nc * nc
	return last*k + roundUp(n-last, ks.nr)*k
}

// packedOffset is where the packed block of columns jc..jc+nb and rows
// pc.. of op(B) starts: the column blocks before it hold jc·k values (jc is
// a multiple of nc, itself one of NR), and the k blocks before it in its
// own column block pc·⌈nb⌉ values.
func packedOffset(ks *kernelSet, jc, nb, pc, k int) int {
	return jc*k + pc*roundUp(nb, ks.nr)
}

// SgemmPackedB is Sgemm with op(B) from p: C = alpha·op(A)·op(B) + beta·C,
// op(A) m×k (A stored k×m if transA), op(B) p's k×n, C m×n. Its results are
// bit-identical to Sgemm's on the B that p packed.
func SgemmPackedB(transA bool, m int, alpha float32, a []float32, lda int, p *PackedB, beta float32, c []float32, ldc int) {
	if !p.filled {
		panic("kernels: SgemmPackedB: the PackedB was never packed (call Pack first)")
	}
	if m == 0 || p.n == 0 {
		return
	}
	g := gemmArgs{transA: transA, transB: p.transB, m: m, n: p.n, k: p.k, alpha: alpha,
		a: a, lda: lda, b: p.b, ldb: p.ldb, beta: beta, c: c, ldc: ldc}
	CheckGemmArgs(transA, p.transB, m, p.n, p.k, a, lda, p.b, p.ldb, c, ldc)
	if p.k == 0 || alpha == 0 {
		scaleMatrix(beta, c, m, p.n, ldc)
		return
	}
	g.dotNT = useNT(active, &g)
	ks := active.forShape(&g)
	if !g.dotNT && ks == p.ks {
		g.packedB = p.buf
	}
	runGemm(ks, &g)
}
