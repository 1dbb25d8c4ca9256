// Package testshared locates the reference fixtures that tests compare
// against: Hugging Face outputs, photographs and labels kept in a folder
// named "shared" beside the repository.
package testshared

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir returns the fixture folder: $D2V_SHARED if set, else ../shared
// relative to the repository root. A missing folder fails the test, because
// skipping would hide that no comparison ran.
func Dir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("D2V_SHARED")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		dir = filepath.Join(root, "..", "shared")
	}
	if _, err := os.Stat(filepath.Join(dir, "golden")); err != nil {
		t.Fatalf("reference fixtures not found in %s (set D2V_SHARED to the folder that contains golden/ and images/): %v", dir, err)
	}
	return dir
}

// Path joins elements onto Dir.
func Path(t testing.TB, elem ...string) string {
	t.Helper()
	return filepath.Join(append([]string{Dir(t)}, elem...)...)
}
