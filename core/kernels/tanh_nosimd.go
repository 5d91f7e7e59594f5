//go:build !(goexperiment.simd && amd64)

package kernels

func tanhSIMD(dst, src []float32) int                  { return 0 }
func tanhBackwardSIMD(dst, gradOut, out []float32) int { return 0 }
