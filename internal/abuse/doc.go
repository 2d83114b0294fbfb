// Package abuse holds the abuse suite (issue 15): the attacks themselves, run against a real
// `propcredit serve` of the demo city on the embedded engine, with honest owners and staff
// measured alongside, and the nothing-lost test, which kills the real binary with SIGKILL
// under rating load and checks every acknowledged receipt after each restart. It has no code
// outside its tests; the process and client helpers are internal/servetest's.
package abuse
