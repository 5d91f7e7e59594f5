// Package mem allocates the large float32 buffers that bigdl-go keeps
// (tensor data, packing and layer workspaces) the way numpy allocates large
// arrays: from 4 MiB on, on Linux, on 2 MiB transparent huge pages.
//
// With THP in "madvise" mode (a common default) the kernel backs only the
// ranges a process asks for with huge pages. numpy asks for every array of
// 4 MiB and more (NUMPY_MADVISE_HUGEPAGE), so OpenBLAS beside us works with
// one TLB entry per 2 MiB where Go's heap needs 512; at 1024³–2048³ that
// was most of what separated our SGEMM from OpenBLAS's (BENCHMARKS.md).
//
// The buffers stay ordinary Go memory: the slice points into a larger
// []float32 the GC owns and keeps alive through that slice, so they are
// freed like any other.
package mem

import "unsafe"

// HugeMin is the size in bytes from which Floats aligns and advises huge
// pages: numpy's threshold. Below it a huge page would be mostly the
// allocation's slack, and the TLB covers the buffer anyway.
const HugeMin = 4 << 20

// Floats returns n zeroed float32s. Buffers of HugeMin bytes and more start
// on a hugeAlign boundary (2 MiB on Linux, a cache line elsewhere) and, on
// Linux, are advised MADV_HUGEPAGE; smaller ones are a plain make. A buffer
// larger than the memory available panics with an *OutOfMemoryError rather
// than letting the Go runtime abort the process.
func Floats(n int) []float32 {
	if n < 0 {
		panic("mem: negative buffer size")
	}
	if n > maxFloats-hugeAlign/4 {
		panic(&OutOfMemoryError{})
	}
	if n*4 < HugeMin {
		return make([]float32, n)
	}
	checkAvailable(uint64(n)*4 + hugeAlign)
	buf := make([]float32, n+hugeAlign/4)
	base := uintptr(unsafe.Pointer(&buf[0]))
	off := int((hugeAlign-base%hugeAlign)%hugeAlign) / 4
	// Advise every whole huge page of the allocation from the aligned start,
	// slack included: when the slack after the slice completes the last
	// huge page, the slice's tail gets one too.
	end := (base + uintptr(len(buf))*4) &^ (hugeAlign - 1)
	adviseHuge(buf[off : (end-base)/4])
	return buf[off : off+n : off+n]
}
