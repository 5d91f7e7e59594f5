//go:build !linux

package mem

// hugeAlign elsewhere is a cache line: no huge pages are advised, but large
// buffers keep the alignment that vector loads of packed panels want.
const hugeAlign = 64

// adviseHuge does nothing here: transparent huge pages are Linux's.
func adviseHuge([]float32) {}

// available is unknown here: requests are not checked up front.
func available() (uint64, bool) { return 0, false }
