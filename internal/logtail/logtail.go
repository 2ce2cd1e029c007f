// Package logtail reads the end of a log file and follows the lines
// appended to it, for `pitlane logs` and the bridge's workspace/logs.
package logtail

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"time"
)

// MaxRead bounds how much of a file Tail reads, and how much a Follower
// reads in one poll.
const MaxRead = 4 << 20

// End is the end of a log file.
type End struct {
	// Lines are the last lines, oldest first, without newlines; never nil.
	Lines []string
	// Truncated is true when older lines were left out.
	Truncated bool
	// File identifies the file read (nil when there was none) and Offset
	// is where the bytes after the last line returned start: where a
	// Follower goes on.
	File   os.FileInfo
	Offset int64
}

// Tail returns the last n lines of the file at path; a missing file has
// no lines. With complete set, a last line without its newline (still
// being written) is left for a Follower.
func Tail(path string, n int, complete bool) (End, error) {
	t := End{Lines: []string{}}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return t, nil
	}
	if err != nil {
		return t, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return t, err
	}
	t.File = st
	var start int64
	var r io.Reader = f
	if st.Size() > MaxRead {
		start = st.Size() - MaxRead
		if _, err := f.Seek(start, io.SeekStart); err != nil {
			return t, err
		}
		t.Truncated = true
		br := bufio.NewReader(f)
		// Drop the partial first line.
		skipped, err := br.ReadString('\n')
		if err != nil && err != io.EOF {
			return t, err
		}
		start += int64(len(skipped))
		r = br
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return t, err
	}
	if complete {
		data = data[:bytes.LastIndexByte(data, '\n')+1]
	}
	t.Offset = start + int64(len(data))
	data = bytes.TrimSuffix(data, []byte("\n"))
	if len(data) == 0 {
		return t, nil
	}
	all := strings.Split(string(data), "\n")
	if len(all) > n {
		t.Truncated = true
		all = all[len(all)-n:]
	}
	for _, l := range all {
		t.Lines = append(t.Lines, strings.TrimSuffix(l, "\r"))
	}
	return t, nil
}

// Follower reads the complete lines appended to a log file. A file that
// is replaced (removed and written again) or cut short is read again from
// its start; a missing file is waited for.
type Follower struct {
	path   string
	file   os.FileInfo
	offset int64
	f      *os.File
	buf    []byte // the start of a line whose newline has not come yet
}

// NewFollower follows the file at path from the end e of an earlier Tail
// (the zero End: from the start of whatever file comes).
func NewFollower(path string, e End) *Follower {
	return &Follower{path: path, file: e.File, offset: e.Offset}
}

// Poll returns the complete lines appended since the last Poll, without
// newlines; nil when there are none.
func (fl *Follower) Poll() []string {
	st, err := os.Stat(fl.path)
	if err != nil {
		return nil // not there (yet): a create writes it soon
	}
	if fl.file != nil && (!os.SameFile(fl.file, st) || st.Size() < fl.offset) {
		fl.offset, fl.buf = 0, nil
		fl.closeFile()
	}
	if fl.f == nil {
		f, err := os.Open(fl.path)
		if err != nil {
			return nil
		}
		fst, err := f.Stat()
		if err != nil {
			f.Close()
			return nil
		}
		if fl.file != nil && !os.SameFile(fl.file, fst) {
			fl.offset, fl.buf = 0, nil
		}
		fl.f, fl.file = f, fst
	}
	if st.Size() <= fl.offset {
		return nil
	}
	chunk := make([]byte, min(st.Size()-fl.offset, MaxRead))
	n, err := fl.f.ReadAt(chunk, fl.offset)
	if n == 0 && err != nil {
		return nil
	}
	fl.offset += int64(n)
	data := append(fl.buf, chunk[:n]...)
	last := bytes.LastIndexByte(data, '\n')
	if last < 0 {
		fl.buf = data
		return nil
	}
	fl.buf = append([]byte(nil), data[last+1:]...)
	lines := strings.Split(string(data[:last]), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

// Run polls every interval until ctx ends and passes each non-empty batch
// of lines to send.
func (fl *Follower) Run(ctx context.Context, interval time.Duration, send func([]string)) {
	defer fl.closeFile()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for ctx.Err() == nil {
		if lines := fl.Poll(); len(lines) > 0 && ctx.Err() == nil {
			send(lines)
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

func (fl *Follower) closeFile() {
	if fl.f != nil {
		fl.f.Close()
		fl.f = nil
	}
}
