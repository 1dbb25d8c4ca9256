package main

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

// heapSampler tracks the maximum of /memory/classes/heap/objects:bytes, the
// memory held by live and not yet collected objects. Natively a goroutine
// samples every millisecond; under WebAssembly goroutines do not run in
// parallel, so the explicit samples taken between steps carry the figure.
type heapSampler struct {
	mu   sync.Mutex
	peak uint64
	done chan struct{}
	wg   sync.WaitGroup
}

func newHeapSampler() *heapSampler {
	s := &heapSampler{done: make(chan struct{})}
	if runtime.GOARCH != "wasm" {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			ticker := time.NewTicker(time.Millisecond)
			defer ticker.Stop()
			for {
				select {
				case <-s.done:
					return
				case <-ticker.C:
					s.sample()
				}
			}
		}()
	}
	return s
}

// sample reads the heap once and returns the reading.
func (s *heapSampler) sample() uint64 {
	v := readMetric("/memory/classes/heap/objects:bytes")
	s.mu.Lock()
	s.peak = max(s.peak, v)
	s.mu.Unlock()
	return v
}

func (s *heapSampler) stop() {
	close(s.done)
	s.wg.Wait()
	s.sample()
}

func readMetric(name string) uint64 {
	sample := []metrics.Sample{{Name: name}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

func gcCycles() uint32 {
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	return stats.NumGC
}
