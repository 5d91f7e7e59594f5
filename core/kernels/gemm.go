// Package kernels holds the numeric kernels the layers call: matrix products
// and vector operations. Callers use the package functions; the
// implementation behind them is chosen once at start-up (see dispatch.go), so
// faster kernels (SIMD micro-kernels) replace the portable ones without
// touching any layer.
package kernels

import (
	"fmt"
)

// Active names the kernel set in use, for logs and benchmarks.
var Active = "generic (portable Go)"

// Sgemm is the single-precision matrix product every layer uses:
// C = alpha·op(A)·op(B) + beta·C, row-major, op(A) m×k, op(B) k×n, C m×n.
// With beta == 0, C is only written, never read (it may hold NaN garbage).
// It panics with a descriptive message if a buffer is too short.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	packedGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// NaiveGemm is the triple loop, the reference kernels are tested against.
// It accumulates in float64, so it is more accurate than any fast kernel.
func NaiveGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	at := func(i, p int) float32 {
		if transA {
			return a[p*lda+i]
		}
		return a[i*lda+p]
	}
	bt := func(p, j int) float32 {
		if transB {
			return b[j*ldb+p]
		}
		return b[p*ldb+j]
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				s += float64(at(i, p)) * float64(bt(p, j))
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * float32(s)
			} else {
				c[i*ldc+j] = alpha*float32(s) + beta*c[i*ldc+j]
			}
		}
	}
}

// CheckGemmArgs panics with a descriptive message when a size is negative or
// a buffer is too short; kernels that walk raw pointers call it first.
func CheckGemmArgs(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels: negative GEMM size m=%d n=%d k=%d", m, n, k))
	}
	rowsA, colsA, rowsB, colsB := operandShapes(transA, transB, m, n, k)
	checkOperand("A", a, rowsA, colsA, lda)
	checkOperand("B", b, rowsB, colsB, ldb)
	checkOperand("C", c, m, n, ldc)
}

// checkOperand panics if buf, with stride ld, cannot hold a rows×cols matrix.
func checkOperand(name string, buf []float32, rows, cols, ld int) {
	if rows == 0 || cols == 0 {
		return
	}
	if ld < cols || len(buf) < (rows-1)*ld+cols {
		panic(fmt.Sprintf("kernels: %s buffer of %d values, stride %d, is too small for %d×%d", name, len(buf), ld, rows, cols))
	}
}

// operandShapes gives the stored shapes of A and B for an m×n×k product with
// the given transposes (op(A) is m×k, op(B) is k×n).
func operandShapes(transA, transB bool, m, n, k int) (rowsA, colsA, rowsB, colsB int) {
	rowsA, colsA, rowsB, colsB = m, k, k, n
	if transA {
		rowsA, colsA = k, m
	}
	if transB {
		rowsB, colsB = n, k
	}
	return
}
