// Package layers holds no code: its test checks, with `go list`, the import rules of
// ARCHITECTURE.md, so that they stay true.
package layers
