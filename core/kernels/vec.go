package kernels

import "fmt"

// Elementwise helpers for layers and optimisers. Each dispatches to the
// active kernel set (SIMD bodies with scalar tails); the portable versions
// in vec_generic.go define the results the SIMD ones are tested against.

func sameLen(op string, n1, n2 int) {
	if n1 != n2 {
		panic(fmt.Sprintf("kernels: %s on slices of %d and %d values", op, n1, n2))
	}
}

// Axpy computes y += alpha·x; x and y have the same length.
func Axpy(alpha float32, x, y []float32) {
	sameLen("Axpy", len(x), len(y))
	active.axpy(alpha, x, y)
}

// Scale computes x *= alpha.
func Scale(alpha float32, x []float32) {
	active.scale(alpha, x)
}

// AddRowVector adds v (cols values) to each of the rows rows of the
// row-major rows×cols matrix c: a bias added to every sample of a batch.
func AddRowVector(c []float32, rows, cols int, v []float32) {
	checkMatrix("AddRowVector", len(c), rows, cols)
	sameLen("AddRowVector (row vector vs cols)", len(v), cols)
	for i := 0; i < rows; i++ {
		active.add(c[i*cols:(i+1)*cols], v)
	}
}

// SumRows adds the column sums of the row-major rows×cols matrix src to dst:
// dst[j] += Σ_i src[i·cols+j], a bias gradient summed over a batch.
func SumRows(dst []float32, src []float32, rows, cols int) {
	checkMatrix("SumRows", len(src), rows, cols)
	sameLen("SumRows (dst vs cols)", len(dst), cols)
	for i := 0; i < rows; i++ {
		active.add(dst, src[i*cols:(i+1)*cols])
	}
}

// MulAdd computes dst[i] += a[i]·b[i].
func MulAdd(dst, a, b []float32) {
	sameLen("MulAdd (dst vs a)", len(dst), len(a))
	sameLen("MulAdd (dst vs b)", len(dst), len(b))
	active.mulAdd(dst, a, b)
}

// ScaleShift sets dst[i] = a·src[i] + b: one channel of a normalisation.
// dst may be src.
func ScaleShift(dst, src []float32, a, b float32) {
	sameLen("ScaleShift", len(dst), len(src))
	active.scaleShift(dst, src, a, b)
}

// ShiftRows sets the rows of dst (rows of len(dst)/rows values, one after
// another) to the first values of src's rows, srcStride apart, plus b: a
// convolution's output plane from the wider rows of its product, with its
// bias. dst and src must not overlap.
func ShiftRows(dst, src []float32, rows, srcStride int, b float32) {
	if rows < 1 || len(dst)%rows != 0 || srcStride < len(dst)/rows || len(src) < (rows-1)*srcStride+len(dst)/rows {
		panic(fmt.Sprintf("kernels: ShiftRows of %d values into %d rows, from %d values %d apart", len(dst), rows, len(src), srcStride))
	}
	active.shiftRows(dst, src, rows, srcStride, b)
}

// MulShift sets dst[i] = src[i]·a[i] + b[i]: one row of a channels-last
// normalisation. dst may be src.
func MulShift(dst, src, a, b []float32) {
	sameLen("MulShift (dst vs src)", len(dst), len(src))
	sameLen("MulShift (dst vs a)", len(dst), len(a))
	sameLen("MulShift (dst vs b)", len(dst), len(b))
	active.mulShift(dst, src, a, b)
}

// ReLU sets dst[i] = src[i] if src[i] > 0, else 0 (so NaN and -0 give 0,
// as in the layer's scalar definition). dst and src may be the same slice.
func ReLU(dst, src []float32) {
	sameLen("ReLU", len(dst), len(src))
	active.relu(dst, src)
}

// ReLUBackward sets dst[i] = gradOut[i] where input[i] > 0, else 0.
// dst may alias gradOut.
func ReLUBackward(dst, gradOut, input []float32) {
	sameLen("ReLUBackward (dst vs gradOut)", len(dst), len(gradOut))
	sameLen("ReLUBackward (dst vs input)", len(dst), len(input))
	active.reluBackward(dst, gradOut, input)
}

// Dot returns Σ x[i]·y[i]. The summation order depends on the kernel set,
// so results differ between sets in the last bits.
func Dot(x, y []float32) float32 {
	sameLen("Dot", len(x), len(y))
	return active.dot(x, y)
}

// Mul sets dst[i] = x[i]·y[i]; dst may be x or y (dst *= y is Mul(dst, dst, y)).
func Mul(dst, x, y []float32) {
	sameLen("Mul (dst vs x)", len(dst), len(x))
	sameLen("Mul (dst vs y)", len(dst), len(y))
	active.mul(dst, x, y)
}

// Sum returns Σ x[i]. Like Dot, its summation order depends on the kernel set.
func Sum(x []float32) float32 {
	return active.sum(x)
}

func checkMatrix(op string, n, rows, cols int) {
	if rows < 0 || cols < 0 || n < rows*cols {
		panic(fmt.Sprintf("kernels: %s on %d values is too small for %d×%d", op, n, rows, cols))
	}
}
