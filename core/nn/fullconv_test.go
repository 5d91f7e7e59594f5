package nn

import (
	"math/rand"
	"slices"
	"testing"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

func fullConv(t testing.TB, nIn, nOut, k, d, pad, adj, groups int, noBias bool) *SpatialFullConvolution {
	t.Helper()
	return mustNew(t, "SpatialFullConvolution", map[string]any{"n_input_plane": float64(nIn), "n_output_plane": float64(nOut),
		"kw": float64(k), "kh": float64(k), "dw": float64(d), "dh": float64(d), "pad_w": float64(pad), "pad_h": float64(pad),
		"adj_w": float64(adj), "adj_h": float64(adj), "n_group": float64(groups), "no_bias": noBias}).(*SpatialFullConvolution)
}

// naiveFullConv is the transposed convolution's definition, scattered in
// float64: input pixel (y, x) adds w·x to output (y·d − pad + i, x·d − pad + j).
func naiveFullConv(c *SpatialFullConvolution, x *tensor.Tensor) []float64 {
	n, h, w := x.Shape[0], x.Shape[2], x.Shape[3]
	oh, ow := (h-1)*c.DH-2*c.PadH+c.KH+c.AdjH, (w-1)*c.DW-2*c.PadW+c.KW+c.AdjW
	inG, outG := c.NIn/c.Groups, c.NOut/c.Groups
	out := make([]float64, n*c.NOut*oh*ow)
	wt := c.Weight.Value.Data
	for s := 0; s < n; s++ {
		for ci := 0; ci < c.NIn; ci++ {
			gr := ci / inG
			for y := 0; y < h; y++ {
				for xx := 0; xx < w; xx++ {
					v := float64(x.Data[((s*c.NIn+ci)*h+y)*w+xx])
					for og := 0; og < outG; og++ {
						o := gr*outG + og
						for i := 0; i < c.KH; i++ {
							for j := 0; j < c.KW; j++ {
								oy, ox := y*c.DH-c.PadH+i, xx*c.DW-c.PadW+j
								if oy < 0 || oy >= oh || ox < 0 || ox >= ow {
									continue
								}
								out[((s*c.NOut+o)*oh+oy)*ow+ox] += v * float64(wt[((ci*outG+og)*c.KH+i)*c.KW+j])
							}
						}
					}
				}
			}
		}
		for o := 0; o < c.NOut && c.Bias != nil; o++ {
			for p := 0; p < oh*ow; p++ {
				out[(s*c.NOut+o)*oh*ow+p] += float64(c.Bias.Value.Data[o])
			}
		}
	}
	return out
}

func TestSpatialFullConvolutionMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for _, tc := range []struct{ n, c, h, w, out, groups, k, d, p, adj int }{
		{1, 1, 5, 5, 1, 1, 1, 1, 0, 0},
		{3, 4, 6, 5, 6, 2, 3, 2, 1, 1},
		{50, 8, 9, 7, 16, 4, 4, 3, 2, 2}, // several chunks
		{2, 3, 4, 40, 5, 1, 5, 1, 3, 0},  // padding larger than half the kernel
		{30, 4, 6, 7, 6, 2, 3, 1, 0, 0},  // the Wide path, in several chunks
	} {
		c := fullConv(t, tc.c, tc.out, tc.k, tc.d, tc.p, tc.adj, tc.groups, false)
		x := randTensor(r, tc.n, tc.c, tc.h, tc.w)
		got, want := c.Forward(x).Data, naiveFullConv(c, x)
		if e := relErr(got, want); len(got) != len(want) || e > 1e-5 {
			t.Errorf("%+v: relative error %g (%d values, want %d)", tc, e, len(got), len(want))
		}
	}
}

func TestSpatialFullConvolutionGradients(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	checkGradients(t, fullConv(t, 4, 6, 3, 2, 1, 1, 2, false), randTensor(r, 2, 4, 3, 4))
	checkGradients(t, fullConv(t, 2, 3, 2, 1, 0, 0, 1, true), randTensor(r, 2, 3, 3))
}

// The training loop's modes: skipping the input gradient and overwriting
// the parameter gradients give exactly the gradients of a full backward.
func TestSpatialFullConvolutionTrainingModes(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	c := fullConv(t, 6, 4, 3, 2, 1, 1, 2, false)
	x, gy := randTensor(r, 40, 6, 7, 5), randTensor(r, 40, 4, 14, 10)
	gx, want := paramGrads(c, x, gy)
	gx = gx.Clone()
	SetInputGradUnused(c, true)
	if g, got := paramGrads(c, x, gy); g != nil || !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatal("skipping the input gradient changed the parameter gradients (or returned one)")
	}
	SetInputGradUnused(c, false)
	if !SetGradsOverwritten(c, true) {
		t.Fatal("SpatialFullConvolution refused to overwrite its gradients")
	}
	for _, p := range c.Params() {
		for i := range p.Grad.Data {
			p.Grad.Data[i] = 7 // garbage an overwriting backward must not add to
		}
	}
	c.Forward(x)
	if g := c.Backward(x, gy); !slices.Equal(g.Data, gx.Data) {
		t.Fatal("the input gradient changed with overwritten parameter gradients")
	}
	for i, p := range c.Params() {
		if !slices.Equal(p.Grad.Data, want[i]) {
			t.Fatalf("parameter %d: an overwriting backward differs from one from zeroed gradients", i)
		}
	}
}

// The full convolution and the other layers of this family allocate nothing
// per training step once their workspaces exist.
func TestFullConvolutionFamilyDoesNotAllocate(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	conv := fullConv(t, 4, 6, 4, 2, 1, 0, 2, false)
	img := NewSequential()
	img.Add(conv)
	img.Add(mustNew(t, "SpatialCrossMapLRN", map[string]any{"size": 3.0}))
	img.Add(mustNew(t, "ResizeBilinear", map[string]any{"output_height": 13.0, "output_width": 9.0}))
	img.Add(mustNew(t, "SpatialCrossMapLRN", map[string]any{"data_format": "NHWC"}))
	img.Add(mustNew(t, "ResizeBilinear", map[string]any{"output_height": 5.0, "output_width": 6.0, "align_corner": true,
		"data_format": "NHWC"}))
	vol := NewSequential()
	vol.Add(mustNew(t, "UpSampling3D", map[string]any{"size": []any{2.0, 1.0, 3.0}}))
	vol.Add(mustNew(t, "Cropping3D", map[string]any{"dim1Crop": []any{1.0, 0.0}, "dim2Crop": []any{0.0, 1.0},
		"dim3Crop": []any{2.0, 2.0}}))
	toTarget := fullConv(t, 3, 2, 3, 2, 1, 0, 1, false)
	for _, tc := range []struct {
		m Module
		x *tensor.Tensor
	}{
		{img, randTensor(r, 9, 4, 8, 8)},
		{vol, randTensor(r, 3, 2, 3, 4, 5)},
		{toTarget, tensor.NewTable(randTensor(r, 2, 3, 4, 5), randTensor(r, 10, 12))},
	} {
		gy := randTensor(r, tc.m.Forward(tc.x).Shape...)
		step := func() {
			tc.m.Forward(tc.x)
			tc.m.Backward(tc.x, gy)
		}
		step()
		if a := testing.AllocsPerRun(10, step); a != 0 {
			t.Fatalf("%s: %v allocations per forward+backward", tc.m, a)
		}
	}
	SetGradsOverwritten(img, true)
	SetInputGradUnused(conv, true)
	x := randTensor(r, 9, 4, 8, 8)
	gy := randTensor(r, img.Forward(x).Shape...)
	if a := testing.AllocsPerRun(10, func() { img.Forward(x); img.Backward(x, gy) }); a != 0 {
		t.Fatalf("as the training loop runs it: %v allocations per step", a)
	}
}
