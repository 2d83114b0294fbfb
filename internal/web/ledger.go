package web

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/ledger"
)

// The transparency ledger's public endpoints, in the layout of the Go checksum database:
//
//	GET /ledger/key                       the verifier key (name+hash+base64)
//	GET /ledger/checkpoint                the latest signed checkpoint (C2SP tlog-checkpoint)
//	GET /ledger/tile/8/L/N[.p/W]          hash tiles (tlog.Tile.Path, height 8)
//	GET /ledger/tile/8/data/N[.p/W]       the leaves themselves, each followed by a newline
//	GET /api/v1/companies/{id}/certificate?period=P[&publication=N]
//
// Full tiles never change, so they are kept in memory and may be cached by anyone for ever;
// roots of tree sizes likewise. Nothing here is needed for correctness: every server reads the
// same leaves from the database.

type ledgerCache struct {
	mu    sync.Mutex
	roots map[int64]tlog.Hash
	tiles map[string][]byte
	found map[tlog.Hash]int64             // a leaf's index, by the leaf's hash (key and bytes)
	certs map[[2]int64]ledger.Certificate // by leaf index and tree size
}

// maxCachedCerts bounds the leaves and certificates kept (a certificate is about 1.5 KB).
const maxCachedCerts = 20000

func (lc *ledgerCache) index(leaf ledger.Leaf) (int64, bool) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	i, ok := lc.found[leafID(leaf)]
	return i, ok
}

func (lc *ledgerCache) putIndex(leaf ledger.Leaf, i int64) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if lc.found == nil || len(lc.found) >= maxCachedCerts {
		lc.found = map[tlog.Hash]int64{}
	}
	lc.found[leafID(leaf)] = i
}

func leafID(leaf ledger.Leaf) tlog.Hash {
	return tlog.RecordHash(append([]byte(leaf.Key+"\x00"), leaf.Data...))
}

func (lc *ledgerCache) cert(index, size int64) (ledger.Certificate, bool) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	c, ok := lc.certs[[2]int64{index, size}]
	return c, ok
}

func (lc *ledgerCache) putCert(c ledger.Certificate, size int64) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if lc.certs == nil || len(lc.certs) >= maxCachedCerts {
		lc.certs = map[[2]int64]ledger.Certificate{}
	}
	lc.certs[[2]int64{c.Index, size}] = c
}

// maxCachedTiles bounds the tiles kept in memory (a full tile is 8 KB, a data tile ~100 KB).
const maxCachedTiles = 2048

func (lc *ledgerCache) root(n int64) (tlog.Hash, bool) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	h, ok := lc.roots[n]
	return h, ok
}

func (lc *ledgerCache) putRoot(n int64, h tlog.Hash) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if lc.roots == nil || len(lc.roots) > 4096 {
		lc.roots = map[int64]tlog.Hash{}
	}
	lc.roots[n] = h
}

func (lc *ledgerCache) tile(path string) ([]byte, bool) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	b, ok := lc.tiles[path]
	return b, ok
}

func (lc *ledgerCache) putTile(path string, b []byte) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if lc.tiles == nil || len(lc.tiles) >= maxCachedTiles {
		lc.tiles = map[string][]byte{}
	}
	lc.tiles[path] = b
}

type ledgerSite struct {
	r     *reportSite
	log   *ledger.Log
	cache ledgerCache
}

func (r *reportSite) ledgerRoutes() {
	s := r.s
	l := &ledgerSite{r: r, log: s.ledger}
	s.handle(fiber.MethodGet, "/ledger/key", Public, l.key)
	s.handle(fiber.MethodGet, "/ledger/checkpoint", Public, r.limited(l.checkpointText))
	s.handle(fiber.MethodGet, "/ledger/tile/*", Public, r.limited(l.tile))
	s.handle(fiber.MethodGet, "/api/v1/companies/:id/certificate", Public, r.limited(l.certificate))
	l.evaluatorRoutes()
}

func (l *ledgerSite) signer(c *fiber.Ctx) (*ledger.Signer, error) {
	if s := l.log.Signer(); s != nil {
		return s, nil
	}
	return nil, derrors.Errorf(derrors.Unavailable, "%s", Msg(c, "ledger.no_key"))
}

func (l *ledgerSite) key(c *fiber.Ctx) error {
	s, err := l.signer(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	return c.SendString(s.VerifierKey() + "\n")
}

// current signs the ledger's current tree.
func (l *ledgerSite) current(ctx context.Context, c *fiber.Ctx) (ledger.Checkpoint, error) {
	s, err := l.signer(c)
	if err != nil {
		return ledger.Checkpoint{}, err
	}
	size, err := l.log.Size(ctx)
	if err != nil {
		return ledger.Checkpoint{}, err
	}
	root, ok := l.cache.root(size)
	if !ok {
		if root, err = tlog.TreeHash(size, l.log.HashReader(ctx)); err != nil {
			return ledger.Checkpoint{}, err
		}
		l.cache.putRoot(size, root)
	}
	return s.Sign(tlog.Tree{N: size, Hash: root})
}

func (l *ledgerSite) checkpointText(c *fiber.Ctx) error {
	ctx, cancel := l.r.s.dbContext(c)
	defer cancel()
	cp, err := l.current(ctx, c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.Send(cp.Signed)
}

func (l *ledgerSite) tile(c *fiber.Ctx) error {
	path := "tile/" + c.Params("*")
	t, err := tlog.ParseTilePath(path)
	if err != nil || t.H != ledger.TileHeight {
		return derrors.Errorf(derrors.NotFound, "%s", Msg(c, "ledger.no_tile", path))
	}
	full := t.W == 1<<ledger.TileHeight
	data, ok := l.cache.tile(path)
	if !ok {
		ctx, cancel := l.r.s.dbContext(c)
		defer cancel()
		size, err := l.log.Size(ctx)
		if err != nil {
			return err
		}
		data, err = l.log.Tile(ctx, path, size)
		if derrors.Code(err) == derrors.NotFound {
			return derrors.Errorf(derrors.NotFound, "%s", Msg(c, "ledger.no_tile", path))
		} else if err != nil {
			return err
		}
		if full {
			l.cache.putTile(path, data)
		}
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEOctetStream)
	if full {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "no-cache")
	}
	return c.Send(data)
}

// certificateLeaf makes the leaf of a company's result as the ledger must hold it: in the
// period asked for (or the latest one that graded the company), in the publication asked for
// (or its latest).
func (l *ledgerSite) certificateLeaf(c *fiber.Ctx, company, period, pubText string) (ledger.Leaf, error) {
	st, err := l.r.published(c)
	if err != nil {
		return ledger.Leaf{}, err
	}
	if period == "" {
		history := st.city.CompanyHistory(company)
		if len(history) == 0 {
			return ledger.Leaf{}, derrors.Errorf(derrors.NotFound, "%s", Msg(c, "report.no_such_company", company))
		}
		period = history[len(history)-1].Period.ID()
	}
	p := st.city.Period(period)
	if p == nil {
		return ledger.Leaf{}, derrors.Errorf(derrors.NotFound, "%s", Msg(c, "report.no_such_period", period))
	}
	if pubText != "" {
		n, err := strconv.Atoi(pubText)
		if err != nil || n < 1 || n > p.Pub.Seq {
			return ledger.Leaf{}, derrors.FieldErrors(Msg(c, "report.bad_pub"), map[string]string{"publication": Msg(c, "report.bad_pub")})
		}
		ctx, cancel := l.r.s.dbContext(c)
		defer cancel()
		if p, err = l.r.cache.publication(ctx, st, period, n); err != nil {
			return ledger.Leaf{}, err
		}
	}
	g := p.Grade(company)
	if g == nil {
		return ledger.Leaf{}, derrors.Errorf(derrors.NotFound, "%s", Msg(c, "report.company_not_in_period", company, period))
	}
	pub := ledger.Publication{Period: p.Pub.Period, Seq: p.Pub.Seq, Ruleset: p.Pub.Ruleset, RulesetHash: p.Pub.RulesetHash,
		InputsHash: p.Pub.InputsHash, PublishedAt: p.Pub.PublishedAt}
	return ledger.ResultLeafOf(pub, ledger.GradeOf(g))
}

// certificateFor makes the certificate of a company's result against the current checkpoint.
// The result is found in the ledger by its exact bytes: a result that differs from what was
// logged (changed behind the application's back) gets no certificate.
func (l *ledgerSite) certificateFor(c *fiber.Ctx, company, period, pub string) (ledger.Certificate, error) {
	leaf, err := l.certificateLeaf(c, company, period, pub)
	if err != nil {
		return ledger.Certificate{}, err
	}
	ctx, cancel := l.r.s.dbContext(c)
	defer cancel()
	// A leaf's index never changes, nor does a certificate for one tree size: both are kept.
	index, ok := l.cache.index(leaf)
	if !ok {
		index, err = l.log.Find(ctx, leaf)
		if err == nil {
			l.cache.putIndex(leaf, index)
		}
	}
	switch derrors.Code(err) {
	case "":
	case derrors.NotFound:
		return ledger.Certificate{}, derrors.Errorf(derrors.NotFound, "%s", Msg(c, "ledger.not_logged", company, period))
	case derrors.Conflict:
		l.r.s.log.Error("a published result differs from the ledger", "key", leaf.Key, "err", err)
		return ledger.Certificate{}, derrors.Errorf(derrors.Conflict, "%s", Msg(c, "ledger.differs", company))
	default:
		return ledger.Certificate{}, err
	}
	cp, err := l.current(ctx, c)
	if err != nil {
		return ledger.Certificate{}, err
	}
	if cert, ok := l.cache.cert(index, cp.Tree.N); ok {
		return cert, nil
	}
	cert, err := l.log.CertificateAt(ctx, index, cp)
	if err == nil {
		l.cache.putCert(cert, cp.Tree.N)
	}
	return cert, err
}

func (l *ledgerSite) certificate(c *fiber.Ctx) error {
	period := strings.TrimSpace(c.Query("period"))
	cert, err := l.certificateFor(c, c.Params("id"), period, c.Query("publication"))
	if err != nil {
		return err
	}
	return sendJSON(c, cert)
}

func init() {
	addMessages(map[string]message{
		"ledger.no_key":     {"本服务器未配置公示账本签名密钥", "This server has no ledger signing key configured"},
		"ledger.no_tile":    {"公示账本没有“%s”", "The ledger has no %s"},
		"ledger.differs":    {"企业“%s”的结果与公示账本记录不一致，无法出具信用报告，已通知管理员", "The result of company “%s” differs from the ledger's record: no certificate can be issued, and the administrators are told"},
		"ledger.not_logged": {"企业“%s”在评价期 %s 的结果不在公示账本中", "The result of company “%s” for period %s is not in the ledger"},
	})
}
