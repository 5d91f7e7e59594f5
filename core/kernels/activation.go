package kernels

import "math"

// Element-wise activations on the vector kernels. Each exported function
// checks lengths, then runs passes over the data: a pass's SIMD version
// (activation_simd.go, chosen by the active set's vector width) does the
// whole vectors and its portable version here the rest, as Tanh does.
//
// The functions built on e^x run in chunks of expChunk values through a
// scratch array on the stack: the first pass writes e^(…) there, the last
// combines it with the input into dst. So dst may be the same slice as the
// input (a layer run in place), and each chunk stays in L1 between passes.
// Keeping the exponential a pass of its own, rather than a helper inlined in
// every loop, is forced by the compiler: a function on vector values is not
// inlined, and calling one per vector spills every register.
//
// Accuracy: exp is within 1e-7 relative of the exact value (about an ulp)
// over the whole float32 range, subnormal results within one subnormal step,
// overflow, underflow, ±Inf and NaN as math.Exp gives them (TestExpSweep);
// the functions built on it stay within 5e-7 (TestActivationKernels).

// expChunk values of scratch: 1 KiB on the stack, a multiple of every width.
const expChunk = 256

// expMode says which exponential a pass computes from z = a·x.
type expMode int

const (
	expPlain  expMode = iota // e^z
	expNegAbs                // e^-|z|, in (0, 1]: sigmoid and softplus without overflow
	expM1Neg                 // e^min(z,0) − 1 without cancellation near 0: ELU
)

// Cephes' expf: n = round(z·log2 e), r = z − n·ln 2 (ln 2 split in two so
// that n·expC1 is exact), e^r = 1 + r + r²·P(r) on |r| ≤ ln2/2, then 2^n.
// expMagic (1.5·2^23) added to z·log2 e rounds it to an integer held in the
// low bits of the sum, which saves a float-to-int conversion.
const (
	expLog2e   = 1.44269504088896341
	expMagic   = 12582912
	expMagicI  = 0x4B400000
	expC1      = 0.693359375
	expC2      = -2.12194440e-4
	expP0      = 1.9875691500e-4
	expP1      = 1.3981999507e-3
	expP2      = 8.3334519073e-3
	expP3      = 4.1665795894e-2
	expP4      = 1.6666665459e-1
	expP5      = 5.0000001201e-1
	expHi      = 89   // e^89 overflows float32: the result is +Inf
	expLo      = -104 // e^-104 rounds to 0
	expM1Lo    = -87  // e^-87 − 1 is −1 in float32, and 2^n stays normal
	expBiasOne = 127  // float32's exponent bias: the bits of 1.0 are 127<<23
)

// log1p(u) for u in [−0.3, 1] as 2·atanh(s), s = u/(2+u), |s| ≤ 1/3: the
// odd series 2s·(1 + s²/3 + s⁴/5 + … + s¹⁴/15) leaves out less than 2e-9.
const (
	log1pC3  = 1.0 / 3
	log1pC5  = 1.0 / 5
	log1pC7  = 1.0 / 7
	log1pC9  = 1.0 / 9
	log1pC11 = 1.0 / 11
	log1pC13 = 1.0 / 13
	log1pC15 = 1.0 / 15
)

// Exp sets dst[i] = e^src[i]. dst and src may be the same slice.
func Exp(dst, src []float32) {
	sameLen("Exp", len(dst), len(src))
	expPass(dst, src, 1, expPlain)
}

// Sigmoid sets dst[i] = 1/(1 + e^-src[i]), computed as e^x/(1 + e^x) for
// negative x so that tiny results keep their precision.
func Sigmoid(dst, src []float32) {
	sameLen("Sigmoid", len(dst), len(src))
	// The vector sets take the whole vectors in one pass (the recurrent
	// cells' gates run the same body); the rest, and every value on the
	// portable set, is e^-|x| into a scratch and then the quotient.
	n := sigmoidSIMD(dst, src)
	dst, src = dst[n:], src[n:]
	var u [expChunk]float32
	for off := 0; off < len(src); off += expChunk {
		x, d := chunk(src, off), chunk(dst, off)
		expGo(u[:len(x)], x, 1, expNegAbs)
		sigmoidFromExpGo(d, x, u[:len(x)])
	}
}

// SigmoidBackward sets dst[i] = gradOut[i]·out[i]·(1 − out[i]), the gradient
// through a Sigmoid whose output was out. dst may alias gradOut.
func SigmoidBackward(dst, gradOut, out []float32) {
	sameLen("SigmoidBackward (dst vs gradOut)", len(dst), len(gradOut))
	sameLen("SigmoidBackward (dst vs out)", len(dst), len(out))
	n := sigmoidBackwardSIMD(dst, gradOut, out)
	sigmoidBackwardGo(dst[n:], gradOut[n:], out[n:])
}

// ELU sets dst[i] = x if x > 0, else alpha·(e^x − 1), x = src[i].
func ELU(dst, src []float32, alpha float32) {
	sameLen("ELU", len(dst), len(src))
	var u [expChunk]float32
	for off := 0; off < len(src); off += expChunk {
		x, d := chunk(src, off), chunk(dst, off)
		expPass(u[:len(x)], x, 1, expM1Neg)
		eluFromExpm1(d, x, u[:len(x)], alpha)
	}
}

// ELUBackward sets dst[i] = gradOut[i] where in[i] > 0, else
// gradOut[i]·(out[i] + alpha) (the derivative alpha·e^x from the output).
// dst may alias gradOut.
func ELUBackward(dst, gradOut, in, out []float32, alpha float32) {
	sameLen("ELUBackward (dst vs gradOut)", len(dst), len(gradOut))
	sameLen("ELUBackward (dst vs in)", len(dst), len(in))
	sameLen("ELUBackward (dst vs out)", len(dst), len(out))
	n := eluBackwardSIMD(dst, gradOut, in, out, alpha)
	eluBackwardGo(dst[n:], gradOut[n:], in[n:], out[n:], alpha)
}

// SoftPlus sets dst[i] = log(1 + e^(beta·x))/beta, x = src[i], or x itself
// where beta·x > threshold (BigDL's cut-off, 20, past which the two agree in
// float32). It is computed as (max(z, 0) + log1p(e^-|z|))/beta, z = beta·x,
// which neither overflows nor loses tiny results. beta must not be 0.
func SoftPlus(dst, src []float32, beta, threshold float32) {
	sameLen("SoftPlus", len(dst), len(src))
	var u [expChunk]float32
	for off := 0; off < len(src); off += expChunk {
		x, d := chunk(src, off), chunk(dst, off)
		expPass(u[:len(x)], x, beta, expNegAbs)
		log1pPass(u[:len(x)])
		softplusFromLog1p(d, x, u[:len(x)], beta, threshold)
	}
}

// SoftPlusBackward sets dst[i] = gradOut[i]·sigmoid(beta·x), x = in[i], or
// gradOut[i] where beta·x > threshold. dst may alias gradOut.
func SoftPlusBackward(dst, gradOut, in []float32, beta, threshold float32) {
	sameLen("SoftPlusBackward (dst vs gradOut)", len(dst), len(gradOut))
	sameLen("SoftPlusBackward (dst vs in)", len(dst), len(in))
	var u [expChunk]float32
	for off := 0; off < len(in); off += expChunk {
		x, g, d := chunk(in, off), chunk(gradOut, off), chunk(dst, off)
		expPass(u[:len(x)], x, beta, expNegAbs)
		softplusGradFromExp(d, g, x, u[:len(x)], beta, threshold)
	}
}

// LogSigmoid sets dst[i] = log(sigmoid(x)) = −softplus(−x): SoftPlus with
// beta −1 and no cut-off.
func LogSigmoid(dst, src []float32) {
	SoftPlus(dst, src, -1, float32(math.Inf(1)))
}

// LogSigmoidBackward sets dst[i] = gradOut[i]·sigmoid(−in[i]).
func LogSigmoidBackward(dst, gradOut, in []float32) {
	SoftPlusBackward(dst, gradOut, in, -1, float32(math.Inf(1)))
}

// SoftSign sets dst[i] = x/(1 + |x|), x = src[i].
func SoftSign(dst, src []float32) {
	sameLen("SoftSign", len(dst), len(src))
	n := softSignSIMD(dst, src)
	softSignGo(dst[n:], src[n:])
}

// SoftSignBackward sets dst[i] = gradOut[i]/(1 + |in[i]|)². dst may alias gradOut.
func SoftSignBackward(dst, gradOut, in []float32) {
	sameLen("SoftSignBackward (dst vs gradOut)", len(dst), len(gradOut))
	sameLen("SoftSignBackward (dst vs in)", len(dst), len(in))
	n := softSignBackwardSIMD(dst, gradOut, in)
	softSignBackwardGo(dst[n:], gradOut[n:], in[n:])
}

// Sqrt sets dst[i] = √src[i], correctly rounded (NaN below 0).
func Sqrt(dst, src []float32) {
	sameLen("Sqrt", len(dst), len(src))
	n := sqrtSIMD(dst, src)
	for i := n; i < len(src); i++ {
		dst[i] = float32(math.Sqrt(float64(src[i])))
	}
}

// SqrtBackward sets dst[i] = gradOut[i]/(2·out[i]), the gradient through a
// Sqrt whose output was out. dst may alias gradOut.
func SqrtBackward(dst, gradOut, out []float32) {
	sameLen("SqrtBackward (dst vs gradOut)", len(dst), len(gradOut))
	sameLen("SqrtBackward (dst vs out)", len(dst), len(out))
	n := sqrtBackwardSIMD(dst, gradOut, out)
	for i := n; i < len(dst); i++ {
		dst[i] = gradOut[i] / (out[i] + out[i])
	}
}

// Log sets dst[i] = ln src[i] (−Inf at 0, NaN below, subnormals included),
// within 2e-7 relative of the exact value (TestLogSweep).
//
// x = 2^e·(1+u) with 1+u in [√2/2, √2), then log x = e·ln 2 + log1p(u) with
// the log1p pass, whose series holds for u in [−0.3, 0.42] too.
func Log(dst, src []float32) {
	sameLen("Log", len(dst), len(src))
	var u, e [expChunk]float32
	for off := 0; off < len(src); off += expChunk {
		x, d := chunk(src, off), chunk(dst, off)
		n := logSplitSIMD(u[:len(x)], e[:len(x)], x)
		logSplitGo(u[n:len(x)], e[n:len(x)], x[n:])
		log1pPass(u[:len(x)])
		n = logCombineSIMD(d, x, e[:len(x)], u[:len(x)])
		logCombineGo(d[n:], x[n:], e[n:len(x)], u[n:len(x)])
	}
}

// Div sets dst[i] = x[i]/y[i] (Log's gradient, gradOut/in); dst may be x or y.
func Div(dst, x, y []float32) {
	sameLen("Div (dst vs x)", len(dst), len(x))
	sameLen("Div (dst vs y)", len(dst), len(y))
	n := divSIMD(dst, x, y)
	for i := n; i < len(dst); i++ {
		dst[i] = x[i] / y[i]
	}
}

// Line is y = Slope·x + Intercept.
type Line struct{ Slope, Intercept float32 }

// Piecewise is a function linear on x < Lo (Below), on Lo ≤ x ≤ Hi (Inside)
// and on x > Hi (Above), with a fixed output for NaN. Where Lo > Hi, Above
// takes precedence. ReLU6, HardTanh, Clamp, Threshold, LeakyReLU, Abs, the
// shrinks, HardSigmoid and the affine layers are all one of these.
type Piecewise struct {
	Lo, Hi               float32
	Below, Inside, Above Line
	NaN                  float32
}

func (p *Piecewise) at(x float32) float32 {
	l := p.Inside
	switch {
	case x != x:
		return p.NaN
	case x > p.Hi:
		l = p.Above
	case x < p.Lo:
		l = p.Below
	}
	return l.at(x)
}

// at is the line at x, rounded once (the product is exact in float64), as a
// fused multiply-add gives it; a flat line is its intercept even at ±Inf.
func (l Line) at(x float32) float32 {
	if l.flat() {
		return l.Intercept
	}
	return float32(float64(l.Slope)*float64(x) + float64(l.Intercept))
}

// PiecewiseGrad is the derivative of a Piecewise function as a factor for
// each region: x < Lo, x == Lo or Hi (Ends), Lo < x < Hi, x > Hi, and NaN.
// Above takes precedence over Below, both over Ends.
type PiecewiseGrad struct {
	Lo, Hi                          float32
	Below, Ends, Inside, Above, NaN float32
}

func (g *PiecewiseGrad) at(x float32) float32 {
	switch {
	case x != x:
		return g.NaN
	case x > g.Hi:
		return g.Above
	case x < g.Lo:
		return g.Below
	case x == g.Lo || x == g.Hi:
		return g.Ends
	}
	return g.Inside
}

// PiecewiseLinear sets dst[i] = p(src[i]). dst and src may be the same slice.
func PiecewiseLinear(dst, src []float32, p *Piecewise) {
	sameLen("PiecewiseLinear", len(dst), len(src))
	n := piecewiseSIMD(dst, src, p)
	for i := n; i < len(src); i++ {
		dst[i] = p.at(src[i])
	}
}

// PiecewiseBackward sets dst[i] = gradOut[i]·g(in[i]). dst may alias gradOut.
func PiecewiseBackward(dst, gradOut, in []float32, g *PiecewiseGrad) {
	sameLen("PiecewiseBackward (dst vs gradOut)", len(dst), len(gradOut))
	sameLen("PiecewiseBackward (dst vs in)", len(dst), len(in))
	n := piecewiseBackwardSIMD(dst, gradOut, in, g)
	for i := n; i < len(dst); i++ {
		dst[i] = gradOut[i] * g.at(in[i])
	}
}

// flat reports a slope of ±0, from its bits (see piecewiseAVX512).
func (l Line) flat() bool { return math.Float32bits(l.Slope)<<1 == 0 }

// chunk is the expChunk values of s from off (fewer at the end).
func chunk(s []float32, off int) []float32 {
	return s[off:min(off+expChunk, len(s))]
}

func expPass(dst, src []float32, a float32, mode expMode) {
	n := expSIMD(dst, src, a, mode)
	expGo(dst[n:], src[n:], a, mode)
}

func log1pPass(u []float32) {
	n := log1pSIMD(u)
	log1pGo(u[n:])
}

func eluFromExpm1(dst, x, m []float32, alpha float32) {
	n := eluFromExpm1SIMD(dst, x, m, alpha)
	eluFromExpm1Go(dst[n:], x[n:], m[n:], alpha)
}

func softplusFromLog1p(dst, x, l []float32, beta, threshold float32) {
	n := softplusFromLog1pSIMD(dst, x, l, beta, threshold)
	softplusFromLog1pGo(dst[n:], x[n:], l[n:], beta, threshold)
}

func softplusGradFromExp(dst, gy, x, u []float32, beta, threshold float32) {
	n := softplusGradFromExpSIMD(dst, gy, x, u, beta, threshold)
	softplusGradFromExpGo(dst[n:], gy[n:], x[n:], u[n:], beta, threshold)
}

// The portable passes: the same arithmetic as the vector ones, a value at a time.

func expGo(dst, src []float32, a float32, mode expMode) {
	dst = dst[:len(src)]
	for i, x := range src {
		z := a * x
		lo := float32(expLo)
		switch mode {
		case expNegAbs:
			z = -float32(math.Abs(float64(z)))
		case expM1Neg:
			z, lo = min(z, 0), expM1Lo
		}
		if z != z {
			dst[i] = z
			continue
		}
		z = min(max(z, lo), expHi)
		t := z*expLog2e + expMagic
		n := t - expMagic
		r := z - n*expC1 - n*expC2
		p := ((((expP0*r+expP1)*r+expP2)*r+expP3)*r+expP4)*r + expP5
		q := p*r*r + r // e^r − 1
		ni := int32(math.Float32bits(t)) - expMagicI
		if mode == expM1Neg {
			s := math.Float32frombits(uint32(ni+expBiasOne) << 23)
			dst[i] = s*q + (s - 1)
			continue
		}
		// 2^n in two factors, each a normal number, so that results
		// near the overflow and in the subnormal range round once.
		n1 := ni >> 1
		s1 := math.Float32frombits(uint32(n1+expBiasOne) << 23)
		s2 := math.Float32frombits(uint32(ni-n1+expBiasOne) << 23)
		dst[i] = (q + 1) * s1 * s2
	}
}

func log1pGo(u []float32) {
	for i, v := range u {
		s := v / (2 + v)
		s2 := s * s
		l := ((((((log1pC15*s2+log1pC13)*s2+log1pC11)*s2+log1pC9)*s2+log1pC7)*s2+log1pC5)*s2 + log1pC3)
		t := 2 * s
		u[i] = t*s2*l + t
	}
}

// sigmoidFromExpGo: u = e^-|x|; sigmoid(x) = 1/(1+u) for x ≥ 0, u/(1+u) below.
func sigmoidFromExpGo(dst, x, u []float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		s := 1 / (1 + u[i])
		if !(v >= 0) {
			s *= u[i]
		}
		dst[i] = s
	}
}

func sigmoidBackwardGo(dst, gy, y []float32) {
	for i := range dst {
		dst[i] = gy[i] * (y[i] * (1 - y[i]))
	}
}

func eluFromExpm1Go(dst, x, m []float32, alpha float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		if v > 0 {
			dst[i] = v
		} else {
			dst[i] = alpha * m[i]
		}
	}
}

func eluBackwardGo(dst, gy, x, y []float32, alpha float32) {
	for i := range dst {
		if x[i] > 0 {
			dst[i] = gy[i]
		} else {
			dst[i] = gy[i] * (y[i] + alpha)
		}
	}
}

// softplusFromLog1pGo: l = log1p(e^-|z|), z = beta·x.
func softplusFromLog1pGo(dst, x, l []float32, beta, threshold float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		z := beta * v
		if z > threshold {
			dst[i] = v
		} else {
			dst[i] = (max(z, 0) + l[i]) / beta
		}
	}
}

func softplusGradFromExpGo(dst, gy, x, u []float32, beta, threshold float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		z := beta * v
		s := 1 / (1 + u[i])
		if !(z >= 0) {
			s *= u[i]
		}
		if z > threshold {
			s = 1
		}
		dst[i] = gy[i] * s
	}
}

func logSplitGo(u, e, x []float32) {
	for i, v := range x {
		ev := float32(0)
		if v < 0x1p-126 {
			v, ev = v*0x1p23, -23
		}
		bits := int32(math.Float32bits(v))
		ev += float32(bits>>23 - expBiasOne)
		m := math.Float32frombits(uint32(bits&0x7fffff | 0x3f800000))
		if m > math.Sqrt2 {
			m, ev = m*0.5, ev+1
		}
		u[i], e[i] = m-1, ev
	}
}

func logCombineGo(dst, x, e, l []float32) {
	for i, v := range x {
		switch {
		case v == 0:
			dst[i] = float32(math.Inf(-1))
		case v < 0:
			dst[i] = float32(math.NaN())
		case v != v || v > math.MaxFloat32:
			dst[i] = v
		default:
			dst[i] = e[i]*expC1 + (e[i]*expC2 + l[i])
		}
	}
}

func softSignGo(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = v / (1 + float32(math.Abs(float64(v))))
	}
}

func softSignBackwardGo(dst, gy, x []float32) {
	for i := range dst {
		d := 1 + float32(math.Abs(float64(x[i])))
		dst[i] = gy[i] / (d * d)
	}
}
