# In-browser classifier: WebAssembly build, model manifest, development
# server and browser tests. Included from the Makefile, which sets GO and
# exports GOTOOLCHAIN.

GO ?= go
BIN ?= bin
WEB_DIR := www
WEB_ADDR ?= 127.0.0.1:8080
# Reference fixtures (the trained Fashion-MNIST checkpoint, sample photos).
D2V_SHARED ?= ../shared
FASHION_MNIST_SOURCE ?= $(D2V_SHARED)/golden/d2v-fashion-mnist
# Written by `make model`; offered as the page's default model when present.
IMAGENET_MODEL := data2vec-vision-base-ft1k

.PHONY: web web-wasm web-imagenet-model web-manifest web-models run test-web test-wasm test-e2e

# Build the page's generated files: the classifier in two builds, the
# wasm_exec.js of the same Go release, the ImageNet model copy (when
# converted) and models/models.json.
web: web-wasm web-imagenet-model web-manifest

# d2v-simd.wasm uses the WebAssembly SIMD kernels of package kernels, which
# need SIMD support in the browser (Chrome and Edge 91, Firefox 89, Safari
# 16.4 or later). d2v.wasm has scalar kernels for other browsers. The page
# picks one by feature detection.
web-wasm:
	GOEXPERIMENT= GOOS=js GOARCH=wasm $(GO) build -trimpath -o $(WEB_DIR)/d2v.wasm ./wasm/browser
	GOEXPERIMENT=simd GOOS=js GOARCH=wasm $(GO) build -trimpath -o $(WEB_DIR)/d2v-simd.wasm ./wasm/browser
	install -m 0644 "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" $(WEB_DIR)/wasm_exec.js

# Hard links cost no space; cp falls back to a copy across file systems. A
# copy (rather than a symbolic link) keeps the folder under the ignored
# www/models/*/ pattern and inside what the server may serve.
web-imagenet-model:
	rm -rf $(WEB_DIR)/models/$(IMAGENET_MODEL)
	@if [ -d models/$(IMAGENET_MODEL) ]; then \
		mkdir -p $(WEB_DIR)/models/$(IMAGENET_MODEL) && \
		{ cp -l models/$(IMAGENET_MODEL)/*.json models/$(IMAGENET_MODEL)/*.safetensors $(WEB_DIR)/models/$(IMAGENET_MODEL)/ 2>/dev/null || \
		  cp models/$(IMAGENET_MODEL)/*.json models/$(IMAGENET_MODEL)/*.safetensors $(WEB_DIR)/models/$(IMAGENET_MODEL)/; } && \
		echo "web: offering models/$(IMAGENET_MODEL) as the default model"; \
	else \
		echo "web: models/$(IMAGENET_MODEL) not found, so the page offers Fashion-MNIST only (run make model for ImageNet)"; \
	fi

web-manifest: web-imagenet-model
	$(GO) run ./tools/serve -dir $(WEB_DIR) -write-manifest

# Regenerate the Fashion-MNIST model that the repository ships in
# www/models/fashion-mnist (int8, about 180 KB).
web-models:
	$(GO) run ./tools/convert -model $(FASHION_MNIST_SOURCE) -out $(WEB_DIR)/models/fashion-mnist -quiet

# Serve the page on http://$(WEB_ADDR)/ until Ctrl+C. The server runs as its
# own binary (not under go run) so that it gets the interrupt, finishes open
# requests and exits with status 0.
run: web
	$(GO) build -o $(BIN)/serve ./tools/serve
	$(BIN)/serve -dir $(WEB_DIR) -addr $(WEB_ADDR)

test-web: test-wasm test-e2e

# The d2v API under Node.js, through the js/wasm test runner of the Go release.
test-wasm:
	PATH="$$($(GO) env GOROOT)/lib/wasm:$$PATH" GOOS=js GOARCH=wasm $(GO) test ./wasm/browser

# The page in headless Chromium against the command-line classifier. Needs
# `npm ci --prefix e2e` and Debian's chromium; the test runs `make web` itself.
test-e2e:
	@test -d e2e/node_modules/playwright-core || { echo "test-e2e: run npm ci --prefix e2e first"; exit 1; }
	node --test e2e/classifier.test.mjs
