package nn

import (
	"fmt"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// ResizeBilinear is BigDL's bilinear resize of (batch, C, H, W) input
// ((batch, H, W, C) in NHWC) to OutH × OutW. Its sampling is TensorFlow's
// resize_bilinear, not PyTorch's half-pixel interpolate: output pixel i
// reads input position i·scale with scale = in/out, or (in − 1)/(out − 1)
// with align_corner (where it matches interpolate(align_corners=True)).
type ResizeBilinear struct {
	Base
	OutH, OutW     int
	AlignCorner    bool
	nhwc           bool
	config         map[string]any
	ys, xs         []lerpTap
	output, gradIn *tensor.Tensor
}

// lerpTap is where an output row (or column) reads the input: between lo
// and hi, weight t on hi.
type lerpTap struct {
	lo, hi int
	t      float32
}

func init() {
	Register("ResizeBilinear", func(a *Args) (Module, error) {
		r := &ResizeBilinear{Base: newBase("ResizeBilinear"), OutH: a.PositiveInt("output_height"),
			OutW: a.PositiveInt("output_width"), AlignCorner: a.Bool("align_corner", false)}
		format := a.String("data_format", "NCHW")
		if err := a.Err(); err != nil {
			return nil, err
		}
		var err error
		if r.nhwc, err = channelsLast("ResizeBilinear", "data_format", format); err != nil {
			return nil, err
		}
		r.config = map[string]any{"output_height": r.OutH, "output_width": r.OutW, "align_corner": r.AlignCorner,
			"data_format": format}
		return r, nil
	})
}

func (r *ResizeBilinear) Params() []*Param       { return nil }
func (r *ResizeBilinear) Reset()                 {}
func (r *ResizeBilinear) Config() map[string]any { return r.config }
func (r *ResizeBilinear) String() string {
	return fmt.Sprintf("%s[%s](%d, %d, %v)", r.class, r.name, r.OutH, r.OutW, r.AlignCorner)
}

// taps fills dst (out entries) for an axis of in values, in float32 as
// BigDL computes them.
func (r *ResizeBilinear) taps(dst []lerpTap, in, out int) []lerpTap {
	scale := float32(in) / float32(out)
	if r.AlignCorner && out > 1 {
		scale = float32(in-1) / float32(out-1)
	}
	dst = dst[:0]
	for i := 0; i < out; i++ {
		p := float32(i) * scale
		lo := int(p)
		dst = append(dst, lerpTap{lo: lo, hi: min(lo+1, in-1), t: p - float32(lo)})
	}
	return dst
}

// geometry checks x and returns its planes (images, or image channels when
// channels come first), their size and the values per pixel.
func (r *ResizeBilinear) geometry(x *tensor.Tensor) (planes, h, w, ch int) {
	checkImages(r, x, r.nhwc)
	s := x.Shape
	if r.nhwc {
		planes, h, w, ch = s[0], s[1], s[2], s[3]
	} else {
		planes, h, w, ch = s[0]*s[1], s[2], s[3], 1
	}
	r.ys, r.xs = r.taps(r.ys, h, r.OutH), r.taps(r.xs, w, r.OutW)
	return planes, h, w, ch
}

func (r *ResizeBilinear) outShape(x *tensor.Tensor) []int {
	s := x.Shape
	if r.nhwc {
		return []int{s[0], r.OutH, r.OutW, s[3]}
	}
	return []int{s[0], s[1], r.OutH, r.OutW}
}

func (r *ResizeBilinear) Forward(x *tensor.Tensor) *tensor.Tensor {
	planes, h, w, ch := r.geometry(x)
	r.output = tensor.Ensure(r.output, r.outShape(x)...)
	y := r.output.Data
	row, orow := w*ch, r.OutW*ch
	for p := 0; p < planes; p++ {
		in := x.Data[p*h*row : (p+1)*h*row]
		for oy, ty := range r.ys {
			top, bot := in[ty.lo*row:(ty.lo+1)*row], in[ty.hi*row:(ty.hi+1)*row]
			out := y[(p*r.OutH+oy)*orow : (p*r.OutH+oy+1)*orow]
			if ch == 1 { // channels first: no loop over a pixel's channels
				for ox, tx := range r.xs {
					out[ox] = lerp2(top[tx.lo], top[tx.hi], bot[tx.lo], bot[tx.hi], tx.t, ty.t)
				}
				continue
			}
			for ox, tx := range r.xs {
				l, rt := tx.lo*ch, tx.hi*ch
				for c := 0; c < ch; c++ {
					out[ox*ch+c] = lerp2(top[l+c], top[rt+c], bot[l+c], bot[rt+c], tx.t, ty.t)
				}
			}
		}
	}
	return r.output
}

// lerp2 interpolates between four pixels in BigDL's order of operations,
// so that equal sizes copy exactly.
func lerp2(tl, tr, bl, br, tx, ty float32) float32 {
	t := tl + (tr-tl)*tx
	b := bl + (br-bl)*tx
	return t + (b-t)*ty
}

func (r *ResizeBilinear) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	planes, h, w, ch := r.geometry(x)
	if gy.Len() != planes*r.OutH*r.OutW*ch || gy.Dims() != 4 {
		shapeError(r, "a gradient shaped like the output "+tensor.ShapeString(r.outShape(x)), gy.Shape)
	}
	r.gradIn = tensor.Ensure(r.gradIn, x.Shape...)
	gx := r.gradIn.Data
	clear(gx)
	row, orow := w*ch, r.OutW*ch
	for p := 0; p < planes; p++ {
		in := gx[p*h*row : (p+1)*h*row]
		for oy, ty := range r.ys {
			top, bot := in[ty.lo*row:(ty.lo+1)*row], in[ty.hi*row:(ty.hi+1)*row]
			g := gy.Data[(p*r.OutH+oy)*orow : (p*r.OutH+oy+1)*orow]
			for ox, tx := range r.xs {
				l, rt := tx.lo*ch, tx.hi*ch
				for c := 0; c < ch; c++ {
					v := g[ox*ch+c]
					vt, vb := v*(1-ty.t), v*ty.t
					top[l+c] += vt * (1 - tx.t)
					top[rt+c] += vt * tx.t
					bot[l+c] += vb * (1 - tx.t)
					bot[rt+c] += vb * tx.t
				}
			}
		}
	}
	return r.gradIn
}
