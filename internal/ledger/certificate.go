package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// A Certificate proves that a company's grade is in the ledger: the exact leaf, its index,
// the inclusion proof (tlog.ProveRecord) and the signed checkpoint the proof is for. Any tlog
// client checks it offline; Verify is such a check.
type Certificate struct {
	Leaf       []byte   `json:"leaf"` // base64 in JSON
	Index      int64    `json:"index"`
	Proof      []string `json:"proof"`      // base64 hashes
	Checkpoint string   `json:"checkpoint"` // the signed note
	// What the certificate claims, for people; Verify checks it against the leaf.
	Company     string `json:"company"`
	Period      string `json:"period"`
	Publication int    `json:"publication"`
	Grade       string `json:"grade"`
}

// Certificate makes the certificate of leaf, found in the ledger by its key and bytes, proved
// against the log's current signed checkpoint.
func (l *Log) Certificate(ctx context.Context, leaf Leaf) (Certificate, error) {
	index, err := l.Find(ctx, leaf)
	if err != nil {
		return Certificate{}, err
	}
	cp, err := l.Checkpoint(ctx)
	if err != nil {
		return Certificate{}, err
	}
	return l.CertificateAt(ctx, index, cp)
}

// CertificateAt makes the certificate of leaf index against the checkpoint cp.
func (l *Log) CertificateAt(ctx context.Context, index int64, cp Checkpoint) (Certificate, error) {
	leaves, err := l.Leaves(ctx, index, index+1)
	if err != nil {
		return Certificate{}, err
	}
	proof, err := l.ProveRecord(ctx, index, cp.Tree.N)
	if err != nil {
		return Certificate{}, fmt.Errorf("prove ledger leaf %d: %w", index, err)
	}
	c := Certificate{Leaf: leaves[0], Index: index, Checkpoint: string(cp.Signed), Proof: make([]string, len(proof))}
	for i, h := range proof {
		c.Proof[i] = h.String()
	}
	if leaf, err := ParseResultLeaf(leaves[0]); err == nil {
		c.Company, c.Period, c.Publication, c.Grade = leaf.Company, leaf.Period, leaf.Publication, leaf.Grade
	}
	return c, nil
}

// VerifyError says which check of a certificate failed.
type VerifyError struct {
	Check string // signature, checkpoint, proof, leaf or claim
	Err   error
}

func (e *VerifyError) Error() string { return e.Check + ": " + e.Err.Error() }
func (e *VerifyError) Unwrap() error { return e.Err }

func fail(check string, format string, args ...any) error {
	return &VerifyError{Check: check, Err: fmt.Errorf(format, args...)}
}

// Verify checks a certificate against the ledger's verifier key, offline: the checkpoint's
// signature, the inclusion proof of the leaf in the signed tree, that the leaf is a canonical
// company result, and that the certificate's claims are the leaf's. It returns the leaf.
func Verify(c Certificate, vkey string) (ResultLeaf, Checkpoint, error) {
	cp, err := OpenCheckpoint([]byte(c.Checkpoint), vkey)
	if err != nil {
		return ResultLeaf{}, cp, &VerifyError{Check: "signature", Err: err}
	}
	if c.Index < 0 || c.Index >= cp.Tree.N {
		return ResultLeaf{}, cp, fail("proof", "leaf index %d is outside the signed tree of %d leaves", c.Index, cp.Tree.N)
	}
	proof := make(tlog.RecordProof, len(c.Proof))
	for i, s := range c.Proof {
		h, err := tlog.ParseHash(s)
		if err != nil {
			return ResultLeaf{}, cp, fail("proof", "hash %d of the proof is not a base64 SHA-256: %q", i, s)
		}
		proof[i] = h
	}
	if err := tlog.CheckRecord(proof, cp.Tree.N, cp.Tree.Hash, c.Index, tlog.RecordHash(c.Leaf)); err != nil {
		return ResultLeaf{}, cp, fail("proof", "the leaf with index %d is not in the signed tree of %d leaves (%v)", c.Index, cp.Tree.N, err)
	}
	leaf, err := ParseResultLeaf(c.Leaf)
	if err != nil {
		return leaf, cp, &VerifyError{Check: "leaf", Err: err}
	}
	claims := []struct{ name, claimed, logged string }{
		{"company", c.Company, leaf.Company},
		{"period", c.Period, leaf.Period},
		{"publication", fmt.Sprint(c.Publication), fmt.Sprint(leaf.Publication)},
		{"grade", c.Grade, leaf.Grade},
	}
	for _, cl := range claims {
		if cl.claimed != cl.logged {
			return leaf, cp, fail("claim", "the certificate says %s %q, the logged leaf says %q", cl.name, cl.claimed, cl.logged)
		}
	}
	return leaf, cp, nil
}

// ParseCertificate reads a certificate's JSON.
func ParseCertificate(b []byte) (Certificate, error) {
	var c Certificate
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("certificate is not valid JSON: %w", err)
	}
	if len(c.Leaf) == 0 || c.Checkpoint == "" {
		return c, errors.New("certificate has no leaf or no checkpoint")
	}
	return c, nil
}
