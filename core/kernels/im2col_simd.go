//go:build goexperiment.simd && amd64

package kernels

import (
	"simd/archsimd"
	"strings"
)

// shortCopies reports whether rows of up to 16 values are copied with one
// masked AVX-512 load and store: LeNet's rows of 8 and 24 values spent more
// in memmove's call than in moving them.
func shortCopies() bool { return strings.HasPrefix(active.name, "avx512") }

func endShortCopies(used bool) {
	if used {
		archsimd.ClearAVXUpperBits()
	}
}

// copy16 copies src (at most 16 values) to dst, of the same length.
func copy16(dst, src []float32) {
	storePart16(loadPart16(src[:len(dst)]), dst)
}
