package hub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// repoCache is the cache folder of one model repository,
// {CacheDir}/models--{namespace}--{name}.
type repoCache struct {
	dir string
}

// repoCache returns the folder for repoID. The folder name replaces each '/'
// with "--", as repo_folder_name in huggingface_hub 1.29 does; ValidateRepoID
// rejects ids that contain "--", so the mapping is reversible.
func (c *Client) repoCache(repoID string) repoCache {
	name := "models--" + strings.ReplaceAll(repoID, "/", "--")
	return repoCache{dir: filepath.Join(c.CacheDir, name)}
}

func (r repoCache) snapshotPath(commit, filename string) string {
	return filepath.Join(r.dir, "snapshots", commit, filepath.FromSlash(filename))
}

func (r repoCache) blobPath(etag string) string {
	return filepath.Join(r.dir, "blobs", etag)
}

func (r repoCache) refPath(revision string) string {
	return filepath.Join(r.dir, "refs", filepath.FromSlash(revision))
}

func (r repoCache) missingMarkerPath(commit, filename string) string {
	return filepath.Join(r.dir, ".no_exist", commit, filepath.FromSlash(filename))
}

// lookup returns the snapshot path of filename when the cache has it for
// revision, ErrEntryNotFound when the cache records that the file does not
// exist at that commit, and "", nil otherwise. A branch or tag is resolved
// through refs/{revision}.
func (r repoCache) lookup(revision, filename string) (string, error) {
	commit := revision
	if !isCommitHash(revision) {
		data, err := os.ReadFile(r.refPath(revision))
		if err != nil {
			return "", nil
		}
		commit = strings.TrimSpace(string(data))
		if !isCommitHash(commit) {
			return "", nil
		}
	}

	if path := r.snapshotPath(commit, filename); fileExists(path) {
		return path, nil
	}
	if fileExists(r.missingMarkerPath(commit, filename)) {
		return "", ErrEntryNotFound
	}
	return "", nil
}

// writeRef stores commit in refs/{revision}, replacing the file atomically so
// that a concurrent reader never sees a partial id. It leaves an up-to-date
// ref untouched, so a read-only cache keeps working.
func (r repoCache) writeRef(revision, commit string) error {
	path := r.refPath(revision)
	if current, err := os.ReadFile(path); err == nil && string(current) == commit {
		return nil
	}
	return writeFileAtomic(path, []byte(commit))
}

// recordMissing creates the empty marker .no_exist/{commit}/{filename} with
// which huggingface_hub records a file that the hub reported missing, and
// points refs/{revision} at commit. Failures are logged only, because the
// marker just saves a request next time.
func (r repoCache) recordMissing(revision, commit, filename string, log *slog.Logger) {
	marker := r.missingMarkerPath(commit, filename)
	if err := writeFileAtomic(marker, nil); err != nil {
		log.Warn("hub: cannot record the missing file in the cache", "err", err)
		return
	}
	if revision != commit {
		if err := r.writeRef(revision, commit); err != nil {
			log.Warn("hub: cannot record the revision in the cache", "err", err)
		}
	}
}

// Indirections for tests that simulate file systems without link support.
var (
	symlink  = os.Symlink
	hardLink = os.Link
)

// linkSnapshot creates snapshots/{commit}/{filename} as a relative symlink to
// blobs/{etag}, so that the cache folder can move as a whole. Where symlinks
// fail (Windows without developer mode, some network file systems), it makes
// a hard link, and where that fails too, a copy. Python reads all three the
// same way.
func (r repoCache) linkSnapshot(commit, filename, etag string, log *slog.Logger) error {
	pointer := r.snapshotPath(commit, filename)
	blob := r.blobPath(etag)
	if err := os.MkdirAll(filepath.Dir(pointer), 0o755); err != nil {
		return fmt.Errorf("hub: create snapshot folder: %w", err)
	}
	target, err := filepath.Rel(filepath.Dir(pointer), blob)
	if err != nil {
		return fmt.Errorf("hub: link %s: %w", pointer, err)
	}

	// A stale entry, such as a symlink whose blob was deleted, would make
	// the link calls fail.
	if err := os.Remove(pointer); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("hub: replace snapshot entry: %w", err)
	}

	symlinkErr := symlink(target, pointer)
	if symlinkErr == nil {
		return nil
	}
	log.Debug("hub: symlink failed, trying a hard link", "path", pointer, "err", symlinkErr)
	linkErr := hardLink(blob, pointer)
	if linkErr == nil {
		return nil
	}
	log.Debug("hub: hard link failed, copying the blob", "path", pointer, "err", linkErr)
	if err := copyFile(blob, pointer); err != nil {
		return fmt.Errorf("hub: create snapshot entry %s: symlink failed (%v), hard link failed (%v), copy failed: %w",
			pointer, symlinkErr, linkErr, err)
	}
	return nil
}

func fileExists(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular()
}

// writeFileAtomic writes data to a temporary file next to path and renames
// it over path, creating the parent folders.
func writeFileAtomic(path string, data []byte) error {
	return replaceFile(path, bytes.NewReader(data))
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return replaceFile(dst, in)
}

func replaceFile(path string, content io.Reader) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// os.CreateTemp would make the file 0600. Mode 0666 lets the umask
	// decide, as for any other file the process creates.
	tmpName := filepath.Join(dir, fmt.Sprintf(".%s.%016x.tmp", filepath.Base(path), rand.Uint64()))
	tmp, err := os.OpenFile(tmpName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return err
	}
	_, copyErr := io.Copy(tmp, content)
	closeErr := tmp.Close()
	if err := errors.Join(copyErr, closeErr); err != nil {
		os.Remove(tmpName)
		return err
	}
	if err := os.Rename(tmpName, path); err != nil {
		os.Remove(tmpName)
		return err
	}
	return nil
}

// blobLocks serializes downloads of the same blob within this process. Each
// value is a channel with a buffer of one. Sending into it acquires the lock
// and receiving from it releases the lock.
//
// NOTE: nothing locks against other processes, which would append to the
// same .incomplete file. The size and SHA-256 checks catch the resulting
// corruption for LFS files, and the size check only partly for others.
var blobLocks sync.Map

// lockBlob waits for exclusive use of path, or for ctx to end.
func lockBlob(ctx context.Context, path string) (unlock func(), err error) {
	value, _ := blobLocks.LoadOrStore(path, make(chan struct{}, 1))
	lock := value.(chan struct{})
	select {
	case lock <- struct{}{}:
		return func() { <-lock }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
