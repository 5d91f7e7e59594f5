package nn

import (
	"fmt"
	"math"
	"sort"

	"github.com/bigdl-go/bigdl-go/core/kernels"
)

// gateActivation is a recurrent cell's activation, applied in place to one
// gate of one record (a contiguous run of hidden-size values). Its
// derivative is computed from the output alone, so backward through time
// needs no copy of the pre-activations.
type gateActivation struct {
	name string
	f    func(v []float32)
	// df sets dst[i] = gy[i]·f'(x[i]) from y = f(x); dst may alias gy.
	df func(dst, gy, y []float32)
}

// gateActivations are BigDL's activation names for recurrent cells (the
// Python layer maps a layer object such as Tanh() to its name).
var gateActivations = map[string]gateActivation{
	"tanh":    {"tanh", func(v []float32) { kernels.Tanh(v, v) }, kernels.TanhBackward},
	"sigmoid": {"sigmoid", func(v []float32) { kernels.Sigmoid(v, v) }, kernels.SigmoidBackward},
	"hard_sigmoid": {"hard_sigmoid", func(v []float32) {
		for i, x := range v {
			v[i] = min(max(0.2*x+0.5, 0), 1)
		}
	}, func(dst, gy, y []float32) {
		for i, s := range y {
			if s > 0 && s < 1 {
				dst[i] = 0.2 * gy[i]
			} else {
				dst[i] = 0
			}
		}
	}},
	"relu": {"relu", func(v []float32) { kernels.ReLU(v, v) }, func(dst, gy, y []float32) {
		for i, s := range y {
			if s > 0 {
				dst[i] = gy[i]
			} else {
				dst[i] = 0
			}
		}
	}},
	"softplus": {"softplus", func(v []float32) {
		for i, x := range v {
			if x <= 20 { // beyond, log(1 + e^x) is x in float32 (BigDL's SoftPlus threshold)
				v[i] = float32(math.Log1p(math.Exp(float64(x))))
			}
		}
	}, func(dst, gy, y []float32) {
		for i, s := range y {
			dst[i] = gy[i] * float32(-math.Expm1(-float64(s))) // σ(x) = 1 − e^(−softplus(x))
		}
	}},
	"softsign": {"softsign", func(v []float32) {
		for i, x := range v {
			v[i] = x / (1 + abs32(x))
		}
	}, func(dst, gy, y []float32) {
		for i, s := range y {
			d := 1 - abs32(s) // 1/(1+|x|)
			dst[i] = gy[i] * d * d
		}
	}},
	"softmax": {"softmax", func(v []float32) {
		m := v[0]
		for _, x := range v {
			m = max(m, x)
		}
		var sum float64
		for i, x := range v {
			e := math.Exp(float64(x - m))
			v[i] = float32(e)
			sum += e
		}
		kernels.Scale(float32(1/sum), v)
	}, func(dst, gy, y []float32) {
		dot := kernels.Dot(gy, y)
		for i, s := range y {
			dst[i] = s * (gy[i] - dot)
		}
	}},
	"linear": {"linear", func([]float32) {}, func(dst, gy, _ []float32) { copy(dst, gy) }},
}

// gateActivationArg reads an activation name argument of a cell.
func gateActivationArg(a *Args, name, def string) gateActivation {
	s := a.String(name, def)
	act, ok := gateActivations[s]
	if !ok && a.Err() == nil {
		names := make([]string, 0, len(gateActivations))
		for k := range gateActivations {
			names = append(names, k)
		}
		sort.Strings(names)
		a.fail(name, fmt.Sprintf("one of %v", names), s)
		return gateActivations[def]
	}
	return act
}
