package nn

import (
	"fmt"
	"unsafe"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// SpatialPooling is BigDL's SpatialMaxPooling and SpatialAveragePooling over
// (C, H, W) or (batch, C, H, W) input ((H, W, C) or (batch, H, W, C) in
// NHWC). Windows clip to the image: the max ignores padding, and the average
// divides by the window's size up to the padded edge (count_include_pad) or
// by the pixels it covers.
type SpatialPooling struct {
	Base
	Max              bool
	KW, KH, DW, DH   int
	PadW, PadH       int
	Ceil             bool
	NHWC             bool
	Global           bool // average: one window over the whole image
	CountIncludePad  bool
	Divide           bool
	config           map[string]any
	output, gradIn   *tensor.Tensor
	argmax           []int32 // max: the input index each output read, per plane
	xw, yw, gyw, gxw []float32
}

func init() {
	Register("SpatialMaxPooling", func(a *Args) (Module, error) {
		p := &SpatialPooling{Base: newBase("SpatialMaxPooling"), Max: true,
			KW: a.PositiveInt("kw"), KH: a.PositiveInt("kh"), DW: a.Int("dw", 0), DH: a.Int("dh", 0),
			PadW: a.Int("pad_w", 0), PadH: a.Int("pad_h", 0), Ceil: a.Bool("to_ceil", false)}
		return p.finish(a, a.String("format", "NCHW"))
	})
	Register("SpatialAveragePooling", func(a *Args) (Module, error) {
		p := &SpatialPooling{Base: newBase("SpatialAveragePooling"),
			KW: a.PositiveInt("kw"), KH: a.PositiveInt("kh"), DW: a.Int("dw", 1), DH: a.Int("dh", 1),
			PadW: a.Int("pad_w", 0), PadH: a.Int("pad_h", 0), Ceil: a.Bool("ceil_mode", false),
			Global: a.Bool("global_pooling", false), CountIncludePad: a.Bool("count_include_pad", true),
			Divide: a.Bool("divide", true)}
		return p.finish(a, a.String("format", "NCHW"))
	})
}

func (p *SpatialPooling) finish(a *Args, format string) (Module, error) {
	if err := a.Err(); err != nil {
		return nil, err
	}
	var err error
	if p.NHWC, err = channelsLast(p.class, "format", format); err != nil {
		return nil, err
	}
	if err := checkWindow(p.class, "dw", "dh", p.DW, p.DH, p.PadW, p.PadH); err != nil {
		return nil, err
	}
	if p.Max && p.PadW >= 0 && (p.PadW > p.KW/2 || p.PadH > p.KH/2) {
		return nil, fmt.Errorf("%s: padding (%d, %d) must be at most half the kernel %d x %d",
			p.class, p.PadW, p.PadH, p.KW, p.KH)
	}
	p.config = map[string]any{"kw": p.KW, "kh": p.KH, "dw": p.DW, "dh": p.DH, "pad_w": p.PadW, "pad_h": p.PadH,
		"format": format}
	if p.Max {
		p.config["to_ceil"] = p.Ceil
	} else {
		p.config["ceil_mode"] = p.Ceil
		p.config["global_pooling"] = p.Global
		p.config["count_include_pad"] = p.CountIncludePad
		p.config["divide"] = p.Divide
	}
	return p, nil
}

func (p *SpatialPooling) Params() []*Param { return nil }
func (p *SpatialPooling) Reset()           {}
func (p *SpatialPooling) Config() map[string]any {
	if p.Max {
		p.config["to_ceil"] = p.Ceil
	}
	return p.config
}
func (p *SpatialPooling) String() string {
	return fmt.Sprintf("%s[%s](%d, %d, %d, %d, %d, %d)", p.class, p.name, p.KW, p.KH, p.DW, p.DH, p.PadW, p.PadH)
}

// CallMethod: set_ceil is SpatialMaxPooling's ceil() and floor().
func (p *SpatialPooling) CallMethod(method string, args map[string]any, _ []*tensor.Tensor) (any, []*tensor.Tensor, bool, error) {
	if method != "set_ceil" {
		return nil, nil, false, nil
	}
	on, ok := args["on"].(bool)
	if !ok {
		return nil, nil, true, fmt.Errorf("%s: set_ceil needs on: True or False", p.String())
	}
	p.Ceil = on
	return nil, nil, true, nil
}

// poolGeom is one call's window geometry.
type poolGeom struct {
	n, c, h, w, kh, kw     int
	oh, ow                 int
	padT, padL, padB, padR int
}

func (p *SpatialPooling) geometry(x *tensor.Tensor) poolGeom {
	want := "(C, H, W) or (batch, C, H, W)"
	ch, hd, wd := 0, 1, 2
	if p.NHWC {
		want = "(H, W, C) or (batch, H, W, C)"
		ch, hd, wd = 2, 0, 1
	}
	g := poolGeom{n: 1}
	s := x.Shape
	switch x.Dims() {
	case 3:
	case 4:
		g.n, s = s[0], s[1:]
	default:
		shapeError(p, want, x.Shape)
	}
	g.c, g.h, g.w = s[ch], s[hd], s[wd]
	g.kh, g.kw = p.KH, p.KW
	if p.Global {
		g.kh, g.kw = g.h, g.w
	}
	g.oh, g.padT = windowOut(g.h, g.kh, p.DH, p.PadH, p.Ceil, true)
	g.ow, g.padL = windowOut(g.w, g.kw, p.DW, p.PadW, p.Ceil, true)
	if g.oh < 1 || g.ow < 1 || g.c < 1 {
		panic(fmt.Errorf("%s: the %d x %d window (width x height) is larger than the padded input %d x %d of input shape %s",
			p.String(), g.kw, g.kh, g.w+2*max(p.PadW, 0), g.h+2*max(p.PadH, 0), tensor.ShapeString(x.Shape)))
	}
	g.padB, g.padR = p.PadH, p.PadW
	if p.PadH == -1 { // SAME: what the leading padding leaves of the total
		g.padB = max(0, (g.oh-1)*p.DH+g.kh-g.h) - g.padT
		g.padR = max(0, (g.ow-1)*p.DW+g.kw-g.w) - g.padL
	}
	return g
}

// window is output (oy, ox)'s rows [y0, y1) and columns [x0, x1) inside
// the image, and the average's divisor.
func (p *SpatialPooling) window(g *poolGeom, oy, ox int) (y0, y1, x0, x1 int, div float32) {
	y0, x0 = oy*p.DH-g.padT, ox*p.DW-g.padL
	y1, x1 = min(y0+g.kh, g.h+g.padB), min(x0+g.kw, g.w+g.padR)
	size := (y1 - y0) * (x1 - x0)
	y0, x0, y1, x1 = max(y0, 0), max(x0, 0), min(y1, g.h), min(x1, g.w)
	if !p.CountIncludePad {
		size = (y1 - y0) * (x1 - x0)
	}
	div = float32(size)
	if !p.Divide && !p.Max {
		div /= float32(g.kh * g.kw) // BigDL multiplies the mean by the kernel size
	}
	return y0, y1, x0, x1, div
}

func (p *SpatialPooling) Forward(x *tensor.Tensor) *tensor.Tensor {
	g := p.geometry(x)
	p.output = ensureConvOut(p.output, x.Dims() == 4, g.n, p.NHWC, g.c, g.oh, g.ow)
	xs, ys := x.Data, p.output.Data
	if p.NHWC {
		p.xw, p.yw = grow(p.xw, x.Len()), grow(p.yw, p.output.Len())
		hwcToChw(p.xw, x.Data, g.n, g.h*g.w, g.c)
		xs, ys = p.xw, p.yw
	}
	planes, hw, ohw := g.n*g.c, g.h*g.w, g.oh*g.ow
	if p.Max {
		if cap(p.argmax) < planes*ohw {
			p.argmax = make([]int32, planes*ohw)
		}
		p.argmax = p.argmax[:planes*ohw]
	}
	inside := g.padT == 0 && g.padL == 0 && (g.oh-1)*p.DH+g.kh <= g.h && (g.ow-1)*p.DW+g.kw <= g.w
	for pl := 0; pl < planes; pl++ {
		in, out := xs[pl*hw:(pl+1)*hw], ys[pl*ohw:(pl+1)*ohw]
		if p.Max && inside {
			p.maxInside(&g, in, out, p.argmax[pl*ohw:(pl+1)*ohw])
			continue
		}
		for oy := 0; oy < g.oh; oy++ {
			for ox := 0; ox < g.ow; ox++ {
				y0, y1, x0, x1, div := p.window(&g, oy, ox)
				o := oy*g.ow + ox
				if p.Max {
					best, at := float32(0), -1
					for iy := y0; iy < y1; iy++ {
						for ix := x0; ix < x1; ix++ {
							if v := in[iy*g.w+ix]; at < 0 || v > best || v != v {
								best, at = v, iy*g.w+ix
							}
						}
					}
					out[o] = best
					p.argmax[pl*ohw+o] = int32(at)
					continue
				}
				var sum float32
				for iy := y0; iy < y1; iy++ {
					for _, v := range in[iy*g.w+x0 : iy*g.w+x1] {
						sum += v
					}
				}
				out[o] = sum / div
			}
		}
	}
	if p.NHWC {
		chwToHwc(p.output.Data, ys, g.n, ohw, g.c)
	}
	return p.output
}

func (p *SpatialPooling) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	g := p.geometry(x)
	if p.output == nil || gy.Len() != g.n*g.c*g.oh*g.ow {
		shapeError(p, fmt.Sprintf("a gradient shaped like the output (%d values)", g.n*g.c*g.oh*g.ow), gy.Shape)
	}
	p.gradIn = tensor.Ensure(p.gradIn, x.Shape...)
	gys, gxs := gy.Data, p.gradIn.Data
	if p.NHWC {
		p.gyw, p.gxw = grow(p.gyw, gy.Len()), grow(p.gxw, x.Len())
		hwcToChw(p.gyw, gy.Data, g.n, g.oh*g.ow, g.c)
		gys, gxs = p.gyw, p.gxw
	}
	clear(gxs)
	planes, hw, ohw := g.n*g.c, g.h*g.w, g.oh*g.ow
	for pl := 0; pl < planes; pl++ {
		gin, gout := gxs[pl*hw:(pl+1)*hw], gys[pl*ohw:(pl+1)*ohw]
		if p.Max {
			for o, at := range p.argmax[pl*ohw : (pl+1)*ohw] {
				gin[at] += gout[o]
			}
			continue
		}
		for oy := 0; oy < g.oh; oy++ {
			for ox := 0; ox < g.ow; ox++ {
				y0, y1, x0, x1, div := p.window(&g, oy, ox)
				v := gout[oy*g.ow+ox] / div
				for iy := y0; iy < y1; iy++ {
					row := gin[iy*g.w+x0 : iy*g.w+x1]
					for i := range row {
						row[i] += v
					}
				}
			}
		}
	}
	if p.NHWC {
		chwToHwc(p.gradIn.Data, gxs, g.n, hw, g.c)
	}
	return p.gradIn
}

// maxInside is the max of one plane when no window leaves the image (no
// padding, as in LeNet-5): no clipping and no divisor, so no call per window.
func (p *SpatialPooling) maxInside(g *poolGeom, in, out []float32, argmax []int32) {
	if g.kh == 2 && g.kw == 2 {
		max2x2(in, out, argmax, g.w, g.oh, g.ow, p.DH, p.DW)
		return
	}
	for oy := 0; oy < g.oh; oy++ {
		for ox := 0; ox < g.ow; ox++ {
			base := oy*p.DH*g.w + ox*p.DW
			best, at := in[base], base
			for i := 0; i < g.kh; i++ {
				row := in[base+i*g.w : base+i*g.w+g.kw]
				for j, v := range row {
					if v > best || v != v && best == best {
						best, at = v, base+i*g.w+j
					}
				}
			}
			out[oy*g.ow+ox] = best
			argmax[oy*g.ow+ox] = int32(at)
		}
	}
}

// max2x2 is maxInside for 2×2 windows, the pooling of LeNet-5 and most CNNs.
// It picks indices by arithmetic on the comparisons, without branches:
// where the maximum lies is random, and branches on it mispredicted half
// the time. A NaN wins (!(a <= b) holds for it), as in PyTorch.
func max2x2(in, out []float32, argmax []int32, w, oh, ow, dh, dw int) {
	for oy := 0; oy < oh; oy++ {
		r0 := oy * dh * w
		o, a := out[oy*ow:(oy+1)*ow], argmax[oy*ow:(oy+1)*ow]
		for ox := range o {
			t := r0 + ox*dw
			b := t + w
			t += b2i(!(in[t+1] <= in[t]))
			b += b2i(!(in[b+1] <= in[b]))
			t += (b - t) * b2i(!(in[b] <= in[t]))
			o[ox], a[ox] = in[t], int32(t)
		}
	}
}

// b2i is 1 for true and 0 for false, read from the bool's byte so that no
// branch is compiled (Go's bool is that byte, 0 or 1).
func b2i(b bool) int { return int(*(*uint8)(unsafe.Pointer(&b))) }
