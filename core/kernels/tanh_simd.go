//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// tanhSIMD computes the full vectors of Tanh with the active set's width and
// returns how many values it wrote; the generic loop takes the rest.
func tanhSIMD(dst, src []float32) int {
	switch lanes() {
	case 16:
		return tanh16(dst, src)
	case 8:
		return tanh8(dst, src)
	}
	return 0
}

func tanhBackwardSIMD(dst, gradOut, out []float32) int {
	switch lanes() {
	case 16:
		one := archsimd.BroadcastFloat32x16(1)
		i := 0
		for ; i+16 <= len(dst); i += 16 {
			y := archsimd.LoadFloat32x16Slice(out[i:])
			archsimd.LoadFloat32x16Slice(gradOut[i:]).Mul(one.Sub(y.Mul(y))).StoreSlice(dst[i:])
		}
		archsimd.ClearAVXUpperBits()
		return i
	case 8:
		one := archsimd.BroadcastFloat32x8(1)
		i := 0
		for ; i+8 <= len(dst); i += 8 {
			y := archsimd.LoadFloat32x8Slice(out[i:])
			archsimd.LoadFloat32x8Slice(gradOut[i:]).Mul(one.Sub(y.Mul(y))).StoreSlice(dst[i:])
		}
		archsimd.ClearAVXUpperBits()
		return i
	}
	return 0
}

func tanh16(dst, src []float32) int {
	b := archsimd.BroadcastFloat32x16
	lo, hi := b(-tanhClamp), b(tanhClamp)
	a13, a11, a9, a7, a5, a3, a1 := b(tanhA13), b(tanhA11), b(tanhA9), b(tanhA7), b(tanhA5), b(tanhA3), b(tanhA1)
	b6, b4, b2, b0 := b(tanhB6), b(tanhB4), b(tanhB2), b(tanhB0)
	i := 0
	for ; i+16 <= len(src); i += 16 {
		x := archsimd.LoadFloat32x16Slice(src[i:]).Max(lo).Min(hi)
		x2 := x.Mul(x)
		p := x2.MulAdd(a13, a11)
		p = p.MulAdd(x2, a9)
		p = p.MulAdd(x2, a7)
		p = p.MulAdd(x2, a5)
		p = p.MulAdd(x2, a3)
		p = p.MulAdd(x2, a1)
		q := x2.MulAdd(b6, b4)
		q = q.MulAdd(x2, b2)
		q = q.MulAdd(x2, b0)
		x.Mul(p).Div(q).StoreSlice(dst[i:])
	}
	archsimd.ClearAVXUpperBits()
	return i
}

func tanh8(dst, src []float32) int {
	b := archsimd.BroadcastFloat32x8
	lo, hi := b(-tanhClamp), b(tanhClamp)
	a13, a11, a9, a7, a5, a3, a1 := b(tanhA13), b(tanhA11), b(tanhA9), b(tanhA7), b(tanhA5), b(tanhA3), b(tanhA1)
	b6, b4, b2, b0 := b(tanhB6), b(tanhB4), b(tanhB2), b(tanhB0)
	i := 0
	for ; i+8 <= len(src); i += 8 {
		x := archsimd.LoadFloat32x8Slice(src[i:]).Max(lo).Min(hi)
		x2 := x.Mul(x)
		p := x2.MulAdd(a13, a11)
		p = p.MulAdd(x2, a9)
		p = p.MulAdd(x2, a7)
		p = p.MulAdd(x2, a5)
		p = p.MulAdd(x2, a3)
		p = p.MulAdd(x2, a1)
		q := x2.MulAdd(b6, b4)
		q = q.MulAdd(x2, b2)
		q = q.MulAdd(x2, b0)
		x.Mul(p).Div(q).StoreSlice(dst[i:])
	}
	archsimd.ClearAVXUpperBits()
	return i
}
