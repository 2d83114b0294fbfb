package main

import (
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const codesCity = goodLines + `{"type":"period","id":"2026Q4","start":"2026-10-01","end":"2026-12-31","disclosure_deadline":"2026-10-15"}
`

// issuedCSV parses the command's output into flat → code, checking its header.
func issuedCSV(t *testing.T, out string) map[string]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) == 0 || !cmp.Equal(rows[0], []string{"flat", "code"}) {
		t.Fatalf("output is not CSV flat,code (%v):\n%s", err, out)
	}
	codes := map[string]string{}
	for _, r := range rows[1:] {
		codes[r[0]] = r[1]
	}
	return codes
}

func TestCodesIssue(t *testing.T) {
	dir := t.TempDir()
	if _, stderr, code := run(t, nil, "", "import", "--data", dir, writeFile(t, "city.jsonl", codesCity)); code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}

	// Bad flats: every bad line is named, and nothing is issued.
	bad := writeFile(t, "bad.csv", "flat\n1-1-101\n1 1 102\n\n=HYPERLINK(\"x\")\n")
	stdout, stderr, code := run(t, nil, "", "codes", "issue", "--data", dir, "--period", "2026Q4", "--estate", "e1", "--flats", bad)
	if code != 1 || stdout != "" {
		t.Errorf("bad flats: exit %d, stdout %q", code, stdout)
	}
	for _, want := range []string{bad + `:3: flat "1 1 102" is not valid`, bad + `:5: flat "=HYPERLINK(\"x\")" is not valid`} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}

	flats := writeFile(t, "flats.csv", "\uFEFFflat\r\n1-1-101\r\n-1-102\r\n1-1-101\r\n")
	stdout, stderr, code = run(t, nil, "", "codes", "issue", "--data", dir, "--period", "2026Q4", "--estate", "e1", "--flats", flats)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	first := issuedCSV(t, stdout)
	if len(first) != 2 || first["1-1-101"] == "" || first["'-1-102"] == "" {
		t.Fatalf("issued %v; want two codes, the flat starting with '-' guarded against spreadsheets", first)
	}
	if !strings.Contains(stderr, "issued 2 codes") {
		t.Errorf("stderr %q", stderr)
	}

	// Again: only the new flat from standard input gets a code; then --reissue replaces all.
	stdout, _, code = run(t, nil, "1-1-103\n", "codes", "issue", "--data", dir, "--period", "2026Q4", "--estate", "e1", "--flats", "-")
	if got := issuedCSV(t, stdout); code != 0 || len(got) != 1 || got["1-1-103"] == "" {
		t.Errorf("second issue: exit %d, codes %v; want only 1-1-103", code, got)
	}
	stdout, stderr, code = run(t, nil, "", "codes", "issue", "--data", dir, "--period", "2026Q4", "--estate", "e1")
	if got := issuedCSV(t, stdout); code != 0 || len(got) != 0 || !strings.Contains(stderr, "no new codes") {
		t.Errorf("nothing to issue: exit %d, codes %v, stderr %q", code, got, stderr)
	}
	stdout, _, code = run(t, nil, "", "codes", "issue", "--data", dir, "--period", "2026Q4", "--estate", "e1", "--reissue")
	reissued := issuedCSV(t, stdout)
	if code != 0 || len(reissued) != 3 || reissued["1-1-101"] == first["1-1-101"] {
		t.Fatalf("reissue: exit %d, codes %v", code, reissued)
	}

	// The printed codes are the ones the database checks.
	ctx := context.Background()
	store := openData(t, dir)
	now := time.Now()
	if err := store.DB.CheckCode(ctx, "2026Q4", "e1", "1-1-101", reissued["1-1-101"], now); err != nil {
		t.Errorf("the re-issued code does not check: %v", err)
	}
	if err := store.DB.CheckCode(ctx, "2026Q4", "e1", "-1-102", reissued["'-1-102"], now); err != nil {
		t.Errorf("the code of flat -1-102 does not check: %v", err)
	}
	if err := store.DB.CheckCode(ctx, "2026Q4", "e1", "1-1-101", first["1-1-101"], now); err == nil {
		t.Error("the code from before the re-issue still checks")
	}
}

func TestCodesIssueMistakes(t *testing.T) {
	dir := t.TempDir()
	if _, stderr, code := run(t, nil, "", "import", "--data", dir, writeFile(t, "city.jsonl", codesCity)); code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"codes"}, 2, "the only subcommand is 'issue'"},
		{[]string{"codes", "issue", "--data", dir, "--estate", "e1"}, 2, "--period and --estate are required"},
		{[]string{"codes", "issue", "--data", dir, "--period", "2026Q4", "--estate", "e1", "flats.csv"}, 2, "unexpected argument"},
		{[]string{"codes", "issue", "--data", dir, "--period", "2026Q4", "--estate", "e1", "--flats", "/no/such/file"}, 2, "no such file"},
		{[]string{"codes", "issue", "--data", dir, "--period", "2030Q1", "--estate", "e1"}, 1, `period "2030Q1" not found`},
		{[]string{"codes", "issue", "--data", dir, "--period", "2026Q4", "--estate", "nope"}, 1, `estate "nope" not found`},
	} {
		stdout, stderr, code := run(t, nil, "", tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d and %q", tc.args[1:], code, stdout, stderr, tc.code, tc.want)
		}
	}
	if stdout, _, code := run(t, nil, "", "codes", "--help"); code != 0 || !strings.Contains(stdout, "codes issue --period") {
		t.Errorf("codes --help: exit %d, %q", code, stdout)
	}
}
