//go:build !linux

package dist

import (
	"errors"
	"sync/atomic"
)

// Shared memory is implemented for Linux only; elsewhere ranks use TCP:
// createRegion fails, so rank 0 never offers a region.

type region struct{ capacity int }

func (g *region) flag(int) *atomic.Uint64     { return nil }
func (g *region) vec(int, uint64) []float32   { return nil }
func (g *region) small(int, uint64) []float64 { return nil }
func (g *region) unmap()                      {}

func openRegion(int, int, string, []byte) (*region, error) {
	return nil, errors.New("shared memory is not supported on this system")
}

func createRegion(int, int) (*region, string, []byte, error) {
	return nil, "", nil, errors.New("shared memory is not supported on this system")
}
