package backup

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/zstd"
)

// The end marker: a zstd skippable frame (magic, length) whose content is a tag and the
// SHA-256 of every byte of the file before the frame.
const (
	trailerMagic = 0x184D2A5E
	trailerTag   = "PCBACKUP"
	trailerLen   = len(trailerTag) + sha256.Size // the frame's content, after its 8-byte header
)

// Write writes the backup of the files that m lists, read from root, to w: the manifest, the
// files, and the end marker. progress, if not nil, is told how many bytes of the files have been
// written so far. Write does not sync or close w.
func Write(w io.Writer, root string, m Manifest, progress func(done int64)) error {
	sum := sha256.New()
	out := io.MultiWriter(w, sum)
	zw, err := zstd.NewWriter(out, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			zw.Close() // a second Close would write again
		}
	}()
	tw := tar.NewWriter(zw)
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: ManifestName, Mode: 0o600, Size: int64(len(mb)), ModTime: m.CreatedAt, Format: tar.FormatPAX}); err != nil {
		return err
	}
	if _, err := tw.Write(mb); err != nil {
		return err
	}
	var done int64
	for _, f := range m.Files {
		if err := writeFile(tw, root, f, m, &done, progress); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	closed = true
	if err := zw.Close(); err != nil {
		return err
	}
	trailer := make([]byte, 0, 8+trailerLen)
	trailer = binary.LittleEndian.AppendUint32(trailer, trailerMagic)
	trailer = binary.LittleEndian.AppendUint32(trailer, uint32(trailerLen))
	trailer = append(trailer, trailerTag...)
	trailer = sum.Sum(trailer)
	_, err = w.Write(trailer)
	return err
}

func writeFile(tw *tar.Writer, root string, f File, m Manifest, done *int64, progress func(int64)) error {
	src, err := os.Open(filepath.Join(root, filepath.FromSlash(f.Path)))
	if err != nil {
		return err
	}
	defer src.Close()
	if err := tw.WriteHeader(&tar.Header{Name: f.Path, Mode: 0o600, Size: f.Size, ModTime: m.CreatedAt, Format: tar.FormatPAX}); err != nil {
		return err
	}
	werr, rerr := copyCounted(tw, src, func(n int) {
		*done += int64(n)
		if progress != nil {
			progress(*done)
		}
	})
	if werr != nil {
		return fmt.Errorf("write %s: %w", f.Path, werr)
	}
	if rerr != nil {
		return fmt.Errorf("read %s: %w", f.Path, rerr)
	}
	return nil
}

// copyCounted copies src to dst in pieces of 1 MiB, telling counted the size of each piece
// written, so that a long copy shows its progress. It returns the first error writing or
// reading, apart.
func copyCounted(dst io.Writer, src io.Reader, counted func(n int)) (werr, rerr error) {
	buf := make([]byte, 1<<20)
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			if _, err := dst.Write(buf[:n]); err != nil {
				return err, nil
			}
			counted(n)
		}
		if rerr == io.EOF {
			return nil, nil
		}
		if rerr != nil {
			return nil, rerr
		}
	}
}

// Reader reads a backup file: Open checks the whole file's checksum and reads the manifest;
// Each then hands over the files one by one, checking each against the manifest.
type Reader struct {
	path     string
	src      io.ReaderAt // the file
	closer   io.Closer   // the file, or nil
	zr       *zstd.Decoder
	tr       *tar.Reader
	Manifest Manifest
}

func (r *Reader) errorf(err error, format string, args ...any) error {
	return &Error{File: r.path, Reason: fmt.Sprintf(format, args...), Err: err}
}

// Open opens the backup at path for a program whose schema version is schema. It refuses a
// foreign, truncated or corrupted file, and a backup of a newer schema, before anything is
// unpacked.
func Open(path string, schema int) (*Reader, error) {
	r := &Reader{path: path}
	f, err := os.Open(path)
	if err != nil {
		return nil, r.errorf(err, "cannot open it")
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, r.errorf(err, "cannot read it")
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, r.errorf(nil, "not a regular file")
	}
	r.src, r.closer = f, f
	if err := r.open(schema, st.Size()); err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// openReaderAt is Open on size bytes of src, named path in errors.
func openReaderAt(path string, src io.ReaderAt, size int64, schema int) (*Reader, error) {
	r := &Reader{path: path, src: src}
	if err := r.open(schema, size); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Reader) open(schema int, size int64) error {
	head := make([]byte, 4)
	if _, err := r.src.ReadAt(head, 0); err != nil || binary.LittleEndian.Uint32(head) != 0xFD2FB528 {
		return r.errorf(nil, "not a propcredit backup (it does not start as a zstd-compressed archive)")
	}
	end := make([]byte, 8+trailerLen)
	if size < int64(4+len(end)) {
		return r.errorf(nil, "the file is truncated (%d bytes, no end marker)", size)
	}
	if _, err := r.src.ReadAt(end, size-int64(len(end))); err != nil {
		return r.errorf(err, "cannot read its end")
	}
	if binary.LittleEndian.Uint32(end) != trailerMagic || binary.LittleEndian.Uint32(end[4:]) != uint32(trailerLen) ||
		string(end[8:8+len(trailerTag)]) != trailerTag {
		return r.errorf(nil, "the file is truncated, was not finished, or is not a propcredit backup (no end marker); it cannot be used")
	}
	body := size - int64(len(end))
	sum := sha256.New()
	if _, err := io.Copy(sum, io.NewSectionReader(r.src, 0, body)); err != nil {
		return r.errorf(err, "cannot read it")
	}
	if !bytes.Equal(sum.Sum(nil), end[8+len(trailerTag):]) {
		return r.errorf(nil, "the file is corrupted: its checksum does not match its contents (a changed or missing byte); it cannot be used")
	}
	zr, err := zstd.NewReader(io.NewSectionReader(r.src, 0, body), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(64<<20)) // Write's window is 8 MB at most
	if err != nil {
		return r.errorf(err, "cannot decompress it")
	}
	r.zr = zr
	r.tr = tar.NewReader(zr)
	h, err := r.tr.Next()
	if err != nil {
		return r.errorf(err, "not a propcredit backup (no archive inside)")
	}
	if h.Name != ManifestName || h.Size > maxManifest {
		return r.errorf(nil, "not a propcredit backup (it does not begin with %s)", ManifestName)
	}
	mb, err := io.ReadAll(r.tr)
	if err != nil {
		return r.errorf(err, "cannot read the manifest")
	}
	m, err := decodeManifest(mb)
	if err != nil {
		return r.errorf(nil, "%v", err)
	}
	if err := m.check(schema); err != nil {
		return r.errorf(err, "cannot be restored")
	}
	r.Manifest = m
	return nil
}

// Each calls fn for every file of the backup, in the manifest's order, with its contents. fn
// must read the reader to its end. Each checks every file's size and checksum, and that the
// archive holds exactly the manifest's files; fn's work on a file whose checksum turns out
// wrong must be thrown away by the caller, which gets an error.
func (r *Reader) Each(fn func(f File, contents io.Reader) error) error {
	for i, f := range r.Manifest.Files {
		h, err := r.tr.Next()
		if err != nil {
			return r.errorf(err, "file %d of %d (%s) is missing", i+1, len(r.Manifest.Files), f.Path)
		}
		if h.Name != f.Path || h.Size != f.Size || h.Typeflag != tar.TypeReg {
			return r.errorf(nil, "the archive holds %q (%d bytes) where the manifest lists %q (%d bytes)", h.Name, h.Size, f.Path, f.Size)
		}
		sum := sha256.New()
		if err := fn(f, io.TeeReader(r.tr, sum)); err != nil {
			return err
		}
		if got := hex.EncodeToString(sum.Sum(nil)); got != f.SHA256 {
			return r.errorf(nil, "file %s is corrupted: SHA-256 %s, the manifest says %s", f.Path, got, f.SHA256)
		}
	}
	if h, err := r.tr.Next(); err != io.EOF {
		if err == nil {
			return r.errorf(nil, "the archive holds %q, which the manifest does not list", h.Name)
		}
		return r.errorf(err, "the archive does not end properly")
	}
	if _, err := io.Copy(io.Discard, r.zr); err != nil {
		return r.errorf(err, "the compressed stream does not end properly")
	}
	return nil
}

// Verify reads every file of the backup and checks it, writing nothing.
func (r *Reader) Verify() error {
	return r.Each(func(_ File, c io.Reader) error {
		_, err := io.Copy(io.Discard, c)
		return err
	})
}

// Close closes the file.
func (r *Reader) Close() error {
	if r.zr != nil {
		r.zr.Close()
	}
	if r.closer == nil {
		return nil
	}
	return r.closer.Close()
}

// IsBackupError reports whether err says that a backup file cannot be used (as opposed to, for
// example, a full disk while restoring it).
func IsBackupError(err error) bool {
	var be *Error
	return errors.As(err, &be)
}
