package interchange

import (
	"bufio"
	"bytes"
	"errors"
	"io"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
)

// MaxLineBytes is the longest line Decode reads, without its line terminator. A longer line
// is reported and skipped.
const MaxLineBytes = 1 << 20

// progressEvery is how many lines Decode reads between progress reports: often enough for a
// terminal to look alive, rarely enough to cost nothing.
const progressEvery = 4096

var utf8BOM = []byte("\xEF\xBB\xBF")

// Decode reads every line of r into set and returns the bad lines, each with its 1-based
// physical line number in file. Blank lines, CRLF line ends and a UTF-8 byte order mark at
// the start are accepted. A read error ends the file and is reported at the line it stopped
// in. progress, if not nil, is called now and then and once at the end with the lines and
// bytes read so far.
func Decode(r io.Reader, file string, set *Set, val *domain.Validator, lang string, progress func(lines, bytes int64)) []LineError {
	if val == nil {
		val = defaultValidator()
	}
	in := newLineReader(r)
	var errs []LineError
	var lines, read int64
	for {
		line, n, tooLong, err := in.next()
		read += int64(n)
		if n > 0 {
			lines++
			if lines == 1 {
				line = bytes.TrimPrefix(line, utf8BOM)
			}
			if tooLong {
				errs = append(errs, LineError{file, int(lines), msgLineTooLong.format(lang)})
			} else if !isBlank(line) {
				if rec, perr := ParseLine(line, val, lang); perr != nil {
					errs = append(errs, LineError{file, int(lines), derrors.Message(perr)})
				} else {
					set.Add(rec, file, int(lines))
				}
			}
			if progress != nil && lines%progressEvery == 0 {
				progress(lines, read)
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				errs = append(errs, LineError{file, int(lines) + 1, msgReadFailed.format(lang, err)})
			}
			break
		}
	}
	if progress != nil {
		progress(lines, read)
	}
	return errs
}

// lineReader reads lines through a buffer sized for ordinary lines and gathers the rare
// longer one separately, so that a small input does not cost a MaxLineBytes buffer.
type lineReader struct {
	in   *bufio.Reader
	long []byte
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{in: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next line without its "\n" or "\r\n", and the number of bytes it took in
// the input (0 at the end). A line longer than MaxLineBytes is consumed to its end and
// returned empty with tooLong set. line is valid until the next call.
func (r *lineReader) next() (line []byte, n int, tooLong bool, err error) {
	line, err = r.in.ReadSlice('\n')
	n = len(line)
	if errors.Is(err, bufio.ErrBufferFull) {
		r.long = append(r.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = r.in.ReadSlice('\n')
			n += len(line)
			if len(r.long) <= MaxLineBytes+len("\r\n") { // beyond that it is too long anyway
				r.long = append(r.long, line...)
			}
		}
		line = r.long
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) > MaxLineBytes {
		return nil, n, true, err
	}
	return line, n, false, err
}

func isBlank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}
