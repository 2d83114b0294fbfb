// Package scoring computes the credit grades of property-service companies for one period, from
// owner ratings, disclosures, party-building governance and credit records, under a ruleset that
// is data (see ruleset_default.json and SCORING.md for the default, default@1).
//
// The engine is pure: it reads an Input, does no I/O and keeps no state. All arithmetic is exact
// (math/big.Rat, or integers where that is the same thing); numbers are rounded to hundredths,
// half away from zero, only when they are reported. The same Input, in any order, and the same
// Ruleset give byte-identical results.
//
// Typical use:
//
//	rs := scoring.Default() // or scoring.LoadRuleset(fileBytes)
//	res, err := scoring.Score(rs, input)
//	out, err := scoring.MarshalExport(res)   // INTERCHANGE.md "Exported results"
//	text, err := scoring.Explain(res, rs, companyID)
package scoring
