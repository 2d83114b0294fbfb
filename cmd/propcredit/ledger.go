package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/propcredit/propcredit/internal/app"
	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/ledger"
	"github.com/propcredit/propcredit/internal/progress"
)

// ledgerFlags say where the ledger's signing key is.
type ledgerFlags struct {
	key   string
	name  string
	state string // --ledger-state, where registerState adds it
}

func (lf *ledgerFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&lf.key, "ledger-key", "", "the ledger's signing key file (default DATA/ledger.key; required with --mongodb-uri); created on first start, never printed")
	fs.StringVar(&lf.name, "ledger-name", app.DefaultLedgerName, "the ledger's name, for a key created now (the first line of its checkpoints)")
}

// registerState adds --ledger-state, for the commands that give out checkpoints or accept a
// rolled-back ledger.
func (lf *ledgerFlags) registerState(fs *flag.FlagSet) {
	fs.StringVar(&lf.state, "ledger-state", "", "the file where the newest ledger checkpoint given out is recorded; a database whose ledger does not continue it is refused (default DATA/"+app.LedgerStateFile+"; keep one off the data's disk, see docs/BACKUP.md)")
}

// mark is the record of the newest checkpoint given out, or nil with an external database
// and no --ledger-state.
func (lf ledgerFlags) mark(sf *storeFlags) *app.LedgerMark {
	switch {
	case lf.state != "":
		return app.NewLedgerMark(lf.state)
	case sf.mongoURI == "":
		return app.NewLedgerMark(filepath.Join(sf.data, app.LedgerStateFile))
	}
	return nil
}

// acceptCommand is the command that accepts a rolled-back ledger, as a refusal names it.
func (lf ledgerFlags) acceptCommand(sf *storeFlags) string {
	cmd := "propcredit ledger accept-rollback"
	if sf.mongoURI != "" {
		cmd += " --mongodb-uri URI --ledger-key " + lf.key
	} else {
		cmd += " --data " + sf.data
	}
	if lf.state != "" {
		cmd += " --ledger-state " + lf.state
	}
	return cmd
}

// signer loads (or creates) the signing key of the store's ledger.
func (lf ledgerFlags) signer(ctx context.Context, store *app.Store, sf *storeFlags) (*ledger.Signer, error) {
	return app.LedgerSigner(ctx, store.DB, app.LedgerKeyConfig{File: lf.key, DataDir: sf.data, External: sf.mongoURI != "", Name: lf.name})
}

func (m *Main) ledger(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("ledger: say key, audit, adopt, witness or accept-rollback (see 'propcredit ledger KEY --help')")
	}
	switch args[0] {
	case "key":
		return m.ledgerKey(ctx, args[1:])
	case "audit":
		return m.ledgerAudit(ctx, args[1:])
	case "adopt":
		return m.ledgerAdopt(ctx, args[1:])
	case "witness":
		return m.ledgerWitness(ctx, args[1:])
	case "accept-rollback":
		return m.ledgerAcceptRollback(ctx, args[1:])
	}
	return usagef("ledger: unknown subcommand %q; say key, audit, adopt, witness or accept-rollback", args[0])
}

// ledgerAcceptRollback records the database's current ledger as the newest checkpoint given
// out, so that a server starts on a database restored from an older backup. The checkpoints
// given out since are abandoned: witnesses will report the fork.
func (m *Main) ledgerAcceptRollback(ctx context.Context, args []string) error {
	fs, sf := m.storeFlagSet("ledger accept-rollback", "ledger accept-rollback [--data ./data | --mongodb-uri URI --ledger-key FILE] [--ledger-state FILE]   go on from the database's ledger although a longer one was published (after restoring an older backup)")
	var lf ledgerFlags
	lf.register(fs)
	lf.registerState(fs)
	store, err := m.parseAndOpen(ctx, fs, sf, args, "ledger accept-rollback")
	if err != nil {
		return err
	}
	mark := lf.mark(sf)
	if mark == nil {
		return usagef("ledger accept-rollback: with --mongodb-uri, name the server's --ledger-state file")
	}
	s, err := lf.signer(ctx, store, sf)
	if err != nil {
		return err
	}
	switch err := app.CheckLedgerMark(ctx, store.DB, mark, ""); {
	case err == nil:
		fmt.Fprintf(m.Stdout, "nothing to accept: the ledger continues the checkpoint recorded in %s\n", mark.Path())
		return nil
	case !errors.Is(err, app.ErrLedgerBehind):
		return err
	}
	old, _, now, err := app.AcceptLedgerRollback(ctx, store.DB, s, mark)
	if err != nil {
		return err
	}
	m.Log.Warn("ledger rollback accepted", "state", mark.Path(), "abandoned_size", old.N, "abandoned_root", old.Hash.String(), "size", now.Tree.N, "root", now.Tree.Hash.String())
	fmt.Fprintf(m.Stdout, "accepted: the ledger goes on from %d leaves (root %s); the checkpoint of %d leaves (root %s) published before is abandoned.\n"+
		"Witnesses that saw it will report a fork: tell them, and the evaluators, which certificates no longer hold.\n", now.Tree.N, now.Tree.Hash, old.N, old.Hash)
	return nil
}

// ledgerKey prints the public verifier key.
func (m *Main) ledgerKey(ctx context.Context, args []string) error {
	fs, sf := m.storeFlagSet("ledger key", "ledger key [--data ./data | --mongodb-uri URI --ledger-key FILE]   print the ledger's public verifier key")
	var lf ledgerFlags
	lf.register(fs)
	store, err := m.parseAndOpen(ctx, fs, sf, args, "ledger key")
	if err != nil {
		return err
	}
	s, err := lf.signer(ctx, store, sf)
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, s.VerifierKey())
	return nil
}

// ledgerStore parses the arguments of `ledger SUB`, which are the store's flags alone, and
// opens the store.
func (m *Main) ledgerStore(ctx context.Context, sub, what string, args []string) (*app.Store, error) {
	fs, sf := m.storeFlagSet("ledger "+sub, "ledger "+sub+" [--data ./data | --mongodb-uri URI]   "+what)
	return m.parseAndOpen(ctx, fs, sf, args, "ledger "+sub)
}

// ledgerAudit recomputes the ledger from its leaves, and every leaf from the stored
// publications, approvals, credit records and audit entries.
func (m *Main) ledgerAudit(ctx context.Context, args []string) error {
	store, err := m.ledgerStore(ctx, "audit", "check the ledger against itself and every record stored", args)
	if err != nil {
		return err
	}
	size, err := store.DB.LedgerSize(ctx)
	if err != nil {
		return err
	}
	bar := progress.New("ledger audit", size, m.Stderr, m.Log)
	rep, err := app.AuditLedger(ctx, store.DB, bar.Set)
	bar.Finish()
	if err != nil {
		return err
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(m.Stdout, "PROBLEM:", p)
	}
	fmt.Fprintf(m.Stdout, "ledger: %d leaves, root %s; %d publications (%d final), %d credit records, %d audit entries: %d leaves recomputed from them; %d problems\n",
		rep.Leaves, rep.Root, rep.Publications, rep.Finals, rep.CreditRecords, rep.AuditEntries, rep.Checked, len(rep.Problems))
	if len(rep.Problems) > 0 {
		return app.ErrAudit
	}
	return nil
}

// ledgerAdopt appends the leaves of stored records that have none (written before the ledger
// logged them), once, after an upgrade.
func (m *Main) ledgerAdopt(ctx context.Context, args []string) error {
	store, err := m.ledgerStore(ctx, "adopt", "append the leaves of final approvals, credit records and audit entries stored before the ledger logged them", args)
	if err != nil {
		return err
	}
	rep, err := app.AdoptIntoLedger(ctx, store.DB)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "ledger: adopted %d final approvals, %d credit records, %d audit entries\n", rep.Finals, rep.CreditRecords, rep.AuditEntries)
	if rep == (app.AdoptReport{}) {
		return nil
	}
	return m.audited(ctx, store, audit.Change{Action: "ledger.adopt", Object: "ledger/adopt", After: rep})
}

// readKey reads a verifier key given on the command line, or the file that holds it.
func readKey(arg string) (string, error) {
	if arg == "" {
		return "", usagef("--key is required: the ledger's verifier key (name+hash+base64, from GET /ledger/key), or a file holding it")
	}
	if b, err := os.ReadFile(arg); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	return strings.TrimSpace(arg), nil
}

// verify checks a certificate offline.
func (m *Main) verify(ctx context.Context, args []string) error {
	fs := m.flagSet("verify", "verify --key KEY CERT.json   check a credit certificate offline (exit 0 when it holds)")
	key := fs.String("key", "", "the ledger's verifier key (name+hash+base64), or a file holding it")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("verify: name one certificate file (- for standard input)")
	}
	vkey, err := readKey(*key)
	if err != nil {
		return err
	}
	var b []byte
	if name := fs.Arg(0); name == "-" {
		b, err = io.ReadAll(m.Stdin)
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return err
	}
	cert, err := ledger.ParseCertificate(b)
	if err != nil {
		fmt.Fprintln(m.Stderr, "verify: FAILED:", err)
		return errSilent
	}
	leaf, cp, err := ledger.Verify(cert, vkey)
	if err != nil {
		fmt.Fprintln(m.Stderr, "verify: FAILED:", err)
		return errSilent
	}
	fmt.Fprintf(m.Stdout, "verified: %s (%s), period %s, publication %d: grade %s, score %s, list %s, published %s\n",
		leaf.Company, leaf.Name, leaf.Period, leaf.Publication, leaf.Grade, leaf.Score, leaf.List, leaf.PublishedAt)
	fmt.Fprintf(m.Stdout, "leaf %d of the ledger %s of %d leaves, root %s, signed by %s\n", cert.Index, cp.Origin, cp.Tree.N, cp.Tree.Hash, strings.SplitN(vkey, "+", 2)[0])
	return nil
}

// ledgerWitness keeps watch on a ledger: it checks that each new checkpoint extends the last
// one it saw, and refuses one that forked or shrank.
func (m *Main) ledgerWitness(ctx context.Context, args []string) error {
	fs := m.flagSet("ledger witness", "ledger witness --key KEY --url URL [--state FILE] [--every DURATION]   watch a ledger for forks")
	key := fs.String("key", "", "the ledger's verifier key (name+hash+base64), or a file holding it")
	base := fs.String("url", "", "the site's address, such as https://credit.example.gov.cn")
	state := fs.String("state", "", "where the last good checkpoint is kept (default ./witness-NAME.checkpoint)")
	every := fs.Duration("every", 0, "check again at this interval (0: once)")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	vkey, err := readKey(*key)
	if err != nil {
		return err
	}
	u, err := url.Parse(strings.TrimRight(*base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("ledger witness: --url must be an http or https address, not %q", *base)
	}
	w := &witness{m: m, vkey: vkey, base: u.String(), client: &http.Client{Timeout: 30 * time.Second}}
	w.state = *state
	if w.state == "" {
		w.state = "witness-" + strings.NewReplacer("/", "_", ":", "_").Replace(strings.SplitN(vkey, "+", 2)[0]) + ".checkpoint"
	}
	for {
		if err := w.check(ctx); err != nil {
			return err
		}
		if *every <= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(*every):
		}
	}
}

type witness struct {
	m      *Main
	vkey   string
	base   string
	state  string
	client *http.Client
}

func (w *witness) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.base+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return b, nil
}

// check fetches the checkpoint, checks it against the one kept, and keeps it when it holds.
func (w *witness) check(ctx context.Context) error {
	signed, err := w.get(ctx, "/ledger/checkpoint")
	if err != nil {
		return err
	}
	next, err := ledger.OpenCheckpoint(signed, w.vkey)
	if err != nil {
		return fmt.Errorf("ledger witness: REFUSED: %w", err)
	}
	prevText, err := os.ReadFile(w.state)
	switch {
	case errors.Is(err, os.ErrNotExist):
		fmt.Fprintf(w.m.Stdout, "witness: first checkpoint: %d leaves, root %s\n", next.Tree.N, next.Tree.Hash)
	case err != nil:
		return err
	default:
		prev, err := ledger.OpenCheckpoint(prevText, w.vkey)
		if err != nil {
			return fmt.Errorf("ledger witness: the kept checkpoint %s does not open: %w", w.state, err)
		}
		if err := ledger.CheckExtends(prev.Tree, next.Tree, &httpTiles{ctx: ctx, w: w}); err != nil {
			// Keep the evidence: both signed checkpoints.
			evidence := w.state + ".refused"
			_ = os.WriteFile(evidence, append(append(prevText, "\n--- then ---\n"...), signed...), 0o644)
			fmt.Fprintf(w.m.Stderr, "witness: REFUSED: %v\nwitness: both signed checkpoints are in %s\n", err, evidence)
			return errSilent
		}
		fmt.Fprintf(w.m.Stdout, "witness: %d → %d leaves: consistent, root %s\n", prev.Tree.N, next.Tree.N, next.Tree.Hash)
	}
	tmp := w.state + ".tmp"
	if err := os.WriteFile(tmp, signed, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Clean(w.state))
}

// httpTiles reads a ledger's tiles over HTTP, for tlog.TileHashReader, which checks them.
type httpTiles struct {
	ctx context.Context
	w   *witness
}

func (t *httpTiles) Height() int { return ledger.TileHeight }

func (t *httpTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tile := range tiles {
		b, err := t.w.get(t.ctx, "/ledger/"+tile.Path())
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func (t *httpTiles) SaveTiles([]tlog.Tile, [][]byte) {}
