// Command propcredit runs the property-service credit evaluation system: the web server, and
// the commands that import, export, score and publish its data.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/propcredit/propcredit/internal/app"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	if len(os.Args) > 1 && os.Args[1] == "backup" {
		yieldProcessors()
	}
	m := NewMain()
	err := m.Run(ctx, os.Args[1:])
	stop()
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	os.Exit(exitCode(m.Stderr, err))
}

// Main is the program: its input, output and what it opened, so tests run it in-process.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Log            *slog.Logger

	store    *app.Store
	synopsis map[*flag.FlagSet]string
	addr     string // where serve listens, for the links it prints
	peer     string // serve's --peer-url, announced with the server
}

func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv,
		Log: slog.New(slog.NewTextHandler(os.Stderr, nil))}
}

// usageError is a mistake in the command line: exit code 2 and a one-line message.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// errSilent means the command has already said what went wrong.
var errSilent = errors.New("")

func exitCode(stderr io.Writer, err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "propcredit:", ue.msg)
		return 2
	case errors.Is(err, errSilent):
		return 1
	default:
		fmt.Fprintln(stderr, "propcredit:", err)
		return 1
	}
}

type command struct {
	name    string
	summary string
	run     func(m *Main, ctx context.Context, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "start the web server", (*Main).serve},
		{"import", "load data files in the interchange format (JSON Lines)", (*Main).importFiles},
		{"export", "write all data in the interchange format", (*Main).export},
		{"demo", "write the generated demo city as JSON Lines", (*Main).demo},
		{"user", "manage accounts (user add)", (*Main).user},
		{"score", "score a period and store the result as its draft", (*Main).score},
		{"publish", "publish a period's draft results", (*Main).publish},
		{"ledger", "the transparency ledger: key (print the verifier key), audit, witness", (*Main).ledger},
		{"verify", "check a credit certificate offline (verify --key KEY CERT.json)", (*Main).verify},
		{"tally", "check the running rating tallies against the ratings (--verify [--fix])", (*Main).tally},
		{"codes", "issue household codes for owners' ratings (codes issue)", (*Main).codes},
		{"db", "database maintenance: db tune indexes FerretDB on PostgreSQL", (*Main).db},
		{"token", "issue, list and revoke companies' API tokens for filing disclosures", (*Main).token},
		{"backup", "write a consistent backup of the running system (backup --out FILE)", (*Main).backup},
		{"restore", "restore a backup into a new data directory (restore --from FILE --data DIR)", (*Main).restore},
		{"verify-data", "check every tally and receipt of the database (any engine)", (*Main).verifyData},
		{"audit", "export the audit trail (audit export [--since T])", (*Main).audit},
		{"version", "print the version", (*Main).version},
	}
}

// Run runs the command named by args[0].
func (m *Main) Run(ctx context.Context, args []string) error {
	m.synopsis = map[*flag.FlagSet]string{}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		m.printUsage(m.Stdout)
		if len(args) == 0 {
			return usagef("no command given; see above")
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(m, ctx, args[1:])
		}
	}
	return usagef("unknown command %q; commands are %s", args[0], strings.Join(commandNames(), ", "))
}

func commandNames() []string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	sort.Strings(names)
	return names
}

func (m *Main) printUsage(w io.Writer) {
	fmt.Fprintf(w, "propcredit: property-service credit evaluation and red/black list (物业服务信用评价与红黑榜)\n\nUsage: propcredit COMMAND [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'propcredit COMMAND --help' for a command's flags. Every flag can also be set with\nthe environment variable PROPCREDIT_<FLAG> (for example PROPCREDIT_DATA, PROPCREDIT_MONGODB_URI).\n")
}

// Close releases what the command opened.
func (m *Main) Close() error {
	if m.store == nil {
		return nil
	}
	err := m.store.Close(context.Background())
	m.store = nil
	return err
}

// flagSet makes a flag set whose errors are one line, and whose --help explains the command.
func (m *Main) flagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // the flag package calls it on every error; we print help only when asked
	m.synopsis[fs] = synopsis
	return fs
}

func (m *Main) printHelp(fs *flag.FlagSet) {
	fmt.Fprintf(m.Stdout, "Usage: propcredit %s\n\n", m.synopsis[fs])
	fs.SetOutput(m.Stdout)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// parse parses args, then fills every flag not given on the command line from its
// PROPCREDIT_* environment variable.
func (m *Main) parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			m.printHelp(fs)
			return err
		}
		return usagef("%s: %v (see 'propcredit %s --help')", fs.Name(), err, fs.Name())
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		env := "PROPCREDIT_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := m.Getenv(env); v != "" {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = usagef("%s: invalid value %q in %s: %v", fs.Name(), v, env, serr)
			}
		}
	})
	return err
}

// parseFlags is parse for a command that takes flags only: an argument left over is a usage
// error.
func (m *Main) parseFlags(fs *flag.FlagSet, args []string) error {
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// subcommand returns the subcommand of cmd that args[0] names, one of subs. Without one, or
// with -h, it prints the synopsis and the command is done: without one it is a usage error.
func (m *Main) subcommand(cmd, synopsis string, args []string, subs ...string) (sub string, done bool, err error) {
	choices := strings.Join(subs, ", ")
	if n := len(subs); n > 1 {
		choices = strings.Join(subs[:n-1], ", ") + " or " + subs[n-1]
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(m.Stdout, "Usage: propcredit "+synopsis)
		if len(args) == 0 {
			return "", true, usagef("%s: give a subcommand: %s", cmd, choices)
		}
		return "", true, nil
	}
	if !slices.Contains(subs, args[0]) {
		return "", true, usagef("%s: unknown subcommand %q; use %s", cmd, args[0], choices)
	}
	return args[0], false, nil
}

// storeFlags are the flags of every command that touches data.
type storeFlags struct {
	data     string
	mongoURI string
}

// storeFlagSet is flagSet for a command that touches data, with --data and --mongodb-uri.
func (m *Main) storeFlagSet(name, synopsis string) (*flag.FlagSet, *storeFlags) {
	fs := m.flagSet(name, synopsis)
	sf := &storeFlags{}
	fs.StringVar(&sf.data, "data", "./data", "data directory of the embedded database")
	fs.StringVar(&sf.mongoURI, "mongodb-uri", "", "connect to this MongoDB instead of the embedded database")
	return fs, sf
}

// parseAndOpen parses args and opens the database, for a command that takes only flags.
func (m *Main) parseAndOpen(ctx context.Context, fs *flag.FlagSet, sf *storeFlags, args []string, purpose string) (*app.Store, error) {
	if err := m.parse(fs, args); err != nil {
		return nil, err
	}
	return m.openStore(ctx, sf, purpose)
}

// openStore opens the database for a command. serve needs the directory to itself; the other
// commands share a running server's engine.
func (m *Main) openStore(ctx context.Context, sf *storeFlags, purpose string) (*app.Store, error) {
	return m.openStoreAs(ctx, sf, purpose, app.Shared)
}

func (m *Main) openStoreAs(ctx context.Context, sf *storeFlags, purpose string, access app.Access) (*app.Store, error) {
	if purpose == "serve" {
		access = app.Exclusive
	}
	s, err := app.OpenStore(ctx, app.StoreConfig{DataDir: sf.data, MongoURI: sf.mongoURI, Log: m.Log, ServeAddr: m.addr, PeerURL: m.peer}, access, purpose)
	if err != nil {
		return nil, err
	}
	m.store = s
	return s, nil
}

func (m *Main) version(ctx context.Context, args []string) error {
	fs := m.flagSet("version", "version")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "propcredit %s\n", version)
	return nil
}
