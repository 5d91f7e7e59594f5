package nn

import (
	"math"
	"math/rand"
	"testing"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// naiveConv is the convolution's definition, summed in float64: the
// reference for the im2col path (groups, stride, padding; NCHW).
func naiveConv(x *tensor.Tensor, w, b []float32, nOut, groups, kh, kw, dh, dw, ph, pw int) []float64 {
	n, c, h, wd := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	oh, ow := (h+2*ph-kh)/dh+1, (wd+2*pw-kw)/dw+1
	cg, og := c/groups, nOut/groups
	out := make([]float64, n*nOut*oh*ow)
	for s := 0; s < n; s++ {
		for o := 0; o < nOut; o++ {
			gr := o / og
			for y := 0; y < oh; y++ {
				for xx := 0; xx < ow; xx++ {
					sum := float64(b[o])
					for ci := 0; ci < cg; ci++ {
						for i := 0; i < kh; i++ {
							for j := 0; j < kw; j++ {
								iy, ix := y*dh-ph+i, xx*dw-pw+j
								if iy < 0 || iy >= h || ix < 0 || ix >= wd {
									continue
								}
								sum += float64(w[((o*cg+ci)*kh+i)*kw+j]) * float64(x.Data[((s*c+gr*cg+ci)*h+iy)*wd+ix])
							}
						}
					}
					out[((s*nOut+o)*oh+y)*ow+xx] = sum
				}
			}
		}
	}
	return out
}

func TestSpatialConvolutionMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for _, tc := range []struct{ n, c, h, w, out, groups, k, d, p int }{
		{1, 1, 28, 28, 6, 1, 5, 1, 0},
		{3, 6, 12, 12, 12, 1, 5, 1, 0},
		{40, 4, 17, 13, 6, 2, 3, 2, 1}, // several chunks, groups, stride, padding
		{2, 3, 7, 255, 5, 1, 7, 1, 3},  // a width past the kernels' tiles
	} {
		c := mustNew(t, "SpatialConvolution", map[string]any{"n_input_plane": float64(tc.c), "n_output_plane": float64(tc.out),
			"kernel_w": float64(tc.k), "kernel_h": float64(tc.k), "stride_w": float64(tc.d), "stride_h": float64(tc.d),
			"pad_w": float64(tc.p), "pad_h": float64(tc.p), "n_group": float64(tc.groups)}).(*SpatialConvolution)
		x := randTensor(r, tc.n, tc.c, tc.h, tc.w)
		got := c.Forward(x).Data
		want := naiveConv(x, c.Weight.Value.Data, c.Bias.Value.Data, tc.out, tc.groups, tc.k, tc.k, tc.d, tc.d, tc.p, tc.p)
		if e := relErr(got, want); len(got) != len(want) || e > 1e-5 {
			t.Errorf("%+v: relative error %g (%d values, want %d)", tc, e, len(got), len(want))
		}
	}
}

// relErr is ‖got − want‖ / ‖want‖ over want's values.
func relErr(got []float32, want []float64) float64 {
	var num, den float64
	for i := range want {
		num += (float64(got[i]) - want[i]) * (float64(got[i]) - want[i])
		den += want[i] * want[i]
	}
	return math.Sqrt(num / den)
}

// LeNet's convolutions and pooling (and padding and upsampling), in both layouts, allocate nothing per
// training step once their workspaces exist.
func TestConvolutionAndPoolingDoNotAllocate(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for _, format := range []string{"NCHW", "NHWC"} {
		conv := mustNew(t, "SpatialConvolution", map[string]any{"n_input_plane": 2.0, "n_output_plane": 6.0,
			"kernel_w": 5.0, "kernel_h": 5.0, "data_format": format})
		seq := NewSequential()
		seq.Add(conv)
		seq.Add(mustNew(t, "SpatialMaxPooling", map[string]any{"kw": 2.0, "kh": 2.0, "dw": 2.0, "dh": 2.0, "format": format}))
		seq.Add(mustNew(t, "SpatialAveragePooling", map[string]any{"kw": 3.0, "kh": 3.0, "pad_w": 1.0, "pad_h": 1.0, "format": format}))
		if format == "NCHW" {
			seq.Add(mustNew(t, "SpatialZeroPadding", map[string]any{"pad_left": 1.0, "pad_right": -1.0, "pad_top": 2.0, "pad_bottom": 0.0}))
			seq.Add(mustNew(t, "UpSampling2D", map[string]any{"size": []any{2.0, 1.0}}))
		}
		x := randTensor(r, 9, 2, 16, 16)
		if format == "NHWC" {
			x = randTensor(r, 9, 16, 16, 2)
		}
		y := seq.Forward(x)
		gy := randTensor(r, y.Shape...)
		step := func() {
			seq.Forward(x)
			seq.Backward(x, gy)
		}
		step()
		if a := testing.AllocsPerRun(10, step); a != 0 {
			t.Fatalf("%s: %v allocations per forward+backward", format, a)
		}
		SetGradsOverwritten(seq, true)
		SetInputGradUnused(conv, true)
		if a := testing.AllocsPerRun(10, step); a != 0 {
			t.Fatalf("%s, as the training loop runs it: %v allocations per step", format, a)
		}
	}
}

// The text CNN's layers allocate nothing per step either.
func TestTemporalLayersDoNotAllocate(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	seq := NewSequential()
	seq.Add(mustNew(t, "TemporalConvolution", map[string]any{"input_frame_size": 8.0, "output_frame_size": 5.0, "kernel_w": 3.0}))
	seq.Add(mustNew(t, "TemporalMaxPooling", map[string]any{"k_w": 2.0}))
	x := randTensor(r, 6, 20, 8)
	gy := randTensor(r, seq.Forward(x).Shape...)
	step := func() {
		seq.Forward(x)
		seq.Backward(x, gy)
	}
	step()
	if a := testing.AllocsPerRun(10, step); a != 0 {
		t.Fatalf("%v allocations per forward+backward", a)
	}
}
