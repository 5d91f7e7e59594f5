//go:build goexperiment.simd && amd64

package kernels

// transpose16AVX512asm is a bTransposer (pack.go) in Go assembly
// (pack_avx512_amd64.s): archsimd has the shuffles, but a 16×16 transpose
// needs all 32 zmm registers, and Go's register allocator uses 15.
//
//go:noescape
func transpose16AVX512asm(kb int, src *float32, ldb uintptr, dst *float32, dstStride uintptr, groups int)

// The packRows and packCols aPackers (pack.go) of the 12×32 and 8×48
// assembly kernels.

//go:noescape
func packRows12AVX512asm(kb int, src *float32, lda uintptr, dst *float32, alpha float32, rows int)

//go:noescape
func packRows8AVX512asm(kb int, src *float32, lda uintptr, dst *float32, alpha float32, rows int)

//go:noescape
func packCols12AVX512asm(kb int, src *float32, lda uintptr, dst *float32, alpha float32, rows int)

//go:noescape
func packCols8AVX512asm(kb int, src *float32, lda uintptr, dst *float32, alpha float32, rows int)

// The packCopy bCopiers (pack.go) of the 12×32 and 8×48 assembly kernels.

//go:noescape
func copy32AVX512asm(kb int, src *float32, ldb uintptr, dst *float32)

//go:noescape
func copy48AVX512asm(kb int, src *float32, ldb uintptr, dst *float32)
