package mem

import (
	"syscall"
	"unsafe"
)

// hugeAlign is the transparent huge page size on Linux (x86-64 and arm64 with
// 4 KiB base pages): the kernel maps a huge page only over a whole aligned
// 2 MiB of an advised range.
const hugeAlign = 2 << 20

// adviseHuge asks for huge pages over buf, which starts on a page boundary.
// Failure (THP "never", a kernel without THP) leaves ordinary pages, which
// is what the buffer had before, so the error is dropped.
func adviseHuge(buf []float32) {
	_ = syscall.Madvise(unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), len(buf)*4), syscall.MADV_HUGEPAGE)
}
