package auth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestHashRoundTrip(t *testing.T) {
	const pw = "correct horse 电池 staple"
	start := time.Now()
	h, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("HashPassword took %v with %+v", time.Since(start), DefaultParams)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=32768,t=2,p=1$") {
		t.Errorf("hash %q does not carry its parameters in PHC form", h)
	}
	ok, err := VerifyPassword(h, pw)
	if err != nil || !ok {
		t.Errorf("VerifyPassword(right) = %v, %v; want true, nil", ok, err)
	}
	ok, err = VerifyPassword(h, pw+" ")
	if err != nil || ok {
		t.Errorf("VerifyPassword(wrong) = %v, %v; want false, nil", ok, err)
	}
	h2, _ := HashPassword(pw)
	if h2 == h {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
}

func TestTamperedHash(t *testing.T) {
	h, err := HashPassword("secret")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(h, "$")
	flip := func(s string) string { // change one character of the base64 text
		b := []byte(s)
		if b[3] == 'A' {
			b[3] = 'B'
		} else {
			b[3] = 'A'
		}
		return string(b)
	}
	join := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	// Changed salt, hash or cost: well-formed, but the password no longer matches.
	for name, enc := range map[string]string{
		"salt":   join(4, flip(parts[4])),
		"hash":   join(5, flip(parts[5])),
		"params": join(3, "m=32768,t=3,p=1"),
	} {
		ok, err := VerifyPassword(enc, "secret")
		if err != nil || ok {
			t.Errorf("tampered %s: VerifyPassword = %v, %v; want false, nil", name, ok, err)
		}
	}
	// Broken or dangerous strings are rejected without running argon2 at all.
	for _, enc := range []string{
		"",
		"secret",
		strings.Replace(h, "argon2id", "argon2i", 1),
		strings.Replace(h, "v=19", "v=16", 1),
		join(3, "m=4294967295,t=2,p=1"), // 4 TiB of memory
		join(3, "m=32768,t=1000000,p=1"),
		join(3, "m=32768,t=2,p=0"),
		join(3, "m=032768,t=2,p=1"),
		join(3, "m=32768,t=2"),
		join(4, "!!!"),
		join(5, ""),
		h + "$extra",
	} {
		ok, err := VerifyPassword(enc, "secret")
		if ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("VerifyPassword(%q) = %v, %v; want false, ErrMalformedHash", enc, ok, err)
		}
	}
}

func TestParamsAreReadFromTheString(t *testing.T) {
	// A hash made with other (cheaper) parameters still verifies: the string carries them.
	old := Params{Memory: 8 * 1024, Time: 1, Threads: 2}
	h, err := hashWith("pw", old)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseParams(h)
	if err != nil || p != old {
		t.Errorf("ParseParams = %+v, %v; want %+v", p, err, old)
	}
	if ok, err := VerifyPassword(h, "pw"); !ok || err != nil {
		t.Errorf("VerifyPassword with old params = %v, %v", ok, err)
	}
	if !NeedsRehash(h) {
		t.Error("NeedsRehash(old params) = false")
	}
	cur, _ := HashPassword("pw")
	if NeedsRehash(cur) {
		t.Error("NeedsRehash(current params) = true")
	}
}

func TestNewPassword(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		pw := NewPassword()
		if len(pw) != PasswordLen {
			t.Fatalf("len(%q) = %d", pw, len(pw))
		}
		if strings.ContainsAny(pw, "0O1Il") {
			t.Errorf("%q has a confusable character", pw)
		}
		for _, r := range pw {
			if !strings.ContainsRune(passwordAlphabet, r) {
				t.Errorf("%q has %q, outside the alphabet", pw, r)
			}
		}
		if seen[pw] {
			t.Fatalf("NewPassword repeated %q", pw)
		}
		seen[pw] = true
	}
}

func TestVerifyUnknownTakesAsLong(t *testing.T) {
	VerifyUnknown("warm up") // the first call makes the decoy hash
	h, _ := HashPassword("x")
	// The fastest of several runs of each: a busy machine only ever adds time, so the minimums
	// compare the work done, not the scheduler's luck.
	fastest := func(f func()) time.Duration {
		best := time.Duration(1<<63 - 1)
		for range 5 {
			start := time.Now()
			f()
			best = min(best, time.Since(start))
		}
		return best
	}
	known := fastest(func() { _, _ = VerifyPassword(h, "y") })
	unknown := fastest(func() { VerifyUnknown("y") })
	if unknown < known/3 {
		t.Errorf("VerifyUnknown took %v, a real verification %v: unknown names would be told apart", unknown, known)
	}
}

func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := HashPassword("benchmark"); err != nil {
			b.Fatal(err)
		}
	}
}
