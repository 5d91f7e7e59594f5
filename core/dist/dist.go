// Package dist synchronises parameters between the tasks of a data-parallel
// training run, peer to peer over TCP, or through shared memory between
// ranks on one host (shm.go): every rank owns one shard of the parameter
// vector, gradients are summed shard by shard (reduce-scatter) and the
// updated shards are exchanged (all-gather). There is no parameter server.
// Every wait on a peer has a deadline, and every error names the peer's
// rank and address, so a dead or silent peer fails the run in bounded time
// instead of hanging it.
package dist

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/bigdl-go/bigdl-go/core/kernels"
	"github.com/bigdl-go/bigdl-go/core/spin"
)

// DefaultTimeout bounds every wait on a peer unless configured otherwise.
const DefaultTimeout = 90 * time.Second

// Comm is one rank's end of a full mesh of TCP connections to its peers.
// Its collectives must be called by every rank in the same order; they are
// not safe for concurrent use.
type Comm struct {
	rank, ranks int
	addrs       []string
	timeout     time.Duration
	secret      []byte
	onReject    func(msg string)
	encrypted   bool // seal every message on the connections (seal.go)
	ln          net.Listener
	peers       []*peer // indexed by rank; nil for this rank

	recv    []float32 // scratch for the peers' parts of this rank's shard
	scalars []float64 // scratch for the small sums riding on ReduceScatter

	// Shared memory between ranks on one host (see shm.go).
	tcpOnly    bool        // SetTransport("tcp"): never offer or accept a region
	negotiated bool        // a region was offered (or not) at least once
	region     *region     // nil: shards travel over TCP
	calls      uint64      // collectives through region so far
	closing    atomic.Bool // Close was called: a waiting rank gives up
	busy       sync.Mutex  // held by a collective, so Close cannot unmap under it
}

type peer struct {
	rank int
	addr string
	conn net.Conn
	sock *socket // non-blocking reads, writes and checks for the collectives

	out [2][]byte // what this collective still has to send the peer
	in  [2][]byte // what it still has to receive from the peer

	seal *sealer   // nil unless the mesh is encrypted
	dst  [2][]byte // where a sealed frame's plaintext goes
}

// Listen opens this rank's listener on host (":0" picks a free port; use
// the address others can reach). Connect completes the mesh.
func Listen(host string) (*Comm, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, fmt.Errorf("dist: listening on %s: %w", host, err)
	}
	return &Comm{ln: ln, rank: -1, timeout: DefaultTimeout}, nil
}

// ListenRange is Listen on the first free port of [lo, hi], for clusters
// whose firewalls open only a range to the tasks.
func ListenRange(host string, lo, hi int) (*Comm, error) {
	if lo < 1 || hi > 65535 || lo > hi {
		return nil, fmt.Errorf("dist: port range %d-%d is not within 1-65535", lo, hi)
	}
	var last error
	for port := lo; port <= hi; port++ {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err == nil {
			return &Comm{ln: ln, rank: -1, timeout: DefaultTimeout}, nil
		}
		last = err
	}
	return nil, fmt.Errorf("dist: no free port in %d-%d on %s: %w", lo, hi, host, last)
}

// Addr is the address peers dial.
func (c *Comm) Addr() string { return c.ln.Addr().String() }

// Rank and Ranks describe this rank's place in the run.
func (c *Comm) Rank() int  { return c.rank }
func (c *Comm) Ranks() int { return c.ranks }

// Timeout is the bound on every wait on a peer.
func (c *Comm) Timeout() time.Duration { return c.timeout }

// SetSecret sets the run's secret, which every rank must share: each
// connection of the mesh proves both ends hold it before it is used (see
// auth.go). Call it before Connect.
func (c *Comm) SetSecret(secret []byte) error {
	if len(secret) < MinSecretBytes {
		return fmt.Errorf("dist: the run's secret must have at least %d bytes, got %d", MinSecretBytes, len(secret))
	}
	c.secret = append([]byte(nil), secret...)
	return nil
}

// SetEncrypted, called before Connect, seals everything the mesh's
// connections carry (see seal.go).
func (c *Comm) SetEncrypted(on bool) { c.encrypted = on }

// OnReject, if set before Connect, hears of every connection the listener
// dropped because it did not authenticate: a stranger's connection is
// logged, never fatal. It is called from Connect's goroutine.
func (c *Comm) OnReject(f func(msg string)) { c.onReject = f }

// Connect joins the mesh: addrs holds every rank's Addr in rank order
// (addrs[rank] is this Comm's own). Rank i dials the ranks below it and
// accepts the ranks above it; every connection is authenticated on the
// run's secret (SetSecret) in both directions. A connection that fails
// authentication is closed and reported to OnReject, and Connect goes on
// waiting for the real peer until the timeout. The listener is closed once
// the mesh is complete, so nothing stays listening.
func (c *Comm) Connect(rank int, addrs []string, timeout time.Duration) (err error) {
	if rank < 0 || rank >= len(addrs) {
		return fmt.Errorf("dist: rank %d out of range for %d ranks", rank, len(addrs))
	}
	if len(c.secret) < MinSecretBytes {
		return errors.New("dist: Connect needs the run's secret (SetSecret)")
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	c.rank, c.ranks, c.addrs, c.timeout = rank, len(addrs), addrs, timeout
	c.peers = make([]*peer, len(addrs))
	deadline := time.Now().Add(timeout)
	acc := c.startAccepting(deadline)
	defer func() {
		acc.stop(c.reject)
		c.ln.Close()
		if err != nil {
			c.Close()
		}
	}()
	// Dial the lower ranks; their listeners were open before the addresses
	// were exchanged, so a refused connection means the peer is gone.
	for r := 0; r < rank; r++ {
		d := net.Dialer{Deadline: deadline}
		conn, err := d.Dial("tcp", addrs[r])
		if err != nil {
			return c.peerErr(r, "connecting to", err)
		}
		sess, err := dialHandshake(conn, c.secret, uint32(rank), uint32(r), deadline)
		if err == nil {
			c.peers[r], err = c.newPeer(r, conn, sess, true)
		}
		if err != nil {
			conn.Close()
			return c.peerErr(r, "authenticating with", err)
		}
	}
	for missing := len(addrs) - 1 - rank; missing > 0; {
		select {
		case a := <-acc.results:
			if a.err != nil {
				c.reject(fmt.Sprintf("rejected a connection from %s: %v", a.from, a.err))
				continue
			}
			if c.peers[a.rank], err = c.newPeer(a.rank, a.conn, a.sess, false); err != nil {
				a.conn.Close()
				return err
			}
			missing--
		case <-acc.timer.C:
			var waiting []int
			for r := rank + 1; r < len(addrs); r++ {
				if c.peers[r] == nil {
					waiting = append(waiting, r)
				}
			}
			return fmt.Errorf("dist: rank %d: ranks %v did not connect within %v: %w",
				rank, waiting, timeout, os.ErrDeadlineExceeded)
		}
	}
	c.clearDeadlines()
	return nil
}

func (c *Comm) reject(msg string) {
	if c.onReject != nil {
		c.onReject(fmt.Sprintf("dist: rank %d: %s", c.rank, msg))
	}
}

// accepting runs the listener while Connect dials: each connection is
// authenticated in a goroutine of its own, so a stranger that says nothing
// delays no one. stop ends every goroutine it started.
type accepting struct {
	ln      net.Listener
	results chan acceptResult
	timer   *time.Timer
	loop    sync.WaitGroup // the accept loop
	shakes  sync.WaitGroup // the handshakes
	mu      sync.Mutex
	over    bool              // Connect is done: whoever connects now is a stranger
	conns   map[net.Conn]bool // connections still in a handshake
}

type acceptResult struct {
	rank int
	sess *session
	conn net.Conn
	from string
	err  error
}

// sweepFor is how long the listener keeps taking connections once the mesh
// is complete, so strangers already queued on it are dropped and reported
// rather than reset unseen by the kernel.
const sweepFor = 2 * time.Millisecond

func (c *Comm) startAccepting(deadline time.Time) *accepting {
	a := &accepting{ln: c.ln, results: make(chan acceptResult), timer: time.NewTimer(time.Until(deadline)),
		conns: map[net.Conn]bool{}}
	claimed := make([]bool, c.ranks) // ranks that proved themselves
	valid := func(r uint32) bool { return int(r) > c.rank && int(r) < c.ranks }
	a.loop.Add(1)
	go func() {
		defer a.loop.Done()
		for {
			conn, err := a.ln.Accept()
			if err != nil {
				return // closed, or the sweep's deadline passed
			}
			a.mu.Lock()
			if a.over {
				a.mu.Unlock()
				conn.Close()
				a.results <- acceptResult{from: conn.RemoteAddr().String(), err: fmt.Errorf("the mesh is complete: %w", ErrAuth)}
				continue
			}
			a.conns[conn] = true
			a.shakes.Add(1)
			a.mu.Unlock()
			go func() {
				defer a.shakes.Done()
				hd := time.Now().Add(handshakeTimeout)
				if hd.After(deadline) {
					hd = deadline
				}
				sess, err := acceptHandshake(conn, c.secret, uint32(c.rank), valid, hd)
				res := acceptResult{sess: sess, conn: conn, from: conn.RemoteAddr().String(), err: err}
				var r uint32
				if err == nil {
					r = sess.rd
					res.rank = int(r)
				}
				a.mu.Lock()
				delete(a.conns, conn)
				switch {
				case err == nil && a.over:
					res.err = fmt.Errorf("the mesh is complete: %w", ErrAuth)
				case err == nil && claimed[r]:
					res.err = fmt.Errorf("rank %d is already connected: %w", r, ErrAuth)
				case err == nil:
					claimed[r] = true
				}
				a.mu.Unlock()
				if res.err != nil {
					conn.Close()
					res.conn = nil
				}
				a.results <- res
			}()
		}
	}()
	return a
}

// stop ends the accepting goroutines, reporting every connection they had
// not handed over as rejected; the caller then closes the listener.
func (a *accepting) stop(reject func(string)) {
	a.timer.Stop()
	a.mu.Lock()
	a.over = true
	for conn := range a.conns {
		conn.Close()
	}
	a.mu.Unlock()
	if tl, ok := a.ln.(*net.TCPListener); ok {
		tl.SetDeadline(time.Now().Add(sweepFor))
	} else {
		a.ln.Close()
	}
	go func() {
		a.loop.Wait()
		a.shakes.Wait()
		close(a.results)
	}()
	for res := range a.results {
		if res.err == nil { // a real peer, but Connect has given up
			res.conn.Close()
			continue
		}
		reject(fmt.Sprintf("rejected a connection from %s: %v", res.from, res.err))
	}
}

// clearDeadlines lifts the deadlines set for connecting or negotiating:
// the collectives keep their own clock, and a deadline left on a socket
// would fail them once it passed.
func (c *Comm) clearDeadlines() {
	for _, p := range c.peers {
		if p != nil {
			p.conn.SetDeadline(time.Time{})
		}
	}
}

func (c *Comm) newPeer(r int, conn net.Conn, sess *session, dialer bool) (*peer, error) {
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	p := &peer{rank: r, addr: c.addrs[r], conn: conn, sock: newSocket(conn)}
	if c.encrypted {
		tx, rx, err := sess.keys(c.secret, dialer)
		if err != nil {
			return nil, err
		}
		p.seal = &sealer{tx: tx, rx: rx}
		p.conn = &sealedConn{Conn: conn, s: p.seal}
	}
	return p, nil
}

// Close releases every socket and the shared memory. A collective in
// progress fails.
func (c *Comm) Close() error {
	c.closing.Store(true)
	if c.ln != nil {
		c.ln.Close()
	}
	for _, p := range c.peers { // wakes a collective blocked on a socket
		if p != nil {
			p.conn.Close()
		}
	}
	c.busy.Lock()
	defer c.busy.Unlock()
	c.peers = nil
	c.region.unmap()
	c.region = nil
	return nil
}

// Shard is the half-open range of a vector of n elements that rank r owns.
func Shard(r, ranks, n int) (lo, hi int) {
	return r * n / ranks, (r + 1) * n / ranks
}

func bytesOf(v []float32) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v))
}

func (c *Comm) peerErr(r int, doing string, err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("dist: rank %d: rank %d (%s) did not answer within %v while %s it: %w",
			c.rank, r, c.addrs[r], c.timeout, doing, err)
	}
	return fmt.Errorf("dist: rank %d: %s rank %d (%s): %w", c.rank, doing, r, c.addrs[r], err)
}

// begin starts a collective over n floats and reports whether the region
// carries it. Unless it fails, it holds busy: the caller unlocks it.
func (c *Comm) begin(n int) (shared bool, err error) {
	c.busy.Lock()
	if c.peers == nil || c.closing.Load() {
		c.busy.Unlock()
		return false, errors.New("dist: the communicator is closed or not connected")
	}
	if shared, err = c.useRegion(n); err != nil {
		c.busy.Unlock()
		return false, err
	}
	return shared, nil
}

// exchange sends every peer its out slices and fills its in slices,
// calling got(r) once peer r's have arrived, in rank order. One goroutine
// moves every byte with non-blocking calls and polls while nothing moves
// (see package spin): a peer is usually microseconds away, and parking a
// thread or waking a goroutine costs more than that on a VM. Sending to
// every peer while receiving cannot deadlock, whatever the sockets' buffer
// sizes. Receives are taken in rank order, so sums do not depend on timing.
func (c *Comm) exchange(got func(r int)) error {
	// Goroutines: a peer in this process (tests) may need this processor.
	poll := spin.Poller{Goroutines: true}
	var deadline time.Time
	next := 0 // the peer whose data is taken next
	if c.encrypted {
		for _, p := range c.peers {
			if p != nil {
				p.sealOut()
				p.sealIn()
			}
		}
	}
	for {
		moved, sending := false, false
		for _, p := range c.peers {
			if p == nil {
				continue
			}
			for pending(&p.out) != nil {
				b := pending(&p.out)
				n, err := p.sock.write(*b)
				if err != nil {
					return c.failPeers(c.peerErr(p.rank, "sending to", err))
				}
				if n == 0 {
					sending = true
					break
				}
				*b, moved = (*b)[n:], true
			}
		}
		for ; next < len(c.peers); next++ {
			p := c.peers[next]
			if p == nil {
				continue
			}
			b := pending(&p.in)
			for b != nil {
				n, err := p.sock.read(*b)
				if err != nil {
					if errors.Is(err, io.EOF) {
						err = fmt.Errorf("connection closed (the peer's task ended or failed): %w", err)
					}
					return c.failPeers(c.peerErr(p.rank, "receiving from", err))
				}
				if n == 0 {
					break
				}
				*b, moved = (*b)[n:], true
				b = pending(&p.in)
			}
			if b != nil {
				break
			}
			if p.seal != nil {
				if err := p.openIn(); err != nil {
					return c.failPeers(c.peerErr(p.rank, "receiving from", err))
				}
			}
			got(p.rank)
		}
		if next == len(c.peers) && !sending {
			return nil
		}
		if moved {
			poll, deadline = spin.Poller{Goroutines: true}, time.Time{}
			continue
		}
		d, checked := poll.Waited()
		if !checked {
			continue
		}
		if c.closing.Load() {
			return errors.New("dist: the communicator was closed")
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(c.timeout)
		} else if time.Now().After(deadline) {
			return c.failPeers(c.peerErr(c.stalled(next), "waiting for", os.ErrDeadlineExceeded))
		}
		if d > sleepAfter {
			time.Sleep(sleepFor)
		}
	}
}

// pending is the first of two slices with bytes left, or nil.
func pending(b *[2][]byte) *[]byte {
	if len(b[0]) > 0 {
		return &b[0]
	}
	if len(b[1]) > 0 {
		return &b[1]
	}
	return nil
}

// stalled names the peer an exchange is stuck on: the one it waits to hear
// from (next), or else one that does not take what it is sent.
func (c *Comm) stalled(next int) int {
	if next < len(c.peers) {
		return next
	}
	for _, p := range c.peers {
		if p != nil && pending(&p.out) != nil {
			return p.rank
		}
	}
	return 0
}

// ReduceScatter sums vec over all ranks into this rank's shard [lo, hi) of
// vec (the rest of vec is left as it was), and sums small, a few numbers
// (a step's loss and normaliser), over all ranks into every rank's small:
// they travel with the shards, so a training step needs no round trip of
// its own for them. Everything is summed in rank order, so the result does
// not depend on timing.
func (c *Comm) ReduceScatter(vec []float32, small []float64) (lo, hi int, err error) {
	lo, hi = Shard(c.rank, c.ranks, len(vec))
	if len(small) > maxSmall {
		return 0, 0, fmt.Errorf("dist: ReduceScatter carries at most %d small numbers, got %d", maxSmall, len(small))
	}
	if c.ranks == 1 {
		return lo, hi, nil
	}
	shared, err := c.begin(len(vec))
	if err != nil {
		return 0, 0, err
	}
	defer c.busy.Unlock()
	n := len(small)
	if cap(c.scalars) < maxSmall*(c.ranks+1) {
		c.scalars = make([]float64, maxSmall*(c.ranks+1))
	}
	all := c.scalars[:n*c.ranks] // every rank's small, in rank order
	if shared {
		err = c.regionReduceScatter(vec, small, lo, hi)
	} else {
		err = c.tcpReduceScatter(vec, small, lo, hi)
	}
	if err != nil {
		return 0, 0, err
	}
	for i := range small {
		s := all[i]
		for r := 1; r < c.ranks; r++ {
			s += all[r*n+i]
		}
		small[i] = s
	}
	return lo, hi, nil
}

// tcpReduceScatter is ReduceScatter over the connections: each peer's part
// of this rank's shard, then its small numbers, are added in rank order.
func (c *Comm) tcpReduceScatter(vec []float32, small []float64, lo, hi int) error {
	own := vec[lo:hi]
	if len(c.recv) < (c.ranks-1)*len(own) {
		c.recv = make([]float32, (c.ranks-1)*((len(vec)+c.ranks-1)/c.ranks))
	}
	n := len(small)
	all := c.scalars[:n*c.ranks]
	mine := c.scalars[maxSmall*c.ranks : maxSmall*c.ranks+n]
	copy(mine, small)
	copy(all[c.rank*n:], small)
	for _, p := range c.peers {
		if p != nil {
			l, h := Shard(p.rank, c.ranks, len(vec))
			p.out = [2][]byte{bytesOf(vec[l:h]), bytesOf(float32View(mine))}
			p.in = [2][]byte{bytesOf(c.peerRecv(p.rank, len(own))), bytesOf(float32View(all[p.rank*n : (p.rank+1)*n]))}
		}
	}
	return c.exchange(func(r int) { kernels.Axpy(1, c.peerRecv(r, len(own)), own) })
}

// peerRecv is where rank r's part of this rank's shard of m values arrives.
func (c *Comm) peerRecv(r, m int) []float32 {
	i := r
	if r > c.rank {
		i--
	}
	return c.recv[i*m : (i+1)*m]
}

// AllGather sends this rank's shard of vec to every peer and fills the other
// shards with theirs.
func (c *Comm) AllGather(vec []float32) error {
	if c.ranks == 1 {
		return nil
	}
	shared, err := c.begin(len(vec))
	if err != nil {
		return err
	}
	defer c.busy.Unlock()
	if shared {
		return c.regionAllGather(vec)
	}
	lo, hi := Shard(c.rank, c.ranks, len(vec))
	for _, p := range c.peers {
		if p != nil {
			l, h := Shard(p.rank, c.ranks, len(vec))
			p.out = [2][]byte{bytesOf(vec[lo:hi])}
			p.in = [2][]byte{bytesOf(vec[l:h])}
		}
	}
	return c.exchange(func(int) {})
}

// float32View is v's bytes as float32s, for sending.
func float32View(v []float64) []float32 {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&v[0])), 2*len(v))
}

// Group is a set of Comms connected in one process (for tests and benchmarks).
func Group(ranks int, timeout time.Duration) ([]*Comm, error) {
	return connectGroup(ranks, timeout, false)
}

func connectGroup(ranks int, timeout time.Duration, encrypted bool) ([]*Comm, error) {
	comms := make([]*Comm, ranks)
	addrs := make([]string, ranks)
	secret := NewSecret()
	for r := range comms {
		c, err := Listen("127.0.0.1")
		if err != nil {
			return nil, err
		}
		c.SetSecret(secret)
		c.SetEncrypted(encrypted)
		comms[r], addrs[r] = c, c.Addr()
	}
	errs := make([]error, ranks)
	var wg sync.WaitGroup
	for r := range comms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[r] = comms[r].Connect(r, addrs, timeout)
		}()
	}
	wg.Wait()
	return comms, errors.Join(errs...)
}
