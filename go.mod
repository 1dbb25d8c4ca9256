module github.com/d2vgo/d2v

go 1.27.3

require (
	github.com/nlpodyssey/gopickle v0.2.0
	github.com/nlpodyssey/spago v1.1.0
	golang.org/x/image v0.48.0
)

require github.com/google/flatbuffers v23.5.26+incompatible // indirect
