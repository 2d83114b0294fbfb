// Package interchange reads and writes the JSON Lines interchange format of INTERCHANGE.md:
// ParseLine turns one line into a typed Record, Decode reads a whole stream into a Set that
// merges records by key and checks references, and Encoder writes records back out.
//
// The package is pure: it knows io.Reader and io.Writer, not the database.
package interchange

import (
	"fmt"
	"sync"

	"github.com/propcredit/propcredit/internal/domain"
)

// Record types, the values of the "type" field.
const (
	TypeDistrict   = "district"
	TypeCompany    = "company"
	TypeEstate     = "estate"
	TypePeriod     = "period"
	TypeRating     = "rating"
	TypeDisclosure = "disclosure"
	TypeGovernance = "governance"
	TypeEvent      = "event"
)

// Record is one line of the format. Exactly one of the pointers is set, the one Type names.
type Record struct {
	Type       string
	District   *domain.District
	Company    *domain.Company
	Estate     *domain.Estate
	Period     *domain.Period
	Rating     *domain.Rating
	Disclosure *domain.Disclosure
	Governance *domain.Governance
	Event      *domain.Event
}

// Key is the record's identity per INTERCHANGE.md, prefixed by its type so that keys of
// different types never collide: "estate|e1", "rating|2026Q4|e1|3-2-1201". Identifiers
// cannot contain '|', so the key is unambiguous. An empty Record has the key "".
func (r Record) Key() string {
	switch {
	case r.District != nil:
		return TypeDistrict + "|" + r.District.ID
	case r.Company != nil:
		return TypeCompany + "|" + r.Company.ID
	case r.Estate != nil:
		return TypeEstate + "|" + r.Estate.ID
	case r.Period != nil:
		return TypePeriod + "|" + r.Period.ID
	case r.Rating != nil:
		return TypeRating + "|" + r.Rating.Key()
	case r.Disclosure != nil:
		return TypeDisclosure + "|" + r.Disclosure.Key()
	case r.Governance != nil:
		return TypeGovernance + "|" + r.Governance.Key()
	case r.Event != nil:
		return TypeEvent + "|" + r.Event.ID
	}
	return ""
}

// LineError is a problem with one line of an input file.
type LineError struct {
	File    string
	Line    int // 1-based physical line
	Message string
}

// Error formats the problem the way compilers do, so editors can jump to it.
func (e LineError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Message) }

// defaultValidator serves callers that pass a nil validator; building one registers every
// translation, which is too slow to do per line.
var defaultValidator = sync.OnceValue(domain.NewValidator)
