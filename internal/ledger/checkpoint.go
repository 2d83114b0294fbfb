package ledger

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// A Signer signs the log's checkpoints with the ledger's secret key. Its origin, the first
// line of every checkpoint, is the key's name.
type Signer struct {
	signer   note.Signer
	verifier string // the public verifier key, name+hash+base64
	onSign   func(Checkpoint) error
}

// NewSigner reads a secret key as note.GenerateKey writes it.
func NewSigner(skey string) (*Signer, error) {
	s, err := note.NewSigner(strings.TrimSpace(skey))
	if err != nil {
		return nil, fmt.Errorf("ledger signing key: %w", err)
	}
	vkey, err := verifierKey(strings.TrimSpace(skey))
	if err != nil {
		return nil, err
	}
	return &Signer{signer: s, verifier: vkey}, nil
}

// VerifierKey returns the public verifier key (name+hash+base64), for GET /ledger/key and
// `propcredit ledger key`.
func (s *Signer) VerifierKey() string { return s.verifier }

// Origin returns the log's name, the first line of its checkpoints.
func (s *Signer) Origin() string { return s.signer.Name() }

// verifierKey derives the public key from a secret key "PRIVATE+KEY+name+hash+base64".
func verifierKey(skey string) (string, error) {
	// note has no function for this; the secret key holds the algorithm byte and the
	// Ed25519 seed, from which the public key follows.
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return "", errors.New("ledger signing key: not a note secret key")
	}
	return ed25519VerifierKey(parts[2], parts[4])
}

// LoadOrCreateKey reads the secret key in path, creating it (with name, mode 0600, never
// printed) when the file does not exist. Two processes starting at once cannot both create
// it: the file is created exclusively, and the loser reads the winner's.
func LoadOrCreateKey(path, name string) (*Signer, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		skey, _, gerr := note.GenerateKey(rand.Reader, name)
		if gerr != nil {
			return nil, fmt.Errorf("generate ledger key: %w", gerr)
		}
		f, cerr := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		switch {
		case errors.Is(cerr, os.ErrExist):
			b, err = os.ReadFile(path)
		case cerr != nil:
			return nil, fmt.Errorf("create ledger key: %w", cerr)
		default:
			_, werr := f.WriteString(skey + "\n")
			if serr := f.Sync(); werr == nil {
				werr = serr
			}
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				os.Remove(path)
				return nil, fmt.Errorf("write ledger key %s: %w", path, werr)
			}
			b, err = []byte(skey), nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("read ledger key: %w", err)
	}
	s, err := NewSigner(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// A Checkpoint is a signed tree head: the C2SP tlog-checkpoint body "origin\nsize\nroot\n"
// and its signatures.
type Checkpoint struct {
	Origin string
	Tree   tlog.Tree
	Signed []byte // the whole note: body, blank line, signature lines
}

// CheckpointBody formats the C2SP checkpoint body of a tree.
func CheckpointBody(origin string, tree tlog.Tree) string {
	return fmt.Sprintf("%s\n%d\n%s\n", origin, tree.N, tree.Hash)
}

// Sign signs the checkpoint of tree. Ed25519 signatures are deterministic, so every server
// with the key signs a tree the same way.
func (s *Signer) Sign(tree tlog.Tree) (Checkpoint, error) {
	signed, err := note.Sign(&note.Note{Text: CheckpointBody(s.Origin(), tree)}, s.signer)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("sign checkpoint: %w", err)
	}
	cp := Checkpoint{Origin: s.Origin(), Tree: tree, Signed: signed}
	if s.onSign != nil {
		if err := s.onSign(cp); err != nil {
			return Checkpoint{}, err
		}
	}
	return cp, nil
}

// OnSign makes fn see every checkpoint s signs before it is given out; if fn fails, so does
// the signing. A server records there the newest checkpoint it published (app.LedgerMark).
// Call it before s is shared.
func (s *Signer) OnSign(fn func(Checkpoint) error) { s.onSign = fn }

// Checkpoint signs the log's current tree.
func (l *Log) Checkpoint(ctx context.Context) (Checkpoint, error) {
	if l.signer == nil {
		return Checkpoint{}, errors.New("ledger: no signing key")
	}
	tree, err := l.Tree(ctx)
	if err != nil {
		return Checkpoint{}, err
	}
	return l.signer.Sign(tree)
}

// OpenCheckpoint checks a signed checkpoint against the verifier key vkey and parses it.
// Extension lines after the root are allowed and ignored.
func OpenCheckpoint(signed []byte, vkey string) (Checkpoint, error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("verifier key: %w", err)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint signature: %w", err)
	}
	cp, err := ParseCheckpointBody(n.Text)
	if err != nil {
		return Checkpoint{}, err
	}
	if cp.Origin != v.Name() {
		return Checkpoint{}, fmt.Errorf("checkpoint is of log %q, the key is of %q", cp.Origin, v.Name())
	}
	cp.Signed = bytes.Clone(signed)
	return cp, nil
}

// ParseCheckpointBody parses "origin\nsize\nbase64(root)\n[extensions]".
func ParseCheckpointBody(text string) (Checkpoint, error) {
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 || lines[0] == "" {
		return Checkpoint{}, errors.New("checkpoint: want origin, size and root hash lines")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return Checkpoint{}, fmt.Errorf("checkpoint: bad tree size %q", lines[1])
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint: bad root hash %q", lines[2])
	}
	return Checkpoint{Origin: lines[0], Tree: tlog.Tree{N: size, Hash: root}}, nil
}

// ed25519VerifierKey makes the verifier key of a note secret key's name and base64 part
// (the algorithm byte 1, then the Ed25519 seed).
func ed25519VerifierKey(name, b64 string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return "", errors.New("ledger signing key: not an Ed25519 note key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(name, pub)
}
