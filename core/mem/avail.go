package mem

import "fmt"

// OutOfMemoryError is a buffer larger than the memory the system can give
// the process. Go cannot recover from running out of memory (the runtime
// aborts the whole process, Python with it), so Floats refuses such a
// request up front, as PyTorch's allocator does, and the C ABI turns this
// error into Python's MemoryError.
type OutOfMemoryError struct {
	Bytes     uint64 // requested; 0 when the size does not fit in a machine word
	Available uint64 // what the system reported as available
}

func (e *OutOfMemoryError) Error() string {
	if e.Bytes == 0 {
		return "cannot allocate the buffer: its size overflows a 64-bit byte count"
	}
	return fmt.Sprintf("cannot allocate %s: only %s of memory is available (available memory and free swap, "+
		"or the cgroup's limit less its usage)", byteSize(e.Bytes), byteSize(e.Available))
}

func byteSize(b uint64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", b)
}

// maxFloats is the most float32s a slice can hold whose byte size fits an int.
const maxFloats = int(^uint(0)>>1) / 4

// checkAvailable panics with an *OutOfMemoryError when bytes exceed what the
// system reports available. It reads the kernel's figures on each call, so
// it is for large buffers only (allocated once, then reused).
func checkAvailable(bytes uint64) {
	if avail, known := available(); known && bytes > avail {
		panic(&OutOfMemoryError{Bytes: bytes, Available: avail})
	}
}
