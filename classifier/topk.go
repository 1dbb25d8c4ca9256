package classifier

import (
	"math"
	"sort"
)

// Prediction is one class of a top-k result, in the shape of transformers'
// image-classification pipeline.
type Prediction struct {
	Index int     `json:"index"`
	Label string  `json:"label"`
	Score float32 `json:"score"` // softmax probability
}

// TopK returns the k most probable classes of one row of logits, best first.
// Ties keep the lower index first. Labels come from id2label, so two
// predictions may share a label (ImageNet has two "crane" classes).
func TopK(logits []float32, labels []string, k int) []Prediction {
	if k > len(logits) {
		k = len(logits)
	}
	if k < 0 {
		k = 0
	}
	probs := Softmax(logits)
	order := make([]int, len(logits))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return logits[order[a]] > logits[order[b]] })

	out := make([]Prediction, k)
	for i := range out {
		idx := order[i]
		out[i] = Prediction{Index: idx, Label: labels[idx], Score: probs[idx]}
	}
	return out
}

// Softmax returns exp(x - max) / Σ exp(x - max), accumulated in float64.
func Softmax(logits []float32) []float32 {
	out := make([]float32, len(logits))
	if len(logits) == 0 {
		return out
	}
	maxValue := logits[0]
	for _, v := range logits[1:] {
		maxValue = max(maxValue, v)
	}
	var sum float64
	exps := make([]float64, len(logits))
	for i, v := range logits {
		exps[i] = math.Exp(float64(v - maxValue))
		sum += exps[i]
	}
	for i, e := range exps {
		out[i] = float32(e / sum)
	}
	return out
}
