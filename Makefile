# Data2Vec-Vision image classifier in Go and WebAssembly.
SHELL := /bin/bash
GO ?= go
# Go 1.27.3 brings simd/archsimd; machines whose go.env says GOTOOLCHAIN=local
# need this export to fetch it from the module proxy.
export GOTOOLCHAIN := go1.27.3
BIN := bin

.PHONY: build test vet fuzz clean model

# The real checkpoint, converted to int8 shards (about 88 MB; not committed).
MODEL_ID ?= facebook/data2vec-vision-base-ft1k
MODEL_DIR ?= models/data2vec-vision-base-ft1k

build:
	$(GO) build ./...
	$(GO) build -o $(BIN)/ ./tools/...

vet:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi

test: vet
	$(GO) test ./...

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
