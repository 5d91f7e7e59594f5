//go:build !(goexperiment.simd && amd64)

package kernels

// Without the SIMD kernels the portable passes of activation.go do all the work.

func expSIMD(dst, src []float32, a float32, mode expMode) int                      { return 0 }
func log1pSIMD(u []float32) int                                                    { return 0 }
func sigmoidSIMD(dst, src []float32) int                                           { return 0 }
func sigmoidBackwardSIMD(dst, gy, y []float32) int                                 { return 0 }
func eluFromExpm1SIMD(dst, x, m []float32, alpha float32) int                      { return 0 }
func eluBackwardSIMD(dst, gy, x, y []float32, alpha float32) int                   { return 0 }
func softplusFromLog1pSIMD(dst, x, l []float32, beta, threshold float32) int       { return 0 }
func softplusGradFromExpSIMD(dst, gy, x, u []float32, beta, threshold float32) int { return 0 }
func softSignSIMD(dst, src []float32) int                                          { return 0 }
func softSignBackwardSIMD(dst, gy, x []float32) int                                { return 0 }
func sqrtSIMD(dst, src []float32) int                                              { return 0 }
func sqrtBackwardSIMD(dst, gy, y []float32) int                                    { return 0 }
func logSplitSIMD(u, e, x []float32) int                                           { return 0 }
func logCombineSIMD(dst, x, e, l []float32) int                                    { return 0 }
func divSIMD(dst, x, y []float32) int                                              { return 0 }
func piecewiseSIMD(dst, src []float32, p *Piecewise) int                           { return 0 }
func piecewiseBackwardSIMD(dst, gy, x []float32, g *PiecewiseGrad) int             { return 0 }
func lstmForwardSIMD(s *LSTMRows, bias, bias2, out []float32) int                  { return 0 }
func lstmBackwardSIMD(s *LSTMRows, gy, dGates, dh, dc []float32) int               { return 0 }
func gruResetForwardSIMD(s *GRURows, rh []float32) (int, int)                      { return 0, 0 }
func gruForwardSIMD(s *GRURows, out []float32) int                                 { return 0 }
func gruBackwardSIMD(s *GRURows, gy, dGates, dh []float32) int                     { return 0 }
func gruResetBackwardSIMD(s *GRURows, dGates, drh, dh []float32) int               { return 0 }
