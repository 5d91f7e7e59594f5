package optim

import "fmt"

// MethodState is an optim method's state: its step count and its buffers
// (momentum, running means), each as long as the vector (or shard) it
// updates; no buffers before the first update.
type MethodState struct {
	T    int
	Bufs [][]float32
}

// StateOf returns m's state (the buffers are m's own, not copies).
func StateOf(m Method) MethodState {
	switch m := m.(type) {
	case *SGD:
		return MethodState{m.t, nonNil(m.buf)}
	case *Adam:
		return MethodState{m.t, nonNil(m.m, m.v)}
	case *Adagrad:
		return MethodState{m.t, nonNil(m.sum)}
	case *RMSprop:
		return MethodState{m.t, nonNil(m.ms)}
	case *LBFGS:
		return MethodState{m.nIter, m.bufs()}
	case *PerModule:
		return m.state()
	case buffered:
		t, ptrs := m.state()
		bufs := make([][]float32, len(ptrs))
		for i, p := range ptrs {
			bufs[i] = *p
		}
		return MethodState{*t, nonNil(bufs...)}
	}
	return MethodState{}
}

func nonNil(bufs ...[]float32) [][]float32 {
	if bufs[0] == nil {
		return [][]float32{}
	}
	return bufs
}

// SetState replaces m's state with s (keeping s's buffers).
func SetState(m Method, s MethodState) error {
	switch m := m.(type) {
	case *LBFGS:
		return m.setBufs(s.Bufs)
	case *PerModule:
		return m.setState(s)
	}
	want := map[string]int{"SGD": 1, "Adam": 2, "ParallelAdam": 2, "Adagrad": 1, "RMSprop": 1}[m.Class()]
	if b, ok := m.(buffered); ok {
		_, ptrs := b.state()
		want = len(ptrs)
	}
	if len(s.Bufs) != 0 && len(s.Bufs) != want {
		return fmt.Errorf("set_state: %s keeps %d buffers, got %d", m.Class(), want, len(s.Bufs))
	}
	buf := func(i int) []float32 {
		if len(s.Bufs) == 0 {
			return nil
		}
		return s.Bufs[i]
	}
	switch m := m.(type) {
	case *SGD:
		m.t, m.buf, m.fresh = s.T, buf(0), false
	case *Adam:
		m.t, m.m, m.v = s.T, buf(0), buf(1)
	case *Adagrad:
		m.t, m.sum = s.T, buf(0)
	case *RMSprop:
		m.t, m.ms = s.T, buf(0)
	case buffered:
		t, ptrs := m.state()
		*t = s.T
		for i, p := range ptrs {
			*p = buf(i)
		}
	default:
		return fmt.Errorf("set_state: %s has no state to set", m.Class())
	}
	return nil
}

// ExtraStater is a method with state beyond its step count and buffers
// (SGD's schedule, LBFGS's scalars), which travels between the segments of
// a distributed run as JSON.
type ExtraStater interface {
	ExtraState() map[string]any
	SetExtraState(map[string]any) error
}

// ExtraState is SGD's schedule's state (nil without a schedule).
func (s *SGD) ExtraState() map[string]any { return s.ScheduleState() }

// SetExtraState moves SGD's schedule to where ExtraState found one.
func (s *SGD) SetExtraState(m map[string]any) error { return s.SetScheduleState(m) }
