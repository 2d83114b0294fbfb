package disclosure

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// The JSON form of the figures is what the database stores, what the JSON API takes and what
// the export writes: amounts are integers of fen (fields ending in _fen), never decimals, so
// that no client or reader is tempted into floating point.

// shape describes the JSON of a category: for each key, "int", "string", "string?"
// (optional), a nested shape, or a one-element []shape for a list of objects.
type shape map[string]any

var line = shape{"purpose": "string", "amount_fen": "int"}

var shapes = map[string]shape{
	Utilities: {
		"bills":       []shape{{"kind": "string", "name": "string?", "amount_fen": "int"}},
		"allocations": []shape{{"kind": "string", "group": "string", "amount_fen": "int"}},
	},
	Fees: {
		"standard_fen_per_m2_month": "int", "collected_fen": "int", "spent_fen": "int",
		"spending": []shape{line},
	},
	MaintenanceFund: {
		"opening_fen": "int", "deposits_fen": "int", "withdrawals_fen": "int", "interest_fen": "int", "closing_fen": "int",
		"withdrawals": []shape{line},
	},
	Parking: {
		"spaces":     shape{"total": "int", "rented": "int", "sold": "int", "temporary": "int"},
		"income_fen": "int",
		"income":     []shape{{"source": "string", "amount_fen": "int"}},
		"uses":       []shape{{"kind": "string", "purpose": "string", "amount_fen": "int"}},
	},
}

// maxJSONInt bounds integers in the JSON (amounts in fen and counts), so that sums stay exact.
const maxJSONInt = int64(maxAmount)

// Decode reads a category's figures from their JSON (amounts in integer fen) and checks them.
// Problems name fields by their JSON path under prefix (such as "data").
func Decode(category, prefix string, raw []byte) (Data, Problems) {
	sh, ok := shapes[category]
	if !ok {
		return nil, Problems{{Field: "category", Text: textf("未知的公开类别“%s”", "unknown disclosure category %q", category)}}
	}
	var ps Problems
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		ps.add(prefix, textf("%s不是有效的JSON：%v", "%s is not valid JSON: %v", prefix, err))
		return nil, ps
	}
	if dec.More() {
		ps.add(prefix, textf("%s之后还有多余内容", "unexpected content after %s", prefix))
		return nil, ps
	}
	walk(&ps, v, sh, prefix)
	if len(ps) > 0 {
		return nil, ps
	}
	d := newData(category)
	if err := json.Unmarshal(raw, d); err != nil { // cannot fail after walk; be safe anyway
		ps.add(prefix, textf("%s无法读取：%v", "%s cannot be read: %v", prefix, err))
		return nil, ps
	}
	setJSONRefs(d, prefix)
	d.check(&ps, namer{schema: SchemaOf(category), json: true, prefix: prefix})
	if len(ps) > 0 {
		return nil, ps
	}
	return d, nil
}

// walk checks that v has shape sh: every key known and present, every value of its type.
func walk(ps *Problems, v any, sh shape, path string) {
	obj, ok := v.(map[string]any)
	if !ok {
		ps.add(path, textf("%s必须是JSON对象", "%s must be a JSON object", path))
		return
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if _, known := sh[k]; !known {
			ps.add(join(path, k), textf("未知字段%s", "unknown field %s", join(path, k)))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(sh)) {
		p := join(path, k)
		val, present := obj[k]
		switch want := sh[k].(type) {
		case string:
			optional := strings.HasSuffix(want, "?")
			if !present || val == nil {
				if !optional {
					ps.add(p, textf("缺少%s", "%s is missing", p))
				}
				continue
			}
			checkScalar(ps, val, strings.TrimSuffix(want, "?"), p)
		case shape:
			if !present {
				ps.add(p, textf("缺少%s", "%s is missing", p))
				continue
			}
			walk(ps, val, want, p)
		case []shape:
			if !present || val == nil {
				continue // an absent list is an empty one
			}
			list, ok := val.([]any)
			if !ok {
				ps.add(p, textf("%s必须是数组", "%s must be an array", p))
				continue
			}
			if len(list) > MaxLines {
				ps.add(p, textf("%s最多%d行", "%s: at most %d lines", p, MaxLines))
				continue
			}
			for i, el := range list {
				walk(ps, el, want[0], fmt.Sprintf("%s[%d]", p, i))
			}
		}
	}
}

func checkScalar(ps *Problems, val any, want, p string) {
	switch want {
	case "string":
		if _, ok := val.(string); !ok {
			ps.add(p, textf("%s必须是字符串", "%s must be a string", p))
		}
	case "int":
		num, ok := val.(json.Number)
		if !ok {
			ps.add(p, textf("%s必须是整数", "%s must be an integer", p))
			return
		}
		n, err := strconv.ParseInt(num.String(), 10, 64)
		switch {
		case err != nil && strings.ContainsAny(num.String(), ".eE"):
			ps.add(p, textf("%s必须是整数（金额以分为单位，例如 123456 表示 1234.56 元）", "%s must be an integer (amounts are in fen: 123456 is 1234.56 yuan)", p))
		case err != nil || n > maxJSONInt:
			ps.add(p, textf("%s过大", "%s is too large", p))
		case n < 0:
			ps.add(p, textf("%s不能为负数", "%s must not be negative", p))
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// setJSONRefs names each line by its JSON path, for messages.
func setJSONRefs(d Data, prefix string) {
	at := func(list string, i int) ref {
		p := fmt.Sprintf("%s[%d]", join(prefix, list), i)
		return ref{field: p, where: Text{p, p}}
	}
	switch d := d.(type) {
	case *UtilitiesData:
		for i := range d.Bills {
			d.Bills[i].ref = at("bills", i)
		}
		for i := range d.Allocations {
			d.Allocations[i].ref = at("allocations", i)
		}
	case *FeesData:
		for i := range d.Spending {
			d.Spending[i].ref = at("spending", i)
		}
	case *FundData:
		for i := range d.Withdrawals {
			d.Withdrawals[i].ref = at("withdrawals", i)
		}
	case *ParkingData:
		for i := range d.Income {
			d.Income[i].ref = at("income", i)
		}
		for i := range d.Uses {
			d.Uses[i].ref = at("uses", i)
		}
	}
}

// Marshal writes figures as compact JSON, lists always present (empty rather than null), in
// a fixed field order: the same figures always give the same bytes.
func Marshal(d Data) []byte {
	switch d := d.(type) {
	case *UtilitiesData:
		d.Bills = nonNil(d.Bills)
		d.Allocations = nonNil(d.Allocations)
	case *FeesData:
		d.Spending = nonNil(d.Spending)
	case *FundData:
		d.Withdrawals = nonNil(d.Withdrawals)
	case *ParkingData:
		d.Income = nonNil(d.Income)
		d.Uses = nonNil(d.Uses)
	}
	b, err := json.Marshal(d)
	if err != nil {
		panic("disclosure: marshal: " + err.Error()) // plain structs of ints and strings
	}
	return b
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Stored reads figures back from the database. ok is false when the JSON is not in this
// package's form: records imported from elsewhere may hold any object, which View still shows.
func Stored(category string, raw []byte) (Data, bool) {
	sh, ok := shapes[category]
	if !ok || len(raw) == 0 {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil, false
	}
	var ps Problems
	walk(&ps, v, sh, "")
	if len(ps) > 0 {
		return nil, false
	}
	d := newData(category)
	if json.Unmarshal(raw, d) != nil {
		return nil, false
	}
	return d, true
}
