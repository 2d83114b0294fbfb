package rating

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/filing"
)

// Ballot-stuffing (OWASP OAT-016): a rating that looks stuffed is held, not dropped. Signals
// count ratings per window of Window (see StuffingRules): many from one client address or one
// device (address and User-Agent), the same comment, the same six marks at one estate, an
// estate rated far more than its history, and marks far from the estate's mean. A rating
// revised in the same window counts again. A rating that passes a signal's threshold is held:
// it is stored,
// the owner gets a receipt that says it is under review, and it counts in neither the score
// nor the public count until a reviewer releases it. A rejected rating never counts. A later
// revision of the household supersedes a held one, as every later revision does.

// Kinds of signal, as stored in a hold's evidence and shown to reviewers.
const (
	SignalAddress = "address" // ratings from one client address (hash)
	SignalDevice  = "device"  // ratings from one address with one User-Agent
	SignalComment = "comment" // ratings with the same comment
	SignalVector  = "vector"  // ratings that gave one estate the same six marks
	SignalEstate  = "estate"  // ratings of one estate, against its own history
	SignalOutlier = "outlier" // ratings far from the estate's mean marks
)

// StuffingRules are the thresholds of the signals: how many ratings a signal may count within
// one Window before the next one is held. They are data: the defaults below are
// chosen so that the demo city's honest ratings are never held (bench/stuffing measures
// it); a deployment may set its own (serve flags).
type StuffingRules struct {
	Window time.Duration
	// Address: ratings from one client address. Generous, for a household's shared
	// network, a carrier's NAT or a property office helping elderly owners.
	Address int
	// Device: ratings from one address with one User-Agent: one phone or browser.
	Device int
	// Comment: ratings with the same comment (case and spaces ignored), counted only for
	// comments of at least CommentMinRunes characters.
	Comment         int
	CommentMinRunes int
	// Vector: ratings of one estate that gave the same six marks.
	Vector int
	// Estate: ratings of one estate in a window, at least EstateMin, or EstateFactor
	// times the estate's own history: its counted ratings so far in the period per window
	// since the period opened, whichever is more.
	EstateMin    int
	EstateFactor float64
	// Outlier: ratings whose mean mark is OutlierGap or more from the estate's mean,
	// counted once the estate has OutlierFrom counted ratings.
	Outlier     int
	OutlierGap  float64
	OutlierFrom int64
}

// DefaultStuffingRules are the thresholds in force unless configured otherwise.
var DefaultStuffingRules = StuffingRules{
	Window:          10 * time.Minute,
	Address:         12,
	Device:          4,
	Comment:         6,
	CommentMinRunes: 6,
	Vector:          15,
	EstateMin:       40,
	EstateFactor:    20,
	Outlier:         5,
	OutlierGap:      1.5,
	OutlierFrom:     20,
}

// Off reports whether the rules hold nothing (a zero Window).
func (r StuffingRules) Off() bool { return r.Window <= 0 }

// Signal is one piece of a hold's evidence: Count ratings shared Value (a short hash, or the
// marks, or the estate) within the window that started at Since, over Threshold.
type Signal struct {
	Kind      string    `bson:"kind"`
	Value     string    `bson:"value"`
	Count     int       `bson:"count"`
	Threshold int       `bson:"threshold"`
	Since     time.Time `bson:"since"`
}

// Outcomes of a hold.
const (
	HoldPending    = ""           // in the queue
	HoldReleased   = "released"   // counts from the release on
	HoldRejected   = "rejected"   // never counts
	HoldSuperseded = "superseded" // the household rated again before a release; the later rating counts
)

// Hold is a held rating version with its evidence and, once decided, the decision.
type Hold struct {
	Version   string    `bson:"_id"` // the version's id, key|revision
	Key       string    `bson:"key"`
	Period    string    `bson:"period"`
	Estate    string    `bson:"estate"`
	Household string    `bson:"household"`
	Revision  int       `bson:"revision"`
	Receipt   string    `bson:"receipt"`
	At        time.Time `bson:"at"`
	Scores    [6]int    `bson:"scores"`
	Comment   string    `bson:"comment,omitempty"`
	Signals   []Signal  `bson:"signals"`
	// Set on reading: the decision, if any.
	Outcome   string    `bson:"-"`
	DecidedBy string    `bson:"-"`
	DecidedAt time.Time `bson:"-"`
	Reason    string    `bson:"-"`
}

// HoldDecision is a reviewer's release or rejection of a held version.
type HoldDecision struct {
	Version string // Hold.Version
	Outcome string // HoldReleased or HoldRejected
	By      string
	At      time.Time
	Reason  string
}

// Errors of deciding a hold.
var (
	ErrHoldDecided = derrors.Errorf(derrors.Conflict, "this rating was reviewed already")
	ErrHoldUnknown = derrors.Errorf(derrors.NotFound, "no such held rating")
	ErrHoldOutcome = derrors.Errorf(derrors.Invalid, "choose release or reject")
	ErrHoldReason  = derrors.Errorf(derrors.Invalid, "a rejection needs a reason")
	ErrHoldLong    = derrors.Errorf(derrors.Invalid, "the reason must be at most %d characters, without control characters or text-direction controls", filing.MaxTextRunes)
)

// CheckHoldDecision is the rule for a reviewer's decision on a held rating: release or reject,
// a rejection with a reason, and a reason that fits (filing.TextFits). It trims the reason.
func CheckHoldDecision(d *HoldDecision) error {
	d.Reason = strings.TrimSpace(d.Reason)
	switch {
	case d.Outcome != HoldReleased && d.Outcome != HoldRejected:
		return ErrHoldOutcome
	case d.Outcome == HoldRejected && d.Reason == "":
		return ErrHoldReason
	case !filing.TextFits(d.Reason):
		return ErrHoldLong
	}
	return nil
}

// HoldStore is what the review of holds needs from storage.
type HoldStore interface {
	// Holds lists a period's holds, pending and decided, oldest first.
	Holds(ctx context.Context, period string) ([]Hold, error)
	// DecideHold records a decision once (ErrHoldDecided after the first) and, for a
	// release, makes the version count unless a later revision superseded it. It returns
	// the hold with its outcome (HoldSuperseded for such a release).
	DecideHold(ctx context.Context, d HoldDecision) (Hold, error)
}

// Holds lists a period's held ratings.
func (s *Service) Holds(ctx context.Context, period string) ([]Hold, error) {
	hs, ok := s.store.(HoldStore)
	if !ok {
		return nil, nil
	}
	return hs.Holds(ctx, period)
}

// DecideHold releases or rejects a held rating. The caller audits it.
func (s *Service) DecideHold(ctx context.Context, d HoldDecision) (Hold, error) {
	if err := CheckHoldDecision(&d); err != nil {
		return Hold{}, err
	}
	hs, ok := s.store.(HoldStore)
	if !ok {
		return Hold{}, ErrHoldUnknown
	}
	return hs.DecideHold(ctx, d)
}

// ParseStuffingRules reads the thresholds from a flag: "on" (or "") for the defaults, "off"
// to hold nothing, or comma-separated name=value pairs that change the defaults: window (a
// duration), address, device, comment, comment-min-runes, vector, estate-min, estate-factor,
// outlier, outlier-gap, outlier-from. A count of 0 turns its signal off.
func ParseStuffingRules(s string) (StuffingRules, error) {
	switch s = strings.TrimSpace(s); s {
	case "", "on":
		return DefaultStuffingRules, nil
	case "off":
		return StuffingRules{}, nil
	}
	r := DefaultStuffingRules
	ints := map[string]*int{"address": &r.Address, "device": &r.Device, "comment": &r.Comment, "comment-min-runes": &r.CommentMinRunes,
		"vector": &r.Vector, "estate-min": &r.EstateMin, "outlier": &r.Outlier}
	for _, pair := range strings.Split(s, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			return r, fmt.Errorf("%q: want name=value", pair)
		}
		var err error
		switch name {
		case "window":
			r.Window, err = time.ParseDuration(value)
			if err == nil && r.Window < time.Minute {
				err = errors.New("at least 1m")
			}
		case "estate-factor", "outlier-gap":
			var f float64
			if f, err = strconv.ParseFloat(value, 64); err == nil && (f < 0 || math.IsNaN(f) || math.IsInf(f, 0)) {
				err = errors.New("not a number of 0 or more")
			}
			if name == "estate-factor" {
				r.EstateFactor = f
			} else {
				r.OutlierGap = f
			}
		case "outlier-from":
			r.OutlierFrom, err = strconv.ParseInt(value, 10, 64)
		default:
			p, known := ints[name]
			if !known {
				return r, fmt.Errorf("%q: unknown threshold", name)
			}
			*p, err = strconv.Atoi(value)
			if err == nil && *p < 0 {
				err = errors.New("negative")
			}
		}
		if err != nil {
			return r, fmt.Errorf("%s=%q: %v", name, value, err)
		}
	}
	return r, nil
}
