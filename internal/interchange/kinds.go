package interchange

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/propcredit/propcredit/internal/domain"
)

// recordKinds are the record types of the format: which field of a Record and of a Dataset
// holds each, the order of its records, and its fields in the order of INTERCHANGE.md. The
// Encoder writes the fields in this order and ParseLine reads them by name, so a field of the
// format is named in one place only.
var recordKinds = []recordKind{
	kind[domain.District]{typ: TypeDistrict,
		get:  func(r Record) *domain.District { return r.District },
		wrap: func(d *domain.District) Record { return Record{Type: TypeDistrict, District: d} },
		list: func(ds *domain.Dataset) *[]domain.District { return &ds.Districts }, compare: compareDistricts,
		fields: []field[domain.District]{
			strField("id", func(d *domain.District) *string { return &d.ID }),
			strField("name", func(d *domain.District) *string { return &d.Name }),
		}},
	kind[domain.Company]{typ: TypeCompany,
		get:  func(r Record) *domain.Company { return r.Company },
		wrap: func(c *domain.Company) Record { return Record{Type: TypeCompany, Company: c} },
		list: func(ds *domain.Dataset) *[]domain.Company { return &ds.Companies }, compare: compareCompanies,
		fields: []field[domain.Company]{
			strField("id", func(c *domain.Company) *string { return &c.ID }),
			strField("name", func(c *domain.Company) *string { return &c.Name }),
		}},
	kind[domain.Estate]{typ: TypeEstate,
		get:  func(r Record) *domain.Estate { return r.Estate },
		wrap: func(e *domain.Estate) Record { return Record{Type: TypeEstate, Estate: e} },
		list: func(ds *domain.Dataset) *[]domain.Estate { return &ds.Estates }, compare: compareEstates,
		fields: []field[domain.Estate]{
			strField("id", func(e *domain.Estate) *string { return &e.ID }),
			strField("name", func(e *domain.Estate) *string { return &e.Name }),
			strField("district", func(e *domain.Estate) *string { return &e.District }),
			strField("company", func(e *domain.Estate) *string { return &e.Company }),
			intField("households", func(e *domain.Estate) *int { return &e.Households }),
			strField("category", func(e *domain.Estate) *string { return &e.Category }),
		}},
	kind[domain.Period]{typ: TypePeriod,
		get:  func(r Record) *domain.Period { return r.Period },
		wrap: func(p *domain.Period) Record { return Record{Type: TypePeriod, Period: p} },
		list: func(ds *domain.Dataset) *[]domain.Period { return &ds.Periods }, compare: comparePeriods,
		fields: []field[domain.Period]{
			strField("id", func(p *domain.Period) *string { return &p.ID }),
			strField("start", func(p *domain.Period) *string { return &p.Start }),
			strField("end", func(p *domain.Period) *string { return &p.End }),
			strField("disclosure_deadline", func(p *domain.Period) *string { return &p.DisclosureDeadline }),
		},
		rules: periodRules},
	kind[domain.Rating]{typ: TypeRating,
		get:  func(r Record) *domain.Rating { return r.Rating },
		wrap: func(r *domain.Rating) Record { return Record{Type: TypeRating, Rating: r} },
		list: func(ds *domain.Dataset) *[]domain.Rating { return &ds.Ratings }, compare: compareRatings,
		fields: []field[domain.Rating]{
			strField("period", func(r *domain.Rating) *string { return &r.Period }),
			strField("estate", func(r *domain.Rating) *string { return &r.Estate }),
			strField("household", func(r *domain.Rating) *string { return &r.Household }),
			timeField("submitted_at", func(r *domain.Rating) *time.Time { return &r.SubmittedAt }),
			scoresField("scores", func(r *domain.Rating) *domain.Scores { return &r.Scores }),
			optStrField("comment", func(r *domain.Rating) *string { return &r.Comment }),
		},
		certainlyValid: certainlyValid},
	kind[domain.Disclosure]{typ: TypeDisclosure,
		get:  func(r Record) *domain.Disclosure { return r.Disclosure },
		wrap: func(d *domain.Disclosure) Record { return Record{Type: TypeDisclosure, Disclosure: d} },
		list: func(ds *domain.Dataset) *[]domain.Disclosure { return &ds.Disclosures }, compare: compareDisclosures,
		fields: []field[domain.Disclosure]{
			strField("period", func(d *domain.Disclosure) *string { return &d.Period }),
			strField("estate", func(d *domain.Disclosure) *string { return &d.Estate }),
			strField("category", func(d *domain.Disclosure) *string { return &d.Category }),
			timeField("filed_at", func(d *domain.Disclosure) *time.Time { return &d.FiledAt }),
			strField("status", func(d *domain.Disclosure) *string { return &d.Status }),
			dataField("data", func(d *domain.Disclosure) *json.RawMessage { return &d.Data }),
		}},
	kind[domain.Governance]{typ: TypeGovernance,
		get:  func(r Record) *domain.Governance { return r.Governance },
		wrap: func(g *domain.Governance) Record { return Record{Type: TypeGovernance, Governance: g} },
		list: func(ds *domain.Dataset) *[]domain.Governance { return &ds.Governance }, compare: compareGovernance,
		fields: []field[domain.Governance]{
			strField("period", func(g *domain.Governance) *string { return &g.Period }),
			strField("company", func(g *domain.Governance) *string { return &g.Company }),
			boolField("party_org", func(g *domain.Governance) *bool { return &g.PartyOrg }),
			boolField("party_instructor", func(g *domain.Governance) *bool { return &g.PartyInstructor }),
			boolField("joint_mechanism", func(g *domain.Governance) *bool { return &g.JointMechanism }),
		}},
	kind[domain.Event]{typ: TypeEvent,
		get:  func(r Record) *domain.Event { return r.Event },
		wrap: func(e *domain.Event) Record { return Record{Type: TypeEvent, Event: e} },
		list: func(ds *domain.Dataset) *[]domain.Event { return &ds.Events }, compare: compareEvents,
		fields: []field[domain.Event]{
			strField("id", func(e *domain.Event) *string { return &e.ID }),
			strField("company", func(e *domain.Event) *string { return &e.Company }),
			strField("kind", func(e *domain.Event) *string { return &e.Kind }),
			numberField("points", func(e *domain.Event) *string { return &e.Points }),
			boolField("veto", func(e *domain.Event) *bool { return &e.Veto }),
			strField("date", func(e *domain.Event) *string { return &e.Date }),
			optCountField("valid_days", func(e *domain.Event) *int { return &e.ValidDays }),
			optStrField("repaired_on", func(e *domain.Event) *string { return &e.RepairedOn }),
			optStrField("status", func(e *domain.Event) *string { return &e.Status }),
			strField("description", func(e *domain.Event) *string { return &e.Description }),
		},
		rules: eventRules},
}

// periodRules checks what the Validator cannot: its gtefield compares strings by length, not
// by value, so it cannot catch an end before the start; valid YYYY-MM-DD dates compare
// correctly as strings.
func periodRules(o *object, p *domain.Period) {
	if domain.IsDate(p.Start) && domain.IsDate(p.End) && p.End < p.Start {
		o.problem("end", msgEndBeforeStart)
	}
}

// eventRules checks that only a bad record carries a one-vote veto.
func eventRules(o *object, e *domain.Event) {
	if e.Veto && e.Kind == "good" {
		o.problem("veto", msgVetoNotBad)
	}
}

// recordKind is one record type of the format.
type recordKind interface {
	name() string
	// write writes rec as a line when rec holds a record of this type, and reports whether
	// it does.
	write(l *jsonLine, rec Record) (bool, error)
	// read returns the record of this type that o holds, and what the Validator must check
	// of it (nil: nothing).
	read(o *object) (Record, any)
	// writeAll writes ds's records of this type, sorted by key.
	writeAll(enc *Encoder, ds *domain.Dataset) error
	// add appends rec's record to ds when rec holds one of this type, and reports whether
	// it does.
	add(ds *domain.Dataset, rec Record) bool
	// sort sorts ds's records of this type by key.
	sort(ds *domain.Dataset)
}

// kind is a record type of values T, held by the Record field that get reads and wrap sets,
// and by the Dataset field that list points at, in the order of compare.
type kind[T any] struct {
	typ     string
	get     func(Record) *T
	wrap    func(*T) Record
	list    func(*domain.Dataset) *[]T
	compare func(a, b *T) int
	fields  []field[T]
	// rules, when set, checks a record read in ways the Validator cannot.
	rules func(o *object, v *T)
	// certainlyValid, when set, lets ParseLine skip the Validator for a record it accepts.
	certainlyValid func(v *T) bool
}

func (k kind[T]) name() string { return k.typ }

func (k kind[T]) write(l *jsonLine, rec Record) (bool, error) {
	v := k.get(rec)
	if v == nil {
		return false, nil
	}
	return true, k.encode(l, v)
}

// encode makes l the line of v.
func (k kind[T]) encode(l *jsonLine, v *T) error {
	l.start(k.typ)
	for _, f := range k.fields {
		if err := f.write(l, f.name, v); err != nil {
			return err
		}
	}
	l.buf = append(l.buf, '}', '\n')
	return nil
}

func (k kind[T]) read(o *object) (Record, any) {
	v := new(T)
	for _, f := range k.fields {
		f.read(o, f.name, v)
	}
	if k.rules != nil {
		k.rules(o, v)
	}
	if k.certainlyValid != nil && k.certainlyValid(v) {
		return k.wrap(v), nil
	}
	return k.wrap(v), v
}

// writeAll sorts pointers rather than the records, which may be a million ratings.
func (k kind[T]) writeAll(enc *Encoder, ds *domain.Dataset) error {
	items := *k.list(ds)
	sorted := make([]*T, len(items))
	for i := range items {
		sorted[i] = &items[i]
	}
	slices.SortStableFunc(sorted, k.compare)
	for _, item := range sorted {
		if err := enc.writeLine(k.encode(&enc.line, item), k.wrap(item)); err != nil {
			return err
		}
	}
	return nil
}

func (k kind[T]) add(ds *domain.Dataset, rec Record) bool {
	v := k.get(rec)
	if v == nil {
		return false
	}
	list := k.list(ds)
	*list = append(*list, *v)
	return true
}

func (k kind[T]) sort(ds *domain.Dataset) { sortByKey(*k.list(ds), k.compare) }

// kindNamed returns the record type typ, one of the Type constants.
func kindNamed(typ string) recordKind {
	for _, k := range recordKinds {
		if k.name() == typ {
			return k
		}
	}
	panic("interchange: no record type " + typ)
}

// field is one field of records of type T: its name in the format, how the Encoder writes it
// and how ParseLine reads it.
type field[T any] struct {
	name  string
	write func(l *jsonLine, name string, v *T) error
	read  func(o *object, name string, v *T)
}

// strField is a required string.
func strField[T any](name string, at func(*T) *string) field[T] {
	return field[T]{name,
		func(l *jsonLine, name string, v *T) error { l.str(name, *at(v)); return nil },
		func(o *object, name string, v *T) { *at(v) = o.str(name) }}
}

// optStrField is an optional string, left out when empty.
func optStrField[T any](name string, at func(*T) *string) field[T] {
	return field[T]{name,
		func(l *jsonLine, name string, v *T) error {
			if s := *at(v); s != "" {
				l.str(name, s)
			}
			return nil
		},
		func(o *object, name string, v *T) { *at(v) = o.optStr(name) }}
}

// intField is a required integer.
func intField[T any](name string, at func(*T) *int) field[T] {
	return field[T]{name,
		func(l *jsonLine, name string, v *T) error { l.int(name, *at(v)); return nil },
		func(o *object, name string, v *T) { *at(v) = o.integer(name) }}
}

// optCountField is an optional integer of at least 1, left out when 0. The Validator cannot tell
// an explicit 0 from an absent field (omitempty), and absent means a default (the ruleset's,
// for valid_days), so a written 0 is refused here.
func optCountField[T any](name string, at func(*T) *int) field[T] {
	return field[T]{name,
		func(l *jsonLine, name string, v *T) error {
			if n := *at(v); n != 0 {
				l.int(name, n)
			}
			return nil
		},
		func(o *object, name string, v *T) {
			if n, present := o.optInteger(name); present {
				*at(v) = n
				if n < 1 {
					o.problem(name, msgAtLeastOne)
				}
			}
		}}
}

// boolField is a required true or false.
func boolField[T any](name string, at func(*T) *bool) field[T] {
	return field[T]{name,
		func(l *jsonLine, name string, v *T) error { l.bool(name, *at(v)); return nil },
		func(o *object, name string, v *T) { *at(v) = o.boolean(name) }}
}

// numberField is a required number kept as written.
func numberField[T any](name string, at func(*T) *string) field[T] {
	return field[T]{name,
		func(l *jsonLine, name string, v *T) error { return l.number(name, *at(v)) },
		func(o *object, name string, v *T) { *at(v) = o.number(name) }}
}

// timeField is a required time.
func timeField[T any](name string, at func(*T) *time.Time) field[T] {
	return field[T]{name,
		func(l *jsonLine, name string, v *T) error { return l.time(name, *at(v)) },
		func(o *object, name string, v *T) { *at(v) = o.time(name) }}
}

// dataField is an optional JSON object, left out when empty.
func dataField[T any](name string, at func(*T) *json.RawMessage) field[T] {
	return field[T]{name,
		func(l *jsonLine, name string, v *T) error {
			if d := *at(v); len(d) > 0 {
				return l.object(name, d)
			}
			return nil
		},
		func(o *object, name string, v *T) { *at(v) = o.data(name) }}
}

// scoresField is the required object of a rating's marks, one per dimension.
func scoresField[T any](name string, at func(*T) *domain.Scores) field[T] {
	return field[T]{name,
		func(l *jsonLine, name string, v *T) error { l.scores(name, *at(v)); return nil },
		func(o *object, name string, v *T) {
			if s, ok := o.objectField(name); ok {
				*at(v) = parseScores(&s)
			}
		}}
}
