package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/propcredit/propcredit/internal/app"
	"github.com/propcredit/propcredit/internal/datadir"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
)

// run runs the program in-process as the binary would, with env as its environment.
// openData opens, privately, the data directory that commands left, for a test to look into;
// it is closed when the test ends.
func openData(t *testing.T, dir string) *app.Store {
	t.Helper()
	store, err := app.OpenStore(context.Background(), app.StoreConfig{DataDir: dir, Log: mongodbtest.Quiet()}, app.Private, "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close(context.Background()) })
	return store
}

func run(t *testing.T, env map[string]string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Log: mongodbtest.Quiet(),
		Getenv: func(k string) string { return env[k] }}
	err := m.Run(context.Background(), args)
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	code = exitCode(&errb, err)
	return out.String(), errb.String(), code
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestImportExportImportIsIdentical(t *testing.T) {
	demoFile := filepath.Join(t.TempDir(), "demo.jsonl")
	if _, stderr, code := run(t, nil, "", "demo", "--out", demoFile, "--today", "2026-11-23"); code != 0 {
		t.Fatalf("demo: exit %d: %s", code, stderr)
	}
	first, second := t.TempDir(), t.TempDir()
	if _, stderr, code := run(t, nil, "", "import", "--data", first, demoFile); code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	exported, stderr, code := run(t, nil, "", "export", "--data", first, "--format", "jsonl")
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, stderr)
	}
	demoBytes, _ := os.ReadFile(demoFile)
	if exported != string(demoBytes) {
		t.Errorf("export of an imported demo city differs from the demo file (%d vs %d bytes)", len(exported), len(demoBytes))
	}
	exportFile := writeFile(t, "export.jsonl", exported)
	if _, stderr, code := run(t, map[string]string{"PROPCREDIT_DATA": second}, "", "import", exportFile); code != 0 {
		t.Fatalf("import of export: exit %d: %s", code, stderr)
	}
	again, _, _ := run(t, nil, "", "export", "--data", second)
	if again != exported {
		t.Errorf("import → export → import → export is not identical")
	}
	stdout, stderr, code := run(t, nil, "", "import", "--data", first, exportFile)
	if code != 0 || !strings.Contains(stdout, " 0 new, 0 replaced") {
		t.Errorf("re-import: exit %d, stdout %q, stderr %q; want nothing new or replaced", code, stdout, stderr)
	}
}

const goodLines = `{"type":"district","id":"d1","name":"东湖区"}
{"type":"company","id":"91440300MA5D000001","name":"万润物业"}
{"type":"estate","id":"e1","name":"翠竹花园","district":"d1","company":"91440300MA5D000001","households":100,"category":"commodity"}
`

func TestImportReportsEveryBadLine(t *testing.T) {
	file := writeFile(t, "city.jsonl", goodLines+
		`{"type":"estate","id":"e2","name":"锦绣华庭","district":"d9","company":"91440300MA5D000001","households":0,"category":"commodity"}
not json

{"type":"planet","id":"p1"}
{"type":"event","id":"ev1","company":"91440300MA5D000001","kind":"good","points":2.555,"veto":false,"date":"2026-01-01","description":"x"}
`)
	t.Run("atomic writes nothing", func(t *testing.T) {
		dir := t.TempDir()
		_, stderr, code := run(t, nil, "", "import", "--atomic", "--data", dir, file)
		if code != 1 || !strings.Contains(stderr, "nothing imported") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
		out, _, _ := run(t, nil, "", "export", "--data", dir)
		if out != "" {
			t.Errorf("--atomic import with bad lines wrote:\n%s", out)
		}
	})
	t.Run("good lines are imported", func(t *testing.T) {
		dir := t.TempDir()
		stdout, stderr, code := run(t, nil, "", "import", "--data", dir, file)
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		for _, want := range []string{file + ":4: ", file + ":5: ", file + ":7: ", file + ":8: "} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
		}
		if strings.Contains(stderr, file+":6:") {
			t.Errorf("blank line 6 reported:\n%s", stderr)
		}
		if !strings.Contains(stdout, "imported 3 records") {
			t.Errorf("stdout %q, want the 3 good records imported", stdout)
		}
		out, _, _ := run(t, nil, "", "export", "--data", dir)
		if got := strings.Count(out, "\n"); got != 3 {
			t.Errorf("export has %d lines, want 3:\n%s", got, out)
		}
	})
}

func TestCommandLineMistakesAreOneLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"serve", "--port", "80"}, nil, "serve: flag provided but not defined: -port"},
		{[]string{"frobnicate"}, nil, `unknown command "frobnicate"`},
		{[]string{"export", "--format", "csv"}, nil, `--format must be jsonl, not "csv"`},
		{[]string{"serve", "--log-format", "xml"}, nil, "--log-format must be json or text"},
		{[]string{"import"}, nil, "name at least one file"},
		{[]string{"serve", "--trusted-proxies", "10.0.0.0/8,proxy.local"}, nil, `"proxy.local" is neither an address nor a CIDR`},
		{[]string{"serve", "--hold-suspect", "devices=3"}, nil, `--hold-suspect: "devices": unknown threshold`},
		{[]string{"serve", "--peer-url", "ftp://10.0.0.1"}, nil, `--peer-url: "ftp://10.0.0.1": want http:// or https://`},
		{[]string{"serve", "--peer-url", "http://10.0.0.1:8080/propcredit"}, nil, `want scheme://host:port and nothing more`},
		{[]string{"serve", "--peer-url", "http://10.0.0.1:8080"}, map[string]string{"PROPCREDIT_MONGODB_URI": ""}, "--peer-url needs --mongodb-uri"},
		{[]string{"user", "add", "--role", "king", "--name", "x"}, nil, "role must be one of"},
		{[]string{"backup", "--data", t.TempDir(), "--out", "b.pcbackup", "extra"}, nil, `backup: unexpected argument "extra"`},
		{[]string{"restore", "--from", "b.pcbackup", "--data", filepath.Join(t.TempDir(), "d"), "extra"}, nil, `restore: unexpected argument "extra"`},
		{[]string{"export", "--data", t.TempDir(), "--site", filepath.Join(t.TempDir(), "s"), "extra"}, nil, `export: unexpected argument "extra"`},
		{[]string{"audit", "export", "--data", t.TempDir(), "extra"}, nil, `audit export: unexpected argument "extra"`},
		{[]string{"token", "list", "--data", t.TempDir(), "--company", "91440300MA5D00000A", "extra"}, nil, `token list: unexpected argument "extra"`},
	} {
		_, stderr, code := run(t, tc.env, "", tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line containing %q", tc.args, code, stderr, tc.want)
		}
	}
	_, stderr, code := run(t, map[string]string{"PROPCREDIT_DEMO": "maybe"}, "", "serve")
	if code != 2 || !strings.Contains(stderr, "PROPCREDIT_DEMO") {
		t.Errorf("bad environment value: exit %d, stderr %q", code, stderr)
	}
}

func TestHelpIsPrintedOnceAndOnlyWhenAsked(t *testing.T) {
	stdout, _, code := run(t, nil, "", "import", "--help")
	if code != 0 || strings.Count(stdout, "Usage: propcredit import") != 1 || !strings.Contains(stdout, "-atomic") {
		t.Errorf("import --help: exit %d\n%s", code, stdout)
	}
	stdout, _, _ = run(t, nil, "", "import", "--bogus")
	if stdout != "" {
		t.Errorf("a bad flag printed help:\n%s", stdout)
	}
}

// dataInUse is a data directory that a server holds, as a running serve does, until the test
// ends.
func dataInUse(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	lock, err := datadir.Acquire(dir, "serve")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lock.Release() })
	return dir
}

func TestSecondServerOnSameDataIsRefused(t *testing.T) {
	dir := dataInUse(t)
	_, stderr, code := run(t, nil, "", "serve", "--data", dir, "--addr", "127.0.0.1:0")
	if code != 1 || !strings.Contains(stderr, "in use by another propcredit process") {
		t.Errorf("exit %d, stderr %q; want a clear refusal", code, stderr)
	}
}

func TestCommandsBesideARunningServer(t *testing.T) {
	dir := dataInUse(t)
	file := writeFile(t, "city.jsonl", goodLines)
	_, stderr, code := run(t, nil, "", "import", "--data", dir, file)
	if code != 1 || !strings.Contains(stderr, "stop the server first") {
		t.Errorf("import beside a server: exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = run(t, nil, "", "tally", "--verify", "--fix", "--data", dir)
	if code != 1 || !strings.Contains(stderr, "stop the server first") {
		t.Errorf("tally --fix beside a server: exit %d, stderr %q", code, stderr)
	}
}

func TestUserAdd(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, code := run(t, nil, "", "user", "add", "--data", dir, "--role", "reviewer", "--name", "wang")
	if code != 0 || !strings.Contains(stdout, "one-time password: ") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	_, stderr, code = run(t, nil, "", "user", "add", "--data", dir, "--role", "reviewer", "--name", "wang")
	if code != 1 {
		t.Errorf("duplicate name: exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = run(t, nil, "", "user", "add", "--data", dir, "--role", "company", "--name", "acme")
	if code != 2 || !strings.Contains(stderr, "company") {
		t.Errorf("company role without --company: exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = run(t, nil, "", "user", "add", "--data", dir, "--role", "company", "--name", "acme", "--company", "91440300MA5D000001")
	if code != 1 || !strings.Contains(stderr, "not found") {
		t.Errorf("unknown company: exit %d, stderr %q", code, stderr)
	}
	// --password-stdin holds a chosen password to the same rules as the web: characters, not
	// bytes, at least 8, and none of the common passwords.
	for _, pw := range []string{"short", "password1", "woaini1314", "root"} {
		_, stderr, code = run(t, nil, pw+"\n", "user", "add", "--data", dir, "--role", "admin", "--name", "root", "--password-stdin")
		if code != 2 || !strings.Contains(stderr, "password") {
			t.Errorf("--password-stdin %q: exit %d, stderr %q", pw, code, stderr)
		}
	}
	stdout, _, code = run(t, nil, "物业信用评价系统\n", "user", "add", "--data", dir, "--role", "admin", "--name", "root", "--password-stdin")
	if code != 0 || strings.Contains(stdout, "password") {
		t.Errorf("--password-stdin: exit %d, stdout %q (must not echo a password)", code, stdout)
	}
	// The printed password is one-time: it must be changed at the first log-in. A password
	// the administrator typed in is not.
	ctx := context.Background()
	store := openData(t, dir)
	for name, want := range map[string]bool{"wang": true, "root": false} {
		a, err := store.DB.AccountByName(ctx, name)
		if err != nil || a.MustChangePassword != want {
			t.Errorf("account %s: must change password %v (%v), want %v", name, a.MustChangePassword, err, want)
		}
	}
}

// TestOnlyImportDefersSync: import runs the embedded engine without a sync per commit; the
// other commands, the private tally --fix included, sync every commit. (serve opens the
// directory Exclusive, which app.OpenStore refuses to combine with deferred syncing.)
func TestOnlyImportDefersSync(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, "city.jsonl", goodLines)
	for _, tc := range []struct {
		args     []string
		deferred bool
	}{
		{[]string{"import", "--data", dir, file}, true},
		{[]string{"export", "--data", dir}, false},
		{[]string{"tally", "--verify", "--fix", "--data", dir}, false},
		{[]string{"user", "add", "--data", dir, "--role", "reviewer", "--name", "wang"}, false},
	} {
		var out, errb bytes.Buffer
		m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Log: mongodbtest.Quiet(),
			Getenv: func(string) string { return "" }}
		if err := m.Run(context.Background(), tc.args); err != nil {
			t.Fatalf("%v: %v\n%s", tc.args, err, errb.String())
		}
		if m.store == nil || m.store.SyncDeferred() != tc.deferred {
			t.Errorf("%s: store %v, want deferred syncing %v", tc.args[0], m.store, tc.deferred)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestImportIsDurableWhenItReports copies the database files, without their write-ahead logs,
// at the moment import prints its result, the engine still running: what a crash of the machine
// could leave at worst. The copy holds everything imported.
func TestImportIsDurableWhenItReports(t *testing.T) {
	demoFile := filepath.Join(t.TempDir(), "demo.jsonl")
	if _, stderr, code := run(t, nil, "", "demo", "--out", demoFile, "--today", "2026-11-23"); code != 0 {
		t.Fatalf("demo: exit %d: %s", code, stderr)
	}
	dir, crashed := t.TempDir(), t.TempDir()
	snapshot := &onWrite{do: func() {
		files, _ := filepath.Glob(filepath.Join(dir, "sqlite", "*.sqlite"))
		if len(files) == 0 {
			t.Error("no database files")
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err == nil {
				err = os.MkdirAll(filepath.Join(crashed, "sqlite"), 0o700)
			}
			if err == nil {
				err = os.WriteFile(filepath.Join(crashed, "sqlite", filepath.Base(f)), b, 0o600)
			}
			if err != nil {
				t.Error(err)
			}
		}
	}}
	m := &Main{Stdin: strings.NewReader(""), Stdout: snapshot, Stderr: io.Discard, Log: mongodbtest.Quiet(),
		Getenv: func(string) string { return "" }}
	err := m.Run(context.Background(), []string{"import", "--data", dir, demoFile})
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if err != nil || !snapshot.done {
		t.Fatalf("import: %v (printed: %v)", err, snapshot.done)
	}
	got, stderr, code := run(t, nil, "", "export", "--data", crashed)
	want, _ := os.ReadFile(demoFile)
	if code != 0 || got != string(want) {
		t.Errorf("export of the database files as import reported: exit %d, stderr %q, %d bytes, want the %d of the demo city",
			code, stderr, len(got), len(want))
	}
}

// onWrite calls do before the first write.
type onWrite struct {
	do   func()
	done bool
}

func (w *onWrite) Write(p []byte) (int, error) {
	if !w.done {
		w.done = true
		w.do()
	}
	return len(p), nil
}
