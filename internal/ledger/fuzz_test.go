package ledger_test

import (
	"testing"

	"github.com/propcredit/propcredit/internal/ledger"
)

// FuzzVerify: no certificate, however malformed, panics the verifier or passes with another
// key than the one that signed it.
func FuzzVerify(f *testing.F) {
	s := newSigner(f, "fuzz.example/ledger")
	f.Add([]byte(`{"leaf":"e30=","index":0,"proof":[],"checkpoint":"fuzz.example/ledger\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— fuzz.example/ledger AAAA\n"}`))
	f.Add([]byte(`{"leaf":"","checkpoint":""}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ledger.ParseCertificate(b)
		if err != nil {
			return
		}
		if _, _, err := ledger.Verify(c, s.VerifierKey()); err == nil {
			t.Fatalf("a certificate no one signed verified: %s", b)
		}
	})
}

// FuzzParseCheckpointBody: the parser accepts exactly what it formats.
func FuzzParseCheckpointBody(f *testing.F) {
	f.Add("o\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
	f.Add("o\n-1\n\n")
	f.Add("o\n03\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\next\n")
	f.Fuzz(func(t *testing.T, text string) {
		cp, err := ledger.ParseCheckpointBody(text)
		if err != nil {
			return
		}
		if again := ledger.CheckpointBody(cp.Origin, cp.Tree); len(text) < len(again) || text[:len(again)] != again {
			t.Fatalf("parsed %q as %q", text, again)
		}
	})
}
