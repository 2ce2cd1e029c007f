package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"golang.org/x/term"
)

// stepPrinter shows a long operation's steps with their elapsed time, and
// the build and hook output under them, on a terminal or in a log.
type stepPrinter struct {
	mu      sync.Mutex
	w       io.Writer
	color   bool
	title   string
	started time.Time
	quiet   bool
}

func newStepPrinter(w io.Writer, quiet bool) *stepPrinter {
	color := false
	if f, ok := w.(interface{ Fd() uintptr }); ok {
		color = term.IsTerminal(int(f.Fd()))
	}
	return &stepPrinter{w: w, color: color, quiet: quiet}
}

func (p *stepPrinter) paint(code, s string) string {
	if !p.color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// Step finishes the current step and starts the next; an empty title only
// finishes.
func (p *stepPrinter) Step(title string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finish("✓")
	if title == "" {
		return
	}
	p.title, p.started = title, time.Now()
	fmt.Fprintf(p.w, "%s %s\n", p.paint("1;34", "==>"), p.paint("1", title))
}

func (p *stepPrinter) finish(mark string) {
	if p.title == "" {
		return
	}
	el := time.Since(p.started).Round(100 * time.Millisecond)
	fmt.Fprintf(p.w, "%s %s %s\n", p.paint("32", mark), p.title, p.paint("2", "("+el.String()+")"))
	p.title = ""
}

// Fail marks the current step as failed.
func (p *stepPrinter) Fail() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.title != "" {
		el := time.Since(p.started).Round(100 * time.Millisecond)
		fmt.Fprintf(p.w, "%s %s %s\n", p.paint("31", "✗"), p.title, p.paint("2", "("+el.String()+")"))
		p.title = ""
	}
}

func (p *stepPrinter) Output(line string) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "    %s\n", p.paint("2", line))
}
