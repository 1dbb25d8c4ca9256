# Tests and benchmarks of package kernels in its four build configurations:
# native and GOOS=js GOARCH=wasm (under Node), each without and with
# GOEXPERIMENT=simd. Within one native SIMD build the tests cover every
# variant the CPU supports (amd64-avx512, amd64-avx2, scalar). The
# WebAssembly SIMD build rounds activations to int16, so the int8 accuracy
# test on Fashion-MNIST also runs in that build.

.PHONY: test-kernels bench-kernels bench-kernels-chromium

# The wasm runner is looked up inside the recipes: GNU Make before 4.4 does
# not pass exported variables such as GOTOOLCHAIN to $(shell).
WASM_EXEC = "$$($(GO) env GOROOT)/lib/wasm/go_js_wasm_exec"

test-kernels:
	GOEXPERIMENT= $(GO) test ./kernels
	GOEXPERIMENT=simd $(GO) test ./kernels
	GOEXPERIMENT= GOOS=js GOARCH=wasm $(GO) test -exec=$(WASM_EXEC) ./kernels
	GOEXPERIMENT=simd GOOS=js GOARCH=wasm $(GO) test -exec=$(WASM_EXEC) ./kernels
	GOEXPERIMENT=simd GOOS=js GOARCH=wasm $(GO) test -exec=$(WASM_EXEC) ./classifier -run 'FashionMNISTInt8|DoNotAllocate' -v

# Benchmarks on one goroutine (KERNEL_CPU, a -cpu list) for BENCHTIME each.
# Under Node, short runs measure V8's baseline compiler before it tiers up
# to optimized code, so BENCHTIME should be a second or more.
BENCHTIME ?= 2s
KERNEL_CPU ?= 1
bench-kernels:
	GOEXPERIMENT= $(GO) test ./kernels -run '^$$' -bench . -benchtime $(BENCHTIME) -cpu $(KERNEL_CPU)
	GOEXPERIMENT=simd $(GO) test ./kernels -run '^$$' -bench . -benchtime $(BENCHTIME) -cpu $(KERNEL_CPU)
	GOEXPERIMENT= GOOS=js GOARCH=wasm $(GO) test -exec=$(WASM_EXEC) ./kernels -run '^$$' -bench . -benchtime $(BENCHTIME)
	GOEXPERIMENT=simd GOOS=js GOARCH=wasm $(GO) test -exec=$(WASM_EXEC) ./kernels -run '^$$' -bench . -benchtime $(BENCHTIME)

# The same benchmarks in headless Chromium, whose V8 is newer than Node's.
bench-kernels-chromium:
	node e2e/bench-kernels.mjs --benchtime $(BENCHTIME)
	node e2e/bench-kernels.mjs --benchtime $(BENCHTIME) --build scalar
