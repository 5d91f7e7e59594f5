//go:build goexperiment.simd && amd64

package kernels

// The packs of the AVX2 assembly kernels (pack_avx2_amd64.s).

// transpose8AVX2asm is a bTransposer (pack.go) whose groups are 8 columns
// wide (kernelSet.btCols), so that it serves the 24-wide slivers of 4×24
// as well as the 16-wide ones of 6×16.
//
//go:noescape
func transpose8AVX2asm(kb int, src *float32, ldb uintptr, dst *float32, dstStride uintptr, groups int)

// The packRows and packCols aPackers (pack.go) of the 6×16 and 4×24 kernels.

//go:noescape
func packRows6AVX2asm(kb int, src *float32, lda uintptr, dst *float32, alpha float32, rows int)

//go:noescape
func packRows4AVX2asm(kb int, src *float32, lda uintptr, dst *float32, alpha float32, rows int)

//go:noescape
func packCols6AVX2asm(kb int, src *float32, lda uintptr, dst *float32, alpha float32, rows int)

//go:noescape
func packCols4AVX2asm(kb int, src *float32, lda uintptr, dst *float32, alpha float32, rows int)

// The packCopy bCopiers (pack.go) of the 6×16 and 4×24 kernels.

//go:noescape
func copy16AVX2asm(kb int, src *float32, ldb uintptr, dst *float32)

//go:noescape
func copy24AVX2asm(kb int, src *float32, ldb uintptr, dst *float32)
