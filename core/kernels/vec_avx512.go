//go:build goexperiment.simd && amd64

package kernels

import (
	"simd/archsimd"
	"unsafe"
)

// AVX-512 elementwise helpers: full vectors, then one masked partial vector
// (loadPart/storePart) for the tail, so every element takes the same arithmetic path.
// Each ends with ClearAVXUpperBits and does its final reduction in vector
// registers: see the note on SSE in dispatch.go.

func axpyAVX512(alpha float32, x, y []float32) {
	y = y[:len(x)]
	av := archsimd.BroadcastFloat32x16(alpha)
	i := 0
	for ; i+16 <= len(x); i += 16 {
		av.MulAdd(archsimd.LoadFloat32x16Slice(x[i:]), archsimd.LoadFloat32x16Slice(y[i:])).StoreSlice(y[i:])
	}
	if i < len(x) {
		storePart16(av.MulAdd(loadPart16(x[i:]), loadPart16(y[i:])), y[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func scaleAVX512(alpha float32, x []float32) {
	av := archsimd.BroadcastFloat32x16(alpha)
	i := 0
	for ; i+16 <= len(x); i += 16 {
		archsimd.LoadFloat32x16Slice(x[i:]).Mul(av).StoreSlice(x[i:])
	}
	if i < len(x) {
		storePart16(loadPart16(x[i:]).Mul(av), x[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func addAVX512(dst, x []float32) {
	dst = dst[:len(x)]
	i := 0
	for ; i+16 <= len(x); i += 16 {
		archsimd.LoadFloat32x16Slice(dst[i:]).Add(archsimd.LoadFloat32x16Slice(x[i:])).StoreSlice(dst[i:])
	}
	if i < len(x) {
		storePart16(loadPart16(dst[i:]).Add(loadPart16(x[i:])), dst[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func mulAddAVX512(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	i := 0
	for ; i+16 <= len(dst); i += 16 {
		archsimd.LoadFloat32x16Slice(a[i:]).MulAdd(archsimd.LoadFloat32x16Slice(b[i:]), archsimd.LoadFloat32x16Slice(dst[i:])).StoreSlice(dst[i:])
	}
	if i < len(dst) {
		storePart16(loadPart16(a[i:]).MulAdd(loadPart16(b[i:]), loadPart16(dst[i:])), dst[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func shiftRowsAVX512(dst, src []float32, rows, stride int, b float32) {
	w := len(dst) / rows
	bv := archsimd.BroadcastFloat32x16(b)
	for r := 0; r < rows; r++ {
		d, s := dst[r*w:(r+1)*w], src[r*stride:r*stride+w]
		i := 0
		for ; i+16 <= w; i += 16 {
			archsimd.LoadFloat32x16Slice(s[i:]).Add(bv).StoreSlice(d[i:])
		}
		if i < w {
			storePart16(loadPart16(s[i:]).Add(bv), d[i:])
		}
	}
	archsimd.ClearAVXUpperBits()
}

func scaleShiftAVX512(dst, src []float32, a, b float32) {
	dst = dst[:len(src)]
	av, bv := archsimd.BroadcastFloat32x16(a), archsimd.BroadcastFloat32x16(b)
	i := 0
	for ; i+16 <= len(src); i += 16 {
		av.MulAdd(archsimd.LoadFloat32x16Slice(src[i:]), bv).StoreSlice(dst[i:])
	}
	if i < len(src) {
		storePart16(av.MulAdd(loadPart16(src[i:]), bv), dst[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func mulShiftAVX512(dst, src, a, b []float32) {
	src, a, b = src[:len(dst)], a[:len(dst)], b[:len(dst)]
	i := 0
	for ; i+16 <= len(dst); i += 16 {
		archsimd.LoadFloat32x16Slice(src[i:]).MulAdd(archsimd.LoadFloat32x16Slice(a[i:]), archsimd.LoadFloat32x16Slice(b[i:])).StoreSlice(dst[i:])
	}
	if i < len(dst) {
		storePart16(loadPart16(src[i:]).MulAdd(loadPart16(a[i:]), loadPart16(b[i:])), dst[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func reluAVX512(dst, src []float32) {
	dst = dst[:len(src)]
	var zero archsimd.Float32x16
	i := 0
	for ; i+16 <= len(src); i += 16 {
		v := archsimd.LoadFloat32x16Slice(src[i:])
		v.Masked(v.Greater(zero)).StoreSlice(dst[i:])
	}
	if i < len(src) {
		v := loadPart16(src[i:])
		storePart16(v.Masked(v.Greater(zero)), dst[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func reluBackwardAVX512(dst, gradOut, input []float32) {
	gradOut, input = gradOut[:len(dst)], input[:len(dst)]
	var zero archsimd.Float32x16
	i := 0
	for ; i+16 <= len(dst); i += 16 {
		in := archsimd.LoadFloat32x16Slice(input[i:])
		archsimd.LoadFloat32x16Slice(gradOut[i:]).Masked(in.Greater(zero)).StoreSlice(dst[i:])
	}
	if i < len(dst) {
		in := loadPart16(input[i:])
		storePart16(loadPart16(gradOut[i:]).Masked(in.Greater(zero)), dst[i:])
	}
	archsimd.ClearAVXUpperBits()
}

// dotAVX512 keeps four vector sums so four FMAs are in flight at once.
func dotAVX512(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 archsimd.Float32x16
	i := 0
	for ; i+64 <= len(x); i += 64 {
		s0 = archsimd.LoadFloat32x16Slice(x[i:]).MulAdd(archsimd.LoadFloat32x16Slice(y[i:]), s0)
		s1 = archsimd.LoadFloat32x16Slice(x[i+16:]).MulAdd(archsimd.LoadFloat32x16Slice(y[i+16:]), s1)
		s2 = archsimd.LoadFloat32x16Slice(x[i+32:]).MulAdd(archsimd.LoadFloat32x16Slice(y[i+32:]), s2)
		s3 = archsimd.LoadFloat32x16Slice(x[i+48:]).MulAdd(archsimd.LoadFloat32x16Slice(y[i+48:]), s3)
	}
	for ; i+16 <= len(x); i += 16 {
		s0 = archsimd.LoadFloat32x16Slice(x[i:]).MulAdd(archsimd.LoadFloat32x16Slice(y[i:]), s0)
	}
	if i < len(x) {
		s1 = loadPart16(x[i:]).MulAdd(loadPart16(y[i:]), s1)
	}
	s := s0.Add(s1).Add(s2.Add(s3))
	h := s.GetLo().Add(s.GetHi())
	q := h.GetLo().Add(h.GetHi())
	q = q.AddPairs(q)
	q = q.AddPairs(q)
	// The sum goes through memory: stores are ordered before VZEROUPPER,
	// register-only vector operations are not.
	var sum [4]float32
	q.Store(&sum)
	archsimd.ClearAVXUpperBits()
	return sum[0]
}

// loadPart16 loads len(s) < 16 values and zeros; storePart16 stores the
// first len(s) < 16 lanes. Both use masked moves, which touch no memory
// past the slice. They convert the slice to a *[16]float32 that reaches
// past its end, which the race detector's pointer checks (checkptr) would
// reject, hence go:nocheckptr; archsimd's own SlicePart functions do the
// same conversion without the exemption.
//
//go:nocheckptr
func loadPart16(s []float32) f16 {
	m := archsimd.Mask32x16FromBits(uint16(1)<<len(s) - 1)
	return archsimd.LoadMaskedFloat32x16((*[16]float32)(unsafe.Pointer(unsafe.SliceData(s))), m)
}

//go:nocheckptr
func storePart16(v f16, s []float32) {
	m := archsimd.Mask32x16FromBits(uint16(1)<<len(s) - 1)
	v.StoreMasked((*[16]float32)(unsafe.Pointer(unsafe.SliceData(s))), m)
}

func mulAVX512(dst, x, y []float32) {
	x, y = x[:len(dst)], y[:len(dst)]
	i := 0
	for ; i+16 <= len(dst); i += 16 {
		archsimd.LoadFloat32x16Slice(x[i:]).Mul(archsimd.LoadFloat32x16Slice(y[i:])).StoreSlice(dst[i:])
	}
	if i < len(dst) {
		storePart16(loadPart16(x[i:]).Mul(loadPart16(y[i:])), dst[i:])
	}
	archsimd.ClearAVXUpperBits()
}

// sumAVX512 keeps two vector sums, and reduces as dotAVX512 does.
func sumAVX512(x []float32) float32 {
	var s0, s1 archsimd.Float32x16
	i := 0
	for ; i+32 <= len(x); i += 32 {
		s0 = s0.Add(archsimd.LoadFloat32x16Slice(x[i:]))
		s1 = s1.Add(archsimd.LoadFloat32x16Slice(x[i+16:]))
	}
	if i+16 <= len(x) {
		s0 = s0.Add(archsimd.LoadFloat32x16Slice(x[i:]))
		i += 16
	}
	if i < len(x) {
		s1 = s1.Add(loadPart16(x[i:]))
	}
	s := s0.Add(s1)
	h := s.GetLo().Add(s.GetHi())
	q := h.GetLo().Add(h.GetHi())
	q = q.AddPairs(q)
	q = q.AddPairs(q)
	var sum [4]float32
	q.Store(&sum)
	archsimd.ClearAVXUpperBits()
	return sum[0]
}
