// Package quantize stores Linear and convolution weights as symmetric int8
// with one float32 scale per output channel, and runs them without
// expanding the whole matrix to float32.
//
// For output channel o, scale[o] = max_k |w[o,k]| / 127 and
// q[o,k] = round(w[o,k] / scale[o]), so w[o,k] ≈ q[o,k]·scale[o] with an
// error of at most scale[o]/2. The value -128 is never used, which keeps
// the range symmetric.
package quantize

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/d2vgo/d2v/kernels"
)

// Channel quantizes a [out, in] weight matrix per output channel.
func Channel(weight []float32, out, in int) (q []int8, scale []float32) {
	q = make([]int8, out*in)
	scale = make([]float32, out)
	for o := 0; o < out; o++ {
		row := weight[o*in : (o+1)*in]
		var maxAbs float32
		for _, v := range row {
			maxAbs = max(maxAbs, float32(math.Abs(float64(v))))
		}
		if maxAbs == 0 {
			// An all-zero channel stays zero whatever its scale.
			scale[o] = 1
			continue
		}
		s := maxAbs / 127
		scale[o] = s
		for k, v := range row {
			r := math.Round(float64(v / s))
			q[o*in+k] = int8(max(-127, min(127, r)))
		}
	}
	return q, scale
}

// Linear is y = x·Wᵀ + b with W held as int8 plus per-channel scales.
type Linear struct {
	Weight  []int8    // [out, in]
	Scale   []float32 // [out]
	Bias    []float32 // [out], or nil
	in, out int
}

// NewLinear checks the sizes and returns the layer. weight is used as is,
// not copied, so it may alias a loaded file.
func NewLinear(weight []int8, scale, bias []float32, out, in int) (*Linear, error) {
	if len(weight) != out*in {
		return nil, fmt.Errorf("int8 weight has %d values, want %d×%d", len(weight), out, in)
	}
	if len(scale) != out {
		return nil, fmt.Errorf("weight scale has %d values, want %d", len(scale), out)
	}
	if bias != nil && len(bias) != out {
		return nil, fmt.Errorf("bias has %d values, want %d", len(bias), out)
	}
	for o, s := range scale {
		if math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) {
			return nil, fmt.Errorf("weight scale of channel %d is %v", o, s)
		}
	}
	return &Linear{Weight: weight, Scale: scale, Bias: bias, in: in, out: out}, nil
}

func (l *Linear) In() int  { return l.in }
func (l *Linear) Out() int { return l.out }

// Forward writes rows×Out() outputs to dst from rows×In() inputs in x. The
// int8 weights are widened block by block inside the kernel, never as a
// whole matrix.
func (l *Linear) Forward(ws *kernels.Workspace, dst, x []float32, rows int) {
	ws.MatMulInt8(dst, x, l.Weight, l.Scale, l.Bias, rows, l.in, l.out)
}

// Int8s views raw bytes as int8 values without copying.
func Int8s(b []byte) []int8 {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*int8)(unsafe.Pointer(&b[0])), len(b))
}

// Bytes views int8 values as raw bytes without copying.
func Bytes(q []int8) []byte {
	if len(q) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&q[0])), len(q))
}
