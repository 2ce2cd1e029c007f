package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/pitlane/pitlane/internal/source"
	"github.com/pitlane/pitlane/internal/workspace"
	"github.com/pitlane/pitlane/protocol"
)

type handler func(s *Server, ctx context.Context, req *jsonrpc2.Request) (any, error)

// handlers are the requests that run in their own goroutine, by method.
var handlers = map[string]handler{
	protocol.MethodWorkspaceList:           (*Server).list,
	protocol.MethodWorkspaceCreate:         (*Server).create,
	protocol.MethodWorkspaceStart:          (*Server).start,
	protocol.MethodWorkspaceStop:           (*Server).stop,
	protocol.MethodWorkspaceDelete:         (*Server).delete,
	protocol.MethodWorkspaceRebuild:        (*Server).rebuild,
	protocol.MethodWorkspaceOpen:           (*Server).open,
	protocol.MethodWorkspaceLogs:           (*Server).logs,
	protocol.MethodWorkspaceUnfollowLogs:   (*Server).unfollowLogs,
	protocol.MethodWorkspacePorts:          (*Server).ports,
	protocol.MethodWorkspaceForwardPort:    (*Server).forwardPort,
	protocol.MethodWorkspaceStopForwarding: (*Server).stopForwarding,
	protocol.MethodWorkspaceConfigs:        (*Server).configs,
	protocol.MethodWorkspaceDetect:         (*Server).detect,
	protocol.MethodTelemetrySetConsent:     (*Server).setConsent,
}

func (s *Server) list(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	if err := decodeParams(req, &struct{}{}, false); err != nil {
		return nil, err
	}
	wss, err := s.opts.Manager.List(ctx)
	if err != nil {
		return nil, err
	}
	res := protocol.ListResult{Workspaces: make([]protocol.Workspace, 0, len(wss))}
	for _, ws := range wss {
		res.Workspaces = append(res.Workspaces, s.toWire(ws))
	}
	sort.Slice(res.Workspaces, func(i, j int) bool { return res.Workspaces[i].Name < res.Workspaces[j].Name })
	return res, nil
}

func (s *Server) create(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	var p protocol.CreateParams
	if err := decodeParams(req, &p, true); err != nil {
		return nil, err
	}
	if p.Source == "" {
		return nil, invalidParams(`"source" is required: a git URL or a local folder`)
	}
	if p.IDE != "" {
		if err := s.checkIDE(p.IDE); err != nil {
			return nil, err
		}
	}
	title := "Creating workspace"
	if p.Name != "" {
		title = "Creating " + p.Name
	}
	pr := s.beginProgress(p.WorkDoneToken, title)
	opName := p.Name
	if opName == "" {
		// The name the engine derives, so the record offers "cancel".
		opName = source.BaseName(p.Source)
	}
	defer s.ops.begin(opName)()
	opts := workspace.CreateOptions{
		Source:     p.Source,
		Name:       p.Name,
		Branch:     p.Branch,
		ConfigPath: p.ConfigPath,
		Progress:   pr,
		Consent:    consent(p.Trust),
	}
	if p.Dotfiles != nil {
		opts.Dotfiles = &workspace.Dotfiles{Repository: p.Dotfiles.Repository, Script: p.Dotfiles.Script}
	}
	ws, err := s.opts.Manager.Create(ctx, opts)
	if err != nil {
		pr.end(endMessage(ctx, err))
		return nil, withWorkspace(err, p.Name)
	}
	pr.end("Created " + ws.Name)
	res := protocol.CreateResult{Workspace: s.toWire(ws)}
	if p.IDE != "" {
		open, err := s.opts.Opener.Open(ws, p.IDE)
		if err != nil {
			return nil, withWorkspace(err, ws.Name)
		}
		res.Open = &open
	}
	return res, nil
}

func (s *Server) start(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	var p protocol.StartParams
	if err := decodeName(req, &p, &p.Name); err != nil {
		return nil, err
	}
	pr := s.beginProgress(p.WorkDoneToken, "Starting "+p.Name)
	defer s.ops.begin(p.Name)()
	ws, err := s.opts.Manager.Start(ctx, p.Name, workspace.StartOptions{Progress: pr, Consent: consent(p.Trust)})
	if err != nil {
		pr.end(endMessage(ctx, err))
		return nil, withWorkspace(err, p.Name)
	}
	pr.end("Started " + p.Name)
	return protocol.WorkspaceResult{Workspace: s.toWire(ws)}, nil
}

func (s *Server) stop(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	var p protocol.NameParams
	if err := decodeName(req, &p, &p.Name); err != nil {
		return nil, err
	}
	ws, err := s.opts.Manager.Stop(ctx, p.Name)
	if err != nil {
		return nil, withWorkspace(err, p.Name)
	}
	return protocol.WorkspaceResult{Workspace: s.toWire(ws)}, nil
}

func (s *Server) delete(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	var p protocol.DeleteParams
	if err := decodeName(req, &p, &p.Name); err != nil {
		return nil, err
	}
	if err := s.opts.Manager.Delete(ctx, p.Name, workspace.DeleteOptions{DiscardChanges: p.DiscardChanges}); err != nil {
		return nil, withWorkspace(err, p.Name)
	}
	return nil, nil
}

func (s *Server) rebuild(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	var p protocol.RebuildParams
	if err := decodeName(req, &p, &p.Name); err != nil {
		return nil, err
	}
	pr := s.beginProgress(p.WorkDoneToken, "Rebuilding "+p.Name)
	defer s.ops.begin(p.Name)()
	ws, err := s.opts.Manager.Rebuild(ctx, p.Name, workspace.RebuildOptions{Progress: pr, Consent: consent(p.Trust)})
	if err != nil {
		pr.end(endMessage(ctx, err))
		return nil, withWorkspace(err, p.Name)
	}
	pr.end("Rebuilt " + p.Name)
	return protocol.WorkspaceResult{Workspace: s.toWire(ws)}, nil
}

func (s *Server) open(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	var p protocol.OpenParams
	if err := decodeName(req, &p, &p.Name); err != nil {
		return nil, err
	}
	if p.IDE == "" {
		p.IDE = "vscode"
	}
	if err := s.checkIDE(p.IDE); err != nil {
		return nil, err
	}
	ws, err := s.opts.Manager.Get(ctx, p.Name)
	if err != nil {
		return nil, withWorkspace(err, p.Name)
	}
	res, err := s.opts.Opener.Open(ws, p.IDE)
	if err != nil {
		return nil, withWorkspace(err, p.Name)
	}
	if err := s.opts.Manager.Touch(p.Name); err != nil {
		s.log.Warn("cannot record the workspace as used", "workspace", p.Name, "error", err)
	}
	if ws.State == workspace.StateRunning {
		// postAttachCommand runs on every open; a failure is reported
		// but does not keep the IDE from connecting.
		if _, err := s.opts.Manager.Attach(ctx, p.Name, nil); err != nil {
			s.log.Warn("postAttachCommand failed", "workspace", p.Name, "error", err)
		}
	}
	if s.opts.Telemetry != nil {
		s.opts.Telemetry.IDEOpened(p.IDE)
	}
	return res, nil
}

func (s *Server) configs(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	var p protocol.ConfigsParams
	if err := decodeParams(req, &p, true); err != nil {
		return nil, err
	}
	if p.Source == "" {
		return nil, invalidParams(`"source" is required: a git URL or a local folder`)
	}
	cfgs, err := s.opts.Manager.Configs(ctx, p.Source)
	if err != nil {
		return nil, err
	}
	if cfgs == nil {
		cfgs = []string{}
	}
	return protocol.ConfigsResult{Configs: cfgs}, nil
}

func (s *Server) detect(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	var p protocol.DetectParams
	if err := decodeParams(req, &p, true); err != nil {
		return nil, err
	}
	if p.Source == "" {
		return nil, invalidParams(`"source" is required: a git URL or a local folder`)
	}
	d, err := s.opts.Manager.Detect(ctx, p.Source)
	if err != nil {
		return nil, err
	}
	res := protocol.DetectResult{Kind: string(d.Kind), ConfigPath: d.ConfigPath, Summary: d.Summary, Message: d.Message, Stacks: []protocol.DetectedStack{}}
	for _, st := range d.Report.Stacks {
		ds := protocol.DetectedStack{Language: st.Language, Dir: st.Dir, File: st.Evidence.File}
		if st.Version != nil {
			ds.Version = st.Version.Spec
		}
		res.Stacks = append(res.Stacks, ds)
	}
	for _, sv := range d.Report.Services {
		res.Services = append(res.Services, sv.Name)
	}
	if run, _, ok := d.Report.TestCommand(); ok {
		res.Test = run
	}
	if g := d.Generated; g != nil {
		res.Warnings = g.Warnings
		if p.Files {
			res.Files = g.Files
		}
	}
	return res, nil
}

func (s *Server) setConsent(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	var p protocol.SetConsentParams
	if err := decodeParams(req, &p, true); err != nil {
		return nil, err
	}
	if s.opts.Telemetry == nil {
		return protocol.SetConsentResult{Effective: false}, nil
	}
	if err := s.opts.Telemetry.SetIDEConsent(p.Enabled, p.IDETelemetryEnabled); err != nil {
		return nil, fmt.Errorf("cannot save the telemetry setting: %w", err)
	}
	return protocol.SetConsentResult{Effective: s.opts.Telemetry.Enabled()}, nil
}

func (s *Server) checkIDE(ide string) error {
	for _, known := range s.opts.Opener.IDEs() {
		if known == ide {
			return nil
		}
	}
	return fmt.Errorf("%w %q: use one of %s", ErrUnknownIDE, ide, strings.Join(s.opts.Opener.IDEs(), ", "))
}

// decodeParams decodes the request's params into v. Missing or null
// params are an error only if required. Unknown fields are ignored, so
// newer clients can talk to older servers.
func decodeParams(req *jsonrpc2.Request, v any, required bool) error {
	if req.Params == nil || string(*req.Params) == "null" {
		if required {
			return invalidParams(fmt.Sprintf("%s needs params", req.Method))
		}
		return nil
	}
	raw := bytes.TrimSpace(*req.Params)
	if len(raw) == 0 || raw[0] != '{' {
		return invalidParams(fmt.Sprintf("%s: params must be a JSON object", req.Method))
	}
	if err := json.Unmarshal(raw, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return invalidParams(fmt.Sprintf("%s: %q must be a %s, not %s", req.Method, te.Field, jsonKind(te.Type.Kind().String()), te.Value))
		}
		return invalidParams(fmt.Sprintf("%s: %v", req.Method, err))
	}
	return nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "list"
	case "struct", "map", "ptr":
		return "object"
	}
	return "number"
}

// decodeName decodes params that must name a workspace.
func decodeName(req *jsonrpc2.Request, v any, name *string) error {
	if err := decodeParams(req, v, true); err != nil {
		return err
	}
	if *name == "" {
		return invalidParams(fmt.Sprintf(`%s: "name" is required`, req.Method))
	}
	return nil
}

func invalidParams(msg string) error {
	return &jsonrpc2.Error{Code: protocol.CodeInvalidParams, Message: "invalid params: " + msg}
}

// workspaceError attaches the workspace name to an engine error, for the
// error's data member.
type workspaceError struct {
	name string
	err  error
}

func (e *workspaceError) Error() string { return e.err.Error() }
func (e *workspaceError) Unwrap() error { return e.err }

func withWorkspace(err error, name string) error {
	if name == "" {
		return err
	}
	return &workspaceError{name, err}
}

// codes maps the engine's sentinel errors to protocol codes.
var codes = []struct {
	err  error
	code int64
}{
	{workspace.ErrInvalidName, protocol.CodeInvalidName},
	{workspace.ErrNotFound, protocol.CodeNotFound},
	{workspace.ErrNameTaken, protocol.CodeNameTaken},
	{workspace.ErrBusy, protocol.CodeBusy},
	{workspace.ErrHookFailed, protocol.CodeHookFailed},
	{workspace.ErrEngineDown, protocol.CodeEngineDown},
	{workspace.ErrSourceInvalid, protocol.CodeSourceInvalid},
	{workspace.ErrTrustRequired, protocol.CodeTrustRequired},
	{workspace.ErrUnsavedWork, protocol.CodeUnsavedWork},
	{ErrUnknownIDE, protocol.CodeUnsupportedIDE},
}

// consent answers a request's trust flag: a client sets it once the user
// has seen the list of a CodeTrustRequired error and agreed. Without it
// the engine answers with that list.
func consent(trust bool) workspace.Consent {
	if trust {
		return workspace.TrustAll
	}
	return nil
}

// toRPCError turns an error of a handler into a JSON-RPC error with a
// stable code. Errors the engine does not classify are internal errors;
// their message is still the engine's, which says what to do.
func toRPCError(err error) *jsonrpc2.Error {
	var re *jsonrpc2.Error
	if errors.As(err, &re) {
		return re
	}
	e := &jsonrpc2.Error{Code: protocol.CodeInternalError, Message: err.Error()}
	switch {
	case errors.Is(err, context.Canceled):
		e.Code = protocol.CodeRequestCancelled
	default:
		for _, c := range codes {
			if errors.Is(err, c.err) {
				e.Code = c.code
				break
			}
		}
	}
	var data protocol.ErrorData
	var we *workspaceError
	if errors.As(err, &we) && e.Code != protocol.CodeInternalError {
		data.Workspace = we.name
	}
	var te *workspace.TrustError
	if errors.As(err, &te) {
		data.Trust = &protocol.TrustRequest{Source: te.Request.Source, ConfigPath: te.Request.ConfigPath, Items: []protocol.TrustItem{}}
		for _, it := range te.Request.Items {
			data.Trust.Items = append(data.Trust.Items, protocol.TrustItem{Kind: it.Kind, Detail: it.Detail, From: it.From})
		}
	}
	var uw *workspace.UnsavedWorkError
	if errors.As(err, &uw) {
		data.Unsaved = &protocol.UnsavedWork{Clone: uw.Clone, Summary: "work git cannot account for"}
		if uw.Work != nil {
			data.Unsaved.Changes = firstN(uw.Work.Changes, 20)
			data.Unsaved.Stashes = uw.Work.Stashes
			data.Unsaved.Unpushed = firstN(uw.Work.Unpushed, 20)
			data.Unsaved.Summary = uw.Work.Summary()
		}
	}
	if data != (protocol.ErrorData{}) {
		e.SetError(data)
	}
	return e
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func endMessage(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return "Cancelled"
	}
	return "Failed: " + err.Error()
}

// toWire converts an engine workspace to its wire form, with the actions
// its state allows for this bridge's client.
func (s *Server) toWire(ws *workspace.Workspace) protocol.Workspace {
	return toWire(ws, s.ops.running(ws.Name))
}

// toWire converts an engine workspace to its wire form; cancellable says
// whether this bridge runs an operation on it that the client can cancel.
func toWire(ws *workspace.Workspace, cancellable bool) protocol.Workspace {
	return protocol.Workspace{
		ID:          ws.ContainerID,
		Name:        ws.Name,
		State:       stateToWire(ws.State),
		Source:      protocol.Source{URL: ws.Source.URL, Ref: ws.Source.Ref, Local: ws.Source.Local},
		SSHHost:     ws.SSHHost,
		Folder:      ws.Folder,
		LocalFolder: ws.LocalFolder,
		Image:       ws.Image,
		ConfigKind:  string(ws.ConfigKind),
		ConfigPath:  ws.ConfigPath,
		CreatedAt:   ws.CreatedAt.UTC(),
		LastUsedAt:  ws.LastUsedAt.UTC(),
		Ports:       ws.Ports,
		LastError:   ws.LastError,
		Actions:     actionsToWire(workspace.Actions(ws.State, workspace.ActionOptions{Cancellable: cancellable})),
	}
}

// actionsToWire maps the engine's actions to the protocol's names one by
// one; an action the protocol does not name is left out.
func actionsToWire(as []workspace.Action) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		var w string
		switch a {
		case workspace.ActionOpen:
			w = protocol.ActionOpen
		case workspace.ActionStart:
			w = protocol.ActionStart
		case workspace.ActionStop:
			w = protocol.ActionStop
		case workspace.ActionRebuild:
			w = protocol.ActionRebuild
		case workspace.ActionDelete:
			w = protocol.ActionDelete
		case workspace.ActionLogs:
			w = protocol.ActionLogs
		case workspace.ActionPorts:
			w = protocol.ActionPorts
		case workspace.ActionCancel:
			w = protocol.ActionCancel
		default:
			continue
		}
		out = append(out, w)
	}
	return out
}

// stateToWire maps the engine's states to the protocol's, one by one, so a
// new engine state cannot reach clients unannounced.
func stateToWire(s workspace.State) protocol.State {
	switch s {
	case workspace.StateCreating:
		return protocol.StateCreating
	case workspace.StateRunning:
		return protocol.StateRunning
	case workspace.StateStopped:
		return protocol.StateStopped
	case workspace.StateDeleting:
		return protocol.StateDeleting
	case workspace.StateInterrupted:
		return protocol.StateInterrupted
	}
	return protocol.StateError
}
