// Package auth hashes and checks passwords and makes one-time passwords.
//
// Hashes are argon2id in the PHC string format, which carries its own parameters:
//
//	$argon2id$v=19$m=32768,t=2,p=1$<salt>$<hash>
//
// so the parameters can be raised later without invalidating stored hashes: VerifyPassword
// reads them from the string, and NeedsRehash says when a stored hash is weaker than today's.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
}

// DefaultParams took about 50 ms per hash on the project's 2-core machine (measured November
// 2026: 51 ms). 32 MiB with 2 passes is above OWASP's minimum (19 MiB, 2 passes). One thread,
// so two log-ins can be checked at once on two cores.
var DefaultParams = Params{Memory: 32 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32

	// Limits on parameters read from a stored hash, so that a tampered database cannot make a
	// single verification allocate gigabytes or run for minutes.
	maxMemory  = 1024 * 1024 // KiB, 1 GiB
	maxTime    = 20
	maxThreads = 16
)

// ErrMalformedHash means an encoded hash could not be parsed.
var ErrMalformedHash = errors.New("auth: malformed password hash")

// b64 is the PHC string format's base64: standard alphabet, no padding.
var b64 = base64.RawStdEncoding

// slots bounds how many hashes run at once. Each one holds Params.Memory; a flood of log-ins
// would otherwise allocate 32 MiB per request until the process runs out of memory.
var slots = make(chan struct{}, max(2, runtime.NumCPU()))

func idKey(pw string, salt []byte, p Params, n uint32) []byte {
	slots <- struct{}{}
	defer func() { <-slots }()
	return argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, n)
}

// HashPassword hashes pw with argon2id, DefaultParams and a random salt.
func HashPassword(pw string) (string, error) {
	return hashWith(pw, DefaultParams)
}

func hashWith(pw string, p Params) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: read random salt: %w", err)
	}
	key := idKey(pw, salt, p, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether pw matches the encoded hash, comparing in constant time.
// It returns ErrMalformedHash (and false) when encoded cannot be parsed.
func VerifyPassword(encoded, pw string) (bool, error) {
	p, salt, key, err := decode(encoded)
	if err != nil {
		return false, err
	}
	got := idKey(pw, salt, p, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether encoded was made with parameters other than DefaultParams (or
// cannot be parsed), so that a successful log-in should store a fresh hash.
func NeedsRehash(encoded string) bool {
	p, _, _, err := decode(encoded)
	return err != nil || p != DefaultParams
}

// ParseParams returns the parameters an encoded hash was made with.
func ParseParams(encoded string) (Params, error) {
	p, _, _, err := decode(encoded)
	return p, err
}

func decode(encoded string) (p Params, salt, key []byte, err error) {
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformedHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, ErrMalformedHash
	}
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil || n != 3 {
		return p, nil, nil, ErrMalformedHash
	}
	// Reject non-canonical spellings such as "m=032768" so one hash has one string.
	if parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads) {
		return p, nil, nil, ErrMalformedHash
	}
	if p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory || p.Time < 1 || p.Time > maxTime ||
		p.Threads < 1 || p.Threads > maxThreads {
		return p, nil, nil, ErrMalformedHash
	}
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, ErrMalformedHash
	}
	return p, salt, key, nil
}

var (
	decoyOnce sync.Once
	decoy     string
)

// VerifyUnknown spends the time a VerifyPassword with DefaultParams takes and always fails. Call
// it when a log-in names no account, so that the response time does not tell which names exist.
func VerifyUnknown(pw string) {
	decoyOnce.Do(func() {
		decoy, _ = HashPassword("decoy password that matches nothing")
	})
	_, _ = VerifyPassword(decoy, pw)
}

// passwordAlphabet leaves out characters that are easily confused when read aloud or typed
// from paper: 0 O o, 1 I l, and the symbols.
const passwordAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz"

// PasswordLen is the length of NewPassword's passwords: 16 characters of a 56-letter alphabet,
// about 93 bits.
const PasswordLen = 16

// NewPassword returns a random one-time password that is easy to type.
func NewPassword() string {
	// Rejection sampling keeps every letter equally likely: bytes at or above the largest
	// multiple of the alphabet's size are thrown away.
	limit := 256 - 256%len(passwordAlphabet)
	out := make([]byte, 0, PasswordLen)
	buf := make([]byte, 2*PasswordLen)
	for len(out) < PasswordLen {
		if _, err := rand.Read(buf); err != nil {
			panic("auth: crypto/rand failed: " + err.Error()) // never happens on supported systems
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < PasswordLen {
				out = append(out, passwordAlphabet[int(b)%len(passwordAlphabet)])
			}
		}
	}
	return string(out)
}
