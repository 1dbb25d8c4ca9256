package model

// meanOfRows writes the column means of the first n rows of x (width
// len(dst)) to dst, accumulating in float64.
func meanOfRows(dst, x []float32, n int) {
	dim := len(dst)
	for i := range dst {
		var sum float64
		for r := 0; r < n; r++ {
			sum += float64(x[r*dim+i])
		}
		dst[i] = float32(sum / float64(n))
	}
}
