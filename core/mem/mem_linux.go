package mem

import (
	"syscall"
	"unsafe"
)

// hugeAlign is the transparent huge page size on Linux (x86-64 and arm64 with
// 4 KiB base pages): the kernel maps a huge page only over a whole aligned
// 2 MiB of an advised range.
const hugeAlign = 2 << 20

// adviseHuge asks for huge pages over buf, which starts on a page boundary
// and is all zeros. Failure (THP "never", a kernel without THP) leaves
// ordinary pages, which is what the buffer had before, so errors are
// dropped.
//
// Memory the GC had freed and hands out again, make has already zeroed, so
// it is on 4 KiB pages before the advice comes, and advice alone changes
// nothing there until khugepaged gets round to it (minutes). MADV_DONTNEED
// gives those pages back: the buffer still reads as zeros, and its next
// touch maps a huge page. On fresh memory, never touched, it does nothing.
func adviseHuge(buf []float32) {
	b := unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), len(buf)*4)
	if syscall.Madvise(b, syscall.MADV_HUGEPAGE) == nil {
		_ = syscall.Madvise(b, syscall.MADV_DONTNEED)
	}
}
