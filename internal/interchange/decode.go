package interchange

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"runtime"

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
//
// One goroutine reads the lines in chunks, parseWorkers parse the chunks, and the calling
// goroutine takes the results in reading order: it alone adds to set, reports errors and calls
// progress. val must be safe for concurrent use (domain.Validator is).
func Decode(r io.Reader, file string, set *Set, val *domain.Validator, lang string, progress func(lines, bytes int64)) []LineError {
	if val == nil {
		val = defaultValidator()
	}
	work := make(chan *decodeChunk, chunksAhead)
	ordered := make(chan *decodeChunk, chunksAhead)
	go readChunks(newLineReader(r), work, ordered)
	workers := parseWorkers()
	for range workers {
		go func() {
			for c := range work {
				c.parse(val, lang)
			}
		}()
	}
	var errs []LineError
	var lines, read int64
	for c := range ordered {
		<-c.parsed
		for i := range c.lines {
			n := int(c.first) + i
			switch {
			case c.tooLong[i]:
				errs = append(errs, LineError{file, n, msgLineTooLong.format(lang)})
			case c.errs[i] != nil:
				errs = append(errs, LineError{file, n, derrors.Message(c.errs[i])})
			case c.recs[i].Type != "":
				set.Add(c.recs[i], file, n)
			}
		}
		before := lines
		lines, read = c.first+int64(len(c.lines))-1, c.bytes
		if progress != nil && lines/progressEvery > before/progressEvery {
			progress(lines, read)
		}
		if c.readErr != nil {
			errs = append(errs, LineError{file, int(lines) + 1, msgReadFailed.format(lang, c.readErr)})
		}
	}
	if progress != nil {
		progress(lines, read)
	}
	return errs
}

// How Decode divides its work: chunks of chunkLines lines (a divisor of progressEvery, so
// that progress is reported at the same lines as line by line), at most chunksAhead read ahead
// of the one being added to the set.
const (
	chunkLines  = 1024
	chunksAhead = 8
)

// parseWorkers is how many goroutines parse: one per processor, up to four.
func parseWorkers() int { return min(runtime.GOMAXPROCS(0), 4) }

// decodeChunk is consecutive lines of the input, parsed on any goroutine.
type decodeChunk struct {
	first   int64    // the line number of lines[0]
	buf     []byte   // the lines' bytes
	ends    []int    // lines[i] is buf[ends[i-1]:ends[i]]
	lines   [][]byte // set by parse
	tooLong []bool
	bytes   int64 // the input's bytes read up to the end of the chunk
	readErr error // the read error that ended the input after these lines

	parsed chan struct{} // closed when recs and errs are set
	recs   []Record      // the record of each line; none (Type "") for a blank or bad one
	errs   []error
}

func newDecodeChunk(first int64) *decodeChunk {
	return &decodeChunk{first: first, parsed: make(chan struct{})}
}

func (c *decodeChunk) add(line []byte, tooLong bool) {
	c.buf = append(c.buf, line...)
	c.ends = append(c.ends, len(c.buf))
	c.tooLong = append(c.tooLong, tooLong)
}

func (c *decodeChunk) parse(val *domain.Validator, lang string) {
	c.lines = make([][]byte, len(c.ends))
	c.recs = make([]Record, len(c.ends))
	c.errs = make([]error, len(c.ends))
	start := 0
	for i, end := range c.ends {
		line := c.buf[start:end:end]
		start = end
		c.lines[i] = line
		if c.tooLong[i] || isBlank(line) {
			continue
		}
		c.recs[i], c.errs[i] = ParseLine(line, val, lang)
	}
	close(c.parsed)
}

// readChunks reads the lines of in into chunks and sends each, in order, to work (to be
// parsed) and to ordered (to be taken in). The last chunk carries the read error, if any.
func readChunks(in *lineReader, work, ordered chan<- *decodeChunk) {
	defer close(ordered)
	defer close(work)
	var lines, read int64
	c := newDecodeChunk(1)
	send := func() {
		c.bytes = read
		work <- c
		ordered <- c
		c = newDecodeChunk(lines + 1)
	}
	for {
		line, n, tooLong, err := in.next()
		read += int64(n)
		if n > 0 {
			lines++
			if lines == 1 {
				line = bytes.TrimPrefix(line, utf8BOM)
			}
			c.add(line, tooLong)
			if len(c.ends) == chunkLines {
				send()
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				c.readErr = err
			}
			send()
			return
		}
	}
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
