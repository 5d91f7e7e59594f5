//go:build goexperiment.simd && amd64

package kernels

import (
	"simd/archsimd"
	"unsafe"
)

// kernelDot2x4AVX512 is a dotKernel (see driver_nt.go): for each pair of
// rows of A, eight dot products with four rows of B, 16 columns at a time,
// written to a 2×4 tile of C. Unlike the packed kernel it needs no
// broadcasts (which compete with FMAs for port 5) and no packing: both
// operands are read where they are. Looping over row pairs inside the
// kernel keeps the per-tile cost (call, pointer set-up, C update) out of Go.
//
// Registers: eight accumulators, two A vectors, one B vector and its copy.
func kernelDot2x4AVX512(k int, a unsafe.Pointer, lda uintptr, t *dotTile) {
	// Few values stay in registers across the pair loop (the rest live in
	// t): eight general registers go to the inner loop's pointers and
	// counters, and more would spill there.
	full := uintptr(k/16) * 64
	a0 := a
	for i := 0; ; {
		b0, b1, b2, b3 := t.b[0], t.b[1], t.b[2], t.b[3]
		var s00, s01, s02, s03, s10, s11, s12, s13 f16
		off := uintptr(0)
		if full > 0 {
			for {
				x0 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(a0, off)))
				x1 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(a0, off+lda)))
				y := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b0, off)))
				s00 = y.MulAdd(x0, s00)
				s10 = y.MulAdd(x1, s10)
				y = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b1, off)))
				s01 = y.MulAdd(x0, s01)
				s11 = y.MulAdd(x1, s11)
				y = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b2, off)))
				s02 = y.MulAdd(x0, s02)
				s12 = y.MulAdd(x1, s12)
				y = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b3, off)))
				s03 = y.MulAdd(x0, s03)
				s13 = y.MulAdd(x1, s13)
				off += 64
				if off == full {
					break
				}
			}
		}
		if rem := k % 16; rem > 0 {
			tail := func(p unsafe.Pointer) f16 {
				return loadPart16(unsafe.Slice((*float32)(unsafe.Add(p, off)), rem))
			}
			x0, x1 := tail(a0), tail(unsafe.Add(a0, lda))
			y := tail(b0)
			s00 = y.MulAdd(x0, s00)
			s10 = y.MulAdd(x1, s10)
			y = tail(b1)
			s01 = y.MulAdd(x0, s01)
			s11 = y.MulAdd(x1, s11)
			y = tail(b2)
			s02 = y.MulAdd(x0, s02)
			s12 = y.MulAdd(x1, s12)
			y = tail(b3)
			s03 = y.MulAdd(x0, s03)
			s13 = y.MulAdd(x1, s13)
		}
		// Fold each 16-lane sum to 8 lanes before the 8-way reduction.
		r := hsum8x8(s00.GetLo().Add(s00.GetHi()), s01.GetLo().Add(s01.GetHi()),
			s02.GetLo().Add(s02.GetHi()), s03.GetLo().Add(s03.GetHi()),
			s10.GetLo().Add(s10.GetHi()), s11.GetLo().Add(s11.GetHi()),
			s12.GetLo().Add(s12.GetHi()), s13.GetLo().Add(s13.GetHi()))
		storeDotTile(r, unsafe.Add(t.c, uintptr(2*i)*t.ldc), t.ldc, t.alpha, t.beta)
		i++
		if i == t.pairs {
			break
		}
		a0 = unsafe.Add(a0, 2*lda)
	}
	archsimd.ClearAVXUpperBits()
}

// hsum8x8 returns the vector whose lane i is the sum of the lanes of hi.
func hsum8x8(h0, h1, h2, h3, h4, h5, h6, h7 f8) f8 {
	// Within each 128-bit half: [h0 pair sums, h1 pair sums] and so on.
	p01 := h0.AddPairsGrouped(h1)
	p23 := h2.AddPairsGrouped(h3)
	p45 := h4.AddPairsGrouped(h5)
	p67 := h6.AddPairsGrouped(h7)
	// Each half now holds one partial sum of h0..h3 (or h4..h7).
	q0 := p01.AddPairsGrouped(p23)
	q1 := p45.AddPairsGrouped(p67)
	// Add the two halves: low halves of q0,q1 plus high halves of q0,q1.
	return q0.Select128FromPair(0, 2, q1).Add(q0.Select128FromPair(1, 3, q1))
}

// storeDotTile writes r = [row 0's four sums, row 1's four sums] to a 2×4
// tile of C as alpha·r + beta·C (C not read when beta is 0). alpha and
// beta arrive as IEEE bits: see the note on SSE in dispatch.go.
func storeDotTile(r f8, c unsafe.Pointer, ldc uintptr, alpha, beta uint32) {
	av := archsimd.BroadcastUint32x4(alpha).AsFloat32x4()
	c0, c1 := (*[4]float32)(c), (*[4]float32)(unsafe.Add(c, ldc))
	if beta == 0 {
		r.GetLo().Mul(av).Store(c0)
		r.GetHi().Mul(av).Store(c1)
		return
	}
	bv := archsimd.BroadcastUint32x4(beta).AsFloat32x4()
	// MulAdd overwrites its receiver: make it the value used once, since
	// Go copies a 128-bit vector with a legacy SSE MOVUPS.
	r.GetLo().MulAdd(av, bv.Mul(archsimd.LoadFloat32x4(c0))).Store(c0)
	r.GetHi().MulAdd(av, bv.Mul(archsimd.LoadFloat32x4(c1))).Store(c1)
}
