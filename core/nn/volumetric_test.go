package nn

import (
	"math/rand"
	"slices"
	"testing"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// naiveConv3d is the 3-D convolution's definition, summed in float64: the
// reference for the vol2col path (stride and padding per axis; NCTHW).
func naiveConv3d(x *tensor.Tensor, w, b []float32, nOut int, k, d, pad [3]int) []float64 {
	n, c, t, h, wd := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3], x.Shape[4]
	ot, oh, ow := (t+2*pad[0]-k[0])/d[0]+1, (h+2*pad[1]-k[1])/d[1]+1, (wd+2*pad[2]-k[2])/d[2]+1
	out := make([]float64, 0, n*nOut*ot*oh*ow)
	for s := 0; s < n; s++ {
		for o := 0; o < nOut; o++ {
			for z := 0; z < ot; z++ {
				for y := 0; y < oh; y++ {
					for xx := 0; xx < ow; xx++ {
						sum := float64(b[o])
						for ci := 0; ci < c; ci++ {
							for a := 0; a < k[0]; a++ {
								for i := 0; i < k[1]; i++ {
									for j := 0; j < k[2]; j++ {
										it, iy, ix := z*d[0]-pad[0]+a, y*d[1]-pad[1]+i, xx*d[2]-pad[2]+j
										if it < 0 || it >= t || iy < 0 || iy >= h || ix < 0 || ix >= wd {
											continue
										}
										sum += float64(w[(((o*c+ci)*k[0]+a)*k[1]+i)*k[2]+j]) *
											float64(x.Data[(((s*c+ci)*t+it)*h+iy)*wd+ix])
									}
								}
							}
						}
						out = append(out, sum)
					}
				}
			}
		}
	}
	return out
}

func TestVolumetricConvolutionMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for _, tc := range []struct {
		n, c, t, h, w, out int
		k, d, pad          [3]int // time, height, width
	}{
		{1, 1, 4, 5, 6, 2, [3]int{2, 3, 3}, [3]int{1, 1, 1}, [3]int{0, 0, 0}},
		{3, 2, 5, 7, 6, 4, [3]int{3, 2, 3}, [3]int{2, 1, 2}, [3]int{1, 1, 0}},
		{12, 6, 8, 12, 10, 5, [3]int{2, 3, 3}, [3]int{1, 2, 1}, [3]int{1, 0, 1}}, // chunks of 5 volumes
		{2, 2, 3, 4, 70, 3, [3]int{1, 2, 5}, [3]int{1, 1, 1}, [3]int{0, 1, 2}},   // a width past the kernels' tiles
	} {
		c := mustNew(t, "VolumetricConvolution", map[string]any{"n_input_plane": float64(tc.c), "n_output_plane": float64(tc.out),
			"k_t": float64(tc.k[0]), "k_h": float64(tc.k[1]), "k_w": float64(tc.k[2]),
			"d_t": float64(tc.d[0]), "d_h": float64(tc.d[1]), "d_w": float64(tc.d[2]),
			"pad_t": float64(tc.pad[0]), "pad_h": float64(tc.pad[1]), "pad_w": float64(tc.pad[2])}).(*VolumetricConvolution)
		x := randTensor(r, tc.n, tc.c, tc.t, tc.h, tc.w)
		got := c.Forward(x).Data
		want := naiveConv3d(x, c.Weight.Value.Data, c.Bias.Value.Data, tc.out, tc.k, tc.d, tc.pad)
		if e := relErr(got, want); len(got) != len(want) || e > 1e-5 {
			t.Errorf("%+v: relative error %g (%d values, want %d)", tc, e, len(got), len(want))
		}
	}
}

func TestVolumetricAndLocallyConnectedGradients(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	f := func(v ...float64) []float64 { return v }
	args := func(names []string, vals []float64, extra map[string]any) map[string]any {
		m := map[string]any{}
		for i, n := range names {
			m[n] = vals[i]
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	volConv := []string{"n_input_plane", "n_output_plane", "k_t", "k_w", "k_h", "d_t", "d_w", "d_h", "pad_t", "pad_w", "pad_h"}
	pool := []string{"k_t", "k_w", "k_h", "d_t", "d_w", "d_h", "pad_t", "pad_w", "pad_h"}
	lc2 := []string{"n_input_plane", "input_width", "input_height", "n_output_plane", "kernel_w", "kernel_h",
		"stride_w", "stride_h", "pad_w", "pad_h"}
	cases := []struct {
		name  string
		class string
		args  map[string]any
		x     *tensor.Tensor
	}{
		{"VolumetricConvolution", "VolumetricConvolution", args(volConv, f(2, 3, 2, 3, 2, 1, 2, 1, 1, 0, 1), nil), randTensor(r, 2, 2, 3, 4, 5)},
		{"VolumetricConvolution unbatched no bias", "VolumetricConvolution", args(volConv, f(2, 2, 2, 2, 2, 2, 1, 1, 0, 1, 0),
			map[string]any{"with_bias": false}), randTensor(r, 2, 4, 3, 3)},
		{"VolumetricConvolution SAME", "VolumetricConvolution", args(volConv, f(1, 2, 3, 2, 3, 2, 2, 1, -1, -1, -1), nil), randTensor(r, 2, 1, 4, 5, 3)},
		{"VolumetricMaxPooling", "VolumetricMaxPooling", args(pool, f(2, 3, 2, 1, 2, 2, 1, 1, 1), nil), distinct(r, 2, 2, 3, 5, 4)},
		{"VolumetricAveragePooling", "VolumetricAveragePooling", args(pool, f(2, 3, 2, 2, 1, 2, 1, 1, 0),
			map[string]any{"count_include_pad": false, "ceil_mode": true}), randTensor(r, 2, 2, 5, 4, 4)},
		{"LocallyConnected1D", "LocallyConnected1D", map[string]any{"n_input_frame": 7.0, "input_frame_size": 3.0,
			"output_frame_size": 4.0, "kernel_w": 3.0, "stride_w": 2.0}, randTensor(r, 3, 7, 3)},
		{"LocallyConnected1D unbatched", "LocallyConnected1D", map[string]any{"n_input_frame": 5.0, "input_frame_size": 2.0,
			"output_frame_size": 3.0, "kernel_w": 2.0}, randTensor(r, 5, 2)},
		{"LocallyConnected2D", "LocallyConnected2D", args(lc2, f(2, 5, 4, 3, 3, 2, 2, 1, 1, 0), nil), randTensor(r, 2, 2, 4, 5)},
		{"LocallyConnected2D NHWC SAME", "LocallyConnected2D", args(lc2, f(3, 4, 3, 2, 2, 3, 1, 2, -1, -1),
			map[string]any{"data_format": "NHWC"}), randTensor(r, 2, 3, 4, 3)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradients(t, mustNew(t, c.class, c.args), c.x) })
	}
}

// distinct is a tensor of distinct values 0.1 apart, shuffled, so that no
// finite-difference step moves a maximum.
func distinct(r *rand.Rand, shape ...int) *tensor.Tensor {
	x := tensor.New(shape...)
	for i, j := range r.Perm(x.Len()) {
		x.Data[i] = 0.1 * float32(j-x.Len()/2)
	}
	return x
}

// The layers allocate nothing per training step, and a replica made by
// Clone (one per training goroutine) computes what its original does, into
// gradients of its own.
func TestVolumetricAndLocallyConnectedReplicasDoNotAllocate(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	build := func() Module {
		seq := NewSequential()
		seq.Add(mustNew(t, "VolumetricConvolution", map[string]any{"n_input_plane": 2.0, "n_output_plane": 3.0,
			"k_t": 2.0, "k_w": 3.0, "k_h": 3.0, "pad_w": 1.0, "pad_h": 1.0}))
		seq.Add(mustNew(t, "VolumetricMaxPooling", map[string]any{"k_t": 1.0, "k_w": 2.0, "k_h": 2.0, "d_t": 1.0, "d_w": 2.0, "d_h": 2.0}))
		seq.Add(mustNew(t, "VolumetricAveragePooling", map[string]any{"k_t": 2.0, "k_w": 1.0, "k_h": 1.0, "d_t": 1.0, "d_w": 1.0, "d_h": 1.0}))
		seq.Add(mustNew(t, "Reshape", map[string]any{"size": []any{3.0, 4.0, 4.0}}))
		seq.Add(mustNew(t, "LocallyConnected2D", map[string]any{"n_input_plane": 3.0, "input_width": 4.0, "input_height": 4.0,
			"n_output_plane": 5.0, "kernel_w": 2.0, "kernel_h": 2.0, "pad_w": 1.0, "pad_h": 1.0, "stride_w": 2.0, "stride_h": 2.0}))
		seq.Add(mustNew(t, "Reshape", map[string]any{"size": []any{5.0, 9.0}}))
		seq.Add(mustNew(t, "LocallyConnected1D", map[string]any{"n_input_frame": 5.0, "input_frame_size": 9.0,
			"output_frame_size": 2.0, "kernel_w": 2.0}))
		return seq
	}
	seq := build()
	x := randTensor(r, 70, 2, 3, 8, 8) // two chunks of the convolution's vol2col
	gy := randTensor(r, seq.Forward(x).Shape...)
	if a := stepAllocs(seq, x, gy); a != 0 {
		t.Fatalf("%v allocations per forward+backward", a)
	}
	_, want := paramGrads(seq, x, gy)
	if !SetGradsOverwritten(seq, true) {
		t.Fatal("the layers refused to overwrite their gradients")
	}
	SetInputGradUnused(seq, true)
	if a := stepAllocs(seq, x, gy); a != 0 {
		t.Fatalf("as the training loop runs it: %v allocations per step", a)
	}
	// Overwriting gradients that hold garbage gives what accumulating from zero gave.
	for _, p := range AllParams(seq) {
		for i := range p.Grad.Data {
			p.Grad.Data[i] = float32(i) + 0.5
		}
	}
	seq.Forward(x)
	seq.Backward(x, gy)
	for i, p := range AllParams(seq) {
		if !slices.Equal(p.Grad.Data, want[i]) {
			t.Fatalf("parameter %d: an overwriting backward differs from one from zeroed gradients", i)
		}
	}

	replica, grads, err := Clone(seq)
	if err != nil {
		t.Fatal(err)
	}
	SetGradsOverwritten(replica, true)
	SetInputGradUnused(replica, true)
	y := replica.Forward(x)
	if !slices.Equal(y.Data, seq.Forward(x).Data) {
		t.Fatal("a replica's output differs from its original's")
	}
	replica.Backward(x, gy)
	off := 0
	for i, w := range want {
		if !slices.Equal(grads[off:off+len(w)], w) {
			t.Fatalf("parameter %d: the replica's gradient differs from its original's", i)
		}
		off += len(w)
	}
}
