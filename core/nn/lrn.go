package nn

import (
	"fmt"
	"math"
	"strconv"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// SpatialCrossMapLRN is BigDL's local response normalisation across
// channels of (batch, C, H, W) input ((batch, H, W, C) in NHWC):
//
//	y_c = x_c · (k + α/size · Σ_{|j−c| ≤ (size−1)/2} x_j²)^(−β)
//
// with the sum cut at the first and last channel. α is divided by size, as
// in PyTorch's LocalResponseNorm; size must be odd, as BigDL requires.
type SpatialCrossMapLRN struct {
	Base
	Size           int
	Alpha, Beta, K float64
	nhwc           bool
	config         map[string]any
	scale          []float32 // k + α/size·Σx², kept for backward
	pow            []float32 // scale^(−β), kept for backward
	ratio          []float32 // backward's gy·y/scale
	output, gradIn *tensor.Tensor
}

func init() {
	Register("SpatialCrossMapLRN", func(a *Args) (Module, error) {
		l := &SpatialCrossMapLRN{Base: newBase("SpatialCrossMapLRN"), Size: a.Int("size", 5),
			Alpha: a.Float("alpha", 1), Beta: a.Float("beta", 0.75), K: a.Float("k", 1)}
		format := a.String("data_format", "NCHW")
		if err := a.Err(); err != nil {
			return nil, err
		}
		var err error
		if l.nhwc, err = channelsLast("SpatialCrossMapLRN", "data_format", format); err != nil {
			return nil, err
		}
		if l.Size < 1 || l.Size%2 == 0 {
			return nil, fmt.Errorf("SpatialCrossMapLRN: argument size must be a positive odd integer (BigDL's LRN), got %d", l.Size)
		}
		l.config = map[string]any{"size": l.Size, "alpha": l.Alpha, "beta": l.Beta, "k": l.K, "data_format": format}
		return l, nil
	})
}

func (l *SpatialCrossMapLRN) Params() []*Param       { return nil }
func (l *SpatialCrossMapLRN) Reset()                 {}
func (l *SpatialCrossMapLRN) Config() map[string]any { return l.config }
func (l *SpatialCrossMapLRN) String() string {
	return fmt.Sprintf("%s[%s](%d, %s, %s, %s)", l.class, l.name, l.Size, scalaDouble(l.Alpha), scalaDouble(l.Beta),
		scalaDouble(l.K))
}

// scalaDouble formats v as Scala prints a Double: 1.0, not 1.
func scalaDouble(v float64) string {
	s := strconv.FormatFloat(v, 'g', -1, 64)
	if v == math.Trunc(v) && !math.IsInf(v, 0) && math.Abs(v) < 1e7 {
		s += ".0"
	}
	return s
}

// layout checks x and returns it as (outer, C, inner): the channels of one
// pixel are inner values apart.
func (l *SpatialCrossMapLRN) layout(x *tensor.Tensor) (outer, ch, inner int) {
	checkImages(l, x, l.nhwc)
	s := x.Shape
	if l.nhwc {
		return s[0] * s[1] * s[2], s[3], 1
	}
	return s[0], s[1], s[2] * s[3]
}

// windowSums writes into dst, for every channel c of each (C, inner) block,
// Σ src_j over the channels j within (size−1)/2 of c (of sq(src_j) when
// square): summed afresh per channel, with no running sum to drift.
func (l *SpatialCrossMapLRN) windowSums(dst, src []float32, outer, ch, inner int, square bool) {
	half := (l.Size - 1) / 2
	for o := 0; o < outer; o++ {
		blk, out := src[o*ch*inner:(o+1)*ch*inner], dst[o*ch*inner:(o+1)*ch*inner]
		for c := 0; c < ch; c++ {
			d := out[c*inner : (c+1)*inner]
			clear(d)
			for j := max(0, c-half); j <= min(ch-1, c+half); j++ {
				s := blk[j*inner : (j+1)*inner]
				if square {
					for i, v := range s {
						d[i] += v * v
					}
				} else {
					for i, v := range s {
						d[i] += v
					}
				}
			}
		}
	}
}

func (l *SpatialCrossMapLRN) Forward(x *tensor.Tensor) *tensor.Tensor {
	outer, ch, inner := l.layout(x)
	l.output = tensor.Ensure(l.output, x.Shape...)
	l.scale, l.pow = grow(l.scale, x.Len()), grow(l.pow, x.Len())
	l.windowSums(l.scale, x.Data, outer, ch, inner, true)
	a, k := float32(l.Alpha/float64(l.Size)), float32(l.K)
	for i, s := range l.scale {
		l.scale[i] = k + a*s
	}
	powNeg(l.pow, l.scale, l.Beta)
	y := l.output.Data
	for i, v := range x.Data {
		y[i] = v * l.pow[i]
	}
	return l.output
}

// powNeg writes s^(−β) for each s of src into dst. math.Pow took 90% of
// the layer's time; β = 0.75 (AlexNet's, BigDL's default) and 0.5 take
// square roots instead, any other β exp(−β·ln s).
func powNeg(dst, src []float32, beta float64) {
	switch beta {
	case 0.75:
		for i, s := range src {
			r := math.Sqrt(float64(s))
			dst[i] = float32(1 / (r * math.Sqrt(r)))
		}
	case 0.5:
		for i, s := range src {
			dst[i] = float32(1 / math.Sqrt(float64(s)))
		}
	default:
		for i, s := range src {
			dst[i] = float32(math.Exp(-beta * math.Log(float64(s))))
		}
	}
}

// Backward: dy_c/dx_j = δ_cj·scale_c^(−β) − 2αβ/size·x_c·x_j·scale_c^(−β−1)
// for j in c's window, so gx_j = gy_j·scale_j^(−β) − 2αβ/size·x_j·Σ_c gy_c·y_c/scale_c
// over the c whose window holds j: j's own window, the window being symmetric.
func (l *SpatialCrossMapLRN) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	outer, ch, inner := l.layout(x)
	if gy.Len() != x.Len() || l.output == nil || l.output.Len() != x.Len() {
		shapeError(l, "a gradient shaped like the input "+tensor.ShapeString(x.Shape), gy.Shape)
	}
	l.gradIn = tensor.Ensure(l.gradIn, x.Shape...)
	l.ratio = grow(l.ratio, x.Len())
	y, g := l.output.Data, gy.Data
	for i := range l.ratio {
		l.ratio[i] = g[i] * y[i] / l.scale[i]
	}
	gx := l.gradIn.Data
	l.windowSums(gx, l.ratio, outer, ch, inner, false)
	c := float32(2 * l.Alpha * l.Beta / float64(l.Size))
	for i, v := range x.Data {
		gx[i] = g[i]*l.pow[i] - c*v*gx[i]
	}
	return l.gradIn
}
