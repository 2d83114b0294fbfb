package datadir

import (
	"errors"
	"testing"
)

func TestSecondAcquireIsRefused(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir, "serve")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(dir, "import")
	var held *HeldError
	if !errors.As(err, &held) {
		t.Fatalf("second Acquire: err = %v, want *HeldError", err)
	}
	if !held.Serving() {
		t.Errorf("holder %q not recognised as a server", held.Holder)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	l2, err := Acquire(dir, "import")
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	l2.Release()
}
