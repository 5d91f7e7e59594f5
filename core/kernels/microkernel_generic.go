package kernels

import (
	"math"
	"unsafe"
)

// The portable kernel set: plain Go, for CPUs without AVX2/FMA, other
// architectures, and builds without GOEXPERIMENT=simd. It shares the packed
// driver, so it is the reference for the driver's blocking and edge handling
// on every machine.

var genericSet = &kernelSet{
	name: "generic",
	desc: "generic (portable Go, 4×4 register block)",
	mr:   4, nr: 4,
	kc: 256, mc: 128, nc: 1024,
	micro:        kernel4x4Go,
	axpy:         axpyGo,
	scale:        scaleGo,
	add:          addGo,
	mulAdd:       mulAddGo,
	scaleShift:   scaleShiftGo,
	shiftRows:    shiftRowsGo,
	mulShift:     mulShiftGo,
	relu:         reluGo,
	reluBackward: reluBackwardGo,
	dot:          dotGo,
	mul:          mulGo,
	sum:          sumGo,
}

var _ = register(genericSet)

// kernel4x4Go keeps the 16 sums in locals so the compiler can hold most of
// them in registers; indexing through unsafe.Slice avoids bounds checks
// inside the k loop.
func kernel4x4Go(k int, a, b *float32, bStride uintptr, c *float32, ldc int, betaBits uint32) {
	beta := math.Float32frombits(betaBits)
	as := unsafe.Slice(a, 4*k)
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	bs := unsafe.Slice(b, int(bStride/4)*(k-1)+4)
	for p := 0; p < k; p++ {
		bp := (*[4]float32)(bs[p*int(bStride/4):])
		ap := (*[4]float32)(as[4*p : 4*p+4])
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		a0, a1, a2, a3 := ap[0], ap[1], ap[2], ap[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	cs := unsafe.Slice(c, 3*ldc+4)
	store4(cs[0:4], c00, c01, c02, c03, beta)
	store4(cs[ldc:ldc+4], c10, c11, c12, c13, beta)
	store4(cs[2*ldc:2*ldc+4], c20, c21, c22, c23, beta)
	store4(cs[3*ldc:3*ldc+4], c30, c31, c32, c33, beta)
}

func store4(row []float32, v0, v1, v2, v3, beta float32) {
	row = row[:4]
	if beta == 0 {
		row[0], row[1], row[2], row[3] = v0, v1, v2, v3
		return
	}
	row[0] = v0 + beta*row[0]
	row[1] = v1 + beta*row[1]
	row[2] = v2 + beta*row[2]
	row[3] = v3 + beta*row[3]
}
