package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/propcredit/propcredit/scoring"
)

// Leaves are canonical JSON: the fields of ResultLeaf, PublicationLeaf or one of the kinds of
// kinds.go in the order declared, no spaces, no HTML escaping, times in UTC to the second (RFC 3339), scores as
// JSON numbers with at most two decimals. A leaf's bytes never change once appended; a verifier
// parses them with any JSON parser.

// Leaf types.
const (
	TypeResult      = "result"      // one company's grade in one publication
	TypePublication = "publication" // a publication: its inputs and ruleset
)

// ResultLeaf is one company's grade in one publication.
type ResultLeaf struct {
	Type          string          `json:"type"`
	Company       string          `json:"company"` // unified social credit code
	Name          string          `json:"name"`
	Period        string          `json:"period"`
	Publication   int             `json:"publication"` // the period's publication number, 1, 2, …
	Grade         string          `json:"grade"`
	Score         json.RawMessage `json:"score"`
	List          string          `json:"list"` // red, black or none
	Rank          int             `json:"rank"`
	Records       []string        `json:"records"` // ids of the credit records in force on the period's end
	Vetoes        []string        `json:"vetoes"`  // of those, the veto records
	Ruleset       string          `json:"ruleset"`
	RulesetSHA256 string          `json:"ruleset_sha256"`
	InputsSHA256  string          `json:"inputs_sha256"`
	PublishedAt   string          `json:"published_at"`
}

// PublicationLeaf records a publication as a whole: the data and rules it was computed from.
type PublicationLeaf struct {
	Type          string `json:"type"`
	Period        string `json:"period"`
	Publication   int    `json:"publication"`
	Companies     int    `json:"companies"` // how many result leaves it has
	Ruleset       string `json:"ruleset"`
	RulesetSHA256 string `json:"ruleset_sha256"`
	InputsSHA256  string `json:"inputs_sha256"`
	PublishedAt   string `json:"published_at"`
}

// Publication says which publication leaves are made for.
type Publication struct {
	Period      string
	Seq         int
	Ruleset     string
	RulesetHash string
	InputsHash  string
	PublishedAt time.Time
}

// PublicationKey is the key of a publication's own leaf; ResultKey of a company's.
func PublicationKey(period string, seq int) string {
	return fmt.Sprintf("pub|%s|%04d", period, seq)
}

// ResultKey is the key of a company's leaf in a publication.
func ResultKey(period string, seq int, company string) string {
	return PublicationKey(period, seq) + "|" + company
}

// A Grade is what the ledger records of a company's grade. Its JSON names are those of
// scoring.Grade, so that a stored result's detail decodes into it, skipping what the ledger
// does not record (estate details, exact numbers) at a fraction of the cost.
type Grade struct {
	Company      string        `json:"company"`
	Name         string        `json:"name"`
	Score        scoring.Fixed `json:"score"`
	Grade        string        `json:"grade"`
	List         string        `json:"list"`
	Rank         int           `json:"rank"`
	ActiveEvents []struct {
		ID   string `json:"id"`
		Veto bool   `json:"veto"`
	} `json:"active_events"`
}

// PublicationLeaves makes the leaves of a publication: one per company result, in rank order,
// then the publication's own.
func PublicationLeaves(pub Publication, grades []Grade) ([]Leaf, error) {
	at := pub.PublishedAt.UTC().Format(time.RFC3339)
	leaves := make([]Leaf, 0, len(grades)+1)
	for i := range grades {
		leaf, err := resultLeaf(pub, at, &grades[i])
		if err != nil {
			return nil, err
		}
		data, err := Canonical(leaf)
		if err != nil {
			return nil, err
		}
		leaves = append(leaves, Leaf{Key: ResultKey(pub.Period, pub.Seq, leaf.Company), Data: data})
	}
	data, err := Canonical(PublicationLeaf{Type: TypePublication, Period: pub.Period, Publication: pub.Seq,
		Companies: len(grades), Ruleset: pub.Ruleset, RulesetSHA256: pub.RulesetHash, InputsSHA256: pub.InputsHash, PublishedAt: at})
	if err != nil {
		return nil, err
	}
	return append(leaves, Leaf{Key: PublicationKey(pub.Period, pub.Seq), Data: data}), nil
}

// ResultLeafOf makes the leaf of one company's grade in a publication, as PublicationLeaves
// makes it, to find it in the ledger.
func ResultLeafOf(pub Publication, g Grade) (Leaf, error) {
	leaf, err := resultLeaf(pub, pub.PublishedAt.UTC().Format(time.RFC3339), &g)
	if err != nil {
		return Leaf{}, err
	}
	data, err := Canonical(leaf)
	return Leaf{Key: ResultKey(pub.Period, pub.Seq, g.Company), Data: data}, err
}

// GradeOf takes what the ledger records of an engine's grade.
func GradeOf(g *scoring.Grade) Grade {
	out := Grade{Company: g.Company, Name: g.Name, Score: g.Score, Grade: g.Grade, List: g.List, Rank: g.Rank}
	for _, ev := range g.ActiveEvents {
		out.ActiveEvents = append(out.ActiveEvents, struct {
			ID   string `json:"id"`
			Veto bool   `json:"veto"`
		}{ev.ID, ev.Veto})
	}
	return out
}

func resultLeaf(pub Publication, at string, g *Grade) (ResultLeaf, error) {
	score, err := g.Score.MarshalJSON()
	if err != nil {
		return ResultLeaf{}, err
	}
	leaf := ResultLeaf{Type: TypeResult, Company: g.Company, Name: g.Name, Period: pub.Period, Publication: pub.Seq,
		Grade: g.Grade, Score: score, List: g.List, Rank: g.Rank, Records: []string{}, Vetoes: []string{},
		Ruleset: pub.Ruleset, RulesetSHA256: pub.RulesetHash, InputsSHA256: pub.InputsHash, PublishedAt: at}
	for _, ev := range g.ActiveEvents {
		leaf.Records = append(leaf.Records, ev.ID)
		if ev.Veto {
			leaf.Vetoes = append(leaf.Vetoes, ev.ID)
		}
	}
	return leaf, nil
}

// Canonical encodes a leaf as canonical JSON.
func Canonical(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// ParseResultLeaf reads a result leaf, and checks that its bytes are canonical: a leaf that
// parses but is not byte for byte what Canonical makes of it is refused.
func ParseResultLeaf(data []byte) (ResultLeaf, error) {
	var leaf ResultLeaf
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&leaf); err != nil {
		return leaf, fmt.Errorf("leaf is not a result record: %w", err)
	}
	if leaf.Type != TypeResult {
		return leaf, fmt.Errorf("leaf is a %q record, not a company result", leaf.Type)
	}
	again, err := Canonical(leaf)
	if err != nil {
		return leaf, err
	}
	if !bytes.Equal(again, data) {
		return leaf, errors.New("leaf is not in canonical form")
	}
	return leaf, nil
}
