package bridge_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pitlane/pitlane/bridge"
)

// This file replays the transcripts in testdata/transcripts (format:
// testdata/transcripts/README.md) against a bridge reached through a
// transport: in-process or a child process.

const transcriptDir = "../testdata/transcripts"

// transport is a connection to a bridge under test.
type transport struct {
	// in is the bridge's standard input.
	in io.WriteCloser
	// msgs delivers the bridge's messages; it is closed at end of output.
	msgs <-chan json.RawMessage
	// wait waits for the bridge to end and returns its exit code.
	wait func() int
}

// readMessages decodes frames from r into a channel.
func readMessages(r io.Reader) <-chan json.RawMessage {
	ch := make(chan json.RawMessage, 1024)
	go func() {
		defer close(ch)
		// The client side uses the same framing code; anything it would
		// reject counts as a missing message and fails the transcript.
		s := bridge.NewStream(r, io.Discard, nil)
		for {
			var m json.RawMessage
			if err := s.ReadObject(&m); err != nil {
				return
			}
			ch <- m
		}
	}()
	return ch
}

type transcriptHeader struct {
	Description    string   `json:"description"`
	Vars           []string `json:"vars"`
	Ignore         []string `json:"ignore"`
	TimeoutSeconds int      `json:"timeoutSeconds"`
}

type entry struct {
	Header    *transcriptHeader `json:"header"`
	Comment   string            `json:"comment"`
	Client    json.RawMessage   `json:"client"`
	ClientRaw *string           `json:"clientRaw"`
	Server    json.RawMessage   `json:"server"`
	Exit      *int              `json:"exit"`
	line      int
}

func loadTranscript(t testing.TB, path string) (transcriptHeader, []entry) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var h transcriptHeader
	var out []entry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var e entry
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		e.line = n
		if e.Header != nil {
			if n != 1 {
				t.Fatalf("%s:%d: the header must be the first line", path, n)
			}
			h = *e.Header
			continue
		}
		out = append(out, e)
	}
	if h.TimeoutSeconds == 0 {
		h.TimeoutSeconds = 10
	}
	return h, out
}

// transcriptNames lists the transcripts by name (file name without .jsonl).
func transcriptNames(t testing.TB) []string {
	files, err := filepath.Glob(filepath.Join(transcriptDir, "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts in %s: %v", transcriptDir, err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".jsonl"))
	}
	return names
}

var varRE = regexp.MustCompile(`\$\{([A-Z_][A-Z0-9_]*)\}`)

func substitute(s string, vars map[string]string) string {
	return varRE.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := vars[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

func substituteAll(v any, vars map[string]string) any {
	switch x := v.(type) {
	case string:
		return substitute(x, vars)
	case map[string]any:
		for k, e := range x {
			x[k] = substituteAll(e, vars)
		}
	case []any:
		for i, e := range x {
			x[i] = substituteAll(e, vars)
		}
	}
	return v
}

// match reports whether actual matches the expected pattern; captures go
// into bind (and are only kept by the caller on success).
func match(exp, act any, vars, bind map[string]string) bool {
	switch e := exp.(type) {
	case string:
		switch {
		case e == "<any>":
			return true
		case e == "<string>":
			_, ok := act.(string)
			return ok
		case e == "<number>":
			_, ok := act.(float64)
			return ok
		case e == "<bool>":
			_, ok := act.(bool)
			return ok
		case e == "<timestamp>":
			s, ok := act.(string)
			if !ok {
				return false
			}
			_, err := time.Parse(time.RFC3339Nano, s)
			return err == nil
		case strings.HasPrefix(e, "<=") && strings.HasSuffix(e, ">"):
			s, ok := act.(string)
			if !ok {
				return false
			}
			name := e[2 : len(e)-1]
			if v, ok := vars[name]; ok {
				return v == s
			}
			if v, ok := bind[name]; ok {
				return v == s
			}
			bind[name] = s
			return true
		}
		s, ok := act.(string)
		if !ok {
			return false
		}
		all := make(map[string]string, len(vars)+len(bind))
		for k, v := range vars {
			all[k] = v
		}
		for k, v := range bind {
			all[k] = v
		}
		return substitute(e, all) == s
	case map[string]any:
		a, ok := act.(map[string]any)
		if !ok {
			return false
		}
		_, open := e["..."]
		for k, ev := range e {
			if k == "..." {
				continue
			}
			av, ok := a[k]
			if !ok || !match(ev, av, vars, bind) {
				return false
			}
		}
		if !open {
			for k := range a {
				if _, ok := e[k]; !ok {
					return false
				}
			}
		}
		return true
	case []any:
		a, ok := act.([]any)
		if !ok || len(a) != len(e) {
			return false
		}
		for i := range e {
			if !match(e[i], a[i], vars, bind) {
				return false
			}
		}
		return true
	default:
		return exp == act
	}
}

// runTranscript replays one transcript against tr with the given variables.
func runTranscript(t *testing.T, name string, tr *transport, vars map[string]string) {
	t.Helper()
	path := filepath.Join(transcriptDir, name+".jsonl")
	h, entries := loadTranscript(t, path)
	for _, v := range h.Vars {
		if _, ok := vars[v]; !ok {
			t.Fatalf("%s needs variable %s", path, v)
		}
	}
	vars = maps(vars)
	timeout := time.Duration(h.TimeoutSeconds) * time.Second
	type pending struct {
		pat  any
		line int
	}
	var block []pending
	ignorable := func(m map[string]any) bool {
		method, _ := m["method"].(string)
		_, hasID := m["id"]
		return method != "" && !hasID && slices.Contains(h.Ignore, method)
	}
	// flush waits until every expectation of the block has been matched.
	flush := func() {
		deadline := time.After(timeout)
		for len(block) > 0 {
			var raw json.RawMessage
			var ok bool
			select {
			case raw, ok = <-tr.msgs:
			case <-deadline:
				t.Fatalf("%s:%d: no matching message within %s; still expected: %s", path, block[0].line, timeout, dump(block[0].pat))
			}
			if !ok {
				t.Fatalf("%s:%d: the bridge closed its output; still expected: %s", path, block[0].line, dump(block[0].pat))
			}
			var act any
			if err := json.Unmarshal(raw, &act); err != nil {
				t.Fatalf("bridge wrote invalid JSON %q: %v", raw, err)
			}
			matched := false
			for i, p := range block {
				bind := map[string]string{}
				if match(p.pat, act, vars, bind) {
					for k, v := range bind {
						vars[k] = v
					}
					block = slices.Delete(block, i, i+1)
					matched = true
					break
				}
			}
			if matched {
				continue
			}
			if m, ok := act.(map[string]any); ok && ignorable(m) {
				continue
			}
			t.Fatalf("%s:%d: unexpected message %s; expected one of the block starting here: %s", path, block[0].line, raw, dump(block[0].pat))
		}
	}
	send := func(data []byte, line int) {
		if _, err := tr.in.Write(data); err != nil {
			t.Fatalf("%s:%d: writing to the bridge: %v", path, line, err)
		}
	}
	for _, e := range entries {
		switch {
		case e.Comment != "":
		case e.Server != nil:
			var pat any
			if err := json.Unmarshal(e.Server, &pat); err != nil {
				t.Fatalf("%s:%d: %v", path, e.line, err)
			}
			block = append(block, pending{pat, e.line})
		case e.Client != nil:
			flush()
			var msg any
			if err := json.Unmarshal(e.Client, &msg); err != nil {
				t.Fatalf("%s:%d: %v", path, e.line, err)
			}
			body, _ := json.Marshal(substituteAll(msg, vars))
			send(fmt.Appendf(nil, "Content-Length: %d\r\n\r\n%s", len(body), body), e.line)
		case e.ClientRaw != nil:
			flush()
			send([]byte(substitute(*e.ClientRaw, vars)), e.line)
		case e.Exit != nil:
			flush()
			deadline := time.After(timeout)
		drain:
			for {
				select {
				case raw, ok := <-tr.msgs:
					if !ok {
						break drain
					}
					var m map[string]any
					if json.Unmarshal(raw, &m) != nil || !ignorable(m) {
						t.Fatalf("%s:%d: unexpected message before exit: %s", path, e.line, raw)
					}
				case <-deadline:
					t.Fatalf("%s:%d: the bridge did not end within %s", path, e.line, timeout)
				}
			}
			if code := tr.wait(); code != *e.Exit {
				t.Fatalf("%s:%d: exit code %d, want %d", path, e.line, code, *e.Exit)
			}
			return
		default:
			t.Fatalf("%s:%d: empty entry", path, e.line)
		}
	}
	flush()
	tr.in.Close()
	tr.wait()
}

func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func dump(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestTranscriptFiles checks the transcripts themselves: every line is
// valid, client messages are JSON-RPC 2.0, and each file ends with exit.
func TestTranscriptFiles(t *testing.T) {
	for _, name := range transcriptNames(t) {
		t.Run(name, func(t *testing.T) {
			h, entries := loadTranscript(t, filepath.Join(transcriptDir, name+".jsonl"))
			if h.Description == "" {
				t.Error("the header has no description")
			}
			if len(entries) == 0 || entries[len(entries)-1].Exit == nil {
				t.Error(`the last entry must be {"exit": N}`)
			}
			for _, e := range entries {
				for _, m := range []json.RawMessage{e.Client, e.Server} {
					if m == nil {
						continue
					}
					var env struct {
						JSONRPC string `json:"jsonrpc"`
					}
					if err := json.Unmarshal(m, &env); err != nil || env.JSONRPC != "2.0" {
						t.Errorf("line %d: not a JSON-RPC 2.0 message: %s", e.line, m)
					}
				}
			}
		})
	}
}

func TestMatch(t *testing.T) {
	vars := map[string]string{"NAME": "demo"}
	tests := []struct {
		exp, act string
		want     bool
	}{
		{`"<any>"`, `[1,2]`, true},
		{`"<string>"`, `"x"`, true},
		{`"<string>"`, `3`, false},
		{`"<number>"`, `3`, true},
		{`"<bool>"`, `false`, true},
		{`"<timestamp>"`, `"2025-05-01T09:30:00Z"`, true},
		{`"<timestamp>"`, `"yesterday"`, false},
		{`"${NAME}.pitlane"`, `"demo.pitlane"`, true},
		{`"${NAME}"`, `"other"`, false},
		{`{"a":1}`, `{"a":1,"b":2}`, false},
		{`{"a":1,"...":true}`, `{"a":1,"b":2}`, true},
		{`{"a":1,"b":2}`, `{"a":1}`, false},
		{`[1,"<any>"]`, `[1,{}]`, true},
		{`[1]`, `[1,2]`, false},
		{`null`, `null`, true},
		{`{"x":"<=V>","y":"<=V>"}`, `{"x":"a","y":"b"}`, false},
		{`{"x":"<=V>","y":"<=V>"}`, `{"x":"a","y":"a"}`, true},
	}
	for _, tc := range tests {
		var e, a any
		if err := json.Unmarshal([]byte(tc.exp), &e); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(tc.act), &a); err != nil {
			t.Fatal(err)
		}
		if got := match(e, a, vars, map[string]string{}); got != tc.want {
			t.Errorf("match(%s, %s) = %v, want %v", tc.exp, tc.act, got, tc.want)
		}
	}
}
