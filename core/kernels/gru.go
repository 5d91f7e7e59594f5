package kernels

import "fmt"

// GRURows is one step of BigDL's GRU cell (sigmoid gates, tanh candidate)
// for N records, the buffers of the GRU step kernels. A record's gates are
// 3·Hidden values, the reset, update and candidate blocks in that order;
// the next record's are GateStride further. HPrev (the previous outputs)
// and the buffers laid out as it are Hidden values a record, StateStride
// apart. Mask, if not nil, is the dropout mask of r·h_prev, N·Hidden values
// a record after another.
//
// A step is two passes around the product of r·h_prev with U_n: the first
// (GRUResetForward / GRUResetBackward) on the reset gate, the second
// (GRUForward / GRUBackward) on the update and candidate gates. Each does
// every record in one call with the same operations on every value as the
// per-record kernel calls and loops they replace, so results are theirs
// bit for bit (TestGRUKernelsMatchUnfused).
type GRURows struct {
	N, Hidden   int
	Gates       []float32
	GateStride  int
	HPrev       []float32
	StateStride int
	Mask        []float32
}

// GRUResetForward applies σ in place to each record's reset and update
// gates and sets rh (laid out as HPrev) to r·h_prev, times the mask.
func GRUResetForward(s *GRURows, rh []float32) {
	s.check("GRUResetForward")
	s.checkRows("GRUResetForward", "rh", len(rh), s.StateStride, s.Hidden)
	gatesDone, unitsDone := gruResetForwardSIMD(s, rh)
	h := s.Hidden
	for r := 0; r < s.N; r++ {
		rz := s.Gates[r*s.GateStride : r*s.GateStride+2*h]
		Sigmoid(rz[gatesDone:], rz[gatesDone:])
		hp, out := s.state(s.HPrev, r), s.state(rh, r)
		for j := unitsDone; j < h; j++ {
			out[j] = rz[j] * hp[j]
		}
		if s.Mask != nil {
			m := s.Mask[r*h : (r+1)*h]
			for j := unitsDone; j < h; j++ {
				out[j] *= m[j]
			}
		}
	}
}

// GRUForward applies tanh in place to each record's candidate gate n (whose
// recurrent product the caller has added) and sets out (laid out as HPrev)
// to (1−z)·n + z·h_prev.
func GRUForward(s *GRURows, out []float32) {
	s.check("GRUForward")
	s.checkRows("GRUForward", "out", len(out), s.StateStride, s.Hidden)
	done := gruForwardSIMD(s, out)
	h := s.Hidden
	for r := 0; r < s.N; r++ {
		row := s.Gates[r*s.GateStride:]
		z, n := row[h:2*h], row[2*h:3*h]
		Tanh(n[done:], n[done:])
		hp, ht := s.state(s.HPrev, r), s.state(out, r)
		for j := done; j < h; j++ {
			ht[j] = (1-z[j])*n[j] + z[j]*hp[j]
		}
	}
}

// GRUBackward starts a step's gradient: dh (N·Hidden values, a record's
// Hidden after another) holds the gradient of the outputs from the next
// step, gy (laid out as HPrev) this step's. It writes the gradients of the
// update and candidate gates' pre-activations into dGates (laid out as
// Gates, not overlapping it) and leaves in dh the gradient reaching h_prev
// directly, through z·h_prev.
func GRUBackward(s *GRURows, gy, dGates, dh []float32) {
	s.check("GRUBackward")
	s.checkRows("GRUBackward", "gy", len(gy), s.StateStride, s.Hidden)
	s.checkRows("GRUBackward", "dGates", len(dGates), s.GateStride, 3*s.Hidden)
	s.checkRows("GRUBackward", "dh", len(dh), s.Hidden, s.Hidden)
	done := gruBackwardSIMD(s, gy, dGates, dh)
	h := s.Hidden
	for r := 0; r < s.N; r++ {
		row, drow := s.Gates[r*s.GateStride:], dGates[r*s.GateStride:]
		z, n, dz, dn := row[h:2*h], row[2*h:3*h], drow[h:2*h], drow[2*h:3*h]
		hp, gyr, dhr := s.state(s.HPrev, r), s.state(gy, r), dh[r*h:(r+1)*h]
		for j := done; j < h; j++ {
			d := dhr[j] + gyr[j]
			dn[j] = d * (1 - z[j]) * (1 - n[j]*n[j])
			dz[j] = d * (hp[j] - n[j]) * (z[j] * (1 - z[j]))
			dhr[j] = d * z[j]
		}
	}
}

// GRUResetBackward finishes a step's gradient from drh (N·Hidden values),
// the gradient of r·h_prev (·mask) that the product with U_n passed back:
// drh is masked in place, the reset gate's pre-activation gradient goes to
// dGates and the gradient reaching h_prev through r·h_prev is added to dh.
func GRUResetBackward(s *GRURows, dGates, drh, dh []float32) {
	s.check("GRUResetBackward")
	s.checkRows("GRUResetBackward", "dGates", len(dGates), s.GateStride, 3*s.Hidden)
	s.checkRows("GRUResetBackward", "drh", len(drh), s.Hidden, s.Hidden)
	s.checkRows("GRUResetBackward", "dh", len(dh), s.Hidden, s.Hidden)
	done := gruResetBackwardSIMD(s, dGates, drh, dh)
	h := s.Hidden
	for r := 0; r < s.N; r++ {
		rg, dr := s.Gates[r*s.GateStride:r*s.GateStride+h], dGates[r*s.GateStride:r*s.GateStride+h]
		hp, drhr, dhr := s.state(s.HPrev, r), drh[r*h:(r+1)*h], dh[r*h:(r+1)*h]
		if s.Mask != nil {
			m := s.Mask[r*h : (r+1)*h]
			for j := done; j < h; j++ {
				drhr[j] *= m[j]
			}
		}
		for j := done; j < h; j++ {
			dr[j] = drhr[j] * hp[j] * (rg[j] * (1 - rg[j]))
			dhr[j] += drhr[j] * rg[j]
		}
	}
}

func (s *GRURows) check(op string) {
	if s.N < 0 || s.Hidden < 0 {
		panic(fmt.Sprintf("kernels: %s of %d records of %d units", op, s.N, s.Hidden))
	}
	s.checkRows(op, "Gates", len(s.Gates), s.GateStride, 3*s.Hidden)
	s.checkRows(op, "HPrev", len(s.HPrev), s.StateStride, s.Hidden)
	if s.Mask != nil {
		s.checkRows(op, "Mask", len(s.Mask), s.Hidden, s.Hidden)
	}
}

// checkRows panics unless n values of the buffer named what hold N rows of
// width values, stride apart.
func (s *GRURows) checkRows(op, what string, n, stride, width int) {
	checkRows(op, what, s.N, n, stride, width)
}

// state is record r's Hidden values of a buffer laid out as HPrev.
func (s *GRURows) state(buf []float32, r int) []float32 {
	return buf[r*s.StateStride : r*s.StateStride+s.Hidden]
}
