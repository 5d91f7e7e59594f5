//go:build goexperiment.simd && amd64

package kernels

import "strings"

//go:generate go run gen_activation.go

// lanes is the vector width, in float32s, of the active set's element-wise
// passes (Tanh and activation.go): 16 for the AVX-512 sets, 8 for the AVX2
// ones, 0 for the portable set.
func lanes() int {
	switch {
	case strings.HasPrefix(active.name, "avx512"):
		return 16
	case strings.HasPrefix(active.name, "avx2"):
		return 8
	}
	return 0
}

// Each …SIMD function runs its pass on the whole vectors of the active
// width and returns how many values it wrote.

func expSIMD(dst, src []float32, a float32, mode expMode) int {
	switch lanes() {
	case 16:
		return expAVX512(dst, src, a, mode)
	case 8:
		return expAVX2(dst, src, a, mode)
	}
	return 0
}

func log1pSIMD(u []float32) int {
	switch lanes() {
	case 16:
		return log1pAVX512(u)
	case 8:
		return log1pAVX2(u)
	}
	return 0
}

func sigmoidSIMD(dst, src []float32) int {
	switch lanes() {
	case 16:
		return sigmoidAVX512(dst, src, nil, nil, 0)
	case 8:
		return sigmoidAVX2(dst, src, nil, nil, 0)
	}
	return 0
}

func sigmoidBackwardSIMD(dst, gy, y []float32) int {
	switch lanes() {
	case 16:
		return sigmoidBackwardAVX512(dst, gy, y)
	case 8:
		return sigmoidBackwardAVX2(dst, gy, y)
	}
	return 0
}

func eluFromExpm1SIMD(dst, x, m []float32, alpha float32) int {
	switch lanes() {
	case 16:
		return eluFromExpm1AVX512(dst, x, m, alpha)
	case 8:
		return eluFromExpm1AVX2(dst, x, m, alpha)
	}
	return 0
}

func eluBackwardSIMD(dst, gy, x, y []float32, alpha float32) int {
	switch lanes() {
	case 16:
		return eluBackwardAVX512(dst, gy, x, y, alpha)
	case 8:
		return eluBackwardAVX2(dst, gy, x, y, alpha)
	}
	return 0
}

func softplusFromLog1pSIMD(dst, x, l []float32, beta, threshold float32) int {
	switch lanes() {
	case 16:
		return softplusFromLog1pAVX512(dst, x, l, beta, threshold)
	case 8:
		return softplusFromLog1pAVX2(dst, x, l, beta, threshold)
	}
	return 0
}

func softplusGradFromExpSIMD(dst, gy, x, u []float32, beta, threshold float32) int {
	switch lanes() {
	case 16:
		return softplusGradFromExpAVX512(dst, gy, x, u, beta, threshold)
	case 8:
		return softplusGradFromExpAVX2(dst, gy, x, u, beta, threshold)
	}
	return 0
}

func softSignSIMD(dst, src []float32) int {
	switch lanes() {
	case 16:
		return softSignAVX512(dst, src)
	case 8:
		return softSignAVX2(dst, src)
	}
	return 0
}

func softSignBackwardSIMD(dst, gy, x []float32) int {
	switch lanes() {
	case 16:
		return softSignBackwardAVX512(dst, gy, x)
	case 8:
		return softSignBackwardAVX2(dst, gy, x)
	}
	return 0
}

func sqrtSIMD(dst, src []float32) int {
	switch lanes() {
	case 16:
		return sqrtAVX512(dst, src)
	case 8:
		return sqrtAVX2(dst, src)
	}
	return 0
}

func sqrtBackwardSIMD(dst, gy, y []float32) int {
	switch lanes() {
	case 16:
		return sqrtBackwardAVX512(dst, gy, y)
	case 8:
		return sqrtBackwardAVX2(dst, gy, y)
	}
	return 0
}

func logSplitSIMD(u, e, x []float32) int {
	switch lanes() {
	case 16:
		return logSplitAVX512(u, e, x)
	case 8:
		return logSplitAVX2(u, e, x)
	}
	return 0
}

func logCombineSIMD(dst, x, e, l []float32) int {
	switch lanes() {
	case 16:
		return logCombineAVX512(dst, x, e, l)
	case 8:
		return logCombineAVX2(dst, x, e, l)
	}
	return 0
}

func divSIMD(dst, x, y []float32) int {
	switch lanes() {
	case 16:
		return divAVX512(dst, x, y)
	case 8:
		return divAVX2(dst, x, y)
	}
	return 0
}

func piecewiseSIMD(dst, src []float32, p *Piecewise) int {
	switch lanes() {
	case 16:
		return piecewiseAVX512(dst, src, p)
	case 8:
		return piecewiseAVX2(dst, src, p)
	}
	return 0
}

func piecewiseBackwardSIMD(dst, gy, x []float32, g *PiecewiseGrad) int {
	switch lanes() {
	case 16:
		return piecewiseBackwardAVX512(dst, gy, x, g)
	case 8:
		return piecewiseBackwardAVX2(dst, gy, x, g)
	}
	return 0
}

func lstmForwardSIMD(s *LSTMRows, bias, bias2, out []float32) int {
	switch lanes() {
	case 16:
		return lstmForwardAVX512(s, bias, bias2, out)
	case 8:
		return lstmForwardAVX2(s, bias, bias2, out)
	}
	return 0
}

func lstmBackwardSIMD(s *LSTMRows, gy, dGates, dh, dc []float32) int {
	switch lanes() {
	case 16:
		return lstmBackwardAVX512(s, gy, dGates, dh, dc)
	case 8:
		return lstmBackwardAVX2(s, gy, dGates, dh, dc)
	}
	return 0
}

func gruResetForwardSIMD(s *GRURows, rh []float32) (int, int) {
	switch lanes() {
	case 16:
		return gruResetForwardAVX512(s, rh)
	case 8:
		return gruResetForwardAVX2(s, rh)
	}
	return 0, 0
}

func gruForwardSIMD(s *GRURows, out []float32) int {
	switch lanes() {
	case 16:
		return gruForwardAVX512(s, out)
	case 8:
		return gruForwardAVX2(s, out)
	}
	return 0
}

func gruBackwardSIMD(s *GRURows, gy, dGates, dh []float32) int {
	switch lanes() {
	case 16:
		return gruBackwardAVX512(s, gy, dGates, dh)
	case 8:
		return gruBackwardAVX2(s, gy, dGates, dh)
	}
	return 0
}

func gruResetBackwardSIMD(s *GRURows, dGates, drh, dh []float32) int {
	switch lanes() {
	case 16:
		return gruResetBackwardAVX512(s, dGates, drh, dh)
	case 8:
		return gruResetBackwardAVX2(s, dGates, drh, dh)
	}
	return 0
}
