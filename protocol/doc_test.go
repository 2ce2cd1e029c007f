package protocol_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/pitlane/pitlane/protocol"
)

// message describes the Go types of one method: the params type and, for
// requests, the result type (nil for a null result).
type message struct {
	params any // nil: no params
	result any // nil: result null
	notif  bool
}

// methods is every method of the protocol with its Go types. Adding a
// method to the protocol means adding it here and to PROTOCOL.md.
var methods = map[string]message{
	protocol.MethodInitialize:              {params: protocol.InitializeParams{}, result: protocol.InitializeResult{}},
	protocol.MethodShutdown:                {},
	protocol.MethodWorkspaceList:           {result: protocol.ListResult{}},
	protocol.MethodWorkspaceCreate:         {params: protocol.CreateParams{}, result: protocol.CreateResult{}},
	protocol.MethodWorkspaceStart:          {params: protocol.StartParams{}, result: protocol.WorkspaceResult{}},
	protocol.MethodWorkspaceStop:           {params: protocol.NameParams{}, result: protocol.WorkspaceResult{}},
	protocol.MethodWorkspaceDelete:         {params: protocol.DeleteParams{}},
	protocol.MethodWorkspaceRebuild:        {params: protocol.RebuildParams{}, result: protocol.WorkspaceResult{}},
	protocol.MethodWorkspaceOpen:           {params: protocol.OpenParams{}, result: protocol.OpenResult{}},
	protocol.MethodWorkspaceLogs:           {params: protocol.LogsParams{}, result: protocol.LogsResult{}},
	protocol.MethodWorkspaceConfigs:        {params: protocol.ConfigsParams{}, result: protocol.ConfigsResult{}},
	protocol.MethodWorkspaceDetect:         {params: protocol.DetectParams{}, result: protocol.DetectResult{}},
	protocol.MethodTelemetrySetConsent:     {params: protocol.SetConsentParams{}, result: protocol.SetConsentResult{}},
	protocol.MethodWorkspaceUnfollowLogs:   {params: protocol.UnfollowLogsParams{}},
	protocol.MethodWorkspacePorts:          {params: protocol.PortsParams{}, result: protocol.PortsResult{}},
	protocol.MethodWorkspaceForwardPort:    {params: protocol.ForwardPortParams{}, result: protocol.ForwardPortResult{}},
	protocol.MethodWorkspaceStopForwarding: {params: protocol.StopForwardingParams{}},
	protocol.MethodLogAppended:             {notif: true, params: protocol.LogAppendedParams{}},
	protocol.MethodPortsChanged:            {notif: true, params: protocol.PortsChangedParams{}},
	protocol.MethodExit:                    {notif: true},
	protocol.MethodCancelRequest:           {notif: true, params: protocol.CancelParams{}},
	protocol.MethodDidChange:               {notif: true, params: protocol.DidChangeParams{}},
	protocol.MethodProgress:                {notif: true, params: progressParams{}},
	protocol.MethodLogMessage:              {notif: true, params: protocol.LogMessageParams{}},
	protocol.MethodShowMessage:             {notif: true, params: protocol.ShowMessageParams{}},
}

// progressParams is ProgressParams with the value left raw, so the test can
// decode it by its kind.
type progressParams struct {
	Token protocol.ProgressToken `json:"token"`
	Value json.RawMessage        `json:"value"`
}

type responseError struct {
	Code    int                `json:"code"`
	Message string             `json:"message"`
	Data    protocol.ErrorData `json:"data"`
}

type envelope struct {
	JSONRPC string           `json:"jsonrpc"`
	ID      *json.RawMessage `json:"id"`
	Method  string           `json:"method"`
	Params  json.RawMessage  `json:"params"`
	Result  json.RawMessage  `json:"result"`
	Error   json.RawMessage  `json:"error"`
}

type example struct {
	section string // the method of the enclosing "### `method`" heading
	body    []byte
	line    int
}

var headingRE = regexp.MustCompile("^### `([^`]+)`")

func readExamples(t *testing.T) []example {
	t.Helper()
	data, err := os.ReadFile("PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []example
	section := ""
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		if m := headingRE.FindStringSubmatch(lines[i]); m != nil {
			section = m[1]
			continue
		}
		if strings.HasPrefix(lines[i], "## ") {
			section = ""
		}
		if lines[i] != "```json" {
			continue
		}
		start := i + 1
		var body []string
		for i++; i < len(lines) && lines[i] != "```"; i++ {
			body = append(body, lines[i])
		}
		out = append(out, example{section: section, body: []byte(strings.Join(body, "\n")), line: start})
	}
	return out
}

// decodeStrict decodes data into a new value of v's type and fails on
// unknown fields, then records which fields of which types appeared.
func decodeStrict(data []byte, v any, seen map[reflect.Type]map[string]bool) error {
	t := reflect.TypeOf(v)
	p := reflect.New(t)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p.Interface()); err != nil {
		return fmt.Errorf("%s: %w", t, err)
	}
	walk(t, data, seen)
	return nil
}

var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

func isLeaf(t reflect.Type) bool {
	return t.Kind() != reflect.Struct || reflect.PointerTo(t).Implements(unmarshaler) || t == reflect.TypeFor[json.RawMessage]()
}

type jsonField struct {
	name string
	typ  reflect.Type
	// lsp is true for fields of go.lsp.dev/protocol types: the bridge
	// need not use all of them, so the examples need not show them.
	lsp bool
}

// fields lists the JSON fields of a struct, with embedded structs flattened.
func fields(t reflect.Type) []jsonField {
	var out []jsonField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if f.Anonymous && tag == "" {
			out = append(out, fields(f.Type)...)
			continue
		}
		if !f.IsExported() || tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		out = append(out, jsonField{name, f.Type, strings.HasPrefix(t.PkgPath(), "go.lsp.dev/")})
	}
	return out
}

func walk(t reflect.Type, data []byte, seen map[reflect.Type]map[string]bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
		var items []json.RawMessage
		if json.Unmarshal(data, &items) == nil {
			for _, it := range items {
				walk(t.Elem(), it, seen)
			}
		}
	case !isLeaf(t):
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) != nil {
			return
		}
		if seen[t] == nil {
			seen[t] = map[string]bool{}
		}
		for _, f := range fields(t) {
			if raw, ok := obj[f.name]; ok {
				seen[t][f.name] = true
				walk(f.typ, raw, seen)
			}
		}
	}
}

// TestProtocolDoc checks PROTOCOL.md against the Go types: every example
// decodes strictly into its type, every method has examples, and every
// field of every type shows up in at least one example.
func TestProtocolDoc(t *testing.T) {
	seen := map[reflect.Type]map[string]bool{}
	requests := map[string]bool{}
	responses := map[string]bool{}
	notifs := map[string]bool{}
	errorsSeen := 0
	for _, ex := range readExamples(t) {
		where := fmt.Sprintf("PROTOCOL.md:%d", ex.line)
		var env envelope
		dec := json.NewDecoder(bytes.NewReader(ex.body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&env); err != nil {
			t.Errorf("%s: not a JSON-RPC message: %v", where, err)
			continue
		}
		if env.JSONRPC != "2.0" {
			t.Errorf("%s: jsonrpc is %q, want 2.0", where, env.JSONRPC)
		}
		switch {
		case env.Method != "":
			m, ok := methods[env.Method]
			if !ok {
				t.Errorf("%s: unknown method %q", where, env.Method)
				continue
			}
			if m.notif != (env.ID == nil) {
				t.Errorf("%s: %s: notification=%v but id present=%v", where, env.Method, m.notif, env.ID != nil)
			}
			if env.Method != ex.section {
				t.Errorf("%s: example of %s under the heading of %s", where, env.Method, ex.section)
			}
			switch {
			case m.params == nil && len(env.Params) > 0:
				t.Errorf("%s: %s takes no params", where, env.Method)
			case m.params != nil:
				if err := decodeStrict(env.Params, m.params, seen); err != nil {
					t.Errorf("%s: params: %v", where, err)
				}
			}
			if env.Method == protocol.MethodProgress {
				checkProgressValue(t, where, env.Params, seen)
			}
			if m.notif {
				notifs[env.Method] = true
			} else {
				requests[env.Method] = true
			}
		case len(env.Error) > 0:
			var e responseError
			if err := decodeStrict(env.Error, e, seen); err != nil {
				t.Errorf("%s: error: %v", where, err)
			}
			errorsSeen++
		default:
			m, ok := methods[ex.section]
			if !ok || m.notif {
				t.Errorf("%s: response outside a request section (%q)", where, ex.section)
				continue
			}
			if m.result == nil {
				if string(env.Result) != "null" {
					t.Errorf("%s: %s: result must be null, is %s", where, ex.section, env.Result)
				}
			} else if err := decodeStrict(env.Result, m.result, seen); err != nil {
				t.Errorf("%s: result: %v", where, err)
			}
			responses[ex.section] = true
		}
	}
	for name, m := range methods {
		switch {
		case m.notif && !notifs[name]:
			t.Errorf("PROTOCOL.md has no example of notification %s", name)
		case !m.notif && !requests[name]:
			t.Errorf("PROTOCOL.md has no example request of %s", name)
		case !m.notif && !responses[name]:
			t.Errorf("PROTOCOL.md has no example response of %s", name)
		}
	}
	if errorsSeen == 0 {
		t.Error("PROTOCOL.md has no error example")
	}
	var missing []string
	for typ, got := range seen {
		for _, f := range fields(typ) {
			if !got[f.name] && !f.lsp {
				missing = append(missing, typ.String()+"."+f.name)
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("PROTOCOL.md: no example shows field %s", m)
	}
}

func checkProgressValue(t *testing.T, where string, params json.RawMessage, seen map[reflect.Type]map[string]bool) {
	var p progressParams
	if err := json.Unmarshal(params, &p); err != nil {
		return // reported by the strict decode
	}
	var kind struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(p.Value, &kind); err != nil {
		t.Errorf("%s: progress value: %v", where, err)
		return
	}
	var v any
	switch kind.Kind {
	case "begin":
		v = protocol.WorkDoneProgressBegin{}
	case "report":
		v = protocol.ProgressReport{}
	case "end":
		v = protocol.WorkDoneProgressEnd{}
	default:
		t.Errorf("%s: progress kind %q", where, kind.Kind)
		return
	}
	if err := decodeStrict(p.Value, v, seen); err != nil {
		t.Errorf("%s: progress value: %v", where, err)
	}
}
