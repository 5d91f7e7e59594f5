//go:build goexperiment.simd && amd64

package kernels

// tanhSIMD computes the full vectors of Tanh with the active set's width and
// returns how many values it wrote; the generic loop takes the rest.
func tanhSIMD(dst, src []float32) int {
	switch lanes() {
	case 16:
		return tanhAVX512(dst, src, nil, nil, 0)
	case 8:
		return tanhAVX2(dst, src, nil, nil, 0)
	}
	return 0
}

func tanhBackwardSIMD(dst, gradOut, out []float32) int {
	switch lanes() {
	case 16:
		return tanhBackwardAVX512(dst, gradOut, out)
	case 8:
		return tanhBackwardAVX2(dst, gradOut, out)
	}
	return 0
}
