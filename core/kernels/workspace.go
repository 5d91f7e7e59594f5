package kernels

import (
	"sync"
	"unsafe"

	"github.com/bigdl-go/bigdl-go/core/mem"
)

// workspace is one goroutine's packing buffers. Workspaces are kept on a free
// list for the life of the process (not a sync.Pool, which the GC empties),
// so a steady stream of Sgemm calls allocates nothing.
type workspace struct {
	a, b []float32 // packed blocks of A and B
	tile []float32 // MR×NR scratch for partial tiles

	dotTile [2 * dotScratchPairs * dotNR]float32 // the NT kernel's partial tiles
	dot     dotTile                              // the NT kernel's arguments
}

// freeList recycles values for the life of the process (not a sync.Pool,
// which the GC empties), so a steady stream of calls allocates nothing.
type freeList[T any] struct {
	sync.Mutex
	free []*T
}

func (f *freeList[T]) get() *T {
	f.Lock()
	defer f.Unlock()
	if n := len(f.free); n > 0 {
		v := f.free[n-1]
		f.free = f.free[:n-1]
		return v
	}
	return new(T)
}

func (f *freeList[T]) put(v *T) {
	f.Lock()
	f.free = append(f.free, v)
	f.Unlock()
}

var workspaces freeList[workspace]

func getWorkspace() *workspace { return workspaces.get() }

func putWorkspace(ws *workspace) { workspaces.put(ws) }

// ensure grows the buffers to what kernel set ks needs; they never shrink.
// The drivers round a block of up to mc rows (nc columns) up to whole
// tiles (splitEven), so the buffers hold mc and nc rounded up the same way:
// 8×48's nc of 1024 makes blocks of 1,056 columns.
func (ws *workspace) ensure(ks *kernelSet) {
	if n := roundUp(ks.mc, ks.mr) * ks.kc; len(ws.a) < n {
		ws.a = alignedFloats(n)
	}
	if n := roundUp(ks.nc, ks.nr) * ks.kc; len(ws.b) < n {
		ws.b = alignedFloats(n)
	}
	if n := ks.mr * ks.nr; len(ws.tile) < n {
		ws.tile = alignedFloats(n)
	}
}

// alignedFloats returns n float32s starting on a 64-byte boundary, so that
// full-width vector loads of packed panels never straddle cache lines. Large
// ones (a B panel of kc×nc) come from mem.Floats: aligned further, on huge
// pages on Linux.
func alignedFloats(n int) []float32 {
	if n*4 >= mem.HugeMin {
		return mem.Floats(n)
	}
	buf := make([]float32, n+16)
	off := int(uintptr(unsafe.Pointer(&buf[0]))&63) / 4
	if off != 0 {
		off = 16 - off
	}
	return buf[off : off+n : off+n]
}

// roundUp rounds n up to a multiple of unit.
func roundUp(n, unit int) int { return (n + unit - 1) / unit * unit }
