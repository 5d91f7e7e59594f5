//go:build linux

package dist

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// shmDir is where rank 0 creates the region: a tmpfs on Linux, so the file
// is memory and never reaches a disk.
const shmDir = "/dev/shm"

// A region is one shared-memory file mapped by every rank of a host. Its
// layout, in bytes:
//
//	[0, 64)              header: the nonce that proves a peer mapped the right file
//	64 + 64·r            rank r's flag: how many collectives it has published
//	dataOffset(r, par)   rank r's areas for calls of parity par: vec, then small
//
// Each rank writes only its own areas and flag, and reads the others'. A
// rank publishes a call's data by storing the call's number in its flag; a
// reader waits for that number. Two areas per rank (by the call's parity)
// let a rank write call s+1 while a slower peer still reads call s; it
// cannot get to call s+2 before every peer has published s+1, which each
// does only after reading s.
type region struct {
	mem       []byte
	ranks     int
	capacity  int // float32s per vec area
	areaBytes int
}

// maxRegionBytes caps a region (four times the model for two ranks): past
// it, memory matters more than the copies TCP costs, and ranks use TCP.
const maxRegionBytes = 1 << 30

const (
	headerBytes = 64
	flagBytes   = 64 // a cache line each, so flags do not share lines
)

func newRegionLayout(ranks, n int) *region {
	capacity := (n + 15) &^ 15 // whole cache lines
	return &region{ranks: ranks, capacity: capacity, areaBytes: 4*capacity + 8*maxSmall}
}

func (g *region) size() int {
	return headerBytes + flagBytes*g.ranks + 2*g.ranks*g.areaBytes
}

func (g *region) flag(r int) *atomic.Uint64 {
	return (*atomic.Uint64)(unsafe.Pointer(&g.mem[headerBytes+flagBytes*r]))
}

func (g *region) dataOffset(r int, parity uint64) int {
	return headerBytes + flagBytes*g.ranks + (2*r+int(parity&1))*g.areaBytes
}

func (g *region) vec(r int, parity uint64) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(&g.mem[g.dataOffset(r, parity)])), g.capacity)
}

func (g *region) small(r int, parity uint64) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(&g.mem[g.dataOffset(r, parity)+4*g.capacity])), maxSmall)
}

func (g *region) unmap() {
	if g != nil && g.mem != nil {
		syscall.Munmap(g.mem)
		g.mem = nil
	}
}

// createRegion makes and maps a region file for rank 0, with a fresh nonce.
// The space is allocated up front: a tmpfs that runs out of room would
// otherwise kill the process with SIGBUS on first touch.
func createRegion(ranks, n int) (g *region, path string, nonce []byte, err error) {
	g = newRegionLayout(ranks, n)
	if g.size() > maxRegionBytes {
		return nil, "", nil, fmt.Errorf("a region for %d ranks of %d values would take %d bytes", ranks, n, g.size())
	}
	f, err := os.CreateTemp(shmDir, "bigdl-dist-*")
	if err != nil {
		return nil, "", nil, err
	}
	defer f.Close()
	path = f.Name()
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, int64(g.size())); err != nil {
		os.Remove(path)
		return nil, "", nil, fmt.Errorf("reserving %d bytes in %s: %w", g.size(), shmDir, err)
	}
	if g.mem, err = syscall.Mmap(int(f.Fd()), 0, g.size(), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED); err != nil {
		os.Remove(path)
		return nil, "", nil, err
	}
	nonce = make([]byte, nonceBytes)
	rand.Read(nonce)
	copy(g.mem, nonce)
	return g, path, nonce, nil
}

// openRegion maps the region rank 0 offered and checks that it is the one
// rank 0 made: same size, same nonce (a host whose /dev/shm is another
// filesystem, such as another container's, has no such file).
func openRegion(ranks, n int, path string, nonce []byte) (*region, error) {
	g := newRegionLayout(ranks, n)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || st.Size() != int64(g.size()) {
		return nil, errors.New("the region file has the wrong size")
	}
	if g.mem, err = syscall.Mmap(int(f.Fd()), 0, g.size(), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED); err != nil {
		return nil, err
	}
	if string(g.mem[:nonceBytes]) != string(nonce) {
		g.unmap()
		return nil, errors.New("the region file is not the one offered")
	}
	return g, nil
}
