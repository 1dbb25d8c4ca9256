# Data2Vec-Vision image classifier in Go and WebAssembly.
SHELL := /bin/bash
GO ?= go
# Go 1.27.3 brings simd/archsimd; machines whose go.env says GOTOOLCHAIN=local
# need this export to fetch it from the module proxy.
export GOTOOLCHAIN := go1.27.3
# The SIMD kernels need GOEXPERIMENT=simd at build time; without it the
# portable scalar kernels are built. "GOEXPERIMENT= make ..." builds scalar.
export GOEXPERIMENT ?= simd
BIN := bin

.PHONY: build test vet test-go test-scalar fuzz clean model setup

# The real checkpoint, converted to int8 shards (about 88 MB; not committed).
MODEL_ID ?= facebook/data2vec-vision-base-ft1k
MODEL_DIR ?= models/data2vec-vision-base-ft1k

build:
	$(GO) build ./...
	$(GO) build -o $(BIN)/ ./tools/...

vet:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi

# Everything CI runs: vet, the Go tests with the SIMD kernels, the numeric
# tests again with the scalar kernels, the kernels in all four build
# configurations, the browser and the edge tests.
test: vet test-go test-scalar test-kernels test-web test-edge

test-go:
	$(GO) test ./...

test-scalar:
	GOEXPERIMENT= $(GO) test ./model ./quantize ./classifier ./tools/classify

# Go modules and the npm packages of the end-to-end tests (no browser
# download: the tests use Debian's chromium).
setup:
	$(GO) mod download
	npm ci --prefix e2e
	npm ci --prefix edge

# Run each fuzz target for FUZZTIME (default 2m).
FUZZTIME ?= 2m
fuzz:
	$(GO) test ./safetensors -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)
	$(GO) test ./checkpoint -run '^$$' -fuzz FuzzParseTorch -fuzztime $(FUZZTIME)
	$(GO) test ./model -run '^$$' -fuzz 'FuzzParseConfig$$' -fuzztime $(FUZZTIME)
	$(GO) test ./model -run '^$$' -fuzz FuzzParseImageProcessorConfig -fuzztime $(FUZZTIME)
	$(GO) test ./preprocess -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME)

model:
	$(GO) run ./tools/convert -model $(MODEL_ID) -out $(MODEL_DIR)

clean:
	rm -rf $(BIN)
include mk/kernels.mk

include mk/web.mk

include mk/edge.mk
