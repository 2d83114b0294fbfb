package mongodb

import "context"

// CommitGroup stores subs as the rating writer stores one group, so that tests can choose what
// a group holds, and returns each submission's receipt or error.
func (db *DB) CommitGroup(ctx context.Context, subs []Submission) ([]Receipt, []error) {
	w := db.writer()
	reqs := make([]*submitRequest, len(subs))
	for i, sub := range subs {
		reqs[i] = newSubmitRequest(sub)
	}
	w.commit(reqs)
	receipts := make([]Receipt, len(subs))
	errs := make([]error, len(subs))
	for i, r := range reqs {
		res := <-r.result
		receipts[i], errs[i] = res.receipt, res.err
	}
	return receipts, errs
}
