package model

// RelativePositionBias is a learned attention bias that depends only on the
// offset between the query and the key patch. Table is
// [(2·grid-1)² + 3, heads]; the last three rows are the biases from CLS to a
// patch, from a patch to CLS, and from CLS to itself.
type RelativePositionBias struct {
	Table    []float32
	Index    []int32 // [T, T] row of Table for query i and key j
	NumHeads int
}

// add adds the bias of head h to scores [T, T].
func (r *RelativePositionBias) add(scores []float32, h int) {
	for i, row := range r.Index {
		scores[i] += r.Table[int(row)*r.NumHeads+h]
	}
}

// relativePositionIndex returns the [T, T] table-row index for a grid×grid
// patch window, T = grid² + 1. For patches p = (r1, c1) (query) and
// q = (r2, c2) (key) the row is (r1 - r2 + grid - 1)·(2·grid - 1) +
// (c1 - c2 + grid - 1). The CLS query row, the CLS key column and the
// CLS-to-CLS entry use the three rows after the patch offsets, assigned in
// that order as transformers does, so the corner gets the last one.
func relativePositionIndex(grid int) []int32 {
	T := grid*grid + 1
	span := 2*grid - 1
	numOffsets := span * span
	index := make([]int32, T*T)
	for i := 1; i < T; i++ {
		r1, c1 := (i-1)/grid, (i-1)%grid
		for j := 1; j < T; j++ {
			r2, c2 := (j-1)/grid, (j-1)%grid
			index[i*T+j] = int32((r1-r2+grid-1)*span + (c1 - c2 + grid - 1))
		}
	}
	for j := 1; j < T; j++ {
		index[j] = int32(numOffsets) // CLS query → patch key
	}
	for i := 1; i < T; i++ {
		index[i*T] = int32(numOffsets + 1) // patch query → CLS key
	}
	index[0] = int32(numOffsets + 2) // CLS → CLS
	return index
}
