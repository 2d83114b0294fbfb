package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/propcredit/propcredit/internal/ferretdb"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
)

const testDB = "propcredit"

// engineDir starts the embedded engine on a new data directory, with a schema document, n
// ratings and a key file beside the engine's files, as a server's directory has.
func engineDir(t *testing.T, n int) (dir string, c *mongo.Client) {
	t.Helper()
	ctx := context.Background()
	dir = t.TempDir()
	c, _ = mongodbtest.EngineOn(t, dir)
	db := c.Database(testDB)
	if _, err := db.Collection("meta").InsertOne(ctx, bson.D{{Key: "_id", Value: "schema"}, {Key: "version", Value: 2}}); err != nil {
		t.Fatal(err)
	}
	docs := make([]any, n)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: fmt.Sprintf("r%06d", i)}, {Key: "comment", Value: "保洁很及时"}}
	}
	if n > 0 {
		if _, err := db.Collection("ratings").InsertMany(ctx, docs); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "ledger"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ledger", "signing.key"), []byte("secret key bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "LOCK"), []byte("pid 1 serve\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, c
}

func options_(dir, out string) Options {
	return Options{DataDir: dir, Database: testDB, Out: out, Program: "test", Skip: []string{"LOCK", ferretdb.SocketName}}
}

// TestCreateWhileWriting backs up a directory whose engine keeps inserting, and checks the
// snapshot: everything acknowledged before the backup began is in it, nothing sent after it
// ended (a writer descheduled between an insert and its clock may see an earlier insert
// acknowledged late), its counts are the snapshot's own, the key file is in it, the lock and socket are not.
func TestCreateWhileWriting(t *testing.T) {
	ctx := context.Background()
	dir, c := engineDir(t, 500)
	coll := c.Database(testDB).Collection("ratings")
	var (
		mu       sync.Mutex
		acked    []string
		ackedAt  []time.Time // when the insert returned
		sentAt   []time.Time // when it was sent: one sent after the backup ended cannot be in it
		stop     atomic.Bool
		wg       sync.WaitGroup
		inserted atomic.Int64
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				id := fmt.Sprintf("w%d-%06d", w, i)
				sent := time.Now()
				if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
					t.Error(err)
					return
				}
				inserted.Add(1)
				mu.Lock()
				acked, ackedAt, sentAt = append(acked, id), append(ackedAt, time.Now()), append(sentAt, sent)
				mu.Unlock()
			}
		}()
	}
	for inserted.Load() < 50 {
		time.Sleep(5 * time.Millisecond)
	}
	out := filepath.Join(t.TempDir(), "b.pcbackup")
	began := time.Now()
	m, err := Create(ctx, options_(dir, out))
	ended := time.Now()
	time.Sleep(50 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}

	r, err := Open(out, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	restored := t.TempDir()
	if err := r.Extract(restored, nil); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range r.Manifest.Files {
		paths = append(paths, f.Path)
	}
	if diff := cmp.Diff([]string{"sqlite/propcredit.sqlite", "ledger/signing.key"}, paths); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if key, err := os.ReadFile(filepath.Join(restored, "ledger", "signing.key")); string(key) != "secret key bytes" {
		t.Errorf("key file restored as %q, %v", key, err)
	}

	c2, _ := mongodbtest.EngineOn(t, restored)
	have := map[string]bool{}
	docs := mongodbtest.IDs(t, c2.Database(testDB).Collection("ratings"))
	for _, id := range docs {
		have[id] = true
	}
	if int64(len(docs)) != m.Collections["ratings"] || m.SchemaVersion != 2 {
		t.Errorf("manifest says %d ratings, schema %d; the snapshot has %d", m.Collections["ratings"], m.SchemaVersion, len(docs))
	}
	before, after := 0, 0
	for i, id := range acked {
		switch {
		case ackedAt[i].Before(began) && !have[id]:
			t.Errorf("%s acknowledged before the backup began is missing", id)
		case ackedAt[i].Before(began):
			before++
		case sentAt[i].After(ended) && have[id]:
			t.Errorf("%s sent after the backup ended is in it", id)
		case sentAt[i].After(ended):
			after++
		}
	}
	if before == 0 || after == 0 {
		t.Errorf("the test saw %d inserts before the backup and %d after; it needs both", before, after)
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 1 {
		t.Errorf("beside the backup: %v, want the backup alone (no staging left)", entries)
	}
}

// writeArchive writes an archive with the given manifest and files (path -> contents), as
// Write does, but with whatever manifest the test wants.
func writeArchive(t *testing.T, m Manifest, files map[string]string) []byte {
	t.Helper()
	root := t.TempDir()
	for i, f := range m.Files {
		p := filepath.Join(root, filepath.FromSlash(f.Path))
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte(files[f.Path]), 0o600); err != nil {
			t.Fatal(err)
		}
		sf, err := sumFile(root, f.Path)
		if err != nil {
			t.Fatal(err)
		}
		m.Files[i].Size = sf.Size
		if m.Files[i].SHA256 == "" {
			m.Files[i].SHA256 = sf.SHA256
		}
	}
	var buf bytes.Buffer
	if err := Write(&buf, root, m, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func goodManifest() Manifest {
	return Manifest{Format: Format, FormatVersion: FormatVersion, Engine: Engine, Database: testDB, SchemaVersion: 2, Program: "test",
		Files: []File{{Path: "sqlite/propcredit.sqlite"}, {Path: "ledger/signing.key"}}}
}

var goodFiles = map[string]string{"sqlite/propcredit.sqlite": strings.Repeat("SQLite format 3\x00 pages ", 200), "ledger/signing.key": "key"}

func openBytes(t *testing.T, b []byte) error {
	t.Helper()
	p := filepath.Join(t.TempDir(), "b.pcbackup")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Open(p, 2)
	if err != nil {
		return err
	}
	defer r.Close()
	return r.Extract(t.TempDir(), nil)
}

// TestOpenRefuses feeds Open and Extract files that must be refused, each with its reason.
func TestOpenRefuses(t *testing.T) {
	good := writeArchive(t, goodManifest(), goodFiles)
	if err := openBytes(t, good); err != nil {
		t.Fatalf("the good archive: %v", err)
	}
	newer := goodManifest()
	newer.SchemaVersion = 3
	newerFormat := goodManifest()
	newerFormat.FormatVersion = FormatVersion + 1
	foreign := goodManifest()
	foreign.Format = "something-else"
	escape := goodManifest()
	escape.Files = append(escape.Files, File{Path: "../outside"})
	lying := goodManifest()
	lying.Files[1].SHA256 = strings.Repeat("0", 64)
	for _, tc := range []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "not a propcredit backup"},
		{"text", []byte("hello, this is not a backup at all, but it is long enough to have an end"), "not a propcredit backup"},
		{"truncated by half", good[:len(good)/2], "truncated"},
		{"truncated by one byte", good[:len(good)-1], "truncated"},
		{"one byte appended", append(append([]byte{}, good...), 0), "truncated"},
		{"newer schema", writeArchive(t, newer, goodFiles), "schema version 3 is newer than this program's 2"},
		{"newer format", writeArchive(t, newerFormat, goodFiles), "format version 2 is newer"},
		{"foreign manifest", writeArchive(t, foreign, goodFiles), "not a propcredit backup"},
		{"path outside", writeArchive(t, escape, map[string]string{"../outside": "x", "sqlite/propcredit.sqlite": "x", "ledger/signing.key": "k"}), "not allowed"},
		{"file checksum wrong", writeArchive(t, lying, goodFiles), "ledger/signing.key is corrupted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := openBytes(t, tc.file)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if !IsBackupError(err) {
				t.Errorf("%v is not a backup error", err)
			}
		})
	}
}

// TestEveryByteMatters changes each byte of a backup in turn: every change is refused.
func TestEveryByteMatters(t *testing.T) {
	good := writeArchive(t, goodManifest(), goodFiles)
	dir := t.TempDir()
	p := filepath.Join(dir, "b.pcbackup")
	for i := range good {
		bad := append([]byte{}, good...)
		bad[i] ^= 0x01
		if err := os.WriteFile(p, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := Open(p, 2)
		if err == nil {
			err = r.Verify()
			r.Close()
		}
		if err == nil {
			t.Fatalf("byte %d of %d changed: the backup was accepted", i, len(good))
		}
	}
}

// failingWriter fails with ENOSPC once it has taken room bytes, as a full disk does.
type failingWriter struct {
	room    int
	written int
	closed  bool
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.written+len(p) > w.room {
		n := w.room - w.written
		w.written = w.room
		return n, &os.PathError{Op: "write", Path: "disk", Err: syscall.ENOSPC}
	}
	w.written += len(p)
	return len(p), nil
}
func (w *failingWriter) Sync() error  { return nil }
func (w *failingWriter) Close() error { w.closed = true; return nil }

// TestCreateFullDisk fills the disk at several points of writing the backup: each time
// Create fails with the disk's error, and leaves neither the backup nor anything staged.
func TestCreateFullDisk(t *testing.T) {
	dir, _ := engineDir(t, 2000)
	saved := createFile
	defer func() { createFile = saved }()
	// How much room the whole backup takes: Write makes the same bytes but for the time.
	var size int
	createFile = func(name string) (writeSyncCloser, error) {
		fw := &failingWriter{room: 1 << 30}
		size = -1
		return &sizeRecorder{fw, &size}, nil
	}
	if _, err := Create(context.Background(), options_(dir, filepath.Join(t.TempDir(), "b"))); err == nil || size <= 0 {
		t.Fatalf("measuring the size: %v, %d", err, size) // the fake file cannot be linked
	}
	for _, room := range []int{0, 100, size / 2, size - 100} { // sizes vary by a few bytes (the time in the manifest)
		t.Run(fmt.Sprint(room), func(t *testing.T) {
			var fw *failingWriter
			createFile = func(name string) (writeSyncCloser, error) {
				fw = &failingWriter{room: room}
				return fw, nil
			}
			outDir := t.TempDir()
			out := filepath.Join(outDir, "b.pcbackup")
			_, err := Create(context.Background(), options_(dir, out))
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("Create = %v, want ENOSPC", err)
			}
			if !fw.closed {
				t.Error("the file was not closed")
			}
			if entries, _ := os.ReadDir(outDir); len(entries) != 0 {
				t.Errorf("left behind: %v", entries)
			}
		})
	}
}

type sizeRecorder struct {
	*failingWriter
	size *int
}

func (s *sizeRecorder) Close() error { *s.size = s.written; return nil }

// TestExtractFullDisk fills the disk while unpacking: Extract reports the disk's error.
func TestExtractFullDisk(t *testing.T) {
	good := writeArchive(t, goodManifest(), goodFiles)
	p := filepath.Join(t.TempDir(), "b.pcbackup")
	os.WriteFile(p, good, 0o600)
	saved := openNew
	defer func() { openNew = saved }()
	openNew = func(string) (writeSyncCloser, error) { return &failingWriter{room: 1000}, nil }
	r, err := Open(p, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Extract(t.TempDir(), nil); !errors.Is(err, syscall.ENOSPC) || IsBackupError(err) {
		t.Fatalf("Extract = %v, want ENOSPC, not blamed on the backup", err)
	}
}

// TestCreateRefuses: no database, and an existing file at --out.
func TestCreateRefuses(t *testing.T) {
	empty := t.TempDir()
	if _, err := Create(context.Background(), options_(empty, filepath.Join(t.TempDir(), "b"))); err == nil || !strings.Contains(err.Error(), "no database") {
		t.Errorf("empty directory: %v", err)
	}
	dir, _ := engineDir(t, 1)
	out := filepath.Join(t.TempDir(), "b")
	os.WriteFile(out, []byte("keep me"), 0o600)
	if _, err := Create(context.Background(), options_(dir, out)); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("existing file: %v", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "keep me" {
		t.Errorf("the existing file was changed: %q", b)
	}
}

// FuzzOpen: no input makes Open or Verify panic or accept a file without the end marker.
func FuzzOpen(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := openReaderAt("b", bytes.NewReader(b), int64(len(b)), 2)
		if err != nil {
			return
		}
		_ = r.Verify()
		r.Close()
	})
}

var _ io.Writer = (*failingWriter)(nil)

// seal appends a correct end marker to body, so that the fuzzer reaches what lies behind the
// whole-file checksum: the decompressor, the archive and the manifest.
func seal(body []byte) []byte {
	sum := sha256.Sum256(body)
	out := append([]byte{}, body...)
	out = binary.LittleEndian.AppendUint32(out, trailerMagic)
	out = binary.LittleEndian.AppendUint32(out, uint32(trailerLen))
	out = append(out, trailerTag...)
	return append(out, sum[:]...)
}

// FuzzOpenSealed: archives with a valid end marker but any contents are read without a panic,
// and whatever is accepted is exactly what the manifest lists.
func FuzzOpenSealed(f *testing.F) {
	root := f.TempDir()
	os.MkdirAll(filepath.Join(root, "sqlite"), 0o700)
	os.WriteFile(filepath.Join(root, "sqlite", "propcredit.sqlite"), []byte("SQLite format 3\x00"), 0o600)
	sf, _ := sumFile(root, "sqlite/propcredit.sqlite")
	m := goodManifest()
	m.Files = []File{sf}
	var buf bytes.Buffer
	if err := Write(&buf, root, m, nil); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes()[:buf.Len()-8-trailerLen])
	// In memory: a file written and opened per input cost more than the rest (Go's fuzzer
	// minimizes each new input with thousands of runs, and a file per run made that take
	// minutes on a loaded machine).
	f.Fuzz(func(t *testing.T, body []byte) {
		sealed := seal(body)
		r, err := openReaderAt("b", bytes.NewReader(sealed), int64(len(sealed)), 2)
		if err != nil {
			return
		}
		defer r.Close()
		// What Each accepts is exactly what the manifest lists (Extract writes the same
		// bytes, with an fsync per file, too slow to fuzz).
		var got []File
		err = r.Each(func(f File, c io.Reader) error {
			h := sha256.New()
			n, err := io.Copy(h, c)
			got = append(got, File{Path: f.Path, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))})
			return err
		})
		if err != nil {
			return
		}
		if diff := cmp.Diff(r.Manifest.Files, got); diff != "" {
			t.Fatalf("accepted files differ from the manifest (-manifest +read):\n%s", diff)
		}
	})
}
