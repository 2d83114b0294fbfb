// Package backup makes and reads propcredit's backups: a consistent, point-in-time copy of a
// data directory of the embedded engine, taken while a server keeps serving, and its restore.
//
// A backup file is a zstd-compressed tar archive with, in this order:
//
//  1. MANIFEST.json: the format and its version, the database's schema version, the number of
//     documents in each collection, and the size and SHA-256 of every file that follows;
//  2. the files, by their path in the data directory: each engine database as SQLite's own
//     online snapshot of it (VACUUM INTO, on a connection of its own, so that the running
//     engine keeps writing), and every other file of the directory (a ledger's signing key,
//     for example) as it was read;
//
// and after the compressed stream a zstd skippable frame that holds the SHA-256 of every byte
// before it, so that a truncated file or one changed byte is refused before anything is
// unpacked. Standard tools read it too: `zstd -dc FILE | tar -x` (zstd skips the last frame).
package backup

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
)

// Format names the file format in the manifest; FormatVersion is bumped by any change that an
// older reader could not read.
const (
	Format        = "propcredit-backup"
	FormatVersion = 1
	ManifestName  = "MANIFEST.json"
	// Engine names the only engine whose files a backup holds so far.
	Engine = "ferretdb-sqlite"
	// EngineDir is where, inside the data directory, the embedded engine keeps its databases.
	EngineDir = "sqlite"
)

// maxManifest bounds the manifest a reader accepts, so that a foreign file cannot make it
// allocate without limit.
const maxManifest = 4 << 20

// Manifest describes a backup.
type Manifest struct {
	Format        string `json:"format"`
	FormatVersion int    `json:"format_version"`
	// The snapshot holds every write committed before CreatedAt (its read transaction began
	// after) and none that began after SnapshotDone (it had ended by then).
	CreatedAt     time.Time `json:"created_at"`
	SnapshotDone  time.Time `json:"snapshot_done"`
	Program       string    `json:"program"` // the version of propcredit that made it
	Engine        string    `json:"engine"`
	Database      string    `json:"database"`
	SchemaVersion int       `json:"schema_version"`
	// Collections counts the documents of each collection in the snapshot.
	Collections map[string]int64 `json:"collections"`
	Files       []File           `json:"files"`
}

// File is one file of the backup.
type File struct {
	Path   string `json:"path"` // slash-separated, relative to the data directory
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // hex
}

// Size is the total size of the files, uncompressed.
func (m Manifest) Size() int64 {
	var n int64
	for _, f := range m.Files {
		n += f.Size
	}
	return n
}

// Error is a backup file that cannot be used, with the reason in words an operator can act on.
type Error struct {
	File   string
	Reason string
	Err    error // the underlying error, if any
}

func (e *Error) Error() string {
	s := fmt.Sprintf("backup %s: %s", e.File, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// ErrNewerSchema is wrapped by the error for a backup of a newer schema than this program's.
var ErrNewerSchema = errors.New("newer schema")

// check validates a manifest as read from a backup that this program, whose schema version is
// schema, is about to restore.
func (m Manifest) check(schema int) error {
	switch {
	case m.Format != Format:
		return fmt.Errorf("not a propcredit backup (format %q)", m.Format)
	case m.FormatVersion > FormatVersion:
		return fmt.Errorf("backup format version %d is newer than this program's %d; restore it with a newer propcredit", m.FormatVersion, FormatVersion)
	case m.FormatVersion < 1:
		return fmt.Errorf("backup format version %d is not valid", m.FormatVersion)
	case m.SchemaVersion > schema:
		return fmt.Errorf("%w: the backup's database schema version %d is newer than this program's %d; restore it with the propcredit version that made it (%s) or a newer one",
			ErrNewerSchema, m.SchemaVersion, schema, m.Program)
	case m.Engine != Engine:
		return fmt.Errorf("backup of engine %q; this program restores %q", m.Engine, Engine)
	}
	seen := map[string]bool{}
	for _, f := range m.Files {
		if err := checkPath(f.Path); err != nil {
			return err
		}
		if seen[f.Path] {
			return fmt.Errorf("file %s is listed twice", f.Path)
		}
		seen[f.Path] = true
		if f.Size < 0 || len(f.SHA256) != 64 {
			return fmt.Errorf("file %s has no valid size or checksum", f.Path)
		}
	}
	if !seen[EngineDir+"/"+m.Database+".sqlite"] {
		return fmt.Errorf("the backup holds no database %q", m.Database)
	}
	return nil
}

// checkPath refuses a path that would leave the directory it is unpacked into.
func checkPath(p string) error {
	if p == "" || p == ManifestName || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") ||
		path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") {
		return fmt.Errorf("file path %q is not allowed", p)
	}
	return nil
}

func decodeManifest(b []byte) (Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("not a propcredit backup (unreadable manifest: %v)", err)
	}
	return m, nil
}
