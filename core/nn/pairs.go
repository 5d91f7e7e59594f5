package nn

import (
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/kernels"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// Layers of a table of two tensors without parameters: matrix products (MM,
// MV) and row-by-row comparisons (DotProduct, CosineDistance,
// PairwiseDistance).

func init() {
	Register("MM", func(a *Args) (Module, error) {
		return &matmul{Base: newBase("MM"), transA: a.Bool("trans_a", false), transB: a.Bool("trans_b", false)}, nil
	})
	Register("MV", func(a *Args) (Module, error) {
		return &matmul{Base: newBase("MV"), transA: a.Bool("trans", false), mv: true}, nil
	})
	for _, c := range []string{"DotProduct", "CosineDistance", "PairwiseDistance"} {
		Register(c, func(a *Args) (Module, error) {
			r := &rowPair{Base: newBase(c), norm: 2}
			if c == "PairwiseDistance" {
				r.norm = a.Int("norm", 2)
				if r.norm < 1 {
					return nil, fmt.Errorf("PairwiseDistance: argument norm must be a positive integer, got %d", r.norm)
				}
			}
			return r, nil
		})
	}
}

// matmul is MM, op(A)·op(B) for a table [A, B] of matrices or of batches of
// them, or MV, op(M)·v for [M, v] (matrices and vectors, or batches).
type matmul struct {
	Base
	transA, transB bool
	mv             bool
	output         *tensor.Tensor
	gradIn         *tensor.Tensor
}

func (m *matmul) Params() []*Param { return nil }
func (m *matmul) Reset()           {}
func (m *matmul) takesTables()     {}
func (m *matmul) String() string   { return fmt.Sprintf("%s[%s]", m.class, m.name) }
func (m *matmul) Config() map[string]any {
	if m.mv {
		return map[string]any{"trans": m.transA}
	}
	return map[string]any{"trans_a": m.transA, "trans_b": m.transB}
}

// dims checks the table and returns the batch count and op(A) m×k, op(B) k×n.
func (m *matmul) dims(x *tensor.Tensor) (batch, rows, inner, cols int) {
	want := "a table [(m, k), (k, n)] or [(batch, m, k), (batch, k, n)] (after the transpositions)"
	if m.mv {
		want = "a table [(m, n), (n,)] or [(batch, m, n), (batch, n)] (after the transposition)"
	}
	bad := func() { panic(fmt.Errorf("%s: expected %s, got %s", m.String(), want, x.Describe())) }
	if !x.IsTable() || len(x.Table) != 2 || x.Table[0].IsTable() || x.Table[1].IsTable() {
		bad()
	}
	a, b := x.Table[0], x.Table[1]
	batched := a.Dims() == 3
	if a.Dims() != 2 && !batched {
		bad()
	}
	batch = 1
	as := a.Shape
	if batched {
		batch, as = a.Shape[0], a.Shape[1:]
	}
	rows, inner = as[0], as[1]
	if m.transA {
		rows, inner = inner, rows
	}
	bs := b.Shape
	if batched {
		if b.Dims() == 0 || b.Shape[0] != batch {
			bad()
		}
		bs = b.Shape[1:]
	}
	if m.mv {
		if len(bs) != 1 || bs[0] != inner {
			bad()
		}
		return batch, rows, inner, 1
	}
	if len(bs) != 2 {
		bad()
	}
	k2, n := bs[0], bs[1]
	if m.transB {
		k2, n = n, k2
	}
	if k2 != inner {
		bad()
	}
	return batch, rows, inner, n
}

func (m *matmul) Forward(x *tensor.Tensor) *tensor.Tensor {
	batch, r, k, n := m.dims(x)
	a, b := x.Table[0], x.Table[1]
	switch {
	case m.mv && a.Dims() == 3:
		m.output = tensor.Ensure(m.output, batch, r)
	case m.mv:
		m.output = tensor.Ensure(m.output, r)
	case a.Dims() == 3:
		m.output = tensor.Ensure(m.output, batch, r, n)
	default:
		m.output = tensor.Ensure(m.output, r, n)
	}
	lda, ldb := m.lds(r, k, n)
	for i := 0; i < batch; i++ {
		kernels.Sgemm(m.transA, m.transB, r, n, k, 1, a.Data[i*r*k:(i+1)*r*k], lda, b.Data[i*k*n:(i+1)*k*n], ldb,
			0, m.output.Data[i*r*n:(i+1)*r*n], n)
	}
	return m.output
}

// lds are the stored row strides of A and B.
func (m *matmul) lds(r, k, n int) (lda, ldb int) {
	lda, ldb = k, n
	if m.transA {
		lda = r
	}
	if m.transB {
		ldb = k
	}
	return lda, ldb
}

func (m *matmul) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	batch, r, k, n := m.dims(x)
	if gy.IsTable() || gy.Len() != batch*r*n {
		shapeError(m, "a gradient shaped like the output "+tensor.ShapeString(m.output.Shape), gy.Shape)
	}
	a, b := x.Table[0], x.Table[1]
	m.gradIn = pairGradsOf(m.gradIn, a, b)
	lda, ldb := m.lds(r, k, n)
	ta, tb := m.transA, m.transB
	for i := 0; i < batch; i++ {
		g := gy.Data[i*r*n : (i+1)*r*n]
		A, B := a.Data[i*r*k:(i+1)*r*k], b.Data[i*k*n:(i+1)*k*n]
		dA, dB := m.gradIn.Table[0].Data[i*r*k:(i+1)*r*k], m.gradIn.Table[1].Data[i*k*n:(i+1)*k*n]
		// C = op(A)·op(B): d op(A) = G·op(B)ᵀ, d op(B) = op(A)ᵀ·G, stored transposed where op transposes.
		if ta {
			kernels.Sgemm(tb, true, k, r, n, 1, B, ldb, g, n, 0, dA, r)
		} else {
			kernels.Sgemm(false, !tb, r, k, n, 1, g, n, B, ldb, 0, dA, k)
		}
		if tb {
			kernels.Sgemm(true, ta, n, k, r, 1, g, n, A, lda, 0, dB, k)
		} else {
			kernels.Sgemm(!ta, false, k, n, r, 1, A, lda, g, n, 0, dB, n)
		}
	}
	return m.gradIn
}

// rowPair compares the rows of a table [a, b] of two tensors of one shape,
// (batch, d) or (d,): their dot product, cosine similarity or L_norm
// distance, one value per row.
type rowPair struct {
	Base
	norm   int
	output *tensor.Tensor
	gradIn *tensor.Tensor
}

func (p *rowPair) Params() []*Param { return nil }
func (p *rowPair) Reset()           {}
func (p *rowPair) takesTables()     {}
func (p *rowPair) String() string   { return fmt.Sprintf("%s[%s]", p.class, p.name) }
func (p *rowPair) Config() map[string]any {
	if p.class == "PairwiseDistance" {
		return map[string]any{"norm": p.norm}
	}
	return map[string]any{}
}

func (p *rowPair) rows(x *tensor.Tensor) (a, b *tensor.Tensor, n, w int) {
	if !x.IsTable() || len(x.Table) != 2 || x.Table[0].IsTable() || x.Table[1].IsTable() ||
		!tensor.SameShape(x.Table[0].Shape, x.Table[1].Shape) || x.Table[0].Dims() < 1 || x.Table[0].Dims() > 2 {
		panic(fmt.Errorf("%s: expected a table of two tensors of one shape, (batch, d) or (d,), got %s",
			p.String(), x.Describe()))
	}
	a, b = x.Table[0], x.Table[1]
	if a.Dims() == 1 {
		return a, b, 1, a.Len()
	}
	return a, b, a.Shape[0], a.Shape[1]
}

// cdEps keeps CosineDistance finite for a zero row, as BigDL's 1e-12.
const cdEps = 1e-12

func (p *rowPair) Forward(x *tensor.Tensor) *tensor.Tensor {
	a, b, n, w := p.rows(x)
	p.output = tensor.Ensure(p.output, n)
	for r := 0; r < n; r++ {
		ra, rb := a.Data[r*w:(r+1)*w], b.Data[r*w:(r+1)*w]
		var v float64
		switch p.class {
		case "DotProduct":
			for j := range ra {
				v += float64(ra[j]) * float64(rb[j])
			}
		case "CosineDistance":
			dot, na, nb := dotNorms(ra, rb)
			v = dot / math.Sqrt(na*nb)
		default:
			for j := range ra {
				v += math.Pow(math.Abs(float64(ra[j])-float64(rb[j])), float64(p.norm))
			}
			v = math.Pow(v, 1/float64(p.norm))
		}
		p.output.Data[r] = float32(v)
	}
	return p.output
}

func dotNorms(a, b []float32) (dot, na, nb float64) {
	for j := range a {
		dot += float64(a[j]) * float64(b[j])
		na += float64(a[j]) * float64(a[j])
		nb += float64(b[j]) * float64(b[j])
	}
	return dot, na + cdEps, nb + cdEps
}

func (p *rowPair) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	a, b, n, w := p.rows(x)
	if gy.IsTable() || gy.Len() != n {
		shapeError(p, fmt.Sprintf("a gradient of %d values", n), gy.Shape)
	}
	p.gradIn = pairGradsOf(p.gradIn, a, b)
	for r := 0; r < n; r++ {
		ra, rb := a.Data[r*w:(r+1)*w], b.Data[r*w:(r+1)*w]
		ga, gb := p.gradIn.Table[0].Data[r*w:(r+1)*w], p.gradIn.Table[1].Data[r*w:(r+1)*w]
		g := float64(gy.Data[r])
		switch p.class {
		case "DotProduct":
			for j := range ra {
				ga[j], gb[j] = float32(g*float64(rb[j])), float32(g*float64(ra[j]))
			}
		case "CosineDistance":
			dot, na, nb := dotNorms(ra, rb)
			inv, c := 1/math.Sqrt(na*nb), dot/math.Sqrt(na*nb)
			for j := range ra {
				ga[j] = float32(g * (float64(rb[j])*inv - c*float64(ra[j])/na))
				gb[j] = float32(g * (float64(ra[j])*inv - c*float64(rb[j])/nb))
			}
		default:
			// d‖d‖_p/dd_j = sign(d_j)·|d_j|^(p-1) / ‖d‖^(p-1); 0 where the rows coincide.
			dist, pn := float64(p.output.Data[r]), float64(p.norm)
			for j := range ra {
				d := float64(ra[j]) - float64(rb[j])
				var v float64
				if dist > 0 && d != 0 {
					v = g * sign(d) * math.Pow(math.Abs(d)/dist, pn-1)
				}
				ga[j], gb[j] = float32(v), float32(-v)
			}
		}
	}
	return p.gradIn
}
