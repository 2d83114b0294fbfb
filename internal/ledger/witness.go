package ledger

import (
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// Errors a witness reports: the log is not an extension of what it showed before.
var (
	ErrShrank = errors.New("the ledger shrank")
	ErrForked = errors.New("the ledger forked")
)

// CheckExtends checks that the tree of next extends the tree of prev: the same leaves, maybe
// more. It reads the proof from the log's tiles through tr, which tlog.TileHashReader checks
// against next's signed root. A smaller tree is ErrShrank; a different root of the same size,
// or a proof that fails, is ErrForked.
func CheckExtends(prev, next tlog.Tree, tr tlog.TileReader) error {
	switch {
	case next.N < prev.N:
		return fmt.Errorf("%w: it had %d leaves, now %d", ErrShrank, prev.N, next.N)
	case next.N == prev.N:
		if next.Hash != prev.Hash {
			return fmt.Errorf("%w: two different roots for %d leaves (%s, %s)", ErrForked, next.N, prev.Hash, next.Hash)
		}
		return nil
	case prev.N == 0:
		return nil
	}
	thr := tlog.TileHashReader(next, tr)
	proof, err := tlog.ProveTree(next.N, prev.N, thr)
	if err != nil {
		return fmt.Errorf("%w: cannot prove the tree of %d leaves is a prefix of the tree of %d: %v", ErrForked, prev.N, next.N, err)
	}
	if err := tlog.CheckTree(proof, next.N, next.Hash, prev.N, prev.Hash); err != nil {
		return fmt.Errorf("%w: the tree of %d leaves (%s) is not a prefix of the tree of %d (%s): %v", ErrForked, prev.N, prev.Hash, next.N, next.Hash, err)
	}
	return nil
}
