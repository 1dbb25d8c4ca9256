# Cloudflare Workers endpoint: wasm/edge compiled to WebAssembly, run by the
# JavaScript shim and wrangler configuration in edge/.
#
#   make edge-build    build edge/build/d2v-edge.wasm and wasm_exec.js
#   make edge          serve a model on http://127.0.0.1:8787 with wrangler dev
#   make test-edge     end-to-end tests in the Workers runtime (needs Node.js 20)
#   make edge-measure  memory and time figures of the base-size model
#
# Nothing here contacts Cloudflare: wrangler runs with --local, and the
# variables of EDGE_OFFLINE turn off its metrics, error reports, update
# check and request.cf download.

EDGE_DIR := edge
EDGE_BUILD := $(EDGE_DIR)/build
EDGE_WRANGLER := $(EDGE_DIR)/node_modules/.bin/wrangler
EDGE_OFFLINE := WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false WRANGLER_HIDE_BANNER=true CLOUDFLARE_CF_FETCH_ENABLED=false
EDGE_SHARED ?= $(abspath $(or $(D2V_SHARED),../shared))
# The int8 Fashion-MNIST model that the repository ships for the web page.
EDGE_FASHION_MNIST := www/models/fashion-mnist
EDGE_FIXTURES := $(EDGE_BUILD)/fixtures

# Model served by `make edge`: a folder written by tools/convert, stored in
# the local R2 bucket under EDGE_MODEL_PREFIX.
EDGE_MODEL ?= $(EDGE_FASHION_MNIST)
EDGE_MODEL_ID ?= d2v-fashion-mnist-int8
EDGE_MODEL_PREFIX ?= $(notdir $(EDGE_MODEL))/
EDGE_PORT ?= 8787

# Model measured by `make edge-measure`; the default is written by
# tools/randmodel (base geometry, ImageNet labels) and tools/convert.
EDGE_MEASURE_MODEL ?= $(EDGE_BUILD)/models/random-base

.PHONY: edge edge-build test-edge edge-measure edge-fashion-mnist edge-random-base

edge-build:
	mkdir -p $(EDGE_BUILD)
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" $(EDGE_BUILD)/wasm_exec.js
	GOOS=js GOARCH=wasm $(GO) build -trimpath -o $(EDGE_BUILD)/d2v-edge.wasm ./wasm/edge

$(EDGE_WRANGLER): $(EDGE_DIR)/package.json $(EDGE_DIR)/package-lock.json
	npm ci --prefix $(EDGE_DIR) --no-audit --no-fund
	touch $@

edge-fashion-mnist:
	@test -f $(EDGE_FASHION_MNIST)/model.safetensors || { echo "$(EDGE_FASHION_MNIST) is missing; run make web-models"; exit 1; }

edge-random-base:
	@if [ ! -f $(EDGE_BUILD)/models/random-base/model.safetensors.index.json ]; then \
	  set -e; \
	  $(GO) run ./tools/randmodel -out $(EDGE_BUILD)/models/random-base-float32 -labels-file $(EDGE_SHARED)/labels/imagenet-1k-id2label.json; \
	  $(GO) run ./tools/convert -model $(EDGE_BUILD)/models/random-base-float32 -out $(EDGE_BUILD)/models/random-base -quiet; \
	  rm -rf $(EDGE_BUILD)/models/random-base-float32; \
	fi

edge: edge-build $(EDGE_WRANGLER) $(if $(filter $(EDGE_FASHION_MNIST),$(EDGE_MODEL)),edge-fashion-mnist)
	cd $(EDGE_DIR) && for f in $$(ls $(abspath $(EDGE_MODEL)) | grep -E '\.safetensors$$|^model\.safetensors\.index\.json$$'); do \
	  $(EDGE_OFFLINE) npx wrangler r2 object put "d2v-models/$(EDGE_MODEL_PREFIX)$$f" --file "$(abspath $(EDGE_MODEL))/$$f" --local || exit 1; \
	done
	cd $(EDGE_DIR) && $(EDGE_OFFLINE) npx wrangler dev --local --ip 127.0.0.1 --port $(EDGE_PORT) \
	  --var "MODEL_PREFIX:$(EDGE_MODEL_PREFIX)" --var "MODEL_ID:$(EDGE_MODEL_ID)"

# The expected results come from the native classifier on the same int8
# model: the photos of shared/images and four Fashion-MNIST test images.
test-edge: edge-build $(EDGE_WRANGLER) edge-fashion-mnist
	$(GO) run ./wasm/edge/fixtures -out $(EDGE_FIXTURES) -count 4
	$(GO) run ./tools/classify -model $(EDGE_FASHION_MNIST) -json -top 10 \
	  $(EDGE_SHARED)/images/astronaut.png $(EDGE_SHARED)/images/chelsea.png \
	  $(EDGE_SHARED)/images/coffee.png $(EDGE_SHARED)/images/rocket.jpg \
	  $(abspath $(EDGE_FIXTURES))/fashion-mnist-*.png > $(EDGE_FIXTURES)/expected.jsonl
	cd $(EDGE_DIR) && EDGE_MODEL_DIR=$(abspath $(EDGE_FASHION_MNIST)) EDGE_FIXTURES=$(abspath $(EDGE_FIXTURES)) \
	  node --test --test-concurrency=1 test/*.test.mjs

edge-measure: edge-build $(EDGE_WRANGLER) $(if $(filter $(EDGE_BUILD)/models/random-base,$(EDGE_MEASURE_MODEL)),edge-random-base)
	$(GO) run ./wasm/edge/fixtures -out $(EDGE_FIXTURES) -count 1 -jpeg 1000x1000,1414x1414,2000x2000
	cd $(EDGE_DIR) && node --experimental-websocket test/measure.mjs $(abspath $(EDGE_MEASURE_MODEL)) $(EDGE_SHARED)/images/chelsea.png \
	  $(patsubst %,$(abspath $(EDGE_FIXTURES))/synthetic-%.jpg,1000x1000 1414x1414 2000x2000)

test: test-edge
