package backup

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // the driver FerretDB itself uses
)

// Options says what to back up and where.
type Options struct {
	DataDir  string // the data directory of the embedded engine
	Database string // the database the program uses (its file is EngineDir/Database.sqlite)
	Out      string // the backup file to write; it must not exist
	Program  string // the program's version, recorded in the manifest
	// Skip lists names, relative to DataDir, of files and directories that are not data: the
	// lock, the engine's socket, a backup directory inside the data directory.
	Skip []string
	// StageDir is where the snapshot is staged before it is compressed: a memory file system
	// keeps the server's disk free for its own commits (see StageDirFor). Empty: beside Out.
	StageDir string
	// Progress, if not nil, is told how many bytes of the snapshot have been written, of total.
	Progress func(done, total int64)
	Log      *slog.Logger
}

// Create writes a backup of the data directory to opts.Out while the engine keeps running:
// each engine database is copied with SQLite's VACUUM INTO on a connection of its own, which
// reads one consistent snapshot of the database (as of the moment its read transaction began)
// while the engine commits in its write-ahead log; the other files of the directory are copied
// as they are. The snapshot and the copies are staged in a directory beside opts.Out, checked
// and summed, then written as one compressed archive to a temporary name, synced, and renamed
// to opts.Out, whose directory is synced too. Only then does Create return nil: a failed or
// interrupted backup leaves no file at opts.Out.
func Create(ctx context.Context, opts Options) (Manifest, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	m := Manifest{Format: Format, FormatVersion: FormatVersion, Program: opts.Program, Engine: Engine, Database: opts.Database}
	engineDir := filepath.Join(opts.DataDir, EngineDir)
	main := filepath.Join(engineDir, opts.Database+".sqlite")
	if _, err := os.Stat(main); err != nil {
		return m, fmt.Errorf("no database in %s (%v): is it a propcredit data directory of the embedded engine?", opts.DataDir, err)
	}
	if _, err := os.Lstat(opts.Out); err == nil {
		return m, fmt.Errorf("%s exists already; choose a new file name", opts.Out)
	}
	stageIn := opts.StageDir
	if stageIn == "" {
		stageIn = filepath.Dir(opts.Out)
	}
	stage, err := os.MkdirTemp(stageIn, ".propcredit-backup-")
	if err != nil {
		return m, fmt.Errorf("create a staging directory in %s: %w", stageIn, err)
	}
	defer os.RemoveAll(stage)

	dbs, err := filepath.Glob(filepath.Join(engineDir, "*.sqlite"))
	if err != nil {
		return m, err
	}
	if err := os.Mkdir(filepath.Join(stage, EngineDir), 0o700); err != nil {
		return m, err
	}
	// The main database first, so that the time recorded is its snapshot's.
	slices.SortFunc(dbs, func(a, b string) int {
		switch {
		case a == main && b != main:
			return -1
		case b == main && a != main:
			return 1
		}
		return strings.Compare(a, b)
	})
	for i, src := range dbs {
		dst := filepath.Join(stage, EngineDir, filepath.Base(src))
		t0 := time.Now()
		if i == 0 {
			m.CreatedAt = t0.UTC()
		}
		if err := snapshot(ctx, src, dst); err != nil {
			return m, err
		}
		opts.Log.Info("backup: database snapshot taken", "database", filepath.Base(src), "seconds", time.Since(t0).Seconds())
		if i == 0 {
			m.SnapshotDone = time.Now().UTC()
		}
	}
	if m.SchemaVersion, m.Collections, err = Inspect(ctx, filepath.Join(stage, EngineDir, opts.Database+".sqlite")); err != nil {
		return m, err
	}
	others, err := copyOthers(opts.DataDir, stage, opts)
	if err != nil {
		return m, err
	}
	for _, p := range append(relNames(stage, dbs), others...) {
		f, err := sumFile(stage, p)
		if err != nil {
			return m, err
		}
		m.Files = append(m.Files, f)
	}
	if err := writeAtomically(opts.Out, func(w io.Writer) error {
		total := m.Size()
		return Write(w, stage, m, func(done int64) {
			if opts.Progress != nil {
				opts.Progress(done, total)
			}
		})
	}); err != nil {
		return m, err
	}
	return m, nil
}

func relNames(stage string, dbs []string) []string {
	out := make([]string, len(dbs))
	for i, d := range dbs {
		out[i] = EngineDir + "/" + filepath.Base(d)
	}
	return out
}

// StageDirFor picks where to stage the snapshot of dataDir: /dev/shm, a memory file system,
// when it has room for twice the engine's files, so that writing the snapshot does not compete
// with the server's commits for the disk (measured: bench/README.md, "Backups"); else "" (beside
// the backup file).
func StageDirFor(dataDir string) string {
	const shm = "/dev/shm"
	var need int64
	files, _ := filepath.Glob(filepath.Join(dataDir, EngineDir, "*.sqlite"))
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			need += 2 * st.Size()
		}
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(shm, &fs); err != nil || int64(fs.Bavail)*fs.Bsize < need {
		return ""
	}
	if err := writable(shm); err != nil {
		return ""
	}
	return shm
}

func writable(dir string) error {
	f, err := os.CreateTemp(dir, ".propcredit-probe-")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// snapshot copies the SQLite database src to dst with VACUUM INTO, on a connection of its own.
// VACUUM INTO runs in one read transaction: in WAL mode it sees every transaction committed
// before it began and none after, and it does not stop the engine from committing.
func snapshot(ctx context.Context, src, dst string) error {
	db, err := sql.Open("sqlite", "file:"+src+"?_pragma=busy_timeout(30000)")
	if err != nil {
		return fmt.Errorf("open %s: %w", src, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return fmt.Errorf("snapshot %s into %s: %w", src, filepath.Dir(dst), err)
	}
	return db.Close()
}

// Inspect reads the schema version and the number of documents of every collection from an
// embedded engine's database file that no engine is running on (a snapshot, a restored copy),
// through FerretDB's own tables: the collections table maps each collection to its SQLite
// table, whose rows are the documents. It counts without decoding a document.
func Inspect(ctx context.Context, path string) (schema int, counts map[string]int64, err error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return 0, nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT name, table_name FROM _ferretdb_collections`)
	if err != nil {
		return 0, nil, fmt.Errorf("list the snapshot's collections: %w", err)
	}
	tables := map[string]string{}
	for rows.Next() {
		var name, table string
		if err := rows.Scan(&name, &table); err != nil {
			rows.Close()
			return 0, nil, err
		}
		tables[name] = table
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, nil, err
	}
	counts = map[string]int64{}
	for name, table := range tables {
		var n int64
		if err := db.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM %q`, table)).Scan(&n); err != nil {
			return 0, nil, fmt.Errorf("count %s: %w", name, err)
		}
		counts[name] = n
	}
	if meta, ok := tables["meta"]; ok {
		var v sql.NullInt64
		err := db.QueryRowContext(ctx, fmt.Sprintf(`SELECT _ferretdb_sjson->>'$.version' FROM %q WHERE _ferretdb_sjson->>'$._id' = 'schema'`, meta)).Scan(&v)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, nil, fmt.Errorf("read the snapshot's schema version: %w", err)
		}
		schema = int(v.Int64)
	}
	return schema, counts, nil
}

// copyOthers copies every regular file of the data directory that is not the engine's, not
// skipped, and not the backup being written, into stage; it returns their relative names.
func copyOthers(dataDir, stage string, opts Options) ([]string, error) {
	skip := map[string]bool{EngineDir: true}
	for _, s := range opts.Skip {
		skip[filepath.ToSlash(filepath.Clean(s))] = true
	}
	absStage, _ := filepath.Abs(stage)
	absOut, _ := filepath.Abs(opts.Out)
	var names []string
	err := filepath.WalkDir(dataDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dataDir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		abs, _ := filepath.Abs(p)
		if skip[rel] || abs == absStage || abs == absOut || strings.HasPrefix(filepath.Base(p), ".propcredit-backup-") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil // directories are made as needed; sockets and links are not data
		}
		if err := copyFile(p, filepath.Join(stage, filepath.FromSlash(rel))); err != nil {
			return fmt.Errorf("copy %s: %w", rel, err)
		}
		names = append(names, rel)
		return nil
	})
	return names, err
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func sumFile(root, rel string) (File, error) {
	f, err := os.Open(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return File{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return File{}, fmt.Errorf("read %s: %w", rel, err)
	}
	return File{Path: rel, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// createFile opens a new file for writing; tests replace it to simulate a full disk.
var createFile = func(name string) (writeSyncCloser, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
}

type writeSyncCloser interface {
	io.Writer
	Sync() error
	Close() error
}

// writeAtomically writes a new file at path through write: to a temporary name in the same
// directory, synced and closed, then renamed, and the directory synced. On any failure the
// temporary file is removed and nothing is at path.
func writeAtomically(path string, write func(io.Writer) error) (err error) {
	tmp := filepath.Join(filepath.Dir(path), ".propcredit-backup-"+filepath.Base(path)+".partial")
	f, err := createFile(tmp)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write the backup: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync the backup to the disk: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close the backup: %w", err)
	}
	if err := os.Link(tmp, path); err != nil { // never replaces an existing file
		return fmt.Errorf("name the backup %s: %w", path, err)
	}
	os.Remove(tmp)
	return SyncDir(filepath.Dir(path))
}

// SyncDir syncs a directory, so that the names created in it survive a crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
