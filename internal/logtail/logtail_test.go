package logtail

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, path, s string, flag int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|flag, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	e, err := Tail(path, 10, false)
	if err != nil || e.Lines == nil || len(e.Lines) != 0 || e.File != nil {
		t.Fatalf("Tail of a missing file: %+v, %v", e, err)
	}
	write(t, path, "a\nb\r\nc\npartial", os.O_TRUNC)
	e, err = Tail(path, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"c", "partial"}; !slices.Equal(e.Lines, want) || !e.Truncated {
		t.Errorf("Tail(2): %q truncated=%v, want %q truncated", e.Lines, e.Truncated, want)
	}
	e, err = Tail(path, 5, true)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "b", "c"}; !slices.Equal(e.Lines, want) || e.Truncated || e.Offset != int64(len("a\nb\r\nc\n")) {
		t.Errorf("Tail(5, complete): %q truncated=%v offset=%d", e.Lines, e.Truncated, e.Offset)
	}
}

func TestTailOfAHugeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	line := strings.Repeat("x", 99) + "\n"
	write(t, path, strings.Repeat(line, MaxRead/len(line)+100)+"last\n", os.O_TRUNC)
	e, err := Tail(path, 3, true)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if !e.Truncated || e.Lines[2] != "last" || e.Lines[1] != line[:99] || e.Offset != st.Size() {
		t.Errorf("Tail of a huge file: truncated=%v lines=%d last=%q offset=%d size=%d", e.Truncated, len(e.Lines), e.Lines[2], e.Offset, st.Size())
	}
}

func TestFollower(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	write(t, path, "old\nhalf ", os.O_TRUNC)
	e, err := Tail(path, 10, true)
	if err != nil {
		t.Fatal(err)
	}
	fl := NewFollower(path, e)
	if got := fl.Poll(); got != nil {
		t.Errorf("first poll: %q", got)
	}
	write(t, path, "line\nnext\n", os.O_APPEND)
	if got := fl.Poll(); !slices.Equal(got, []string{"half line", "next"}) {
		t.Errorf("after append: %q", got)
	}
	// Replaced: read from the new file's start.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if got := fl.Poll(); got != nil {
		t.Errorf("while missing: %q", got)
	}
	write(t, path, "new 1\n", os.O_TRUNC)
	if got := fl.Poll(); !slices.Equal(got, []string{"new 1"}) {
		t.Errorf("after replacing: %q", got)
	}
	// Cut short: read from the start.
	write(t, path, "x\n", os.O_TRUNC)
	if got := fl.Poll(); !slices.Equal(got, []string{"x"}) {
		t.Errorf("after truncating: %q", got)
	}
}

func TestFollowerRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	fl := NewFollower(path, End{})
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan []string, 10)
	done := make(chan struct{})
	go func() {
		fl.Run(ctx, 10*time.Millisecond, func(l []string) { got <- l })
		close(done)
	}()
	write(t, path, "one\ntwo\n", os.O_TRUNC)
	select {
	case l := <-got:
		if !slices.Equal(l, []string{"one", "two"}) {
			t.Errorf("got %q", l)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no lines")
	}
	cancel()
	<-done
	write(t, path, "three\n", os.O_APPEND)
	time.Sleep(50 * time.Millisecond)
	select {
	case l := <-got:
		t.Errorf("lines after the end: %q", l)
	default:
	}
}
