package model

import (
	"fmt"

	"github.com/d2vgo/d2v/kernels"

	"github.com/nlpodyssey/spago/mat"
)

// Linear is a fully connected layer, y = x Wᵀ + b, applied to each row of a
// row-major activation matrix. W is [out, in] as in torch.nn.Linear.
type Linear interface {
	// Forward writes rows×Out() outputs to dst from rows×In() inputs in x,
	// taking any scratch memory from ws.
	Forward(ws *kernels.Workspace, dst, x []float32, rows int)
	In() int
	Out() int
}

// DenseLinear is a float32 Linear computed with spago's matrix product. The
// weight is stored transposed, [in, out], so that x·Wᵀ is one Mul. It is the
// reference path for unconverted checkpoints; spago allocates the product,
// so unlike the int8 path it creates garbage on every call.
type DenseLinear struct {
	weightT *mat.Dense[float32] // [in, out]
	bias    []float32           // [out], or nil
	in, out int
}

// NewDenseLinear builds a DenseLinear from a torch-layout weight [out, in]
// and an optional bias [out].
func NewDenseLinear(weight []float32, bias []float32, out, in int) (*DenseLinear, error) {
	if len(weight) != out*in {
		return nil, fmt.Errorf("linear weight has %d values, want %d×%d", len(weight), out, in)
	}
	if bias != nil && len(bias) != out {
		return nil, fmt.Errorf("linear bias has %d values, want %d", len(bias), out)
	}
	transposed := make([]float32, in*out)
	for o := 0; o < out; o++ {
		for i := 0; i < in; i++ {
			transposed[i*out+o] = weight[o*in+i]
		}
	}
	return &DenseLinear{
		weightT: mat.NewDense[float32](mat.WithBacking(transposed), mat.WithShape(in, out)),
		bias:    bias,
		in:      in,
		out:     out,
	}, nil
}

func (l *DenseLinear) In() int  { return l.in }
func (l *DenseLinear) Out() int { return l.out }

func (l *DenseLinear) Forward(_ *kernels.Workspace, dst, x []float32, rows int) {
	input := mat.NewDense[float32](mat.WithBacking(x[:rows*l.in]), mat.WithShape(rows, l.in))
	product := input.Mul(l.weightT)
	copy(dst[:rows*l.out], product.Data().F32())
	if l.bias != nil {
		for r := 0; r < rows; r++ {
			kernels.Add(dst[r*l.out:(r+1)*l.out], l.bias)
		}
	}
}
