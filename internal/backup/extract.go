package backup

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// openNew creates a file that must not exist; tests replace it to simulate a full disk.
var openNew = func(name string) (writeSyncCloser, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
}

// Extract unpacks every file of the backup into dir, which must exist and be empty, checking
// each against the manifest, and syncs the files and the directories. On an error, dir holds
// whatever was written so far: the caller unpacks into a staging directory and removes it.
// progress, if not nil, is told how many bytes have been written, of total.
func (r *Reader) Extract(dir string, progress func(done, total int64)) error {
	total := r.Manifest.Size()
	var done int64
	dirs := map[string]bool{dir: true}
	err := r.Each(func(f File, contents io.Reader) error {
		dst := filepath.Join(dir, filepath.FromSlash(f.Path))
		parent := filepath.Dir(dst)
		if !dirs[parent] {
			if err := os.MkdirAll(parent, 0o700); err != nil {
				return err
			}
			dirs[parent] = true
		}
		out, err := openNew(dst)
		if err != nil {
			return err
		}
		werr, rerr := copyCounted(out, contents, func(n int) {
			done += int64(n)
			if progress != nil {
				progress(done, total)
			}
		})
		if werr != nil {
			out.Close()
			return werr // names the file
		}
		if rerr != nil {
			out.Close()
			return r.errorf(rerr, "cannot read %s from it", f.Path)
		}
		if err := out.Sync(); err != nil {
			out.Close()
			return fmt.Errorf("sync %s: %w", dst, err)
		}
		return out.Close()
	})
	if err != nil {
		return err
	}
	for d := range dirs {
		if err := SyncDir(d); err != nil {
			return err
		}
	}
	return nil
}
