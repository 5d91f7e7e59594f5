//go:build goexperiment.simd && amd64

package kernels

import (
	"simd/archsimd"
	"unsafe"
)

// AVX2 elementwise helpers: full vectors, then one masked partial vector
// (loadPart/storePart) for the tail, so every element takes the same arithmetic path.
// Each ends with ClearAVXUpperBits and does its final reduction in vector
// registers: see the note on SSE in dispatch.go.

func axpyAVX2(alpha float32, x, y []float32) {
	y = y[:len(x)]
	av := archsimd.BroadcastFloat32x8(alpha)
	i := 0
	for ; i+8 <= len(x); i += 8 {
		av.MulAdd(archsimd.LoadFloat32x8Slice(x[i:]), archsimd.LoadFloat32x8Slice(y[i:])).StoreSlice(y[i:])
	}
	if i < len(x) {
		storePart8(av.MulAdd(loadPart8(x[i:]), loadPart8(y[i:])), y[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func scaleAVX2(alpha float32, x []float32) {
	av := archsimd.BroadcastFloat32x8(alpha)
	i := 0
	for ; i+8 <= len(x); i += 8 {
		archsimd.LoadFloat32x8Slice(x[i:]).Mul(av).StoreSlice(x[i:])
	}
	if i < len(x) {
		storePart8(loadPart8(x[i:]).Mul(av), x[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func addAVX2(dst, x []float32) {
	dst = dst[:len(x)]
	i := 0
	for ; i+8 <= len(x); i += 8 {
		archsimd.LoadFloat32x8Slice(dst[i:]).Add(archsimd.LoadFloat32x8Slice(x[i:])).StoreSlice(dst[i:])
	}
	if i < len(x) {
		storePart8(loadPart8(dst[i:]).Add(loadPart8(x[i:])), dst[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func mulAddAVX2(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		archsimd.LoadFloat32x8Slice(a[i:]).MulAdd(archsimd.LoadFloat32x8Slice(b[i:]), archsimd.LoadFloat32x8Slice(dst[i:])).StoreSlice(dst[i:])
	}
	if i < len(dst) {
		storePart8(loadPart8(a[i:]).MulAdd(loadPart8(b[i:]), loadPart8(dst[i:])), dst[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func shiftRowsAVX2(dst, src []float32, rows, stride int, b float32) {
	w := len(dst) / rows
	bv := archsimd.BroadcastFloat32x8(b)
	for r := 0; r < rows; r++ {
		d, s := dst[r*w:(r+1)*w], src[r*stride:r*stride+w]
		i := 0
		for ; i+8 <= w; i += 8 {
			archsimd.LoadFloat32x8Slice(s[i:]).Add(bv).StoreSlice(d[i:])
		}
		if i < w {
			storePart8(loadPart8(s[i:]).Add(bv), d[i:])
		}
	}
	archsimd.ClearAVXUpperBits()
}

func scaleShiftAVX2(dst, src []float32, a, b float32) {
	dst = dst[:len(src)]
	av, bv := archsimd.BroadcastFloat32x8(a), archsimd.BroadcastFloat32x8(b)
	i := 0
	for ; i+8 <= len(src); i += 8 {
		av.MulAdd(archsimd.LoadFloat32x8Slice(src[i:]), bv).StoreSlice(dst[i:])
	}
	if i < len(src) {
		storePart8(av.MulAdd(loadPart8(src[i:]), bv), dst[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func mulShiftAVX2(dst, src, a, b []float32) {
	src, a, b = src[:len(dst)], a[:len(dst)], b[:len(dst)]
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		archsimd.LoadFloat32x8Slice(src[i:]).MulAdd(archsimd.LoadFloat32x8Slice(a[i:]), archsimd.LoadFloat32x8Slice(b[i:])).StoreSlice(dst[i:])
	}
	if i < len(dst) {
		storePart8(loadPart8(src[i:]).MulAdd(loadPart8(a[i:]), loadPart8(b[i:])), dst[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func reluAVX2(dst, src []float32) {
	dst = dst[:len(src)]
	var zero archsimd.Float32x8
	i := 0
	for ; i+8 <= len(src); i += 8 {
		v := archsimd.LoadFloat32x8Slice(src[i:])
		v.Masked(v.Greater(zero)).StoreSlice(dst[i:])
	}
	if i < len(src) {
		v := loadPart8(src[i:])
		storePart8(v.Masked(v.Greater(zero)), dst[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func reluBackwardAVX2(dst, gradOut, input []float32) {
	gradOut, input = gradOut[:len(dst)], input[:len(dst)]
	var zero archsimd.Float32x8
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		in := archsimd.LoadFloat32x8Slice(input[i:])
		archsimd.LoadFloat32x8Slice(gradOut[i:]).Masked(in.Greater(zero)).StoreSlice(dst[i:])
	}
	if i < len(dst) {
		in := loadPart8(input[i:])
		storePart8(loadPart8(gradOut[i:]).Masked(in.Greater(zero)), dst[i:])
	}
	archsimd.ClearAVXUpperBits()
}

// dotAVX2 keeps four vector sums so four FMAs are in flight at once.
func dotAVX2(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 archsimd.Float32x8
	i := 0
	for ; i+32 <= len(x); i += 32 {
		s0 = archsimd.LoadFloat32x8Slice(x[i:]).MulAdd(archsimd.LoadFloat32x8Slice(y[i:]), s0)
		s1 = archsimd.LoadFloat32x8Slice(x[i+8:]).MulAdd(archsimd.LoadFloat32x8Slice(y[i+8:]), s1)
		s2 = archsimd.LoadFloat32x8Slice(x[i+16:]).MulAdd(archsimd.LoadFloat32x8Slice(y[i+16:]), s2)
		s3 = archsimd.LoadFloat32x8Slice(x[i+24:]).MulAdd(archsimd.LoadFloat32x8Slice(y[i+24:]), s3)
	}
	for ; i+8 <= len(x); i += 8 {
		s0 = archsimd.LoadFloat32x8Slice(x[i:]).MulAdd(archsimd.LoadFloat32x8Slice(y[i:]), s0)
	}
	if i < len(x) {
		s1 = loadPart8(x[i:]).MulAdd(loadPart8(y[i:]), s1)
	}
	s := s0.Add(s1).Add(s2.Add(s3))
	q := s.GetLo().Add(s.GetHi())
	q = q.AddPairs(q)
	q = q.AddPairs(q)
	// The sum goes through memory: stores are ordered before VZEROUPPER,
	// register-only vector operations are not.
	var sum [4]float32
	q.Store(&sum)
	archsimd.ClearAVXUpperBits()
	return sum[0]
}

// iota8 gives each lane its index, to build masks for the first n lanes
// (AVX2 has no mask registers).
var iota8 = [8]int32{0, 1, 2, 3, 4, 5, 6, 7}

func firstLanes8(n int) archsimd.Mask32x8 {
	return archsimd.LoadInt32x8(&iota8).Less(archsimd.BroadcastInt32x8(int32(n)))
}

// loadPart8 and storePart8 are loadPart16 and storePart16 (see
// vec_avx512.go) for 8 lanes.
//
//go:nocheckptr
func loadPart8(s []float32) f8 {
	return archsimd.LoadMaskedFloat32x8((*[8]float32)(unsafe.Pointer(unsafe.SliceData(s))), firstLanes8(len(s)))
}

//go:nocheckptr
func storePart8(v f8, s []float32) {
	v.StoreMasked((*[8]float32)(unsafe.Pointer(unsafe.SliceData(s))), firstLanes8(len(s)))
}

func mulAVX2(dst, x, y []float32) {
	x, y = x[:len(dst)], y[:len(dst)]
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		archsimd.LoadFloat32x8Slice(x[i:]).Mul(archsimd.LoadFloat32x8Slice(y[i:])).StoreSlice(dst[i:])
	}
	if i < len(dst) {
		storePart8(loadPart8(x[i:]).Mul(loadPart8(y[i:])), dst[i:])
	}
	archsimd.ClearAVXUpperBits()
}

// sumAVX2 keeps two vector sums, and reduces as dotAVX2 does.
func sumAVX2(x []float32) float32 {
	var s0, s1 archsimd.Float32x8
	i := 0
	for ; i+16 <= len(x); i += 16 {
		s0 = s0.Add(archsimd.LoadFloat32x8Slice(x[i:]))
		s1 = s1.Add(archsimd.LoadFloat32x8Slice(x[i+8:]))
	}
	if i+8 <= len(x) {
		s0 = s0.Add(archsimd.LoadFloat32x8Slice(x[i:]))
		i += 8
	}
	if i < len(x) {
		s1 = s1.Add(loadPart8(x[i:]))
	}
	s := s0.Add(s1)
	q := s.GetLo().Add(s.GetHi())
	q = q.AddPairs(q)
	q = q.AddPairs(q)
	var sum [4]float32
	q.Store(&sum)
	archsimd.ClearAVXUpperBits()
	return sum[0]
}
