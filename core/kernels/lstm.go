package kernels

import "fmt"

// LSTMRows is one step of a plain LSTM cell (sigmoid gates, tanh, no
// peepholes) for N records, the buffers of LSTMForward and LSTMBackward.
// A record's gates are 4·Hidden values, the input, forget, cell and output
// gates' blocks at block indices Order[0..3] (the caller's gate order);
// the next record's are GateStride further. Cell states, their tanh and the
// outputs are Hidden values a record, StateStride apart.
//
// The unfused step was about ten kernel calls a record forward and fifteen
// backward, each a dispatch, length checks and a pass over the record (and
// for sigmoid, a scratch array to clear); these do a step in one call, a
// record at a time, with the same operations on every value, so the results
// are the unfused kernels' bit for bit (TestLSTMKernelsMatchUnfused).
type LSTMRows struct {
	N, Hidden  int
	Order      [4]int    // block index of the input, forget, cell and output gates
	Gates      []float32 // pre-activations; LSTMForward leaves the activated gates
	GateStride int
	// CPrev is the previous step's cell states, nil at the first step (zero).
	CPrev, C, TC []float32
	StateStride  int
}

// LSTMForward adds bias and bias2 (4·Hidden values each, in the gates'
// order; either may be nil) to each record's gates, activates them in place
// (i, f, o = σ, g = tanh), and writes c = f·c_prev + i·g, tc = tanh(c) and
// out = o·tc (out laid out as C).
func LSTMForward(s *LSTMRows, bias, bias2, out []float32) {
	s.check("LSTMForward")
	for _, b := range [2][]float32{bias, bias2} {
		if b != nil {
			sameLen("LSTMForward (bias vs 4·Hidden)", len(b), 4*s.Hidden)
		}
	}
	s.checkRows("LSTMForward", "C", len(s.C), s.StateStride, s.Hidden)
	s.checkRows("LSTMForward", "TC", len(s.TC), s.StateStride, s.Hidden)
	s.checkRows("LSTMForward", "out", len(out), s.StateStride, s.Hidden)
	from := lstmForwardSIMD(s, bias, bias2, out)
	if from == s.Hidden {
		return
	}
	for r := 0; r < s.N; r++ {
		lstmForwardPart(s, r, from, bias, bias2, out)
	}
}

// LSTMBackward is the gradient through LSTMForward's step, from the
// activated gates, C_prev and TC it left. dh (N·Hidden values, a record's
// Hidden after another) holds the gradient of the outputs from the next
// step; gy, laid out as C, is this step's, added into dh. dc (as dh) holds
// the gradient of the cell states from the next step, and leaves with that
// of C_prev (unchanged at the first step, whose C_prev is zero). dGates,
// laid out as Gates and not overlapping it, receives the gradient of the
// pre-activations.
func LSTMBackward(s *LSTMRows, gy, dGates, dh, dc []float32) {
	s.check("LSTMBackward")
	s.checkRows("LSTMBackward", "TC", len(s.TC), s.StateStride, s.Hidden)
	s.checkRows("LSTMBackward", "gy", len(gy), s.StateStride, s.Hidden)
	s.checkRows("LSTMBackward", "dGates", len(dGates), s.GateStride, 4*s.Hidden)
	s.checkRows("LSTMBackward", "dh", len(dh), s.Hidden, s.Hidden)
	s.checkRows("LSTMBackward", "dc", len(dc), s.Hidden, s.Hidden)
	from := lstmBackwardSIMD(s, gy, dGates, dh, dc)
	if from == s.Hidden {
		return
	}
	for r := 0; r < s.N; r++ {
		lstmBackwardPart(s, r, from, gy, dGates, dh, dc)
	}
}

func (s *LSTMRows) check(op string) {
	if s.N < 0 || s.Hidden < 0 {
		panic(fmt.Sprintf("kernels: %s of %d records of %d units", op, s.N, s.Hidden))
	}
	seen := 0
	for _, k := range s.Order {
		if k < 0 || k > 3 || seen&(1<<k) != 0 {
			panic(fmt.Sprintf("kernels: %s with gate blocks %v, want a permutation of 0..3", op, s.Order))
		}
		seen |= 1 << k
	}
	s.checkRows(op, "Gates", len(s.Gates), s.GateStride, 4*s.Hidden)
	if s.CPrev != nil {
		s.checkRows(op, "CPrev", len(s.CPrev), s.StateStride, s.Hidden)
	}
}

// checkRows panics unless n values of the buffer named what hold N rows of
// width values, stride apart.
func (s *LSTMRows) checkRows(op, what string, n, stride, width int) {
	checkRows(op, what, s.N, n, stride, width)
}

// checkRows panics unless n values of the buffer named what hold rows rows
// of width values, stride apart: the strided buffers of the cell kernels.
func checkRows(op, what string, rows, n, stride, width int) {
	if rows > 0 && (stride < width || n < (rows-1)*stride+width) {
		panic(fmt.Sprintf("kernels: %s: %s of %d values is too small for %d rows of %d, %d apart", op, what, n, rows, width, stride))
	}
}

// gates is record r's input, forget, cell and output gates from unit from on.
func (s *LSTMRows) gates(buf []float32, r, from int) (i, f, g, o []float32) {
	row := buf[r*s.GateStride:]
	h := s.Hidden
	part := func(k int) []float32 { return row[k*h+from : (k+1)*h] }
	return part(s.Order[0]), part(s.Order[1]), part(s.Order[2]), part(s.Order[3])
}

// state is record r's units from from on of a buffer laid out as C.
func (s *LSTMRows) state(buf []float32, r, from int) []float32 {
	return buf[r*s.StateStride+from : r*s.StateStride+s.Hidden]
}

// lstmForwardPart is LSTMForward for record r's units from from on, as the
// unfused kernels compute it: the portable set's whole record, or the units
// past the last whole vector.
func lstmForwardPart(s *LSTMRows, r, from int, bias, bias2, out []float32) {
	i, f, g, o := s.gates(s.Gates, r, from)
	for _, b := range [2][]float32{bias, bias2} {
		if b != nil {
			bi, bf, bg, bo := s.gates(b, 0, from)
			Axpy(1, bi, i)
			Axpy(1, bf, f)
			Axpy(1, bg, g)
			Axpy(1, bo, o)
		}
	}
	Sigmoid(i, i)
	Sigmoid(f, f)
	Sigmoid(o, o)
	Tanh(g, g)
	c := s.state(s.C, r, from)
	Mul(c, i, g)
	if s.CPrev != nil {
		MulAdd(c, f, s.state(s.CPrev, r, from))
	}
	tc := s.state(s.TC, r, from)
	Tanh(tc, c)
	Mul(s.state(out, r, from), o, tc)
}

// lstmBackwardPart is LSTMBackward for record r's units from from on (see
// lstmForwardPart).
func lstmBackwardPart(s *LSTMRows, r, from int, gy, dGates, dh, dc []float32) {
	h := s.Hidden
	i, f, g, o := s.gates(s.Gates, r, from)
	di, df, dg, do := s.gates(dGates, r, from)
	dhr, dcr := dh[r*h+from:(r+1)*h], dc[r*h+from:(r+1)*h]
	tc := s.state(s.TC, r, from)
	Axpy(1, s.state(gy, r, from), dhr)
	Mul(do, dhr, tc)
	Mul(di, dhr, o) // the gradient of tanh(c), made that of c below
	SigmoidBackward(do, do, o)
	TanhBackward(di, di, tc)
	Axpy(1, di, dcr)
	Mul(di, dcr, g)
	Mul(dg, dcr, i)
	if s.CPrev == nil {
		clear(df)
	} else {
		Mul(df, dcr, s.state(s.CPrev, r, from))
	}
	SigmoidBackward(di, di, i)
	SigmoidBackward(df, df, f)
	TanhBackward(dg, dg, g)
	if s.CPrev != nil {
		Mul(dcr, dcr, f)
	}
}
