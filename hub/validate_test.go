package hub

import (
	"strings"
	"testing"
)

func TestValidateRepoID(t *testing.T) {
	tests := []struct {
		repoID string
		valid  bool
	}{
		{"facebook/data2vec-vision-base-ft1k", true},
		{"gpt2", true},
		{"Org_1/Model.v2-final", true},
		{"a/b", true},
		{"", false},
		{"/model", false},
		{"org/", false},
		{"org/name/extra", false},
		{"org/na me", false},
		{"org/-name", false},
		{"org/name.", false},
		{"org/na--me", false},
		{"org/na..me", false},
		{"org/name.git", false},
		{"org/" + strings.Repeat("a", 97), false},
		{"org/" + strings.Repeat("a", 96), true},
		{"org/ümlaut", false},
	}
	for _, tt := range tests {
		err := ValidateRepoID(tt.repoID)
		if (err == nil) != tt.valid {
			t.Errorf("ValidateRepoID(%q) = %v, want valid=%v", tt.repoID, err, tt.valid)
		}
	}
}

func TestValidateFilename(t *testing.T) {
	tests := []struct {
		filename string
		valid    bool
	}{
		{"model.safetensors", true},
		{"onnx/model.onnx", true},
		{"..hidden", true},
		{"a..b/c", true},
		{"", false},
		{"/etc/passwd", false},
		{"../x", false},
		{"a/../../x", false},
		{"a/./b", false},
		{"a//b", false},
		{"a/", false},
		{`a\b`, false},
		{"C:x", false},
		{"sub/d:evil", false},
		{"a\x00b", false},
	}
	for _, tt := range tests {
		err := ValidateFilename(tt.filename)
		if (err == nil) != tt.valid {
			t.Errorf("ValidateFilename(%q) = %v, want valid=%v", tt.filename, err, tt.valid)
		}
	}
}

func TestNormalizeETag(t *testing.T) {
	tests := []struct{ in, want string }{
		{`"abc"`, "abc"},
		{`W/"abc"`, "abc"},
		{"abc", "abc"},
		{` "abc" `, "abc"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := normalizeETag(tt.in); got != tt.want {
			t.Errorf("normalizeETag(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestContentRangeStart(t *testing.T) {
	tests := []struct {
		in    string
		want  int64
		valid bool
	}{
		{"bytes 100-199/200", 100, true},
		{"bytes 0-0/1", 0, true},
		{"bytes */200", 0, false},
		{"items 1-2/3", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := contentRangeStart(tt.in)
		if (err == nil) != tt.valid || got != tt.want {
			t.Errorf("contentRangeStart(%q) = %d, %v, want %d, valid=%v", tt.in, got, err, tt.want, tt.valid)
		}
	}
}
