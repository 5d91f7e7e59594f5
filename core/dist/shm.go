package dist

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/bigdl-go/bigdl-go/core/kernels"
	"github.com/bigdl-go/bigdl-go/core/spin"
)

// Ranks on one host exchange shards through a shared-memory region instead
// of their TCP connections, as MPI and Gloo do between local ranks: over
// loopback each shard is copied into the kernel and out again (0.42–0.48 ms
// per step for 270k parameters); through the region a shard is one copy in
// and one read out (0.14 ms).
// The TCP mesh stays open: it carries the negotiation, and a peer whose
// process ends closes it, which is how a waiting rank learns of the death.
//
// The region is negotiated on the first collective (it is sized by the
// vector) and again if a later vector is longer. Rank 0 creates the file,
// every peer maps it and checks its nonce, and rank 0 deletes the file as
// soon as all have answered, so nothing is left in /dev/shm once the ranks'
// mappings go. If any rank cannot map it (another host, another container,
// a full /dev/shm, a Comm set to "tcp"), every rank stays on TCP.

// Transports a Comm can be set to.
const (
	TransportAuto = "auto" // shared memory between the ranks if all can map it, else TCP
	TransportTCP  = "tcp"
)

// maxSmall is how many numbers can ride with a ReduceScatter.
const maxSmall = 16

// nonceBytes is the length of the random nonce that proves a peer mapped
// the region rank 0 made.
const nonceBytes = 16

// After sleepAfter of waiting on a peer, a rank sleeps between polls, over
// TCP as through shared memory: the peer is not moments away (it is
// validating, or stalled). Every shmProbeEvery of waiting on the region it
// checks that the peer's connection is open.
const (
	sleepAfter    = 2 * time.Millisecond
	sleepFor      = 100 * time.Microsecond
	shmProbeEvery = time.Millisecond
)

// SetTransport chooses how this rank exchanges shards: TransportAuto (the
// default) or TransportTCP. Call it before the first collective; ranks set
// differently agree on TCP.
func (c *Comm) SetTransport(t string) error {
	switch t {
	case TransportAuto, "":
		c.tcpOnly = false
	case TransportTCP:
		c.tcpOnly = true
	default:
		return fmt.Errorf("dist: transport must be %q or %q, got %q", TransportAuto, TransportTCP, t)
	}
	return nil
}

// Transport reports how the collectives so far exchanged shards: "shm",
// "tcp", or "" before the first one.
func (c *Comm) Transport() string {
	switch {
	case c.region != nil:
		return "shm"
	case c.negotiated:
		return "tcp"
	}
	return ""
}

// useRegion reports whether a collective over n floats goes through the
// region, negotiating one first if needed.
func (c *Comm) useRegion(n int) (bool, error) {
	if c.region != nil && c.region.capacity >= n {
		return true, nil
	}
	if c.negotiated && c.region == nil {
		return false, nil // the ranks settled on TCP
	}
	if err := c.negotiateRegion(n); err != nil {
		return false, err
	}
	return c.region != nil, nil
}

// negotiateRegion runs rank 0's offer of a region for n floats over TCP.
// Each other rank tries to map it and tells every rank whether it could, so
// every rank reaches the same outcome (all use the new region, or all use
// TCP from now on), and a rank that does not take part is named by each of
// the others when it times out. Rank 0 deletes the file once all answered.
func (c *Comm) negotiateRegion(n int) error {
	c.negotiated = true
	deadline := time.Now().Add(c.timeout)
	for _, p := range c.peers {
		if p != nil {
			p.conn.SetDeadline(deadline)
		}
	}
	defer c.clearDeadlines()
	g, agreed, err := c.agreeOnRegion(n)
	if err != nil {
		g.unmap()
		return c.failPeers(err)
	}
	c.region.unmap()
	c.region = nil
	if !agreed {
		g.unmap()
		return nil
	}
	c.region, c.calls = g, 0
	return nil
}

func (c *Comm) agreeOnRegion(n int) (g *region, agreed bool, err error) {
	const doing = "negotiating shared memory with"
	var path string
	var nonce []byte
	if c.rank == 0 {
		if !c.tcpOnly {
			if g, path, nonce, err = createRegion(c.ranks, n); err != nil {
				g, path = nil, "" // offer nothing: TCP
			}
		}
		if path != "" {
			defer os.Remove(path) // once every peer has answered, or failed to
		}
		offer := binary.LittleEndian.AppendUint32(nil, uint32(len(path)))
		offer = append(append(offer, path...), nonce...)
		for _, p := range c.peers[1:] {
			if _, err := p.conn.Write(offer); err != nil {
				return g, false, c.peerErr(p.rank, "offering shared memory to", err)
			}
		}
		if path == "" {
			return nil, false, nil
		}
	} else {
		var size [4]byte
		if _, err := io.ReadFull(c.peers[0].conn, size[:]); err != nil {
			return nil, false, c.peerErr(0, doing, err)
		}
		pathLen := int(binary.LittleEndian.Uint32(size[:]))
		if pathLen == 0 {
			return nil, false, nil
		}
		if pathLen > 4096 {
			return nil, false, fmt.Errorf("dist: rank %d: rank 0 offered a shared-memory path of %d bytes", c.rank, pathLen)
		}
		offer := make([]byte, pathLen+nonceBytes)
		if _, err := io.ReadFull(c.peers[0].conn, offer); err != nil {
			return nil, false, c.peerErr(0, doing, err)
		}
		if !c.tcpOnly {
			g, _ = openRegion(c.ranks, n, string(offer[:pathLen]), offer[pathLen:])
		}
		answer := [1]byte{0}
		if g != nil {
			answer[0] = 1
		}
		for _, p := range c.peers {
			if p != nil {
				if _, err := p.conn.Write(answer[:]); err != nil {
					return g, false, c.peerErr(p.rank, doing, err)
				}
			}
		}
	}
	agreed = g != nil
	var answer [1]byte
	for _, p := range c.peers[1:] {
		if p == nil {
			continue
		}
		if _, err := io.ReadFull(p.conn, answer[:]); err != nil {
			return g, false, c.peerErr(p.rank, doing, err)
		}
		agreed = agreed && answer[0] == 1
	}
	return g, agreed, nil
}

// regionReduceScatter is ReduceScatter through the region.
func (c *Comm) regionReduceScatter(vec []float32, small []float64, lo, hi int) error {
	g := c.region
	c.calls++
	par := c.calls
	mine := g.vec(c.rank, par)
	for r := 0; r < c.ranks; r++ {
		if r != c.rank {
			l, h := Shard(r, c.ranks, len(vec))
			copy(mine[l:h], vec[l:h])
		}
	}
	copy(g.small(c.rank, par), small)
	g.flag(c.rank).Store(c.calls)
	own := vec[lo:hi]
	n := len(small)
	all := c.scalars[:n*c.ranks]
	copy(all[c.rank*n:], small)
	for r := 0; r < c.ranks; r++ {
		if r == c.rank {
			continue
		}
		if err := c.awaitPeer(r); err != nil {
			return err
		}
		kernels.Axpy(1, g.vec(r, par)[lo:hi], own)
		copy(all[r*n:(r+1)*n], g.small(r, par))
	}
	return nil
}

// regionAllGather is AllGather through the region.
func (c *Comm) regionAllGather(vec []float32) error {
	g := c.region
	c.calls++
	par := c.calls
	lo, hi := Shard(c.rank, c.ranks, len(vec))
	copy(g.vec(c.rank, par)[lo:hi], vec[lo:hi])
	g.flag(c.rank).Store(c.calls)
	for r := 0; r < c.ranks; r++ {
		if r == c.rank {
			continue
		}
		if err := c.awaitPeer(r); err != nil {
			return err
		}
		l, h := Shard(r, c.ranks, len(vec))
		copy(vec[l:h], g.vec(r, par)[l:h])
	}
	return nil
}

// awaitPeer waits until rank r has published this call's data: polling, as
// the peer is usually microseconds away (see package spin), then sleeping
// between polls. It fails if r's connection closes, if this Comm is closed,
// or after the timeout.
func (c *Comm) awaitPeer(r int) error {
	flag := c.region.flag(r)
	p := spin.Poller{Goroutines: true} // a peer in this process (tests) may need this processor
	lastProbe := time.Duration(0)
	for flag.Load() < c.calls {
		d, checked := p.Waited()
		if !checked {
			continue
		}
		if c.closing.Load() {
			return errors.New("dist: the communicator was closed")
		}
		if d < sleepAfter {
			continue
		}
		time.Sleep(sleepFor)
		if d-lastProbe >= shmProbeEvery {
			lastProbe = d
			if !c.peers[r].sock.open() {
				return c.failPeers(c.peerErr(r, "waiting for", errors.New("connection closed (the peer's task ended or failed)")))
			}
		}
		if d > c.timeout {
			return c.failPeers(c.peerErr(r, "waiting for", os.ErrDeadlineExceeded))
		}
	}
	return nil
}

// failPeers closes every connection, so that the peers waiting on this rank
// fail at once instead of at their timeout, and returns err.
func (c *Comm) failPeers(err error) error {
	for _, p := range c.peers {
		if p != nil {
			p.conn.Close()
		}
	}
	return err
}
