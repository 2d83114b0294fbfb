package mongodb

import (
	"fmt"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/propcredit/propcredit/internal/domain"
)

// tallyList is the estates' tallies of a journal entry or a base, stored as one string: a line
// per estate, "estate count service security cleaning greening maintenance transparency".
//
// The journal is read whole by every compaction and every reader of a period's tallies, and
// FerretDB decodes each stored document from JSON with a schema of every nested field: an
// entry whose tallies were an array of sub-documents cost about 0.2 ms of FerretDB's CPU each
// time it was read or deleted, which made the journal the largest single cost of a rating on
// FerretDB-PostgreSQL with two servers (bench/README.md). A string decodes in a fraction of
// that. Documents written before hold an array of {estate, count, sums}; both are read.
// (A server older than this format fails to decode the string rather than miscount it.)
type tallyList []estateTally

// MarshalBSONValue stores the list as one string.
func (l tallyList) MarshalBSONValue() (byte, []byte, error) {
	var b strings.Builder
	for _, t := range l {
		if t.Estate == "" || strings.ContainsAny(t.Estate, " \n") {
			return 0, nil, fmt.Errorf("tally of estate %q: the id cannot be stored in a tally list", t.Estate)
		}
		b.WriteString(t.Estate)
		b.WriteByte(' ')
		b.WriteString(strconv.FormatInt(t.Ratings, 10))
		for _, v := range t.Sums.Array() {
			b.WriteByte(' ')
			b.WriteString(strconv.FormatInt(v, 10))
		}
		b.WriteByte('\n')
	}
	typ, data, err := bson.MarshalValue(b.String())
	return byte(typ), data, err
}

// UnmarshalBSONValue reads the string, or the array of documents written before it.
func (l *tallyList) UnmarshalBSONValue(typ byte, data []byte) error {
	raw := bson.RawValue{Type: bson.Type(typ), Value: data}
	switch raw.Type {
	case bson.TypeNull:
		*l = nil
		return nil
	case bson.TypeArray:
		var legacy []estateTally
		if err := raw.Unmarshal(&legacy); err != nil {
			return fmt.Errorf("decode tallies: %w", err)
		}
		*l = legacy
		return nil
	case bson.TypeString:
		out, err := parseTallyList(raw.StringValue())
		*l = out
		return err
	}
	return fmt.Errorf("decode tallies: a %s, not a string or an array", raw.Type)
}

// parseTallyList parses the string form of a tallyList.
func parseTallyList(s string) (tallyList, error) {
	var out tallyList
	for line := range strings.Lines(s) {
		f := strings.Fields(line)
		if len(f) != 8 || !strings.HasSuffix(line, "\n") {
			return nil, fmt.Errorf("decode tallies: line %q: want an estate and 7 numbers", line)
		}
		var n [7]int64
		for i, v := range f[1:] {
			x, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("decode tallies of estate %q: %w", f[0], err)
			}
			n[i] = x
		}
		out = append(out, estateTally{Estate: f[0], Ratings: n[0], Sums: domain.TallySumsOf([6]int64(n[1:]))})
	}
	return out, nil
}
