package dist

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
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

// mustRun is run for collectives that must succeed on every rank.
func mustRun(t *testing.T, what string, comms []*Comm, f func(c *Comm) error) {
	t.Helper()
	for r, err := range run(comms, f) {
		if err != nil {
			t.Fatalf("%s: rank %d: %v", what, r, err)
		}
	}
}

func closeAll(comms []*Comm) {
	for _, c := range comms {
		c.Close()
	}
}

// transports are the ways ranks can exchange shards; "+aes" seals every
// message on the connections (SetEncrypted).
var transports = []string{TransportAuto, TransportTCP, TransportAuto + sealed, TransportTCP + sealed}

const sealed = "+aes"

// group connects ranks in this process, all set to transport.
func group(t testing.TB, ranks int, timeout time.Duration, transport string) []*Comm {
	t.Helper()
	transport, encrypted := strings.CutSuffix(transport, sealed)
	comms, err := connectGroup(ranks, timeout, encrypted)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range comms {
		if err := c.SetTransport(transport); err != nil {
			t.Fatal(err)
		}
	}
	return comms
}

// wantTransport checks what the collectives so far went through: shared
// memory when every rank allowed it (this is Linux: /dev/shm is there).
func wantTransport(t *testing.T, comms []*Comm, transport string) {
	t.Helper()
	want := "tcp"
	if transport, _ = strings.CutSuffix(transport, sealed); transport == TransportAuto && runtime.GOOS == "linux" {
		want = "shm"
	}
	for _, c := range comms {
		if got := c.Transport(); got != want {
			t.Errorf("rank %d of %d used %q, want %q", c.Rank(), len(comms), got, want)
		}
	}
}

func TestCollectives(t *testing.T) {
	for _, transport := range transports {
		for _, ranks := range []int{1, 2, 3} {
			testCollectives(t, transport, ranks)
		}
	}
}

// testCollectives runs ReduceScatter and AllGather on growing vectors
// (a region is renegotiated when a vector outgrows it), twice each.
func testCollectives(t *testing.T, transport string, ranks int) {
	comms := group(t, ranks, 5*time.Second, transport)
	defer closeAll(comms)
	for _, n := range []int{1, 2, 7, 1000, 1000, 5000} {
		{
			vecs := make([][]float32, ranks)
			for r := range vecs {
				vecs[r] = make([]float32, n)
				for i := range vecs[r] {
					vecs[r][i] = float32(r*1000 + i)
				}
			}
			mustRun(t, fmt.Sprintf("%s, %d ranks, n %d", transport, ranks, n), comms, func(c *Comm) error {
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
		}
	}
	if ranks > 1 {
		wantTransport(t, comms, transport)
	}
}

// TestRankSetToTCPKeepsAllOnTCP: ranks set differently agree on TCP.
func TestRankSetToTCPKeepsAllOnTCP(t *testing.T) {
	for tcpRank := range 3 {
		comms := group(t, 3, 5*time.Second, TransportAuto)
		comms[tcpRank].SetTransport(TransportTCP)
		mustRun(t, fmt.Sprintf("rank %d on TCP", tcpRank), comms, func(c *Comm) error { return c.AllGather(make([]float32, 10)) })
		wantTransport(t, comms, TransportTCP)
		closeAll(comms)
	}
}

// TestRegionFileIsRemoved: once the ranks have mapped the region, its file
// is gone, so nothing is left in /dev/shm whatever becomes of them.
func TestRegionFileIsRemoved(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("shared memory is Linux only")
	}
	before, _ := filepath.Glob("/dev/shm/bigdl-dist-*")
	comms := group(t, 2, 5*time.Second, TransportAuto)
	defer closeAll(comms)
	mustRun(t, "AllGather", comms, func(c *Comm) error { return c.AllGather(make([]float32, 10)) })
	wantTransport(t, comms, TransportAuto)
	after, _ := filepath.Glob("/dev/shm/bigdl-dist-*")
	if len(after) > len(before) {
		t.Errorf("region files left behind: %v (before: %v)", after, before)
	}
}

// TestSilentPeerFailsWithinTimeout: a rank that stops taking part, before
// the first collective or after some, fails the others within the timeout,
// and each error names it.
func TestSilentPeerFailsWithinTimeout(t *testing.T) {
	for _, transport := range transports {
		for _, warm := range []bool{false, true} {
			comms := group(t, 3, 300*time.Millisecond, transport)
			if warm {
				mustRun(t, transport+", warming up", comms, func(c *Comm) error { return c.AllGather(make([]float32, 100)) })
			}
			start := time.Now()
			errs := run(comms[:2], func(c *Comm) error { // rank 2 does not take part
				_, _, err := c.ReduceScatter(make([]float32, 100), nil)
				return err
			})
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("%s: took %v, want about the 300ms timeout", transport, d)
			}
			for r, err := range errs {
				if err == nil || !strings.Contains(err.Error(), "rank 2 (127.0.0.1:") {
					t.Errorf("%s, warm %v: rank %d: error %v should name rank 2 and its address", transport, warm, r, err)
				}
			}
			closeAll(comms)
		}
	}
}

// TestCollectivesOutliveTheTimeout: the timeout bounds each wait, not the
// run; deadlines set while connecting and negotiating must not linger.
func TestCollectivesOutliveTheTimeout(t *testing.T) {
	for _, transport := range transports {
		comms := group(t, 2, 200*time.Millisecond, transport)
		for range 3 {
			mustRun(t, transport, comms, func(c *Comm) error {
				_, _, err := c.ReduceScatter(make([]float32, 100), nil)
				if err == nil {
					err = c.AllGather(make([]float32, 100))
				}
				return err
			})
			time.Sleep(150 * time.Millisecond)
		}
		closeAll(comms)
	}
}

// TestDeadPeerFailsFast: a rank whose connections close (its process ended)
// fails the others at once, not at the timeout.
func TestDeadPeerFailsFast(t *testing.T) {
	for _, transport := range transports {
		for _, warm := range []bool{false, true} {
			comms := group(t, 2, 10*time.Second, transport)
			if warm {
				mustRun(t, transport+", warming up", comms, func(c *Comm) error { return c.AllGather(make([]float32, 10)) })
			}
			comms[1].Close()
			start := time.Now()
			err := comms[0].AllGather(make([]float32, 10))
			if err == nil || !strings.Contains(err.Error(), "rank 1") || time.Since(start) > time.Second {
				t.Errorf("%s, warm %v: got %v after %v, want a quick error naming rank 1", transport, warm, err, time.Since(start))
			}
			comms[0].Close()
		}
	}
}

// TestCloseDuringWait: closing a Comm while a collective waits on a peer
// ends the wait with an error (and does not unmap memory under it).
func TestCloseDuringWait(t *testing.T) {
	for _, transport := range transports {
		comms := group(t, 2, 10*time.Second, transport)
		mustRun(t, transport+", warming up", comms, func(c *Comm) error { return c.AllGather(make([]float32, 10)) })
		done := make(chan error, 1) // so the collective's goroutine ends even if the test gives up on it
		go func() { done <- comms[0].AllGather(make([]float32, 10)) }()
		time.Sleep(20 * time.Millisecond)
		comms[0].Close()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("%s: the collective succeeded without its peer", transport)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("%s: the collective still waits after Close", transport)
		}
		comms[1].Close()
	}
}

func TestConnectTimesOutWhenAPeerNeverComes(t *testing.T) {
	a, _ := Listen("127.0.0.1")
	b, _ := Listen("127.0.0.1")
	a.SetSecret(NewSecret())
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
	for _, transport := range transports {
		testSteadyStateDoesNotAllocate(t, transport)
	}
}

func testSteadyStateDoesNotAllocate(t *testing.T, transport string) {
	comms := group(t, 2, 5*time.Second, transport)
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
		t.Errorf("%s: %v allocations per iteration, want 0", transport, allocs)
	}
}

// BenchmarkSync270k is one iteration's sync for a 784-256-256-10 MLP
// (269,322 parameters) between 2 ranks: through shared memory, and over
// loopback TCP.
func BenchmarkSync270k(b *testing.B) {
	for _, transport := range transports {
		b.Run(transport, func(b *testing.B) { benchmarkSync(b, 269322, transport) })
	}
}

func benchmarkSync(b *testing.B, n int, transport string) {
	comms := group(b, 2, 5*time.Second, transport)
	defer closeAll(comms)
	v1, s1 := make([]float32, n), make([]float64, 2)
	done := make(chan struct{})
	go func() {
		defer close(done)
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
	b.StopTimer()
	<-done // rank 1 ends with the benchmark, before closeAll
}

// intrude connects to addr and does one of the things a stranger might:
// send garbage, greet well-formed with a real rank but the wrong secret,
// or connect and close (a port scan).
func intrude(t *testing.T, addr, kind string, rank uint32) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatalf("%s: connecting to %s: %v", kind, addr, err)
	}
	defer conn.Close()
	switch kind {
	case "garbage":
		conn.Write([]byte("GET / HTTP/1.0\r\n\r\n plus more than a greeting's worth of bytes"))
	case "wrong secret":
		// The listener answers only once Connect runs: wait a moment, then go.
		if err := DialHandshake(conn, NewSecret(), rank, 0, time.Now().Add(50*time.Millisecond)); err == nil {
			t.Errorf("a dialer with the wrong secret passed the listener's proof")
		}
	case "scan":
	}
}

// TestIntrudersAreRejectedAndTheMeshForms: strangers connecting to every
// rank's port before the ranks connect (garbage, a real rank's greeting
// without the secret, a port scan) are each rejected and reported, and the
// mesh still forms and works.
func TestIntrudersAreRejectedAndTheMeshForms(t *testing.T) {
	const ranks = 3
	comms := make([]*Comm, ranks)
	addrs := make([]string, ranks)
	secret := NewSecret()
	var mu sync.Mutex
	rejected := make([][]string, ranks)
	for r := range comms {
		c, err := Listen("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		c.SetSecret(secret)
		c.OnReject(func(msg string) { mu.Lock(); rejected[r] = append(rejected[r], msg); mu.Unlock() })
		comms[r], addrs[r] = c, c.Addr()
	}
	defer closeAll(comms)
	kinds := []string{"garbage", "wrong secret", "scan"}
	for _, a := range addrs {
		for _, k := range kinds {
			intrude(t, a, k, ranks-1)
		}
	}
	mustRun(t, "connecting", comms, func(c *Comm) error {
		return c.Connect(slices.Index(comms, c), addrs, 5*time.Second)
	})
	mustRun(t, "AllGather", comms, func(c *Comm) error {
		v := make([]float32, 9)
		lo, hi := Shard(c.Rank(), ranks, len(v))
		for i := lo; i < hi; i++ {
			v[i] = float32(i)
		}
		if err := c.AllGather(v); err != nil {
			return err
		}
		for i := range v {
			if v[i] != float32(i) {
				return fmt.Errorf("element %d is %v", i, v[i])
			}
		}
		return nil
	})
	// The last rank accepts no peer, but drops and reports the strangers
	// queued on its listener all the same.
	for r := 0; r < ranks; r++ {
		if len(rejected[r]) != len(kinds) {
			t.Errorf("rank %d rejected %d connections, want %d: %q", r, len(rejected[r]), len(kinds), rejected[r])
		}
		for _, m := range rejected[r] {
			if !strings.Contains(m, "rejected a connection from 127.0.0.1:") {
				t.Errorf("rank %d: %q does not name the stranger's address", r, m)
			}
			if strings.Contains(m, fmt.Sprintf("%x", secret)) {
				t.Errorf("rank %d: the message shows the secret: %q", r, m)
			}
		}
	}
}

// TestStrangerWithoutProofCannotTakeARank: a stranger that claims a rank
// and stays connected without proving it holds the secret neither fails
// the run nor holds up the real peer.
func TestStrangerWithoutProofCannotTakeARank(t *testing.T) {
	comms := make([]*Comm, 2)
	addrs := make([]string, 2)
	secret := NewSecret()
	for r := range comms {
		c, _ := Listen("127.0.0.1")
		c.SetSecret(secret)
		comms[r], addrs[r] = c, c.Addr()
	}
	defer closeAll(comms)
	conn, err := net.Dial("tcp", addrs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Greets as rank 1 and reads the answer, then never sends a proof.
	conn.Write(append([]byte(authMagic), 1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16))
	mustRun(t, "connecting", comms, func(c *Comm) error {
		if c == comms[0] {
			return c.Connect(0, addrs, 5*time.Second)
		}
		return c.Connect(1, addrs, 5*time.Second)
	})
}

// TestAPeerWithAnotherSecretIsNotAccepted: ranks of different runs (other
// secrets) never form a mesh; each waits out its deadline and names the
// rank that never came.
func TestAPeerWithAnotherSecretIsNotAccepted(t *testing.T) {
	comms := make([]*Comm, 2)
	addrs := make([]string, 2)
	for r := range comms {
		c, _ := Listen("127.0.0.1")
		c.SetSecret(NewSecret())
		comms[r], addrs[r] = c, c.Addr()
	}
	defer closeAll(comms)
	errs := run(comms, func(c *Comm) error {
		if c == comms[0] {
			return c.Connect(0, addrs, 300*time.Millisecond)
		}
		return c.Connect(1, addrs, 300*time.Millisecond)
	})
	if errs[0] == nil || !strings.Contains(errs[0].Error(), "ranks [1] did not connect") {
		t.Errorf("rank 0: %v, want an error naming rank 1", errs[0])
	}
	if errs[1] == nil || !strings.Contains(errs[1].Error(), "rank 0") || !errors.Is(errs[1], ErrAuth) {
		t.Errorf("rank 1: %v, want an authentication error naming rank 0", errs[1])
	}
}

func TestConnectWithoutSecretIsRefused(t *testing.T) {
	c, _ := Listen("127.0.0.1")
	defer c.Close()
	if err := c.Connect(0, []string{c.Addr()}, time.Second); err == nil || !strings.Contains(err.Error(), "secret") {
		t.Errorf("got %v", err)
	}
	if err := c.SetSecret([]byte("short")); err == nil {
		t.Error("a 5-byte secret was taken")
	}
}

func TestListenRangeTakesAFreePortOfTheRange(t *testing.T) {
	a, err := Listen("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, p, _ := net.SplitHostPort(a.Addr())
	taken, _ := strconv.Atoi(p)
	b, err := ListenRange("127.0.0.1", taken, taken+50)
	if err != nil {
		t.Fatalf("no free port near %d: %v", taken, err)
	}
	defer b.Close()
	_, q, _ := net.SplitHostPort(b.Addr())
	if got, _ := strconv.Atoi(q); got <= taken || got > taken+50 {
		t.Errorf("listening on port %d, want one in %d..%d other than %d", got, taken, taken+50, taken)
	}
	if _, err := ListenRange("127.0.0.1", taken, taken); err == nil || !strings.Contains(err.Error(), "no free port") {
		t.Errorf("a range of one taken port: %v", err)
	}
}

// relay is a TCP proxy in front of addr that keeps a copy of every byte it
// relays, and flips one byte past the first flipAt (0: never).
type relay struct {
	ln     net.Listener
	mu     sync.Mutex
	seen   []byte
	flipAt int
	wg     sync.WaitGroup
}

func newRelay(t *testing.T, addr string, flipAt int) *relay {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln, flipAt: flipAt}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		in, err := ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", addr)
		if err != nil {
			in.Close()
			return
		}
		r.wg.Add(2)
		go r.pipe(in, out)
		go r.pipe(out, in)
	}()
	return r
}

func (r *relay) pipe(from, to net.Conn) {
	defer r.wg.Done()
	defer to.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			r.mu.Lock()
			if r.flipAt > 0 && len(r.seen) < r.flipAt && len(r.seen)+n > r.flipAt {
				buf[r.flipAt-len(r.seen)] ^= 1
			}
			r.seen = append(r.seen, buf[:n]...)
			r.mu.Unlock()
			if _, err := to.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (r *relay) close() { r.ln.Close(); r.wg.Wait() }

// relayedPair connects two ranks, rank 1 reaching rank 0 through a relay.
func relayedPair(t *testing.T, encrypted bool, flipAt int) ([]*Comm, *relay) {
	comms := make([]*Comm, 2)
	secret := NewSecret()
	for r := range comms {
		c, err := Listen("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		c.SetSecret(secret)
		c.SetEncrypted(encrypted)
		c.SetTransport(TransportTCP)
		comms[r] = c
	}
	rl := newRelay(t, comms[0].Addr(), flipAt)
	errs := run(comms, func(c *Comm) error {
		if c == comms[0] {
			return c.Connect(0, []string{c.Addr(), comms[1].Addr()}, 5*time.Second)
		}
		return c.Connect(1, []string{rl.ln.Addr().String(), c.Addr()}, 5*time.Second)
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return comms, rl
}

// TestSealedMeshCarriesNoPlaintext: with encryption on, what crosses the
// wire holds no run of the float32s exchanged, and the results are those of
// the plain mesh; without it, the run is there (so the check can fail).
func TestSealedMeshCarriesNoPlaintext(t *testing.T) {
	vec := make([]float32, 4096)
	for i := range vec {
		vec[i] = 1 + float32(i)/3
	}
	results := map[bool][]float32{}
	for _, encrypted := range []bool{false, true} {
		comms, rl := relayedPair(t, encrypted, 0)
		vecs := [][]float32{append([]float32(nil), vec...), append([]float32(nil), vec...)}
		mustRun(t, "ReduceScatter and AllGather", comms, func(c *Comm) error {
			v := vecs[c.Rank()]
			if _, _, err := c.ReduceScatter(v, []float64{1}); err != nil {
				return err
			}
			return c.AllGather(v)
		})
		closeAll(comms)
		rl.close()
		results[encrypted] = vecs[0]
		// Any 8 consecutive values of either rank's shard, before or after the sum.
		found := false
		for _, v := range [][]float32{vec, vecs[0]} {
			for _, at := range []int{10, 2100, 3000} {
				if bytes.Contains(rl.seen, bytesOf(v[at:at+8])) {
					found = true
				}
			}
		}
		if found == encrypted {
			t.Errorf("encrypted %v: the relay saw the plaintext: %v", encrypted, found)
		}
		if len(rl.seen) < 4*len(vec) {
			t.Errorf("encrypted %v: the relay saw only %d bytes", encrypted, len(rl.seen))
		}
	}
	if !slices.Equal(results[false], results[true]) {
		t.Error("the sealed mesh's results differ from the plain mesh's")
	}
}

// TestTamperedMessageFailsTheCollective: one flipped bit on the wire fails
// the collective on the receiving rank, naming the sender.
func TestTamperedMessageFailsTheCollective(t *testing.T) {
	comms, rl := relayedPair(t, true, 1000) // past the handshake, inside a collective's message
	defer rl.close()
	defer closeAll(comms)
	errs := run(comms, func(c *Comm) error { return c.AllGather(make([]float32, 1000)) })
	failed := false
	for r, err := range errs {
		if err != nil && strings.Contains(err.Error(), "does not authenticate") &&
			strings.Contains(err.Error(), fmt.Sprintf("rank %d (", 1-r)) {
			failed = true
		}
	}
	if !failed {
		t.Errorf("%v: want a rank to fail naming its peer's message that does not authenticate", errs)
	}
}

// TestRegionFileIsTheOwnersAlone: another user on the host can neither read
// the shards in a region nor write into them.
func TestRegionFileIsTheOwnersAlone(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("shared memory is Linux only")
	}
	g, path, _, err := createRegion(2, 100)
	if err != nil {
		t.Fatal(err)
	}
	defer g.unmap()
	defer os.Remove(path)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("the region file has mode %v, want -rw-------", st.Mode().Perm())
	}
}
