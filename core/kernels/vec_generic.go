package kernels

// Portable elementwise helpers. Lengths are checked by the exported
// wrappers in vec.go; the SIMD versions use these for their tails.

func axpyGo(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

func scaleGo(alpha float32, x []float32) {
	for i := range x {
		x[i] *= alpha
	}
}

func addGo(dst, x []float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] += v
	}
}

func shiftRowsGo(dst, src []float32, rows, stride int, b float32) {
	w := len(dst) / rows
	for r := 0; r < rows; r++ {
		d, s := dst[r*w:(r+1)*w], src[r*stride:r*stride+w]
		for i, v := range s {
			d[i] = v + b
		}
	}
}

func mulAddGo(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] += a[i] * b[i]
	}
}

func scaleShiftGo(dst, src []float32, a, b float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = a*v + b
	}
}

func mulShiftGo(dst, src, a, b []float32) {
	src, a, b = src[:len(dst)], a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = src[i]*a[i] + b[i]
	}
}

func reluGo(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		if v > 0 {
			dst[i] = v
		} else {
			dst[i] = 0
		}
	}
}

func reluBackwardGo(dst, gradOut, input []float32) {
	gradOut, input = gradOut[:len(dst)], input[:len(dst)]
	for i := range dst {
		if input[i] > 0 {
			dst[i] = gradOut[i]
		} else {
			dst[i] = 0
		}
	}
}

func mulGo(dst, x, y []float32) {
	x, y = x[:len(dst)], y[:len(dst)]
	for i := range dst {
		dst[i] = x[i] * y[i]
	}
}

// sumGo keeps four partial sums, as dotGo does.
func sumGo(x []float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i]
		s1 += x[i+1]
		s2 += x[i+2]
		s3 += x[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// dotGo keeps four partial sums, which is both faster (independent adds) and
// a little more accurate than one running sum.
func dotGo(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}
