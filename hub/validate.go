package hub

import (
	"fmt"
	"strings"
)

// maxRepoNameLength is the hub's limit on each part of a repository id.
const maxRepoNameLength = 96

// ValidateRepoID returns an error unless repoID has the form "name" or
// "namespace/name". Each part contains 1 to 96 ASCII letters, digits, '-',
// '_' or '.', and starts and ends with a letter, digit or '_'. The id must not
// contain "--" or "..", which the cache layout and the hub reserve, and must
// not end in ".git". These are the rules of validate_repo_id in
// huggingface_hub 1.29, restricted to ASCII.
func ValidateRepoID(repoID string) error {
	parts := strings.Split(repoID, "/")
	if len(parts) > 2 {
		return fmt.Errorf("hub: invalid repository id %q: expected \"name\" or \"namespace/name\"", repoID)
	}
	for _, part := range parts {
		if err := validateRepoIDPart(part); err != nil {
			return fmt.Errorf("hub: invalid repository id %q: %w", repoID, err)
		}
	}
	if strings.Contains(repoID, "--") || strings.Contains(repoID, "..") {
		return fmt.Errorf("hub: invalid repository id %q: must not contain \"--\" or \"..\"", repoID)
	}
	if strings.HasSuffix(repoID, ".git") {
		return fmt.Errorf("hub: invalid repository id %q: must not end in \".git\"", repoID)
	}
	return nil
}

func validateRepoIDPart(part string) error {
	if part == "" {
		return fmt.Errorf("empty name")
	}
	if len(part) > maxRepoNameLength {
		return fmt.Errorf("name %q is longer than %d characters", part, maxRepoNameLength)
	}
	for i := 0; i < len(part); i++ {
		if !isWordByte(part[i]) && part[i] != '-' && part[i] != '.' {
			return fmt.Errorf("name %q contains %q; only ASCII letters, digits, '-', '_' and '.' are allowed", part, part[i])
		}
	}
	if !isWordByte(part[0]) || !isWordByte(part[len(part)-1]) {
		return fmt.Errorf("name %q must start and end with a letter, digit or '_'", part)
	}
	return nil
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// ValidateFilename returns an error unless filename is a relative,
// '/'-separated path inside a repository that stays inside the cache
// directory on every operating system. It rejects empty names, absolute
// paths, '\' separators, Windows drive prefixes such as "C:", and empty, "."
// or ".." segments.
func ValidateFilename(filename string) error {
	if err := validateRelativePath(filename); err != nil {
		return fmt.Errorf("hub: invalid filename %q: %w", filename, err)
	}
	return nil
}

// validateRevision applies the filename rules because the cache stores the
// revision as a path under refs/, and a branch such as "refs/pr/1" contains
// slashes.
func validateRevision(revision string) error {
	if err := validateRelativePath(revision); err != nil {
		return fmt.Errorf("hub: invalid revision %q: %w", revision, err)
	}
	return nil
}

func validateRelativePath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("empty")
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("absolute path")
	case strings.ContainsRune(p, '\\'):
		return fmt.Errorf("contains '\\', which Windows treats as a path separator")
	case strings.ContainsRune(p, 0):
		return fmt.Errorf("contains a NUL byte")
	}
	for _, segment := range strings.Split(p, "/") {
		switch {
		case segment == "":
			return fmt.Errorf("empty path segment")
		case segment == "." || segment == "..":
			return fmt.Errorf("contains a %q path segment", segment)
		case len(segment) >= 2 && segment[1] == ':' && isASCIILetter(segment[0]):
			return fmt.Errorf("segment %q starts with a Windows drive prefix", segment)
		}
	}
	return nil
}

func isASCIILetter(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// isCommitHash reports whether s is a full lowercase hex git commit id:
// 40 digits for SHA-1 repositories, 64 for SHA-256 ones.
func isCommitHash(s string) bool {
	return (len(s) == 40 || len(s) == 64) && isLowerHex(s)
}

// isSHA256Hex reports whether etag is a SHA-256 digest, which is what the hub
// sends as X-Linked-Etag for LFS files.
func isSHA256Hex(etag string) bool {
	return len(etag) == 64 && isLowerHex(etag)
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// validateETag rejects an ETag that is unsafe as a file name under blobs/,
// since the value comes from the server.
func validateETag(etag string) error {
	if etag == "" || etag == "." || etag == ".." || len(etag) > 255 {
		return fmt.Errorf("hub: server sent an unusable ETag %q", etag)
	}
	for i := 0; i < len(etag); i++ {
		c := etag[i]
		if !isWordByte(c) && c != '-' && c != '.' && c != '+' && c != '=' {
			return fmt.Errorf("hub: server sent an ETag %q with a character unsafe in a file name (%q)", etag, c)
		}
	}
	return nil
}
