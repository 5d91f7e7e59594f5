package kernels

// Tanh sets dst[i] = tanh(src[i]) in float32, a rational approximation
// (Eigen's: degree 13 over degree 6 on [-7.9, 7.9], ±1 beyond) accurate to a
// few ulps; math.Tanh in float64 took a third of a LeNet-5 training step.
// dst and src may be the same slice.
func Tanh(dst, src []float32) {
	sameLen("Tanh", len(dst), len(src))
	n := tanhSIMD(dst, src)
	tanhGeneric(dst[n:], src[n:])
}

// TanhBackward sets dst[i] = gradOut[i]·(1 − out[i]²), the gradient through
// a Tanh whose output was out. dst may alias gradOut.
func TanhBackward(dst, gradOut, out []float32) {
	sameLen("TanhBackward (dst vs gradOut)", len(dst), len(gradOut))
	sameLen("TanhBackward (dst vs out)", len(dst), len(out))
	n := tanhBackwardSIMD(dst, gradOut, out)
	for i := n; i < len(dst); i++ {
		y := out[i]
		dst[i] = gradOut[i] * (1 - y*y)
	}
}

const (
	tanhClamp = 7.90531110763549805
	tanhA1    = 4.89352455891786e-03
	tanhA3    = 6.37261928875436e-04
	tanhA5    = 1.48572235717979e-05
	tanhA7    = 5.12229709037114e-08
	tanhA9    = -8.60467152213735e-11
	tanhA11   = 2.00018790482477e-13
	tanhA13   = -2.76076847742355e-16
	tanhB0    = 4.89352518554385e-03
	tanhB2    = 2.26843463243900e-03
	tanhB4    = 1.18534705686654e-04
	tanhB6    = 1.19825839466702e-06
)

func tanhGeneric(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		x = min(max(x, -tanhClamp), tanhClamp)
		x2 := x * x
		p := x2*tanhA13 + tanhA11
		p = p*x2 + tanhA9
		p = p*x2 + tanhA7
		p = p*x2 + tanhA5
		p = p*x2 + tanhA3
		p = p*x2 + tanhA1
		q := x2*tanhB6 + tanhB4
		q = q*x2 + tanhB2
		q = q*x2 + tanhB0
		dst[i] = x * p / q
	}
}
