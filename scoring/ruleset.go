package scoring

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Ruleset is a city's scoring rules: the constants and thresholds of SCORING.md, read from a JSON
// file so that a city changes its rules without a new binary. Get one from LoadRuleset or
// Default. Treat it as read-only: Hash describes the rules it was loaded with.
type Ruleset struct {
	Name    string
	Version string

	// K is the shrinkage strength of §1: an estate's mean is blended with K votes at the city mean.
	K *big.Rat

	Weights    Weights
	Disclosure DisclosureRules
	Governance GovernancePoints

	// BonusCap caps the sum of active good records' points (§4).
	BonusCap *big.Rat
	// DefaultValidDays is how long a credit record is in force when it does not say.
	DefaultValidDays int
	// Catalogue lists the types of credit record reviewers may record, in the file's order.
	// A record made from a type takes its kind, points, veto and validity, so the catalogue
	// drives the points that §4 adds and deducts.
	Catalogue []RecordType

	// Bands are the grades a rounded score earns, highest Min first (§6). Below the last band a
	// company gets the last band's grade if it has no active bad record, and FailGrade if it has.
	// An active veto record gives FailGrade whatever the score.
	Bands     []Band
	FailGrade string

	// Red and Black are the criteria of the red and black lists (§7); red is tried first.
	Red, Black ListRule

	// bandFloors[i] is Bands[i].Min in hundredths, rounded up: a rounded score reaches band i
	// when it is at least that.
	bandFloors []Fixed

	canonical []byte
	hash      string
}

// Weights weigh the three components in the base score; they add up to exactly 1.
type Weights struct {
	Satisfaction, Disclosure, Governance *big.Rat
}

// DisclosureRules say what a disclosure is worth by when it was filed (§2).
type DisclosureRules struct {
	// Zone is the time zone whose midnight ends the deadline day; ZoneOffset is how it is written.
	Zone       *time.Location
	ZoneOffset string
	// GraceDays is how many days after the deadline day a filing is still worth Worths.WithinGrace.
	GraceDays int
	Worths    Worths
}

// Worths are what a disclosure is worth, from 0 to 1.
type Worths struct {
	OnTime, WithinGrace, Late, MissingOrRejected *big.Rat
}

// GovernancePoints are the points each governance item earns (§3); they add up to at most 100.
type GovernancePoints struct {
	PartyOrg, PartyInstructor, JointMechanism *big.Rat
}

// RecordType is an entry of the credit record catalogue (信用记录目录).
type RecordType struct {
	Code       string   // identifier, such as "B06"
	Name       string   // zh-CN
	NameEN     string   // English
	Kind       string   // KindGood or KindBad
	Points     *big.Rat // > 0, at most 2 decimals
	Veto       bool     // only for bad: a one-vote veto
	ValidDays  int      // 0: the ruleset's DefaultValidDays
	Repairable bool     // credit repair (信用修复) may end it early
}

// RecordType returns the catalogue entry with code, if there is one.
func (rs *Ruleset) RecordType(code string) (RecordType, bool) {
	for _, t := range rs.Catalogue {
		if t.Code == code {
			return t, true
		}
	}
	return RecordType{}, false
}

// Band is a grade and the lowest rounded score that earns it.
type Band struct {
	Grade string
	Min   *big.Rat
}

// ListRule is what a company needs to be on a list: one of Grades and, if asked, no active bad
// record and an exact (unrounded) disclosure score D of at least MinDisclosure.
type ListRule struct {
	Grades        []string
	NoActiveBad   bool
	MinDisclosure *big.Rat // nil: no requirement
}

// Ref returns "name@version", the ruleset's name in results.
func (rs *Ruleset) Ref() string { return rs.Name + "@" + rs.Version }

// Grades lists the grades the ruleset gives, best first: the bands' and then FailGrade.
func (rs *Ruleset) Grades() []string {
	var out []string
	for _, b := range rs.Bands {
		if !slices.Contains(out, b.Grade) {
			out = append(out, b.Grade)
		}
	}
	if !slices.Contains(out, rs.FailGrade) {
		out = append(out, rs.FailGrade)
	}
	return out
}

// Hash returns the SHA-256, in hex, of the ruleset's canonical form: two files that differ only in
// layout, key order or how a decimal is written ("0.6" or 0.6) have the same hash.
func (rs *Ruleset) Hash() string { return rs.hash }

// Canonical returns the ruleset's canonical JSON: compact, keys in a fixed order, every decimal
// written as a JSON number with no more decimals than it needs. It loads back to the same ruleset.
func (rs *Ruleset) Canonical() []byte { return slices.Clone(rs.canonical) }

//go:embed ruleset_default.json
var defaultRulesetJSON []byte

var defaultRuleset = sync.OnceValue(func() *Ruleset {
	rs, err := LoadRuleset(defaultRulesetJSON)
	if err != nil {
		panic("scoring: the embedded default ruleset is invalid: " + err.Error())
	}
	return rs
})

// Default returns the ruleset the binary ships, default@1 (SCORING.md). It is shared: do not
// modify it.
func Default() *Ruleset { return defaultRuleset() }

// DefaultJSON returns the default ruleset's file, as a starting point for a city's own.
func DefaultJSON() []byte { return slices.Clone(defaultRulesetJSON) }

// The ruleset file. Keys tagged omitempty may be left out; every other key is required. Decimals
// are json.Number so that they reach big.Rat as the text that was written, never as a float64.
type rulesetFile struct {
	Name       string         `json:"name"`
	Version    string         `json:"version"`
	K          json.Number    `json:"k"`
	Weights    weightsFile    `json:"weights"`
	Disclosure disclosureFile `json:"disclosure"`
	Governance governanceFile `json:"governance"`
	Credit     creditFile     `json:"credit"`
	Grades     gradesFile     `json:"grades"`
	Lists      listsFile      `json:"lists"`
}

type weightsFile struct {
	Satisfaction json.Number `json:"satisfaction"`
	Disclosure   json.Number `json:"disclosure"`
	Governance   json.Number `json:"governance"`
}

type disclosureFile struct {
	DeadlineZone string     `json:"deadline_zone"`
	GraceDays    int        `json:"grace_days"`
	Worths       worthsFile `json:"worths"`
}

type worthsFile struct {
	OnTime            json.Number `json:"on_time"`
	WithinGrace       json.Number `json:"within_grace"`
	Late              json.Number `json:"late"`
	MissingOrRejected json.Number `json:"missing_or_rejected"`
}

type governanceFile struct {
	PartyOrg        json.Number `json:"party_org"`
	PartyInstructor json.Number `json:"party_instructor"`
	JointMechanism  json.Number `json:"joint_mechanism"`
}

type creditFile struct {
	BonusCap         json.Number      `json:"bonus_cap"`
	DefaultValidDays int              `json:"default_valid_days"`
	Catalogue        []recordTypeFile `json:"catalogue,omitempty"`
}

type recordTypeFile struct {
	Code       string      `json:"code"`
	Name       string      `json:"name"`
	NameEN     string      `json:"name_en"`
	Kind       string      `json:"kind"`
	Points     json.Number `json:"points"`
	Veto       bool        `json:"veto,omitempty"`
	ValidDays  int         `json:"valid_days,omitempty"`
	Repairable bool        `json:"repairable,omitempty"`
}

type gradesFile struct {
	Bands []bandFile `json:"bands"`
	Fail  string     `json:"fail"`
}

type bandFile struct {
	Grade string      `json:"grade"`
	Min   json.Number `json:"min"`
}

type listsFile struct {
	Red   listFile `json:"red"`
	Black listFile `json:"black"`
}

type listFile struct {
	Grades        []string    `json:"grades"`
	NoActiveBad   bool        `json:"no_active_bad,omitempty"`
	MinDisclosure json.Number `json:"min_disclosure,omitempty"`
}

// LoadRuleset reads and validates a ruleset file. Every problem is reported, each naming its key
// (weights.governance: weights must add up to 1, they add up to 1.1); the errors are joined.
func LoadRuleset(data []byte) (*Ruleset, error) {
	// encoding/json does not say where an unknown key or a malformed decimal is, so the document's
	// shape is checked first, key by key, against the file's Go types.
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("ruleset is not valid JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("ruleset: unexpected data after the JSON object")
	}
	var v validator
	v.checkShape(doc, reflect.TypeFor[rulesetFile](), "")
	if err := v.err(); err != nil {
		return nil, err
	}

	var file rulesetFile
	dec = json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("ruleset: %w", err) // unreachable after checkShape
	}
	rs := v.ruleset(&file)
	if err := v.err(); err != nil {
		return nil, err
	}
	for _, b := range rs.Bands {
		floor := Round(b.Min) // the nearest hundredth; one more if that is below Min
		if floor.Rat().Cmp(b.Min) < 0 {
			floor++
		}
		rs.bandFloors = append(rs.bandFloors, floor)
	}
	rs.canonical = canonical(rs)
	sum := sha256.Sum256(rs.canonical)
	rs.hash = hex.EncodeToString(sum[:])
	return rs, nil
}

// validator collects every problem found in a ruleset file, each with its key.
type validator struct {
	errs []error
}

func (v *validator) fail(key, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
}

func (v *validator) err() error { return errors.Join(v.errs...) }

var (
	decimalSyntax = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
	nameSyntax    = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	zoneSyntax    = regexp.MustCompile(`^([+-])([0-9]{2}):([0-9]{2})$`)
	numberType    = reflect.TypeFor[json.Number]()
)

// checkShape checks the decoded JSON value doc against the Go type t it will be decoded into:
// objects have exactly the keys of t (less the optional ones), and every value has the right kind.
func (v *validator) checkShape(doc any, t reflect.Type, key string) {
	switch {
	case t == numberType:
		var text string
		switch n := doc.(type) {
		case json.Number:
			text = n.String()
		case string:
			text = n
		default:
			v.fail(key, "must be a decimal number such as 0.6, not %s", jsonKind(doc))
			return
		}
		if !decimalSyntax.MatchString(text) {
			v.fail(key, "must be a decimal number such as 0.6 (no exponent), not %q", text)
		}
	case t.Kind() == reflect.Struct:
		obj, ok := doc.(map[string]any)
		if !ok {
			v.fail(rootName(key), "must be an object, not %s", jsonKind(doc))
			return
		}
		known := make(map[string]bool)
		for f := range t.Fields() {
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			known[name] = true
			value, present := obj[name]
			if !present || value == nil {
				if opts != "omitempty" {
					v.fail(join(key, name), "missing")
				}
				continue
			}
			v.checkShape(value, f.Type, join(key, name))
		}
		for _, name := range slices.Sorted(maps.Keys(obj)) {
			if !known[name] {
				v.fail(join(key, name), "unknown key")
			}
		}
	case t.Kind() == reflect.Slice:
		arr, ok := doc.([]any)
		if !ok {
			v.fail(key, "must be an array, not %s", jsonKind(doc))
			return
		}
		for i, elem := range arr {
			v.checkShape(elem, t.Elem(), fmt.Sprintf("%s[%d]", key, i))
		}
	case t.Kind() == reflect.String:
		if _, ok := doc.(string); !ok {
			v.fail(key, "must be a string, not %s", jsonKind(doc))
		}
	case t.Kind() == reflect.Bool:
		if _, ok := doc.(bool); !ok {
			v.fail(key, "must be true or false, not %s", jsonKind(doc))
		}
	case t.Kind() == reflect.Int:
		n, ok := doc.(json.Number)
		if _, err := strconv.ParseInt(n.String(), 10, 32); !ok || err != nil {
			v.fail(key, "must be a whole number, not %s", jsonKind(doc))
		}
	default:
		panic("scoring: checkShape does not know " + t.String())
	}
}

func join(key, name string) string {
	if key == "" {
		return name
	}
	return key + "." + name
}

func rootName(key string) string {
	if key == "" {
		return "ruleset"
	}
	return key
}

func jsonKind(doc any) string {
	switch d := doc.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(d)
	case json.Number:
		return d.String()
	case bool:
		return strconv.FormatBool(d)
	case []any:
		return "an array"
	default:
		return "an object"
	}
}

// decimal reads a decimal that checkShape has already checked.
func decimal(n json.Number) *big.Rat {
	if n == "" {
		return nil
	}
	return mustRat(n.String())
}

var (
	ratZero    = new(big.Rat)
	ratOne     = big.NewRat(1, 1)
	ratHundred = big.NewRat(100, 1)
)

// ruleset turns a well-shaped file into a Ruleset, checking every rule of the rules.
func (v *validator) ruleset(f *rulesetFile) *Ruleset {
	rs := &Ruleset{
		Name:    f.Name,
		Version: f.Version,
		K:       decimal(f.K),
		Weights: Weights{
			Satisfaction: decimal(f.Weights.Satisfaction),
			Disclosure:   decimal(f.Weights.Disclosure),
			Governance:   decimal(f.Weights.Governance),
		},
		Disclosure: DisclosureRules{
			ZoneOffset: f.Disclosure.DeadlineZone,
			GraceDays:  f.Disclosure.GraceDays,
			Worths: Worths{
				OnTime:            decimal(f.Disclosure.Worths.OnTime),
				WithinGrace:       decimal(f.Disclosure.Worths.WithinGrace),
				Late:              decimal(f.Disclosure.Worths.Late),
				MissingOrRejected: decimal(f.Disclosure.Worths.MissingOrRejected),
			},
		},
		Governance: GovernancePoints{
			PartyOrg:        decimal(f.Governance.PartyOrg),
			PartyInstructor: decimal(f.Governance.PartyInstructor),
			JointMechanism:  decimal(f.Governance.JointMechanism),
		},
		BonusCap:         decimal(f.Credit.BonusCap),
		DefaultValidDays: f.Credit.DefaultValidDays,
		FailGrade:        f.Grades.Fail,
		Red:              listRule(f.Lists.Red),
		Black:            listRule(f.Lists.Black),
	}
	for _, b := range f.Grades.Bands {
		rs.Bands = append(rs.Bands, Band{Grade: b.Grade, Min: decimal(b.Min)})
	}
	for _, t := range f.Credit.Catalogue {
		rs.Catalogue = append(rs.Catalogue, RecordType{Code: t.Code, Name: t.Name, NameEN: t.NameEN, Kind: t.Kind,
			Points: decimal(t.Points), Veto: t.Veto, ValidDays: t.ValidDays, Repairable: t.Repairable})
	}

	if !nameSyntax.MatchString(rs.Name) {
		v.fail("name", "must be 1-64 characters from A-Z a-z 0-9 . _ -, not %q", rs.Name)
	}
	if !nameSyntax.MatchString(rs.Version) {
		v.fail("version", "must be 1-64 characters from A-Z a-z 0-9 . _ -, not %q", rs.Version)
	}
	if rs.K.Sign() <= 0 {
		v.fail("k", "must be greater than 0, it is %s", decimalString(rs.K))
	}

	v.checkWeights(rs.Weights)
	v.checkDisclosure(&rs.Disclosure)
	v.checkGovernance(rs.Governance)

	if rs.BonusCap.Sign() < 0 {
		v.fail("credit.bonus_cap", "must not be negative, it is %s", decimalString(rs.BonusCap))
	}
	if rs.DefaultValidDays < 1 {
		v.fail("credit.default_valid_days", "must be at least 1 day, it is %d", rs.DefaultValidDays)
	}
	v.checkCatalogue(rs.Catalogue)

	v.checkGrades(rs)
	v.checkList("lists.red", rs.Red, rs)
	v.checkList("lists.black", rs.Black, rs)
	for _, g := range rs.Red.Grades {
		if slices.Contains(rs.Black.Grades, g) {
			v.fail("lists.black.grades", "grade %q is on both lists", g)
		}
	}
	return rs
}

func (v *validator) checkCatalogue(types []RecordType) {
	seen := map[string]bool{}
	hundredths := big.NewRat(100, 1)
	for i, t := range types {
		key := fmt.Sprintf("credit.catalogue[%d]", i)
		switch {
		case !nameSyntax.MatchString(t.Code):
			v.fail(key+".code", "must be 1-64 characters from A-Z a-z 0-9 . _ -, not %q", t.Code)
		case seen[t.Code]:
			v.fail(key+".code", "%q is given twice", t.Code)
		}
		seen[t.Code] = true
		if strings.TrimSpace(t.Name) == "" || strings.TrimSpace(t.NameEN) == "" {
			v.fail(key+".name", "name and name_en must not be empty")
		}
		if t.Kind != KindGood && t.Kind != KindBad {
			v.fail(key+".kind", "must be good or bad, not %q", t.Kind)
		}
		if t.Points.Sign() <= 0 || !new(big.Rat).Mul(t.Points, hundredths).IsInt() {
			v.fail(key+".points", "must be greater than 0 with at most 2 decimals, it is %s", decimalString(t.Points))
		}
		if t.Veto && t.Kind != KindBad {
			v.fail(key+".veto", "only a bad record can be a veto")
		}
		if t.ValidDays < 0 {
			v.fail(key+".valid_days", "must be at least 1 (or absent for the default), it is %d", t.ValidDays)
		}
	}
}

func listRule(f listFile) ListRule {
	return ListRule{Grades: f.Grades, NoActiveBad: f.NoActiveBad, MinDisclosure: decimal(f.MinDisclosure)}
}

// keyedRat is a number of the ruleset and the key it is under.
type keyedRat struct {
	key   string
	value *big.Rat
}

// nonNegativeSum adds up parts, failing each that is negative.
func (v *validator) nonNegativeSum(parts []keyedRat) *big.Rat {
	sum := new(big.Rat)
	for _, p := range parts {
		if p.value.Sign() < 0 {
			v.fail(p.key, "must not be negative, it is %s", decimalString(p.value))
		}
		sum.Add(sum, p.value)
	}
	return sum
}

func (v *validator) checkWeights(w Weights) {
	sum := v.nonNegativeSum([]keyedRat{
		{"weights.satisfaction", w.Satisfaction},
		{"weights.disclosure", w.Disclosure},
		{"weights.governance", w.Governance},
	})
	if sum.Cmp(ratOne) != 0 {
		v.fail("weights.governance", "weights must add up to 1, they add up to %s", decimalString(sum))
	}
}

func (v *validator) checkDisclosure(d *DisclosureRules) {
	if m := zoneSyntax.FindStringSubmatch(d.ZoneOffset); m == nil {
		v.fail("disclosure.deadline_zone", "must be an offset such as +08:00, not %q", d.ZoneOffset)
	} else {
		hours, _ := strconv.Atoi(m[2])
		minutes, _ := strconv.Atoi(m[3])
		if hours > 14 || minutes > 59 {
			v.fail("disclosure.deadline_zone", "must be between -14:00 and +14:00, not %q", d.ZoneOffset)
		}
		seconds := (hours*60 + minutes) * 60
		if m[1] == "-" {
			seconds = -seconds
		}
		d.Zone = time.FixedZone(d.ZoneOffset, seconds)
	}
	if d.GraceDays < 1 {
		v.fail("disclosure.grace_days", "must be at least 1 day, it is %d", d.GraceDays)
	}
	worths := []keyedRat{
		{"on_time", d.Worths.OnTime},
		{"within_grace", d.Worths.WithinGrace},
		{"late", d.Worths.Late},
		{"missing_or_rejected", d.Worths.MissingOrRejected},
	}
	for i, w := range worths {
		if w.value.Sign() < 0 || w.value.Cmp(ratOne) > 0 {
			v.fail("disclosure.worths."+w.key, "must be between 0 and 1, it is %s", decimalString(w.value))
		}
		// A later filing must never be worth more than an earlier one.
		if i > 0 && w.value.Cmp(worths[i-1].value) > 0 {
			v.fail("disclosure.worths."+w.key, "must not be more than %s (%s), it is %s",
				worths[i-1].key, decimalString(worths[i-1].value), decimalString(w.value))
		}
	}
}

func (v *validator) checkGovernance(g GovernancePoints) {
	sum := v.nonNegativeSum([]keyedRat{
		{"governance.party_org", g.PartyOrg},
		{"governance.party_instructor", g.PartyInstructor},
		{"governance.joint_mechanism", g.JointMechanism},
	})
	if sum.Cmp(ratHundred) > 0 { // G is a score out of 100
		v.fail("governance.joint_mechanism", "governance points must add up to at most 100, they add up to %s", decimalString(sum))
	}
}

func (v *validator) checkGrades(rs *Ruleset) {
	if len(rs.Bands) == 0 {
		v.fail("grades.bands", "must list at least one grade")
	}
	seen := map[string]bool{}
	for i, b := range rs.Bands {
		key := fmt.Sprintf("grades.bands[%d]", i)
		if b.Grade == "" {
			v.fail(key+".grade", "must not be empty")
		} else if seen[b.Grade] {
			v.fail(key+".grade", "grade %q is listed twice", b.Grade)
		}
		seen[b.Grade] = true
		if b.Min.Sign() < 0 || b.Min.Cmp(ratHundred) > 0 {
			v.fail(key+".min", "must be between 0 and 100, it is %s", decimalString(b.Min))
		}
		if i > 0 && b.Min.Cmp(rs.Bands[i-1].Min) >= 0 {
			v.fail(key+".min", "thresholds must be strictly descending, but %s follows %s", decimalString(b.Min), decimalString(rs.Bands[i-1].Min))
		}
	}
	if rs.FailGrade == "" {
		v.fail("grades.fail", "must not be empty")
	} else if seen[rs.FailGrade] {
		v.fail("grades.fail", "grade %q is also a band", rs.FailGrade)
	}
}

func (v *validator) checkList(key string, rule ListRule, rs *Ruleset) {
	if len(rule.Grades) == 0 {
		v.fail(key+".grades", "must list at least one grade")
	}
	for i, g := range rule.Grades {
		if g != rs.FailGrade && !slices.ContainsFunc(rs.Bands, func(b Band) bool { return b.Grade == g }) {
			v.fail(fmt.Sprintf("%s.grades[%d]", key, i), "unknown grade %q", g)
		}
	}
	if m := rule.MinDisclosure; m != nil && (m.Sign() < 0 || m.Cmp(ratHundred) > 0) {
		v.fail(key+".min_disclosure", "must be between 0 and 100, it is %s", decimalString(m))
	}
}

// canonical writes the ruleset back in its file's form with every decimal normalized.
func canonical(rs *Ruleset) []byte {
	num := func(r *big.Rat) json.Number {
		if r == nil {
			return ""
		}
		return json.Number(decimalString(r))
	}
	list := func(l ListRule) listFile {
		return listFile{Grades: l.Grades, NoActiveBad: l.NoActiveBad, MinDisclosure: num(l.MinDisclosure)}
	}
	f := rulesetFile{
		Name:    rs.Name,
		Version: rs.Version,
		K:       num(rs.K),
		Weights: weightsFile{num(rs.Weights.Satisfaction), num(rs.Weights.Disclosure), num(rs.Weights.Governance)},
		Disclosure: disclosureFile{
			DeadlineZone: rs.Disclosure.ZoneOffset,
			GraceDays:    rs.Disclosure.GraceDays,
			Worths: worthsFile{num(rs.Disclosure.Worths.OnTime), num(rs.Disclosure.Worths.WithinGrace),
				num(rs.Disclosure.Worths.Late), num(rs.Disclosure.Worths.MissingOrRejected)},
		},
		Governance: governanceFile{num(rs.Governance.PartyOrg), num(rs.Governance.PartyInstructor), num(rs.Governance.JointMechanism)},
		Credit:     creditFile{BonusCap: num(rs.BonusCap), DefaultValidDays: rs.DefaultValidDays},
		Grades:     gradesFile{Fail: rs.FailGrade},
		Lists:      listsFile{Red: list(rs.Red), Black: list(rs.Black)},
	}
	for _, b := range rs.Bands {
		f.Grades.Bands = append(f.Grades.Bands, bandFile{Grade: b.Grade, Min: num(b.Min)})
	}
	for _, t := range rs.Catalogue {
		f.Credit.Catalogue = append(f.Credit.Catalogue, recordTypeFile{Code: t.Code, Name: t.Name, NameEN: t.NameEN, Kind: t.Kind,
			Points: num(t.Points), Veto: t.Veto, ValidDays: t.ValidDays, Repairable: t.Repairable})
	}
	out, err := json.Marshal(f)
	if err != nil {
		panic("scoring: canonical ruleset: " + err.Error())
	}
	return out
}
