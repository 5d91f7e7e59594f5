package criterion

import (
	"math"
	"math/rand"
	"testing"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// signs is a tensor of ±1.
func signs(r *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(2*r.Intn(2) - 1)
	}
	return t
}

// labels is a tensor of 1-based classes in [1, c].
func labels(r *rand.Rand, c int, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(1 + r.Intn(c))
	}
	return t
}

// A batch split between workers is weighted back by Norm (the training loop's
// rule: Σ loss_i·norm_i / Σ norm_i when averaged, else Σ loss_i); for every
// criterion of part 4 this must give the whole batch's loss and gradient.
func TestPart4NormsRecombineSplitBatches(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	const n = 6
	cases := []struct {
		class string
		args  map[string]any
		x, y  *tensor.Tensor
	}{
		{"SmoothL1Criterion", nil, randTensor(r, -2, 2, n, 4), randTensor(r, -2, 2, n, 4)},
		{"SmoothL1Criterion", map[string]any{"size_average": false}, randTensor(r, -2, 2, n, 4), randTensor(r, -2, 2, n, 4)},
		{"MarginCriterion", nil, randTensor(r, -2, 2, n, 4), signs(r, n, 4)},
		{"SoftMarginCriterion", nil, randTensor(r, -2, 2, n, 4), signs(r, n, 4)},
		{"HingeEmbeddingCriterion", nil, randTensor(r, -2, 2, n, 4), signs(r, n, 4)},
		{"DistKLDivCriterion", nil, randTensor(r, -3, 0, n, 4), randTensor(r, 0, 1, n, 4)},
		{"MultiLabelSoftMarginCriterion", nil, randTensor(r, -2, 2, n, 4), signs(r, n, 4)},
		{"L1Cost", nil, randTensor(r, -2, 2, n, 4), randTensor(r, -2, 2, n, 4)},
		{"MeanAbsolutePercentageCriterion", nil, randTensor(r, -2, 2, n, 4), randTensor(r, 0.5, 2, n, 4)},
		{"MeanSquaredLogarithmicCriterion", nil, randTensor(r, 0, 2, n, 4), randTensor(r, 0, 2, n, 4)},
		{"PoissonCriterion", nil, randTensor(r, 0.1, 2, n, 4), randTensor(r, 0, 2, n, 4)},
		{"KullbackLeiblerDivergenceCriterion", nil, randTensor(r, 0.05, 1, n, 4), randTensor(r, 0.05, 1, n, 4)},
		{"MultiMarginCriterion", nil, randTensor(r, -2, 2, n, 4), labels(r, 4, n)},
		{"MultiMarginCriterion", map[string]any{"p": 2.0, "size_average": false}, randTensor(r, -2, 2, n, 4), labels(r, 4, n)},
		{"MultiLabelMarginCriterion", nil, randTensor(r, -2, 2, n, 4),
			tensor.FromData([]float32{1, 0, 0, 0, 2, 3, 0, 0, 4, 1, 2, 0, 3, 0, 0, 0, 1, 2, 3, 4, 2, 0, 0, 0}, n, 4)},
		{"ClassSimplexCriterion", map[string]any{"n_classes": 4.0}, randTensor(r, -2, 2, n, 4), labels(r, 4, n)},
		{"CosineProximityCriterion", nil, randTensor(r, -2, 2, n, 4), randTensor(r, -2, 2, n, 4)},
		{"DiceCoefficientCriterion", nil, randTensor(r, 0, 1, n, 4), randTensor(r, 0, 1, n, 4)},
		{"DotProductCriterion", map[string]any{"size_average": true}, randTensor(r, -2, 2, n, 4), randTensor(r, -2, 2, n, 4)},
		{"PGCriterion", map[string]any{"sizeAverage": true}, randTensor(r, 0.1, 1, n, 4), randTensor(r, -2, 2, n, 4)},
		{"SoftmaxWithCriterion", map[string]any{"ignore_label": 2.0}, randTensor(r, -2, 2, n, 3, 2), labels(r, 3, n, 1, 2)},
		{"SoftmaxWithCriterion", map[string]any{"normalize_mode": "BATCH_SIZE"}, randTensor(r, -2, 2, n, 3, 2), labels(r, 3, n, 1, 2)},
	}
	for _, c := range cases {
		t.Run(c.class, func(t *testing.T) {
			whole := mustNew(t, c.class, c.args)
			loss := whole.Forward(c.x, c.y)
			grad := whole.Backward(c.x, c.y).Clone()
			var sum, norms float64
			var averaged bool
			parts := [][2]int{{0, 2}, {2, n}}
			partGrads := make([]*tensor.Tensor, len(parts))
			partNorms := make([]float64, len(parts))
			for i, p := range parts {
				part := mustNew(t, c.class, c.args)
				x, y := c.x.Slice(p[0], p[1]), c.y.Slice(p[0], p[1])
				l := part.Forward(x, y)
				nm, avg := part.Norm(x, y)
				averaged = avg
				if avg {
					sum += l * nm
				} else {
					sum += l
				}
				norms += nm
				partGrads[i], partNorms[i] = part.Backward(x, y).Clone(), nm
			}
			if averaged {
				sum /= norms
			}
			if math.Abs(sum-loss) > 1e-5*(1+math.Abs(loss)) {
				t.Fatalf("halves recombine to loss %v, the whole batch has %v", sum, loss)
			}
			k := 0
			for i, g := range partGrads {
				w := 1.0
				if averaged {
					w = partNorms[i] / norms
				}
				for _, v := range g.Data {
					if d := float64(v)*w - float64(grad.Data[k]); math.Abs(d) > 1e-5*(1+math.Abs(float64(grad.Data[k]))) {
						t.Fatalf("gradient element %d: halves give %v, the whole batch %v", k, float64(v)*w, grad.Data[k])
					}
					k++
				}
			}
		})
	}
}
