// Package protocol is the wire contract between `pitlane bridge` and the IDE
// clients (the VS Code extension and the JetBrains plugin): method names, the
// params and result of every request, notifications, error codes and the
// protocol version. It holds types only; the server lives in package bridge.
//
// # Transport
//
// The bridge speaks JSON-RPC 2.0 on its standard input and output, framed as
// in the Language Server Protocol: every message is preceded by a
// "Content-Length: N\r\n" header (other headers such as Content-Type are
// accepted and ignored) and an empty "\r\n" line, then N bytes of UTF-8 JSON.
// Standard output carries nothing but frames; the bridge logs to standard
// error. Batches are not supported.
//
// # Life cycle
//
// The client spawns `pitlane bridge` and sends [MethodInitialize] first; any
// other request before it fails with [CodeServerNotInitialized]. The client
// ends the session with [MethodShutdown] followed by the [MethodExit]
// notification; the process then exits with status 0 (status 1 if exit came
// without shutdown). End of file on standard input also ends the bridge
// cleanly: work in flight is cancelled and cleaned up, exactly as if each
// request had been cancelled.
//
// # Concurrency and cancellation
//
// Requests run concurrently: workspace/list answers while a workspace/create
// is still running. Responses may therefore arrive in a different order than
// requests were sent; match them by id. Any request can be cancelled with the
// `$/cancelRequest` notification (params {"id": ID}); a cancelled request
// answers with [CodeRequestCancelled], and a cancelled create or rebuild
// removes what it had made so far.
//
// # Progress
//
// workspace/create, workspace/start and workspace/rebuild accept a
// "workDoneToken" (a string or an integer chosen by the client). When one is
// given, the server sends `$/progress` notifications for that token: one
// "begin" ([protocol.WorkDoneProgressBegin]), any number of "report"
// ([ProgressReport]: the current step in "message" and, for lines of build or
// hook output, the line in "output"), and one "end"
// ([protocol.WorkDoneProgressEnd]) before the response is sent.
//
// # Change notifications
//
// After initialize the server pushes [MethodDidChange] whenever a workspace
// changes, whoever changed it: the bridge follows the Docker engine's events,
// so a `pitlane stop` typed in a terminal reaches the IDE too. Clients keep
// their views current from these notifications instead of polling.
package protocol

import (
	"time"

	lsp "go.lsp.dev/protocol"
)

// Version is the protocol version this package describes. It grows by one
// for every change a client can observe (a new method, a new field that
// changes meaning); adding optional fields does not bump it.
const Version = 2

// MinVersion is the oldest protocol version the server still speaks.
const MinVersion = 1

// Requests, client to server.
const (
	// MethodInitialize must be the first request. Params: [InitializeParams];
	// result: [InitializeResult]. The server picks the protocol version
	// min(params.protocolVersion, [Version]); if that is below [MinVersion]
	// the request fails with [CodeUnsupportedVersion].
	MethodInitialize = "initialize"
	// MethodShutdown asks the server to stop accepting work. Params: none;
	// result: null. Requests after it fail with [CodeInvalidRequest].
	MethodShutdown = "shutdown"
	// MethodWorkspaceList lists the workspaces. Params: none or {};
	// result: [ListResult].
	MethodWorkspaceList = "workspace/list"
	// MethodWorkspaceCreate creates a workspace from a git URL or a local
	// folder and starts it. Params: [CreateParams]; result: [CreateResult].
	// Reports progress; cancellable (the partial workspace is removed).
	// A configuration that asks for host access fails with
	// [CodeTrustRequired] until the request carries "trust": true. Creating
	// an interrupted workspace again, with the same source, finishes it.
	MethodWorkspaceCreate = "workspace/create"
	// MethodWorkspaceStart starts a stopped workspace (a no-op for a
	// running one). Params: [StartParams]; result: [WorkspaceResult].
	MethodWorkspaceStart = "workspace/start"
	// MethodWorkspaceStop stops a workspace. Params: [NameParams];
	// result: [WorkspaceResult].
	MethodWorkspaceStop = "workspace/stop"
	// MethodWorkspaceDelete deletes a workspace and its data. Params:
	// [DeleteParams]; result: null. A clone with work found nowhere else
	// fails with [CodeUnsavedWork] unless params.discardChanges is set.
	MethodWorkspaceDelete = "workspace/delete"
	// MethodWorkspaceRebuild rebuilds a workspace's container from its
	// current configuration. Params: [RebuildParams]; result:
	// [WorkspaceResult]. Reports progress; cancellable.
	MethodWorkspaceRebuild = "workspace/rebuild"
	// MethodWorkspaceOpen tells the client how to open a workspace in an
	// IDE. Params: [OpenParams]; result: [OpenResult].
	MethodWorkspaceOpen = "workspace/open"
	// MethodWorkspaceLogs returns the end of a workspace's log (creation,
	// build and hook output). Params: [LogsParams]; result: [LogsResult].
	MethodWorkspaceLogs = "workspace/logs"
	// MethodWorkspaceConfigs lists the devcontainer.json files found in a
	// source, for a picker before create. Params: [ConfigsParams]; result:
	// [ConfigsResult].
	MethodWorkspaceConfigs = "workspace/configs"
	// MethodWorkspaceDetect says what workspace/create would use for a
	// source: its devcontainer.json, its Dockerfile, or a config Pitlane
	// generates from what the repository contains, for a message before
	// create. Params: [DetectParams]; result: [DetectResult].
	MethodWorkspaceDetect = "workspace/detect"
	// MethodWorkspacePorts lists a workspace's ports: those its
	// configuration names (forwardPorts, appPort) and those listening
	// inside its container, with the forward of each, if any. Params:
	// [NameParams]; result: [PortsResult]. Since version 2.
	MethodWorkspacePorts = "workspace/ports"
	// MethodWorkspaceForwardPort forwards a port of a running workspace
	// to 127.0.0.1 on this machine for as long as the bridge runs.
	// Params: [ForwardPortParams]; result: [ForwardPortResult]. Since
	// version 2.
	MethodWorkspaceForwardPort = "workspace/forwardPort"
	// MethodWorkspaceStopForwarding stops forwarding a port. Params:
	// [StopForwardingParams]; result: null. Since version 2.
	MethodWorkspaceStopForwarding = "workspace/stopForwarding"
	// MethodWorkspaceUnfollowLogs stops a follow that workspace/logs
	// started with "follow": true. Params: [UnfollowLogsParams]; result:
	// null. Since version 2.
	MethodWorkspaceUnfollowLogs = "workspace/unfollowLogs"
	// MethodTelemetrySetConsent passes the IDE's telemetry settings to the
	// server. Params: [SetConsentParams]; result: [SetConsentResult].
	MethodTelemetrySetConsent = "telemetry/setConsent"
)

// Notifications.
const (
	// MethodExit (client to server, no params) ends the server process.
	MethodExit = "exit"
	// MethodCancelRequest (client to server) cancels a request in flight.
	// Params: {"id": ID} (go.lsp.dev/protocol CancelParams).
	MethodCancelRequest = lsp.MethodCancelRequest
	// MethodDidChange (server to client) reports a changed, created or
	// removed workspace. Params: [DidChangeParams].
	MethodDidChange = "workspace/didChange"
	// MethodProgress (server to client) reports the progress of a request
	// that carried a workDoneToken. Params: go.lsp.dev/protocol
	// ProgressParams whose value is a WorkDoneProgressBegin, a
	// [ProgressReport] or a WorkDoneProgressEnd.
	MethodProgress = lsp.MethodProgress
	// MethodLogMessage (server to client) carries a log line the client may
	// show in an output panel. Params: go.lsp.dev/protocol LogMessageParams.
	MethodLogMessage = lsp.MethodWindowLogMessage
	// MethodShowMessage (server to client) carries a message the user
	// should see now, such as "the Docker engine is not reachable".
	// Params: go.lsp.dev/protocol ShowMessageParams.
	MethodShowMessage = lsp.MethodWindowShowMessage
	// MethodPortsChanged (server to client) carries a workspace's ports
	// after a forward started or stopped or the ports listening inside
	// changed. Params: [PortsChangedParams]. Since version 2.
	MethodPortsChanged = "workspace/portsChanged"
	// MethodLogAppended (server to client) carries lines appended to a
	// followed log. Params: [LogAppendedParams]. Since version 2.
	MethodLogAppended = "workspace/logAppended"
)

// Reused types from go.lsp.dev/protocol, named here so that clients find the
// whole contract in one package.
type (
	// ClientInfo names the client: name is "vscode" or "jetbrains" (other
	// names are accepted and reported to telemetry as "other").
	ClientInfo = lsp.ClientInfo
	// ServerInfo names the server ("pitlane") and its version.
	ServerInfo = lsp.ServerInfo
	// ProgressToken is a string or an integer chosen by the client.
	ProgressToken = lsp.ProgressToken
	// ProgressParams are the params of `$/progress`.
	ProgressParams = lsp.ProgressParams
	// WorkDoneProgressBegin opens a progress ("kind": "begin").
	WorkDoneProgressBegin = lsp.WorkDoneProgressBegin
	// WorkDoneProgressEnd closes a progress ("kind": "end").
	WorkDoneProgressEnd = lsp.WorkDoneProgressEnd
	// CancelParams are the params of `$/cancelRequest`.
	CancelParams = lsp.CancelParams
	// LogMessageParams are the params of window/logMessage.
	LogMessageParams = lsp.LogMessageParams
	// ShowMessageParams are the params of window/showMessage.
	ShowMessageParams = lsp.ShowMessageParams
	// MessageType is 1 (error), 2 (warning), 3 (info) or 4 (log).
	MessageType = lsp.MessageType
)

// ProgressReport is the "report" value of `$/progress`: the LSP
// WorkDoneProgressReport ("kind": "report", "message" = the current step)
// plus one line of build or hook output in "output", when the report
// carries one. Clients that only know LSP progress show "message"; richer
// clients append "output" to an output panel.
type ProgressReport struct {
	lsp.WorkDoneProgressReport
	// Output is one line of output of the current step, without newline.
	Output string `json:"output,omitempty"`
	// Prebuilt is set, once, when a create or rebuild found its image in
	// Pitlane's image cache (prebuilt, or built before) instead of
	// building it; "message" then says so too.
	Prebuilt *PrebuiltImage `json:"prebuilt,omitempty"`
}

// PrebuiltImage is an image a create or rebuild takes from Pitlane's image
// cache, found by the content key of the workspace's configuration.
type PrebuiltImage struct {
	// Key is the content key (64 hex digits; messages show the first 12).
	Key string `json:"key"`
	// Image is the local reference of the image.
	Image string    `json:"image"`
	Built time.Time `json:"built"`
	// Baked are the setup phases run into the image, which the create
	// does not run again.
	Baked []string `json:"baked,omitempty"`
	// PulledFrom is the registry repository it was pulled from; absent
	// when it was on the engine already.
	PulledFrom string `json:"pulledFrom,omitempty"`
}

// InitializeParams are the params of initialize.
type InitializeParams struct {
	// ProtocolVersion is the highest protocol version the client speaks.
	ProtocolVersion int `json:"protocolVersion"`
	// ClientInfo names the client; its name ("vscode", "jetbrains") is the
	// telemetry client attribute.
	ClientInfo ClientInfo `json:"clientInfo"`
}

// InitializeResult is the result of initialize.
type InitializeResult struct {
	// ProtocolVersion is the version both sides use from now on.
	ProtocolVersion int `json:"protocolVersion"`
	// ServerInfo names the server and its version.
	ServerInfo ServerInfo `json:"serverInfo"`
	// IDEs lists the values workspace/open and workspace/create accept in
	// "ide", for a picker.
	IDEs []string `json:"ides"`
}

// State is a workspace's life-cycle state.
type State string

// Workspace states.
const (
	StateCreating State = "creating"
	StateRunning  State = "running"
	StateStopped  State = "stopped"
	StateError    State = "error"
	StateDeleting State = "deleting"
	// StateInterrupted: a create or rebuild stopped before its setup
	// finished (the process was killed); workspace/start or
	// workspace/create of the same name and source finishes it.
	StateInterrupted State = "interrupted"
)

// Source says where a workspace's files come from.
type Source struct {
	// URL is the git URL, or the absolute path of a local folder.
	URL string `json:"url"`
	// Ref is the checked-out branch; empty for the default branch or a
	// local folder.
	Ref string `json:"ref,omitempty"`
	// Local is true when URL is a local folder mounted in place.
	Local bool `json:"local,omitempty"`
}

// Workspace is a workspace as the client sees it. Clients key workspaces by
// Name, which is unique.
type Workspace struct {
	// ID is the workspace's container id; empty while the container does
	// not exist yet, and new after a rebuild.
	ID string `json:"id"`
	// Name is the workspace name, a DNS label.
	Name   string `json:"name"`
	State  State  `json:"state"`
	Source Source `json:"source"`
	// SSHHost is the host name to connect to over SSH (NAME.pitlane).
	SSHHost string `json:"sshHost"`
	// Folder is the workspace folder inside the container.
	Folder string `json:"folder"`
	// LocalFolder is the folder on this machine mounted into the container.
	LocalFolder string `json:"localFolder,omitempty"`
	// Image is the image the container runs.
	Image string `json:"image"`
	// ConfigKind is "devcontainer", "dockerfile", "detected" (a config
	// generated from the repository's files) or "default".
	ConfigKind string `json:"configKind,omitempty"`
	// ConfigPath is the devcontainer.json used, relative to the source.
	ConfigPath string    `json:"configPath,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
	// LastUsedAt is when an IDE or shell last opened it; absent if never.
	LastUsedAt time.Time `json:"lastUsedAt,omitzero"`
	// Ports are the container ports the configuration forwards.
	Ports []int `json:"ports,omitempty"`
	// LastError is why the workspace is in state "error".
	LastError string `json:"lastError,omitempty"`
	// Actions are what the workspace's state allows now, in this order
	// when present: "open", "start", "stop", "rebuild", "delete", "logs",
	// "ports", "cancel" (named like the methods without "workspace/";
	// "cancel" means the request this bridge runs for it can be
	// cancelled with $/cancelRequest). Never null. Clients build their
	// menus from it. Since version 2.
	Actions []string `json:"actions"`
}

// Actions a workspace record may list, in their order.
const (
	ActionOpen    = "open"
	ActionStart   = "start"
	ActionStop    = "stop"
	ActionRebuild = "rebuild"
	ActionDelete  = "delete"
	ActionLogs    = "logs"
	ActionPorts   = "ports"
	ActionCancel  = "cancel"
)

// ListResult is the result of workspace/list.
type ListResult struct {
	// Workspaces are sorted by name; never null.
	Workspaces []Workspace `json:"workspaces"`
}

// CreateParams are the params of workspace/create.
type CreateParams struct {
	// WorkDoneToken, if set, receives `$/progress` notifications.
	WorkDoneToken *ProgressToken `json:"workDoneToken,omitempty"`
	// Source is a git URL (https, ssh, scp-like, file://) or a local folder.
	Source string `json:"source"`
	// Branch to check out; default: the remote's default branch.
	Branch string `json:"branch,omitempty"`
	// Name of the workspace; default: derived from the source.
	Name string `json:"name,omitempty"`
	// ConfigPath picks a devcontainer.json (one of workspace/configs).
	ConfigPath string `json:"configPath,omitempty"`
	// IDE, if set, makes the result carry how to open the new workspace in
	// that IDE (as workspace/open would).
	IDE string `json:"ide,omitempty"`
	// Trust says the user has seen and accepted what the configuration
	// asks of the host (the items of a [CodeTrustRequired] error).
	Trust bool `json:"trust,omitempty"`
	// Dotfiles, if set, names the dotfiles to install (the IDE's setting);
	// absent means the user's default (`pitlane settings dotfiles`), and
	// an empty repository means none.
	Dotfiles *Dotfiles `json:"dotfiles,omitempty"`
}

// Dotfiles name a dotfiles repository and its install script.
type Dotfiles struct {
	// Repository is a git URL, a local repository or GitHub's OWNER/REPO.
	Repository string `json:"repository"`
	// Script is the install script in it; empty means the first of
	// install.sh, bootstrap.sh, setup.sh, ... or else linking the dotfiles.
	Script string `json:"script,omitempty"`
}

// CreateResult is the result of workspace/create.
type CreateResult struct {
	Workspace Workspace `json:"workspace"`
	// Open is set when params.ide was given.
	Open *OpenResult `json:"open,omitempty"`
}

// NameParams name one workspace (workspace/stop).
type NameParams struct {
	Name string `json:"name"`
}

// DeleteParams are the params of workspace/delete.
type DeleteParams struct {
	Name string `json:"name"`
	// DiscardChanges deletes a clone that holds work found nowhere else
	// (the items of a [CodeUnsavedWork] error). Without it such a delete
	// fails with that error and changes nothing.
	DiscardChanges bool `json:"discardChanges,omitempty"`
}

// StartParams are the params of workspace/start.
type StartParams struct {
	WorkDoneToken *ProgressToken `json:"workDoneToken,omitempty"`
	Name          string         `json:"name"`
	// Trust: as in [CreateParams].
	Trust bool `json:"trust,omitempty"`
}

// RebuildParams are the params of workspace/rebuild.
type RebuildParams struct {
	WorkDoneToken *ProgressToken `json:"workDoneToken,omitempty"`
	Name          string         `json:"name"`
	// Trust: as in [CreateParams].
	Trust bool `json:"trust,omitempty"`
}

// WorkspaceResult is the result of workspace/start, workspace/stop and
// workspace/rebuild: the workspace after the operation.
type WorkspaceResult struct {
	Workspace Workspace `json:"workspace"`
}

// OpenParams are the params of workspace/open.
type OpenParams struct {
	Name string `json:"name"`
	// IDE is one of InitializeResult.IDEs; default "vscode".
	IDE string `json:"ide,omitempty"`
}

// OpenResult says how to open a workspace in an IDE. The client uses URI
// when it is set (VS Code: vscode.openFolder or `code --folder-uri`; a
// JetBrains Gateway URL), otherwise runs Command.
type OpenResult struct {
	IDE string `json:"ide"`
	// URI is a vscode-remote://ssh-remote+HOST/FOLDER URI, a
	// jetbrains-gateway:// URL or another URL the IDE handles.
	URI string `json:"uri,omitempty"`
	// Command is a command line that opens the workspace (argv).
	Command []string `json:"command,omitempty"`
	// SSHHost and Folder are what the IDE connects to.
	SSHHost string `json:"sshHost"`
	Folder  string `json:"folder"`
}

// LogsParams are the params of workspace/logs.
type LogsParams struct {
	Name string `json:"name"`
	// Tail is how many lines from the end to return; 0 means 1000.
	Tail int `json:"tail,omitempty"`
	// Follow keeps sending the lines appended after these, as
	// workspace/logAppended notifications, until workspace/unfollowLogs
	// or the end of the bridge. Since version 2.
	Follow bool `json:"follow,omitempty"`
}

// LogsResult is the result of workspace/logs.
type LogsResult struct {
	// Path is the log file on this machine.
	Path string `json:"path"`
	// Lines are the last lines of the log, oldest first; never null.
	Lines []string `json:"lines"`
	// Truncated is true when older lines were left out.
	Truncated bool `json:"truncated,omitempty"`
	// FollowID names the follow when params.follow was set; the
	// workspace/logAppended notifications carry it.
	FollowID string `json:"followId,omitempty"`
}

// LogAppendedParams are the params of workspace/logAppended: one batch of
// lines appended to a followed log.
type LogAppendedParams struct {
	FollowID string `json:"followId"`
	// Name is the workspace whose log it is.
	Name string `json:"name"`
	// Lines are the new complete lines, oldest first, without newlines.
	Lines []string `json:"lines"`
}

// UnfollowLogsParams are the params of workspace/unfollowLogs.
type UnfollowLogsParams struct {
	FollowID string `json:"followId"`
}

// PortSource says why a port is listed.
type PortSource string

// Port sources.
const (
	// PortForwardPorts: the configuration's forwardPorts names it.
	PortForwardPorts PortSource = "forwardPorts"
	// PortAppPort: the configuration's appPort names it.
	PortAppPort PortSource = "appPort"
	// PortDetected: a process listens on it inside the container.
	PortDetected PortSource = "detected"
)

// Port is one port of a workspace.
type Port struct {
	// Port is the port number inside the container.
	Port int `json:"port"`
	// Label is the configuration's portsAttributes label, if any.
	Label string `json:"label,omitempty"`
	// Source says why the port is listed; a configured port that is also
	// listening keeps its configuration source.
	Source PortSource `json:"source"`
	// Protocol is "tcp".
	Protocol string `json:"protocol"`
	// Forwarded is set while this bridge forwards the port.
	Forwarded *Forwarded `json:"forwarded,omitempty"`
}

// Forwarded is where a forwarded port is reached on this machine.
type Forwarded struct {
	// LocalPort is the port on 127.0.0.1.
	LocalPort int `json:"localPort"`
	// URL is http://127.0.0.1:LOCALPORT/, for "Open in Browser".
	URL string `json:"url"`
}

// PortsParams are the params of workspace/ports.
type PortsParams struct {
	Name string `json:"name"`
}

// PortsResult is the result of workspace/ports.
type PortsResult struct {
	// Ports are sorted by port number; never null.
	Ports []Port `json:"ports"`
}

// ForwardPortParams are the params of workspace/forwardPort.
type ForwardPortParams struct {
	Name string `json:"name"`
	// Port is the port inside the container.
	Port int `json:"port"`
	// LocalPort is the port to listen on at 127.0.0.1; 0 means the same
	// number as Port when it is free, else any free port.
	LocalPort int `json:"localPort,omitempty"`
}

// ForwardPortResult is the result of workspace/forwardPort: the port with
// Forwarded set.
type ForwardPortResult struct {
	Port
	// Message says what differs from what was asked ("local port 3000 is
	// busy; forwarded to 3001"); absent when nothing does.
	Message string `json:"message,omitempty"`
}

// StopForwardingParams are the params of workspace/stopForwarding.
type StopForwardingParams struct {
	Name string `json:"name"`
	Port int    `json:"port"`
}

// PortsChangedParams are the params of workspace/portsChanged.
type PortsChangedParams struct {
	Name string `json:"name"`
	// Ports are all of the workspace's ports, as workspace/ports returns
	// them; never null.
	Ports []Port `json:"ports"`
}

// ConfigsParams are the params of workspace/configs.
type ConfigsParams struct {
	// Source is a git URL or a local folder, as for workspace/create.
	Source string `json:"source"`
}

// ConfigsResult is the result of workspace/configs.
type ConfigsResult struct {
	// Configs are devcontainer.json paths relative to the source root;
	// never null, empty when the source has none.
	Configs []string `json:"configs"`
}

// DetectParams are the params of workspace/detect.
type DetectParams struct {
	// Source is a git URL or a local folder, as for workspace/create.
	Source string `json:"source"`
	// Files asks for the generated files (devcontainer.json, Dockerfile) in
	// the result, as `pitlane config SOURCE --generate` prints them.
	Files bool `json:"files,omitempty"`
}

// DetectResult is the result of workspace/detect.
type DetectResult struct {
	// Kind is what create would use: "devcontainer", "dockerfile",
	// "detected" or "default".
	Kind string `json:"kind"`
	// ConfigPath is the source's devcontainer.json (kind "devcontainer").
	ConfigPath string `json:"configPath,omitempty"`
	// Summary names the detected setup ("Go 1.24 + PostgreSQL"); set with
	// kind "detected".
	Summary string `json:"summary,omitempty"`
	// Message is one sentence to show before create ("no
	// devcontainer.json: Pitlane will use a detected Go 1.24 + PostgreSQL
	// setup").
	Message string `json:"message"`
	// Stacks are the languages found, whatever the kind; never null.
	Stacks []DetectedStack `json:"stacks"`
	// Services are the services the repository expects (postgres, redis,
	// ...).
	Services []string `json:"services,omitempty"`
	// Test is the test command found, if any.
	Test string `json:"test,omitempty"`
	// Warnings are versions the repository asks for that cannot be
	// installed, and what is installed instead (kind "detected").
	Warnings []string `json:"warnings,omitempty"`
	// Files are the generated files by name, when params.files was set.
	Files map[string]string `json:"files,omitempty"`
}

// DetectedStack is one language project found in a source.
type DetectedStack struct {
	// Language is go, node, python, rust, java or ruby.
	Language string `json:"language"`
	// Dir is the project's folder relative to the source ("." for the root).
	Dir string `json:"dir"`
	// Version is the version the project asks for, as written.
	Version string `json:"version,omitempty"`
	// File is the file that shows the project (go.mod, package.json, ...).
	File string `json:"file"`
}

// SetConsentParams are the params of telemetry/setConsent. Telemetry is
// sent only when both are true.
type SetConsentParams struct {
	// Enabled is the IDE's own Pitlane telemetry setting.
	Enabled bool `json:"enabled"`
	// IDETelemetryEnabled is the IDE's global telemetry switch.
	IDETelemetryEnabled bool `json:"ideTelemetryEnabled"`
}

// SetConsentResult is the result of telemetry/setConsent.
type SetConsentResult struct {
	// Effective says whether telemetry is now on.
	Effective bool `json:"effective"`
}

// ChangeKind says what happened in a workspace/didChange.
type ChangeKind string

// Change kinds.
const (
	ChangeCreated      ChangeKind = "created"
	ChangeCreateFailed ChangeKind = "createFailed"
	ChangeStarted      ChangeKind = "started"
	ChangeStopped      ChangeKind = "stopped"
	ChangeDeleted      ChangeKind = "deleted"
	ChangeChanged      ChangeKind = "changed"
)

// DidChangeParams are the params of workspace/didChange.
type DidChangeParams struct {
	Name string     `json:"name"`
	Kind ChangeKind `json:"kind"`
	// Removed is true when the workspace no longer exists; Workspace is
	// then absent.
	Removed bool `json:"removed,omitempty"`
	// Workspace is the workspace after the change.
	Workspace *Workspace `json:"workspace,omitempty"`
}

// Error codes. The JSON-RPC 2.0 codes are used for protocol errors;
// codes from 1000 up are Pitlane's and stable: clients branch on them.
// Every error's message is a sentence a user can act on.
const (
	CodeParseError     = -32700 // the frame's body is not JSON (id null)
	CodeInvalidRequest = -32600 // not a request object, or a request after shutdown
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602 // params do not decode into the method's type
	CodeInternalError  = -32603 // an unexpected failure; the message says what

	// CodeServerNotInitialized: a request came before initialize.
	CodeServerNotInitialized = -32002
	// CodeRequestCancelled: the request was cancelled with $/cancelRequest.
	CodeRequestCancelled = -32800

	CodeInvalidName        = 1001 // the workspace name is not a DNS label
	CodeNotFound           = 1002 // no workspace with that name
	CodeNameTaken          = 1003 // a workspace with that name exists
	CodeBusy               = 1004 // another process is working on it
	CodeHookFailed         = 1005 // a lifecycle hook failed; see workspace/logs
	CodeEngineDown         = 1006 // the Docker engine is not reachable
	CodeSourceInvalid      = 1007 // the source cannot be cloned or read
	CodeUnsupportedIDE     = 1008 // workspace/open does not know that IDE
	CodeUnsupportedVersion = 1009 // no common protocol version
	CodeTrustRequired      = 1010 // the config asks for host access; data.trust lists it
	CodeUnsavedWork        = 1011 // delete would lose work; data.unsaved lists it
)

// ErrorData is the "data" member of errors with a Pitlane code.
type ErrorData struct {
	// Workspace is the workspace the error is about, if any.
	Workspace string `json:"workspace,omitempty"`
	// Trust is set with [CodeTrustRequired].
	Trust *TrustRequest `json:"trust,omitempty"`
	// Unsaved is set with [CodeUnsavedWork].
	Unsaved *UnsavedWork `json:"unsaved,omitempty"`
}

// TrustRequest lists what a workspace's configuration would do on the host
// or with host-level access. The client shows it and, if the user agrees,
// sends the same request again with "trust": true. Trust is remembered for
// this source and configuration; a changed configuration asks again.
type TrustRequest struct {
	// Source is the workspace's source (credentials in URLs redacted).
	Source string `json:"source"`
	// ConfigPath is the devcontainer.json asking, relative to the source.
	ConfigPath string `json:"configPath,omitempty"`
	// Items are the requests, in the order they would take effect.
	Items []TrustItem `json:"items"`
}

// TrustItem is one thing a configuration asks that needs trust.
type TrustItem struct {
	// Kind is one of "initializeCommand", "privileged", "capability",
	// "device", "hostNetwork", "hostNamespace", "securityOpt",
	// "bindMount", "buildContext".
	Kind string `json:"kind"`
	// Detail is the command, capability, device, path or option asked for.
	Detail string `json:"detail"`
	// From says who asks: "devcontainer.json", "image metadata", or a
	// feature id.
	From string `json:"from,omitempty"`
}

// UnsavedWork is the work a delete would lose: found in a workspace's
// clone and nowhere else.
type UnsavedWork struct {
	// Clone is the folder of the clone on this machine.
	Clone string `json:"clone"`
	// Changes are uncommitted changes, one `git status --short` line each
	// (at most 20).
	Changes []string `json:"changes,omitempty"`
	// Stashes is the number of stash entries.
	Stashes int `json:"stashes,omitempty"`
	// Unpushed are commits on no remote, one `git log --oneline` line each
	// (at most 20).
	Unpushed []string `json:"unpushed,omitempty"`
	// Summary is one sentence for a dialog ("3 uncommitted changes and 2
	// commits on no remote").
	Summary string `json:"summary"`
}
