package workspace

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"time"
)

// logProgress writes every step and output line to the workspace's log file
// and passes them on to the caller's Progress.
type logProgress struct {
	mu   sync.Mutex
	w    io.WriteCloser
	next Progress
}

func newLogProgress(w io.WriteCloser, next Progress) *logProgress {
	return &logProgress{w: w, next: next}
}

func (p *logProgress) Step(title string) {
	p.mu.Lock()
	if p.w != nil && title != "" {
		fmt.Fprintf(p.w, "%s ==> %s\n", time.Now().UTC().Format(time.RFC3339), title)
	}
	p.mu.Unlock()
	if p.next != nil {
		p.next.Step(title)
	}
}

func (p *logProgress) Output(line string) {
	p.mu.Lock()
	if p.w != nil {
		fmt.Fprintf(p.w, "%s\n", line)
	}
	p.mu.Unlock()
	if p.next != nil {
		p.next.Output(line)
	}
}

// Close closes the log file; later lines only reach the caller.
func (p *logProgress) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.w != nil {
		p.w.Close()
		p.w = nil
	}
}

// lineWriter is an io.Writer that calls out once per complete line.
type lineWriter struct {
	mu  sync.Mutex
	buf []byte
	out func(string)
}

func newLineWriter(out func(string)) *lineWriter { return &lineWriter{out: out} }

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.out(string(bytes.TrimRight(w.buf[:i], "\r")))
		w.buf = w.buf[i+1:]
	}
	return len(b), nil
}

// Flush emits a last line that had no newline.
func (w *lineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.out(string(w.buf))
		w.buf = nil
	}
}

type nopProgress struct{}

func (nopProgress) Step(string)   {}
func (nopProgress) Output(string) {}
