package classifier

import (
	"math"
	"testing"
)

func TestTopKOrderAndRepeatedLabels(t *testing.T) {
	labels := []string{"crane", "cat", "crane", "dog"}
	logits := []float32{3, 1, 2, 0}
	got := TopK(logits, labels, 3)
	wantIndex := []int{0, 2, 1}
	if len(got) != len(wantIndex) {
		t.Fatalf("got %d predictions, want %d", len(got), len(wantIndex))
	}
	for i, p := range got {
		if p.Index != wantIndex[i] {
			t.Errorf("prediction %d is index %d, want %d", i, p.Index, wantIndex[i])
		}
		if p.Label != labels[wantIndex[i]] {
			t.Errorf("prediction %d has label %q, want %q", i, p.Label, labels[wantIndex[i]])
		}
	}
	// exp(3) / (exp(3) + exp(1) + exp(2) + exp(0))
	want := math.Exp(3) / (math.Exp(3) + math.Exp(1) + math.Exp(2) + 1)
	if math.Abs(float64(got[0].Score)-want) > 1e-6 {
		t.Errorf("top score %v, want %v", got[0].Score, want)
	}
}

func TestTopKClampsK(t *testing.T) {
	if n := len(TopK([]float32{1, 2}, []string{"a", "b"}, 5)); n != 2 {
		t.Errorf("k larger than the classes gave %d predictions, want 2", n)
	}
	if n := len(TopK([]float32{1, 2}, []string{"a", "b"}, -1)); n != 0 {
		t.Errorf("negative k gave %d predictions, want 0", n)
	}
}

func TestSoftmaxLargeLogits(t *testing.T) {
	p := Softmax([]float32{1000, 1000})
	if p[0] != 0.5 || p[1] != 0.5 {
		t.Errorf("softmax of equal large logits is %v, want [0.5 0.5]", p)
	}
}
