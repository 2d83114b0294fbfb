package interchange

import (
	"cmp"
	"slices"
	"strings"

	"github.com/propcredit/propcredit/internal/domain"
)

// Set gathers the records of an import, merged by key in reading order: a later record
// replaces an earlier one with the same key, except that of two ratings the one submitted
// later stands (on a tie, the one read later). It remembers where each kept record came from.
// The zero Set is empty and reports in zh.
type Set struct {
	lang    string
	entries map[string]*entry // by Record.Key
	order   []*entry          // every entry added, in reading order, those no longer kept marked
	read    int               // records added so far, to number them in reading order
}

type entry struct {
	rec     Record
	file    string
	line    int
	seq     int  // position in reading order, for reporting in the order the user wrote things
	dropped bool // replaced by a later record with the same key, or removed by CheckRefs
}

// NewSet returns an empty set whose reference errors are in lang.
func NewSet(lang string) *Set { return &Set{lang: lang} }

// Add merges rec, read from file at line, into the set. rec must hold a record.
func (s *Set) Add(rec Record, file string, line int) {
	key := rec.Key()
	if key == "" {
		panic("interchange: Set.Add of an empty Record")
	}
	if s.entries == nil {
		s.entries = make(map[string]*entry)
	}
	s.read++
	old, ok := s.entries[key]
	if ok && rec.Rating != nil && rec.Rating.SubmittedAt.Before(old.rec.Rating.SubmittedAt) {
		return // an older version of a rating, read after a newer one
	}
	if ok {
		old.dropped = true
	}
	e := &entry{rec: rec, file: file, line: line, seq: s.read}
	s.entries[key] = e
	s.order = append(s.order, e)
}

// Len is the number of records kept.
func (s *Set) Len() int { return len(s.entries) }

// Source tells where the kept record with the given key (see Record.Key) was read.
func (s *Set) Source(key string) (file string, line int, ok bool) {
	e, ok := s.entries[key]
	if !ok {
		return "", 0, false
	}
	return e.file, e.line, true
}

// Known answers for records already in the database.
type Known interface {
	HasDistrict(id string) bool
	HasCompany(id string) bool
	HasEstate(id string) bool
	HasPeriod(id string) bool
}

// reference is one field of a record that names another record.
type reference struct {
	field string // also the type of the record it names
	id    string
}

func referencesOf(r Record) []reference {
	switch {
	case r.Estate != nil:
		return []reference{{TypeDistrict, r.Estate.District}, {TypeCompany, r.Estate.Company}}
	case r.Rating != nil:
		return []reference{{TypePeriod, r.Rating.Period}, {TypeEstate, r.Rating.Estate}}
	case r.Disclosure != nil:
		return []reference{{TypePeriod, r.Disclosure.Period}, {TypeEstate, r.Disclosure.Estate}}
	case r.Governance != nil:
		return []reference{{TypePeriod, r.Governance.Period}, {TypeCompany, r.Governance.Company}}
	case r.Event != nil:
		return []reference{{TypeCompany, r.Event.Company}}
	}
	return nil
}

// CheckRefs removes every record that names a record neither in the set nor known (a nil
// known knows nothing) and reports each at its line, in reading order. A record may name one
// read after it. Removing a record can break the records that name it, so the check repeats
// until every remaining reference holds.
func (s *Set) CheckRefs(known Known) []LineError {
	c := refChecker{set: s, known: known, inDatabase: make(map[string]bool), rejected: make(map[string]*entry)}
	type rejection struct {
		e   *entry
		msg string
	}
	var rejections []rejection
	// Checking the records that others name first makes one round enough, and lets a record's
	// message name every reference it loses, not just the first found; the rounds that follow
	// only confirm it.
	var byRank [3][]*entry // stable: each rank in reading order
	for _, e := range s.entriesInReadingOrder() {
		r := dependencyRank(e.rec)
		byRank[r] = append(byRank[r], e)
	}
	pending := slices.Concat(byRank[:]...)
	for removed := true; removed; {
		removed = false
		kept := pending[:0]
		for _, e := range pending {
			if msg := c.brokenReferences(e.rec); msg != "" {
				key := e.rec.Key()
				delete(s.entries, key)
				e.dropped = true
				c.rejected[key] = e
				rejections = append(rejections, rejection{e, msg})
				removed = true
				continue
			}
			kept = append(kept, e)
		}
		pending = kept
	}
	// Report in the order the lines were read, not the order they were checked in.
	slices.SortFunc(rejections, func(a, b rejection) int { return cmp.Compare(a.e.seq, b.e.seq) })
	var errs []LineError
	for _, r := range rejections {
		errs = append(errs, LineError{File: r.e.file, Line: r.e.line, Message: r.msg})
	}
	return errs
}

// dependencyRank ranks records so that each names only records of lower rank.
func dependencyRank(r Record) int {
	switch {
	case r.District != nil, r.Company != nil, r.Period != nil:
		return 0
	case r.Estate != nil:
		return 1
	}
	return 2
}

// entriesInReadingOrder returns the kept entries in reading order, and forgets the others. The
// caller must not change the slice.
func (s *Set) entriesInReadingOrder() []*entry {
	kept := s.order[:0]
	for _, e := range s.order {
		if !e.dropped {
			kept = append(kept, e)
		}
	}
	clear(s.order[len(kept):])
	s.order = kept
	return kept
}

type refChecker struct {
	set        *Set
	known      Known
	inDatabase map[string]bool   // Known's answers, by key: the database is asked once per id
	rejected   map[string]*entry // records removed so far, by key, to explain a cascade
}

// brokenReferences returns "" when every reference of rec holds, or a message naming each
// one that does not.
func (c *refChecker) brokenReferences(rec Record) string {
	var broken []string
	for _, ref := range referencesOf(rec) {
		key := ref.field + "|" + ref.id
		if _, ok := c.set.entries[key]; ok || c.isKnown(ref, key) {
			continue
		}
		name := referencedTypeName[ref.field]
		if r, ok := c.rejected[key]; ok {
			broken = append(broken, msgRejectedRecord.format(c.set.lang, name.format(c.set.lang), ref.id, r.file, r.line))
		} else {
			broken = append(broken, msgNoSuchRecord.format(c.set.lang, name.format(c.set.lang), ref.id))
		}
	}
	return strings.Join(broken, "; ")
}

func (c *refChecker) isKnown(ref reference, key string) bool {
	if c.known == nil {
		return false
	}
	if answer, asked := c.inDatabase[key]; asked {
		return answer
	}
	var answer bool
	switch ref.field {
	case TypeDistrict:
		answer = c.known.HasDistrict(ref.id)
	case TypeCompany:
		answer = c.known.HasCompany(ref.id)
	case TypeEstate:
		answer = c.known.HasEstate(ref.id)
	case TypePeriod:
		answer = c.known.HasPeriod(ref.id)
	}
	c.inDatabase[key] = answer
	return answer
}

// Dataset returns the kept records, each type sorted by key. It takes them in reading order,
// so that a file written in key order (as export writes) needs no sorting.
func (s *Set) Dataset() *domain.Dataset {
	ds := &domain.Dataset{}
	for _, e := range s.entriesInReadingOrder() {
		for _, k := range recordKinds {
			if k.add(ds, e.rec) {
				break
			}
		}
	}
	for _, k := range recordKinds {
		k.sort(ds)
	}
	return ds
}

// sortByKey sorts items by compare. It sorts pointers and then moves each record once, as
// records are large to copy (slices.SortFunc on the records copied two into every comparison).
func sortByKey[T any](items []T, compare func(a, b *T) int) {
	sorted := true
	for i := 1; i < len(items) && sorted; i++ {
		sorted = compare(&items[i-1], &items[i]) <= 0
	}
	if sorted {
		return
	}
	ptrs := make([]*T, len(items))
	for i := range items {
		ptrs[i] = &items[i]
	}
	slices.SortFunc(ptrs, compare)
	out := make([]T, len(items))
	for i, p := range ptrs {
		out[i] = *p
	}
	copy(items, out)
}

// The order of records of one type: by the fields of their key, in the order the key names
// them. (Comparing Record.Key strings instead would put "p1x" before "p1", as '|' sorts
// after the letters.)

func compareDistricts(a, b *domain.District) int { return strings.Compare(a.ID, b.ID) }
func compareCompanies(a, b *domain.Company) int  { return strings.Compare(a.ID, b.ID) }
func compareEstates(a, b *domain.Estate) int     { return strings.Compare(a.ID, b.ID) }
func comparePeriods(a, b *domain.Period) int     { return strings.Compare(a.ID, b.ID) }
func compareEvents(a, b *domain.Event) int       { return strings.Compare(a.ID, b.ID) }

func compareRatings(a, b *domain.Rating) int {
	return cmp.Or(strings.Compare(a.Period, b.Period), strings.Compare(a.Estate, b.Estate),
		strings.Compare(a.Household, b.Household))
}

func compareDisclosures(a, b *domain.Disclosure) int {
	return cmp.Or(strings.Compare(a.Period, b.Period), strings.Compare(a.Estate, b.Estate),
		strings.Compare(a.Category, b.Category))
}

func compareGovernance(a, b *domain.Governance) int {
	return cmp.Or(strings.Compare(a.Period, b.Period), strings.Compare(a.Company, b.Company))
}
