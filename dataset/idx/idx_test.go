package idx

import (
	"bytes"
	"strings"
	"testing"
)

func TestReadImages(t *testing.T) {
	header := []byte{0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3}
	values := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	a, err := Read(bytes.NewReader(append(header, values...)))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Shape) != 3 || a.Shape[0] != 2 || a.Shape[1] != 2 || a.Shape[2] != 3 {
		t.Fatalf("shape %v, want [2 2 3]", a.Shape)
	}
	if !bytes.Equal(a.Data, values) {
		t.Fatalf("data %v, want %v", a.Data, values)
	}
}

func TestReadRejectsBadInput(t *testing.T) {
	cases := map[string]struct {
		data []byte
		want string
	}{
		"empty":      {nil, "reading IDX header"},
		"bad magic":  {[]byte{1, 0, 8, 1, 0, 0, 0, 1, 0}, "not an IDX file"},
		"float type": {[]byte{0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0}, "type code 0x0d"},
		"zero dims":  {[]byte{0, 0, 8, 0}, "0 dimensions"},
		"huge shape": {[]byte{0, 0, 8, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "exceeds"},
		"truncated":  {[]byte{0, 0, 8, 1, 0, 0, 0, 4, 1, 2}, "truncated"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(c.data))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}
