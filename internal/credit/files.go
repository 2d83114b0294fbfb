package credit

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
)

// Evidence files: PDF, JPEG or PNG, told by their content (the name's extension must agree),
// at most MaxFileBytes each and MaxFiles per form. They are stored in the database in chunks
// and served only to those Readable allows.
const (
	MaxFileBytes = 5 << 20
	MaxFiles     = 5
	// FileChunkBytes is the size of a stored chunk: well under MongoDB's 16 MB document limit,
	// and small enough that the embedded engine writes each in one go.
	FileChunkBytes = 255 << 10
)

// Upload is a file as a form brought it.
type Upload struct {
	Name string
	Data []byte
}

// File is a stored evidence file.
type File struct {
	ID           string    `bson:"_id"`
	Record       string    `bson:"record"`  // the record it belongs to
	Company      string    `bson:"company"` // the company the record is about
	Purpose      string    `bson:"purpose"` // evidence, objection, repair
	Name         string    `bson:"name"`
	Type         string    `bson:"type"` // application/pdf, image/jpeg, image/png
	Size         int64     `bson:"size"`
	SHA256       string    `bson:"sha256"`
	Chunks       int       `bson:"chunks"`
	UploadedBy   string    `bson:"uploaded_by"`
	UploaderRole string    `bson:"uploader_role"`
	At           time.Time `bson:"at"`
}

// File purposes.
const (
	PurposeEvidence   = "evidence"
	PurposeObjection  = "objection"
	PurposeRepair     = "repair"
	PurposeGovernance = "governance"
)

var fileTypes = map[string]string{".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}

// sniff tells the type from the first bytes, or "".
func sniff(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return "application/pdf"
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		return "image/jpeg"
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	}
	return ""
}

// checkUploads checks every upload of a form and returns the error of the first bad one,
// naming field.
func checkUploads(field string, uploads []Upload) error {
	if len(uploads) > MaxFiles {
		return invalid(field, "credit.err.too_many_files")
	}
	for _, u := range uploads {
		if len(u.Data) == 0 {
			return invalid(field, "credit.err.file_empty")
		}
		if len(u.Data) > MaxFileBytes {
			return invalid(field, "credit.err.file_too_large")
		}
		want := fileTypes[strings.ToLower(path.Ext(u.Name))]
		if want == "" {
			return invalid(field, "credit.err.file_type")
		}
		if got := sniff(u.Data); got != want {
			return invalid(field, "credit.err.file_content")
		}
	}
	return nil
}

// cleanName keeps a file name's last element, valid UTF-8, at most 100 characters.
func cleanName(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.ToValidUTF8(name, "")
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	if utf8.RuneCountInString(name) > 100 {
		ext := path.Ext(name)
		name = string([]rune(name)[:100-utf8.RuneCountInString(ext)]) + ext
	}
	return name
}

// storeUploads stores uploads checked by checkUploads and returns their references.
func (s *Service) storeUploads(ctx context.Context, who Actor, r *Record, purpose string, uploads []Upload) ([]FileRef, error) {
	var refs []FileRef
	for _, u := range uploads {
		sum := sha256.Sum256(u.Data)
		f := File{ID: newID("F", s.now()), Record: r.ID, Company: r.Company, Purpose: purpose, Name: cleanName(u.Name),
			Type: sniff(u.Data), Size: int64(len(u.Data)), SHA256: hex.EncodeToString(sum[:]),
			Chunks: (len(u.Data) + FileChunkBytes - 1) / FileChunkBytes, UploadedBy: who.Name, UploaderRole: who.Role, At: s.now().UTC()}
		if err := s.store.PutFile(ctx, f, u.Data); err != nil {
			return nil, err
		}
		refs = append(refs, FileRef{ID: f.ID, Name: f.Name, Type: f.Type, Size: f.Size})
	}
	return refs, nil
}

// Readable reports whether who may download f of record r: staff always; a company account
// only the files of its own company's records, and of a draft record only what it uploaded
// itself (nothing, as companies upload only to notified records). Evaluators and the public
// never.
func Readable(who Actor, f File, r Record) bool {
	switch {
	case who.isStaff():
		return true
	case who.Role != domain.RoleCompany || who.Company == "" || who.Company != f.Company || r.Company != f.Company:
		return false
	case r.Status == domain.EventDraft:
		return f.UploaderRole == domain.RoleCompany
	}
	return true
}

// OpenFile returns a file and its bytes if who may read it; NotFound otherwise, so that nobody
// learns which files exist.
func (s *Service) OpenFile(ctx context.Context, who Actor, id string) (File, []byte, error) {
	notFound := fail(derrors.NotFound, "credit.err.no_file")
	f, err := s.store.FileInfo(ctx, id)
	if derrors.Code(err) == derrors.NotFound {
		return File{}, nil, notFound
	} else if err != nil {
		return File{}, nil, err
	}
	if strings.HasPrefix(f.Record, resultHolder) {
		if !resultFileReadable(who, f) {
			return File{}, nil, notFound
		}
		return s.readFile(ctx, f)
	}
	if claim, ok := strings.CutPrefix(f.Record, "governance:"); ok {
		// A governance declaration's evidence: staff, and the company that declared it.
		c, err := s.store.Claim(ctx, claim)
		if err != nil || !(who.isStaff() || who.Role == domain.RoleCompany && who.Company == c.Company && f.Company == c.Company) {
			return File{}, nil, notFound
		}
		return s.readFile(ctx, f)
	}
	r, err := s.store.CreditRecord(ctx, f.Record)
	if derrors.Code(err) == derrors.NotFound {
		return File{}, nil, notFound
	} else if err != nil {
		return File{}, nil, err
	}
	if !Readable(who, f, r) {
		return File{}, nil, notFound
	}
	return s.readFile(ctx, f)
}

// readFile reads f's bytes and checks them against its checksum.
func (s *Service) readFile(ctx context.Context, f File) (File, []byte, error) {
	data, err := s.store.FileData(ctx, f)
	if err != nil {
		return File{}, nil, err
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != f.SHA256 {
		return File{}, nil, derrors.Errorf(derrors.Internal, "file %s does not match its checksum", f.ID)
	}
	return f, data, nil
}

// newID makes an id such as CR20261203-7K2M9QXA: a prefix, the day in +08:00, and 8 random
// characters (40 bits), so that ids sort by day and never repeat in practice; inserts under
// a unique id catch the rest.
func newID(prefix string, now time.Time) string {
	const alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("credit: no randomness: " + err.Error())
	}
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = alphabet[int(c)%len(alphabet)]
	}
	return prefix + now.In(domain.Zone).Format("20060102") + "-" + string(out)
}
