package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"
)

// gruCase is one GRURows layout with its inputs, in buffers whose gaps
// between rows (and past the end) hold a sentinel that must survive.
type gruCase struct {
	s               GRURows
	rh, out, gy     []float32
	dGates, dh, drh []float32
	hidden, n       int
	masked          bool
}

func newGRUCase(r *rand.Rand, n, h int, masked bool) *gruCase {
	gs, ss := 3*h+1+r.Intn(5), h+1+r.Intn(3)
	c := &gruCase{hidden: h, n: n, masked: masked}
	c.s = GRURows{N: n, Hidden: h, GateStride: gs, StateStride: ss,
		Gates: padded(lstmInputs(r, n*3*h, 3), n, 3*h, gs),
		HPrev: padded(lstmInputs(r, n*h, 1), n, h, ss),
	}
	if masked {
		c.s.Mask = make([]float32, n*h)
		for i := range c.s.Mask {
			if r.Intn(3) > 0 {
				c.s.Mask[i] = 1 / 0.7
			}
		}
	}
	c.rh = padded(lstmInputs(r, n*h, 1), n, h, ss)
	c.out = padded(lstmInputs(r, n*h, 1), n, h, ss)
	c.gy = padded(lstmInputs(r, n*h, 1), n, h, ss)
	c.dGates = padded(lstmInputs(r, n*3*h, 1), n, 3*h, gs)
	c.dh = append(lstmInputs(r, n*h, 1), lstmSentinel, lstmSentinel)
	c.drh = append(lstmInputs(r, n*h, 1), lstmSentinel, lstmSentinel)
	return c
}

func (c *gruCase) clone() *gruCase {
	d := *c
	cp := slices.Clone[[]float32]
	d.s.Gates, d.s.HPrev, d.s.Mask = cp(c.s.Gates), cp(c.s.HPrev), cp(c.s.Mask)
	d.rh, d.out, d.gy, d.dGates, d.dh, d.drh = cp(c.rh), cp(c.out), cp(c.gy), cp(c.dGates), cp(c.dh), cp(c.drh)
	return &d
}

func (c *gruCase) String() string {
	return fmt.Sprintf("GRU n=%d h=%d masked=%v", c.n, c.hidden, c.masked)
}

// The per-record steps of GRU.forwardSeq and backwardSeq before the fused
// kernels, around the product with U_n.

func unfusedGRUResetForward(c *gruCase) {
	s, h := &c.s, c.hidden
	for r := 0; r < s.N; r++ {
		p := s.Gates[r*s.GateStride : r*s.GateStride+3*h]
		Sigmoid(p[:2*h], p[:2*h])
		rg, hp, rh := p[:h], s.state(s.HPrev, r), s.state(c.rh, r)
		for j := range rh {
			rh[j] = rg[j] * hp[j]
		}
		if s.Mask != nil {
			m := s.Mask[r*h : (r+1)*h]
			for j := range rh {
				rh[j] *= m[j]
			}
		}
	}
}

func unfusedGRUForward(c *gruCase) {
	s, h := &c.s, c.hidden
	for r := 0; r < s.N; r++ {
		p := s.Gates[r*s.GateStride : r*s.GateStride+3*h]
		z, nn := p[h:2*h], p[2*h:]
		Tanh(nn, nn)
		hp, ht := s.state(s.HPrev, r), s.state(c.out, r)
		for j := range ht {
			ht[j] = (1-z[j])*nn[j] + z[j]*hp[j]
		}
	}
}

func unfusedGRUBackward(c *gruCase) {
	s, h := &c.s, c.hidden
	for r := 0; r < s.N; r++ {
		p, dp := s.Gates[r*s.GateStride:r*s.GateStride+3*h], c.dGates[r*s.GateStride:r*s.GateStride+3*h]
		z, nn := p[h:2*h], p[2*h:]
		dz, dn := dp[h:2*h], dp[2*h:]
		dh, hp, gyr := c.dh[r*h:(r+1)*h], s.state(s.HPrev, r), s.state(c.gy, r)
		for j := range dh {
			d := dh[j] + gyr[j]
			dn[j] = d * (1 - z[j])
			dz[j] = d * (hp[j] - nn[j])
			dh[j] = d * z[j]
		}
		TanhBackward(dn, dn, nn)
		SigmoidBackward(dz, dz, z)
	}
}

func unfusedGRUResetBackward(c *gruCase) {
	s, h := &c.s, c.hidden
	for r := 0; r < s.N; r++ {
		rg, dr := s.Gates[r*s.GateStride:r*s.GateStride+h], c.dGates[r*s.GateStride:r*s.GateStride+h]
		drh, dh, hp := c.drh[r*h:(r+1)*h], c.dh[r*h:(r+1)*h], s.state(s.HPrev, r)
		if s.Mask != nil {
			m := s.Mask[r*h : (r+1)*h]
			for j := range drh {
				drh[j] *= m[j]
			}
		}
		for j := range dr {
			dr[j] = drh[j] * hp[j]
			dh[j] += drh[j] * rg[j]
		}
		SigmoidBackward(dr, dr, rg)
	}
}

func (c *gruCase) requireSame(t *testing.T, step string, want *gruCase) {
	t.Helper()
	for _, b := range []struct {
		name      string
		got, want []float32
	}{
		{"Gates", c.s.Gates, want.s.Gates}, {"HPrev", c.s.HPrev, want.s.HPrev}, {"Mask", c.s.Mask, want.s.Mask},
		{"rh", c.rh, want.rh}, {"out", c.out, want.out}, {"gy", c.gy, want.gy},
		{"dGates", c.dGates, want.dGates}, {"dh", c.dh, want.dh}, {"drh", c.drh, want.drh},
	} {
		if i := sameFloats(b.got, b.want); i >= 0 {
			t.Fatalf("%v, after %s: %s[%d] = %v (%#x), unfused %v (%#x)", c, step, b.name, i,
				b.got[i], math.Float32bits(b.got[i]), b.want[i], math.Float32bits(b.want[i]))
		}
	}
}

// The four GRU step kernels give the per-record code's results bit for bit
// on every kernel set this CPU runs, on hidden sizes 1 to 40 (every kind of
// partial vector, for the reset and update gates' run of 2·Hidden too),
// with NaN, infinities and large values among the inputs, and with and
// without a dropout mask; nothing outside the rows is written.
func TestGRUKernelsMatchUnfused(t *testing.T) {
	forEachVecPath(t, func(t *testing.T) {
		r := rand.New(rand.NewSource(41))
		hs := []int{100, 128, 131}
		for h := 1; h <= 40; h++ {
			hs = append(hs, h)
		}
		for _, h := range hs {
			for _, n := range []int{1, 3} {
				for _, masked := range []bool{false, true} {
					c := newGRUCase(r, n, h, masked)
					for _, step := range []struct {
						name           string
						fused, unfused func(c *gruCase)
					}{
						{"GRUResetForward", func(c *gruCase) { GRUResetForward(&c.s, c.rh) }, unfusedGRUResetForward},
						{"GRUForward", func(c *gruCase) { GRUForward(&c.s, c.out) }, unfusedGRUForward},
						{"GRUBackward", func(c *gruCase) { GRUBackward(&c.s, c.gy, c.dGates, c.dh) }, unfusedGRUBackward},
						{"GRUResetBackward", func(c *gruCase) { GRUResetBackward(&c.s, c.dGates, c.drh, c.dh) }, unfusedGRUResetBackward},
					} {
						want := c.clone()
						step.unfused(want)
						step.fused(c)
						c.requireSame(t, step.name, want)
					}
				}
			}
		}
	})
}

func TestGRUKernelsAllocateNothing(t *testing.T) {
	r := rand.New(rand.NewSource(42))
	c := newGRUCase(r, 4, 131, true)
	forEachVecPath(t, func(t *testing.T) {
		allocs := testing.AllocsPerRun(10, func() {
			GRUResetForward(&c.s, c.rh)
			GRUForward(&c.s, c.out)
			GRUBackward(&c.s, c.gy, c.dGates, c.dh)
			GRUResetBackward(&c.s, c.dGates, c.drh, c.dh)
		})
		if allocs != 0 {
			t.Errorf("the GRU step kernels allocated %v times per step", allocs)
		}
	})
}

// Buffers too short for the rows they are said to hold are refused before
// anything is written.
func TestGRUKernelsRefuseBadBuffers(t *testing.T) {
	r := rand.New(rand.NewSource(43))
	for _, tc := range []struct {
		op, want string
		spoil    func(c *gruCase)
		call     func(c *gruCase)
	}{
		{"GRUResetForward", "Gates", func(c *gruCase) { c.s.Gates = c.s.Gates[:2*c.s.GateStride] }, func(c *gruCase) { GRUResetForward(&c.s, c.rh) }},
		{"GRUResetForward", "HPrev", func(c *gruCase) { c.s.StateStride = c.hidden - 1 }, func(c *gruCase) { GRUResetForward(&c.s, c.rh) }},
		{"GRUResetForward", "Mask", func(c *gruCase) { c.s.Mask = c.s.Mask[1:] }, func(c *gruCase) { GRUResetForward(&c.s, c.rh) }},
		{"GRUResetForward", "rh", func(c *gruCase) { c.rh = c.rh[:c.hidden] }, func(c *gruCase) { GRUResetForward(&c.s, c.rh) }},
		{"GRUForward", "out", func(c *gruCase) { c.out = c.out[:c.hidden] }, func(c *gruCase) { GRUForward(&c.s, c.out) }},
		{"GRUBackward", "gy", func(c *gruCase) { c.gy = c.gy[:1] }, func(c *gruCase) { GRUBackward(&c.s, c.gy, c.dGates, c.dh) }},
		{"GRUBackward", "dGates", func(c *gruCase) { c.dGates = c.dGates[:3] }, func(c *gruCase) { GRUBackward(&c.s, c.gy, c.dGates, c.dh) }},
		{"GRUBackward", "dh", func(c *gruCase) { c.dh = c.dh[:2*c.hidden] }, func(c *gruCase) { GRUBackward(&c.s, c.gy, c.dGates, c.dh) }},
		{"GRUResetBackward", "drh", func(c *gruCase) { c.drh = c.drh[:1] }, func(c *gruCase) { GRUResetBackward(&c.s, c.dGates, c.drh, c.dh) }},
	} {
		t.Run(tc.op+"/"+tc.want, func(t *testing.T) {
			c := newGRUCase(r, 3, 7, true)
			tc.spoil(c)
			before := c.clone()
			defer func() {
				msg := fmt.Sprint(recover())
				if !strings.Contains(msg, tc.op) || !strings.Contains(msg, tc.want) {
					t.Errorf("panic %q, want one naming %s and %q", msg, tc.op, tc.want)
				}
				c.requireSame(t, "a refused call", before)
			}()
			tc.call(c)
		})
	}
}
