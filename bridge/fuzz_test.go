package bridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pitlane/pitlane/bridge"
	"github.com/sourcegraph/jsonrpc2"
)

// FuzzStream feeds arbitrary bytes to the frame reader. It must never
// panic or hang, every message it passes on must be valid JSON, and every
// answer it writes itself must be a well-formed error response.
func FuzzStream(f *testing.F) {
	seeds := []string{
		"Content-Length: 2\r\n\r\n{}",
		"Content-Length: 40\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\"}",
		"Content-Length: 9\r\n\r\n{not json",
		"Content-Length: 2\r\n\r\n[]",
		"Content-Length: many\r\n\r\n",
		"Content-Type: text/plain\r\n\r\n",
		"Content-Length: 99999999999\r\n\r\n",
		"Content-Length: 5\n\n12345",
		"\r\n\r\nContent-Length: 4\r\n\r\nnull",
		"no colon here\r\n\r\n",
		"Content-Length: 3\r\n\r\n{}",
		"Content-Length: 24\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":3}",
		"Content-Length: 47\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"m\"}",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		s := bridge.NewStream(bytes.NewReader(data), &out, nil)
		for i := 0; ; i++ {
			var m json.RawMessage
			err := s.ReadObject(&m)
			if err != nil {
				if err != io.EOF && err != io.ErrUnexpectedEOF {
					t.Fatalf("unexpected read error %v", err)
				}
				break
			}
			if !json.Valid(m) {
				t.Fatalf("passed on invalid JSON %q", m)
			}
			if i > len(data) {
				t.Fatal("more messages than input bytes")
			}
		}
		replies := bridge.NewStream(&out, io.Discard, nil)
		for {
			var r struct {
				JSONRPC string          `json:"jsonrpc"`
				ID      json.RawMessage `json:"id"`
				Error   *struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := replies.ReadObject(&r); err != nil {
				if err != io.EOF {
					t.Fatalf("the stream wrote a bad frame: %v (%q)", err, out.String())
				}
				break
			}
			if r.JSONRPC != "2.0" || len(r.ID) == 0 || r.Error == nil || r.Error.Message == "" {
				t.Fatalf("malformed error response: %+v", r)
			}
		}
	})
}

// FuzzParams sends arbitrary params to every method of an initialized
// bridge: the bridge must answer each request (a result or an error) and
// keep serving.
func FuzzParams(f *testing.F) {
	for _, s := range []string{`{}`, `null`, `[]`, `{"name":5}`, `{"name":"demo"}`, `{"source":"/nonexistent"}`,
		`{"name":"demo","tail":-1}`, `{"workDoneToken":1.5,"name":"x"}`, `{"workDoneToken":{"a":1},"name":"x"}`,
		`{"enabled":"yes"}`, `"str"`, `{"name":"demo","ide":"vscode"}`, `{"name":"` + strings.Repeat("a", 100) + `"}`} {
		for _, m := range []string{"workspace/list", "workspace/create", "workspace/start", "workspace/stop",
			"workspace/delete", "workspace/rebuild", "workspace/open", "workspace/logs", "workspace/configs",
			"telemetry/setConsent", "initialize", "nope"} {
			f.Add(m, s)
		}
	}
	f.Fuzz(func(t *testing.T, method, params string) {
		if !json.Valid([]byte(params)) || strings.Contains(params, "slow") {
			return
		}
		fm := newFakeManager(t.TempDir())
		c := newClient(t, inProcessConn(t, bridge.Options{Manager: fm}))
		initialize(t, c)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		var res json.RawMessage
		err := c.conn.Call(ctx, method, json.RawMessage(params), &res)
		// Every request gets an answer: a result or a JSON-RPC error, never
		// a dropped connection or silence.
		var re *jsonrpc2.Error
		if err != nil && !errors.As(err, &re) {
			t.Fatalf("%s %s: no answer: %v", method, params, err)
		}
		// Still serving.
		var list json.RawMessage
		if err := c.conn.Call(ctx, "workspace/list", nil, &list); err != nil {
			t.Fatalf("after %s %s: list failed: %v", method, params, err)
		}
	})
}
