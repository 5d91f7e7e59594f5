package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"
)

// lstmCase is one LSTMRows layout with its inputs, in buffers whose gaps
// between rows (and past the end) hold a sentinel that must survive.
type lstmCase struct {
	s                   LSTMRows
	bias, bias2         []float32
	out, gy, dGates     []float32
	dh, dc              []float32
	firstStep           bool
	hidden, n           int
	withBias, withBias2 bool
}

var lstmSentinel = math.Float32frombits(0x7fc0dead)

// lstmInputs is random data of the given scale with the values a kernel must
// carry through as the unfused ones do: NaN, ±Inf, ±0 and large values.
func lstmInputs(r *rand.Rand, n int, scale float64) []float32 {
	specials := []float32{float32(math.NaN()), inf32, -inf32, 0, float32(math.Copysign(0, -1)), 1e30, -1e30, 89, -104, 9, -9}
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64() * scale)
		if r.Intn(12) == 0 {
			s[i] = specials[r.Intn(len(specials))]
		}
	}
	return s
}

// padded is n rows of width values from src, stride apart, the gaps and a
// tail of stride−width values holding the sentinel.
func padded(src []float32, n, width, stride int) []float32 {
	buf := make([]float32, n*stride+(stride-width))
	for i := range buf {
		buf[i] = lstmSentinel
	}
	for r := 0; r < n; r++ {
		copy(buf[r*stride:r*stride+width], src[r*width:(r+1)*width])
	}
	return buf
}

func newLSTMCase(r *rand.Rand, n, h int, order [4]int, firstStep, withBias, withBias2 bool) *lstmCase {
	gp, sp := 1+r.Intn(5), 1+r.Intn(3)
	c := &lstmCase{hidden: h, n: n, firstStep: firstStep, withBias: withBias, withBias2: withBias2}
	gs, ss := 4*h+gp, h+sp
	c.s = LSTMRows{N: n, Hidden: h, Order: order, GateStride: gs, StateStride: ss,
		Gates: padded(lstmInputs(r, n*4*h, 3), n, 4*h, gs),
		C:     padded(lstmInputs(r, n*h, 1), n, h, ss),
		TC:    padded(lstmInputs(r, n*h, 1), n, h, ss),
	}
	if !firstStep {
		c.s.CPrev = padded(lstmInputs(r, n*h, 2), n, h, ss)
	}
	if withBias {
		c.bias = lstmInputs(r, 4*h, 1)
	}
	if withBias2 {
		c.bias2 = lstmInputs(r, 4*h, 1)
	}
	c.out = padded(lstmInputs(r, n*h, 1), n, h, ss)
	c.gy = padded(lstmInputs(r, n*h, 1), n, h, ss)
	c.dGates = padded(lstmInputs(r, n*4*h, 1), n, 4*h, gs)
	c.dh = append(lstmInputs(r, n*h, 1), lstmSentinel, lstmSentinel)
	c.dc = append(lstmInputs(r, n*h, 1), lstmSentinel, lstmSentinel)
	return c
}

func (c *lstmCase) clone() *lstmCase {
	d := *c
	cp := slices.Clone[[]float32]
	d.s.Gates, d.s.C, d.s.TC, d.s.CPrev = cp(c.s.Gates), cp(c.s.C), cp(c.s.TC), cp(c.s.CPrev)
	d.bias, d.bias2, d.out, d.gy, d.dGates, d.dh, d.dc = cp(c.bias), cp(c.bias2), cp(c.out), cp(c.gy), cp(c.dGates), cp(c.dh), cp(c.dc)
	return &d
}

func (c *lstmCase) String() string {
	return fmt.Sprintf("n=%d h=%d order=%v first=%v bias=%v bias2=%v", c.n, c.hidden, c.s.Order, c.firstStep, c.withBias, c.withBias2)
}

// unfusedForward is LSTM.forwardSeq's step before the fused kernels: the
// bias added to each record's whole gate row, then a kernel call per
// operation on the record's hidden units.
func unfusedForward(c *lstmCase) {
	s, h := &c.s, c.hidden
	for r := 0; r < s.N; r++ {
		p := s.Gates[r*s.GateStride : r*s.GateStride+4*h]
		if c.bias != nil {
			Axpy(1, c.bias, p)
		}
		if c.bias2 != nil {
			Axpy(1, c.bias2, p)
		}
		i, f, g, o := s.gates(s.Gates, r, 0)
		at := r * s.StateStride
		cc, tc, ht := s.C[at:at+h], s.TC[at:at+h], c.out[at:at+h]
		Sigmoid(i, i)
		Sigmoid(f, f)
		Tanh(g, g)
		Mul(cc, i, g)
		if s.CPrev != nil {
			MulAdd(cc, f, s.CPrev[at:at+h])
		}
		Sigmoid(o, o)
		copy(tc, cc)
		Tanh(tc, tc)
		Mul(ht, o, tc)
	}
}

// unfusedBackward is LSTM.backwardSeq's step (no peepholes) before the
// fused kernels.
func unfusedBackward(c *lstmCase) {
	s, h := &c.s, c.hidden
	for r := 0; r < s.N; r++ {
		i, f, g, o := s.gates(s.Gates, r, 0)
		di, df, dg, do := s.gates(c.dGates, r, 0)
		dh, dc := c.dh[r*h:(r+1)*h], c.dc[r*h:(r+1)*h]
		at := r * s.StateStride
		tc, gyr := s.TC[at:at+h], c.gy[at:at+h]
		Axpy(1, gyr, dh)
		Mul(do, dh, tc)
		Mul(di, dh, o)
		SigmoidBackward(do, do, o)
		TanhBackward(di, di, tc)
		Axpy(1, di, dc)
		Mul(di, dc, g)
		Mul(dg, dc, i)
		if s.CPrev == nil {
			clear(df)
		} else {
			Mul(df, dc, s.CPrev[at:at+h])
		}
		SigmoidBackward(di, di, i)
		SigmoidBackward(df, df, f)
		TanhBackward(dg, dg, g)
		if s.CPrev == nil {
			continue
		}
		Mul(dc, dc, f)
	}
}

// sameFloats reports the first index where got and want differ in their
// bits (any NaN matches any NaN: which operand's payload an instruction
// keeps is not part of the result), or -1.
func sameFloats(got, want []float32) int {
	if len(got) != len(want) {
		return 0
	}
	for i := range got {
		g, w := got[i], want[i]
		if g != g && w != w && math.Float32bits(g) != math.Float32bits(lstmSentinel) && math.Float32bits(w) != math.Float32bits(lstmSentinel) {
			continue
		}
		if math.Float32bits(g) != math.Float32bits(w) {
			return i
		}
	}
	return -1
}

func checkSame(t *testing.T, c *lstmCase, what string, got, want []float32) {
	t.Helper()
	if i := sameFloats(got, want); i >= 0 {
		t.Fatalf("%v: %s[%d] = %v (%#x), unfused %v (%#x)", c, what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
	}
}

var lstmOrders = [][4]int{{0, 2, 1, 3}, {0, 1, 2, 3}, {3, 0, 2, 1}}

// The fused step gives the unfused kernels' results bit for bit on every
// kernel set this CPU runs: the vector body uses the same instructions on
// each value (FMA where MulAdd had one, an add for Axpy by 1, which FMA
// rounds the same), the units past the last whole vector go through the
// unfused kernels themselves. Every hidden size from 1 to 40 ends in every
// kind of partial vector; the sentinels in the gaps between rows and past
// the last one must survive.
func TestLSTMKernelsMatchUnfused(t *testing.T) {
	forEachVecPath(t, func(t *testing.T) {
		r := rand.New(rand.NewSource(31))
		hs := []int{100, 128, 131, 300}
		for h := 1; h <= 40; h++ {
			hs = append(hs, h)
		}
		for _, h := range hs {
			for _, n := range []int{1, 3} {
				for k, first := range []bool{false, true} {
					order := lstmOrders[(h+k)%len(lstmOrders)]
					for biases := 0; biases < 3; biases++ {
						c := newLSTMCase(r, n, h, order, first, biases > 0, biases > 1)
						want := c.clone()
						unfusedForward(want)
						LSTMForward(&c.s, c.bias, c.bias2, c.out)
						checkSame(t, c, "Gates", c.s.Gates, want.s.Gates)
						checkSame(t, c, "C", c.s.C, want.s.C)
						checkSame(t, c, "TC", c.s.TC, want.s.TC)
						checkSame(t, c, "out", c.out, want.out)
						checkSame(t, c, "CPrev", c.s.CPrev, want.s.CPrev)
						checkSame(t, c, "bias", c.bias, want.bias)

						// Backward from the activated gates the forward left,
						// then again from fresh random ones, as NaN-free gates
						// cover more of the arithmetic.
						for round := 0; round < 2; round++ {
							if round == 1 {
								for i := range c.s.Gates {
									if math.Float32bits(c.s.Gates[i]) != math.Float32bits(lstmSentinel) {
										c.s.Gates[i] = float32(r.Float64()*1.2 - 0.1)
									}
								}
							}
							want = c.clone()
							unfusedBackward(want)
							LSTMBackward(&c.s, c.gy, c.dGates, c.dh, c.dc)
							checkSame(t, c, "dGates", c.dGates, want.dGates)
							checkSame(t, c, "dh", c.dh, want.dh)
							checkSame(t, c, "dc", c.dc, want.dc)
							checkSame(t, c, "Gates (backward)", c.s.Gates, want.s.Gates)
							checkSame(t, c, "gy", c.gy, want.gy)
						}
					}
				}
			}
		}
	})
}

func TestLSTMKernelsAllocateNothing(t *testing.T) {
	r := rand.New(rand.NewSource(32))
	c := newLSTMCase(r, 4, 131, lstmOrders[0], false, true, true)
	forEachVecPath(t, func(t *testing.T) {
		allocs := testing.AllocsPerRun(10, func() {
			LSTMForward(&c.s, c.bias, c.bias2, c.out)
			LSTMBackward(&c.s, c.gy, c.dGates, c.dh, c.dc)
		})
		if allocs != 0 {
			t.Errorf("LSTMForward and LSTMBackward allocated %v times per call", allocs)
		}
	})
}

// Buffers too short for the rows they are said to hold, and gate orders
// that are not a permutation, are refused before anything is written.
func TestLSTMKernelsRefuseBadBuffers(t *testing.T) {
	r := rand.New(rand.NewSource(33))
	const fwd, bwd = "LSTMForward", "LSTMBackward"
	for _, tc := range []struct {
		op, name, want string
		spoil          func(c *lstmCase)
	}{
		{fwd, "short gates", "Gates", func(c *lstmCase) { c.s.Gates = c.s.Gates[:len(c.s.Gates)-c.s.GateStride] }},
		{fwd, "gate stride below 4·hidden", "Gates", func(c *lstmCase) { c.s.GateStride = 4*c.hidden - 1 }},
		{fwd, "short C", ": C of", func(c *lstmCase) { c.s.C = c.s.C[:c.s.StateStride] }},
		{fwd, "short CPrev", "CPrev", func(c *lstmCase) { c.s.CPrev = c.s.CPrev[:1] }},
		{fwd, "short out", "out", func(c *lstmCase) { c.out = c.out[:c.hidden] }},
		{fwd, "short bias", "bias", func(c *lstmCase) { c.bias = c.bias[1:] }},
		{fwd, "repeated gate block", "permutation", func(c *lstmCase) { c.s.Order = [4]int{0, 1, 1, 3} }},
		{fwd, "gate block past 3", "permutation", func(c *lstmCase) { c.s.Order = [4]int{0, 1, 2, 4} }},
		{bwd, "short dGates", "dGates", func(c *lstmCase) { c.dGates = c.dGates[:2*c.s.GateStride] }},
		{bwd, "short gy", "gy", func(c *lstmCase) { c.gy = c.gy[:2] }},
		{bwd, "short dh", "dh", func(c *lstmCase) { c.dh = c.dh[:3*c.hidden-1] }},
		{bwd, "short dc", "dc", func(c *lstmCase) { c.dc = c.dc[:c.hidden] }},
		{bwd, "short TC", "TC", func(c *lstmCase) { c.s.TC = c.s.TC[:c.hidden] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newLSTMCase(r, 3, 7, lstmOrders[0], false, true, false)
			tc.spoil(c)
			before := c.clone()
			defer func() {
				msg := fmt.Sprint(recover())
				if !strings.Contains(msg, tc.op) || !strings.Contains(msg, tc.want) {
					t.Errorf("panic %q, want one naming %s and %q", msg, tc.op, tc.want)
				}
				checkSame(t, c, "Gates", c.s.Gates, before.s.Gates)
				checkSame(t, c, "dGates", c.dGates, before.dGates)
				checkSame(t, c, "dh", c.dh, before.dh)
			}()
			if tc.op == fwd {
				LSTMForward(&c.s, c.bias, c.bias2, c.out)
			} else {
				LSTMBackward(&c.s, c.gy, c.dGates, c.dh, c.dc)
			}
		})
	}
}
