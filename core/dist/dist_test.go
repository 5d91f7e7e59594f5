package dist

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// run calls f on every rank concurrently and returns their errors.
func run(comms []*Comm, f func(c *Comm) error) []error {
	errs := make([]error, len(comms))
	var wg sync.WaitGroup
	for r, c := range comms {
		wg.Add(1)
		go func() { defer wg.Done(); errs[r] = f(c) }()
	}
	wg.Wait()
	return errs
}

func closeAll(comms []*Comm) {
	for _, c := range comms {
		c.Close()
	}
}

func TestCollectives(t *testing.T) {
	for _, ranks := range []int{1, 2, 3} {
		for _, n := range []int{1, 2, 7, 1000} {
			comms, err := Group(ranks, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			vecs := make([][]float32, ranks)
			for r := range vecs {
				vecs[r] = make([]float32, n)
				for i := range vecs[r] {
					vecs[r][i] = float32(r*1000 + i)
				}
			}
			errs := run(comms, func(c *Comm) error {
				v := vecs[c.Rank()]
				s := []float64{float64(c.Rank()), 1}
				lo, hi, err := c.ReduceScatter(v, s)
				if err != nil {
					return err
				}
				if s[1] != float64(ranks) || s[0] != float64(ranks*(ranks-1)/2) {
					t.Errorf("ranks %d: the small sums after ReduceScatter are %v", ranks, s)
				}
				for i := lo; i < hi; i++ {
					want := float32(0)
					for r := 0; r < ranks; r++ {
						want += float32(r*1000 + i)
					}
					if v[i] != want {
						t.Errorf("ranks %d n %d: rank %d element %d = %v, want %v", ranks, n, c.Rank(), i, v[i], want)
					}
					v[i] = -float32(i) // the "updated weight"
				}
				if err := c.AllGather(v); err != nil {
					return err
				}
				for i := range v {
					if v[i] != -float32(i) {
						t.Errorf("ranks %d n %d: rank %d after all-gather element %d = %v", ranks, n, c.Rank(), i, v[i])
					}
				}
				return nil
			})
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			closeAll(comms)
		}
	}
}

func TestSilentPeerFailsWithinTimeout(t *testing.T) {
	comms, err := Group(3, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(comms)
	start := time.Now()
	errs := run(comms[:2], func(c *Comm) error { // rank 2 never answers
		_, _, err := c.ReduceScatter(make([]float32, 100), nil)
		return err
	})
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v, want about the 300ms timeout", d)
	}
	for r, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "rank 2 (127.0.0.1:") {
			t.Errorf("rank %d: error %v should name rank 2 and its address", r, err)
		}
	}
}

func TestDeadPeerFailsFast(t *testing.T) {
	comms, err := Group(2, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(comms)
	comms[1].Close()
	start := time.Now()
	err = comms[0].AllGather(make([]float32, 10))
	if err == nil || !strings.Contains(err.Error(), "rank 1") || time.Since(start) > time.Second {
		t.Fatalf("got %v after %v, want a quick error naming rank 1", err, time.Since(start))
	}
}

func TestConnectTimesOutWhenAPeerNeverComes(t *testing.T) {
	a, _ := Listen("127.0.0.1")
	b, _ := Listen("127.0.0.1")
	addrs := []string{a.Addr(), b.Addr()}
	b.Close()
	start := time.Now()
	err := a.Connect(0, addrs, 200*time.Millisecond)
	if err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("got %v after %v", err, time.Since(start))
	}
	// The listener is closed: nothing is left listening.
	if conn, err := net.DialTimeout("tcp", addrs[0], time.Second); err == nil {
		conn.Close()
		t.Fatal("rank 0's listener is still open")
	}
}

func TestSteadyStateDoesNotAllocate(t *testing.T) {
	comms, err := Group(2, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(comms)
	v1 := make([]float32, 1000)
	s1 := make([]float64, 2)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, _, err := comms[1].ReduceScatter(v1, s1); err != nil {
				return
			}
			if comms[1].AllGather(v1) != nil {
				return
			}
		}
	}()
	v0 := make([]float32, 1000)
	s0 := make([]float64, 2)
	comms[0].ReduceScatter(v0, s0)
	comms[0].AllGather(v0)
	allocs := testing.AllocsPerRun(50, func() {
		comms[0].ReduceScatter(v0, s0)
		comms[0].AllGather(v0)
	})
	close(stop)
	comms[0].Close() // the partner's next exchange fails and it returns
	<-done
	if allocs > 0 {
		t.Errorf("%v allocations per iteration, want 0", allocs)
	}
}

// BenchmarkSync270k is one iteration's sync for a 784-256-256-10 MLP
// (269,322 parameters) between 2 ranks on loopback.
func BenchmarkSync270k(b *testing.B) {
	const n = 269322
	comms, err := Group(2, 5*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer closeAll(comms)
	v1, s1 := make([]float32, n), make([]float64, 2)
	go func() {
		for i := 0; i < b.N+1; i++ {
			comms[1].ReduceScatter(v1, s1)
			comms[1].AllGather(v1)
		}
	}()
	v0, s0 := make([]float32, n), make([]float64, 2)
	b.ResetTimer()
	for i := 0; i < b.N+1; i++ {
		comms[0].ReduceScatter(v0, s0)
		comms[0].AllGather(v0)
	}
}
