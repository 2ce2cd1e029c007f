// The bridge's wire contract, as TypeScript types. protocol/protocol.go in the
// repository is the authority and protocol/PROTOCOL.md shows an example of
// every message; this file follows both field by field.

/** The highest protocol version this client speaks. */
export const protocolVersion = 2;

export const Method = {
  initialize: 'initialize',
  shutdown: 'shutdown',
  exit: 'exit',
  list: 'workspace/list',
  create: 'workspace/create',
  start: 'workspace/start',
  stop: 'workspace/stop',
  delete: 'workspace/delete',
  rebuild: 'workspace/rebuild',
  open: 'workspace/open',
  logs: 'workspace/logs',
  configs: 'workspace/configs',
  detect: 'workspace/detect',
  ports: 'workspace/ports',
  forwardPort: 'workspace/forwardPort',
  stopForwarding: 'workspace/stopForwarding',
  unfollowLogs: 'workspace/unfollowLogs',
  providers: 'provider/list',
  setConsent: 'telemetry/setConsent',
  didChange: 'workspace/didChange',
  portsChanged: 'workspace/portsChanged',
  logAppended: 'workspace/logAppended',
  progress: '$/progress',
  logMessage: 'window/logMessage',
  showMessage: 'window/showMessage',
} as const;

/** Stable error codes; clients branch on them. */
export const ErrorCode = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  serverNotInitialized: -32002,
  requestCancelled: -32800,
  invalidName: 1001,
  notFound: 1002,
  nameTaken: 1003,
  busy: 1004,
  hookFailed: 1005,
  engineDown: 1006,
  sourceInvalid: 1007,
  unsupportedIDE: 1008,
  unsupportedVersion: 1009,
  trustRequired: 1010,
  unsavedWork: 1011,
} as const;

export type ProgressToken = string | number;

export interface ClientInfo {
  name: string;
  version?: string;
}

export interface InitializeParams {
  protocolVersion: number;
  clientInfo: ClientInfo;
}

export interface InitializeResult {
  protocolVersion: number;
  serverInfo: { name: string; version?: string };
  ides: string[];
}

export type State = 'creating' | 'running' | 'stopped' | 'error' | 'deleting' | 'interrupted';

/**
 * What a workspace's current state allows, decided by the bridge. Clients
 * build their menus from these and from nothing else.
 */
export type Action = 'open' | 'start' | 'stop' | 'rebuild' | 'delete' | 'logs' | 'ports' | 'cancel';

export interface Source {
  url: string;
  ref?: string;
  local?: boolean;
}

export interface Workspace {
  id: string;
  name: string;
  state: State;
  source: Source;
  sshHost: string;
  folder: string;
  localFolder?: string;
  image: string;
  configKind?: string;
  configPath?: string;
  createdAt: string;
  lastUsedAt?: string;
  ports?: number[];
  lastError?: string;
  /** Protocol 2: what this state allows; absent from a version 1 bridge. */
  actions?: Action[];
  /** The provider the workspace runs on; absent or empty: the local Docker engine. */
  provider?: string;
}

export interface ListResult {
  workspaces: Workspace[];
}

export interface CreateParams {
  workDoneToken?: ProgressToken;
  source: string;
  branch?: string;
  name?: string;
  configPath?: string;
  ide?: string;
  dotfiles?: Dotfiles;
  /** The user accepted what the configuration asks of this machine (error 1010). */
  trust?: boolean;
  /** The provider to create on; absent: the default one. */
  provider?: string;
}

/** The dotfiles to install; absent means the user's saved default. */
export interface Dotfiles {
  repository: string;
  script?: string;
}

export interface OpenResult {
  ide: string;
  uri?: string;
  command?: string[];
  sshHost: string;
  folder: string;
}

export interface CreateResult {
  workspace: Workspace;
  open?: OpenResult;
}

export interface NameParams {
  name: string;
}

export interface StartParams {
  workDoneToken?: ProgressToken;
  name: string;
  trust?: boolean;
}

export interface DeleteParams {
  name: string;
  /** Delete a clone holding work found nowhere else (error 1011). */
  discardChanges?: boolean;
}

export type RebuildParams = StartParams;

export interface WorkspaceResult {
  workspace: Workspace;
}

export interface OpenParams {
  name: string;
  ide?: string;
}

export interface LogsParams {
  name: string;
  tail?: number;
  /** Keep sending new lines as workspace/logAppended until workspace/unfollowLogs. */
  follow?: boolean;
}

export interface LogsResult {
  path: string;
  lines: string[];
  truncated?: boolean;
  /** Set when following: the id of workspace/logAppended and workspace/unfollowLogs. */
  followId?: string;
}

export interface LogAppendedParams {
  followId: string;
  name: string;
  lines: string[];
}

export interface UnfollowLogsParams {
  followId: string;
}

/** A port of a workspace: from its configuration or found listening inside. */
export interface Port {
  port: number;
  label?: string;
  /** 'forwardPorts', 'appPort' or 'detected'. */
  source: string;
  protocol?: string;
  /** Set while the bridge forwards the port to this machine. */
  forwarded?: { localPort: number; url: string };
}

export interface PortsResult {
  ports: Port[];
}

export interface ForwardPortParams {
  name: string;
  port: number;
  /** 0: the same number when free, else another free one. */
  localPort: number;
}

/** workspace/forwardPort's answer: the port, forwarded, and why the local port differs. */
export interface ForwardPortResult extends Port {
  message?: string;
}

export interface StopForwardingParams {
  name: string;
  port: number;
}

export interface PortsChangedParams {
  name: string;
  ports: Port[];
}

export interface Provider {
  name: string;
  kind: string;
  default?: boolean;
  description?: string;
}

export interface ProvidersResult {
  providers: Provider[];
}

export interface ConfigsParams {
  source: string;
}

export interface ConfigsResult {
  configs: string[];
}

export interface DetectParams {
  source: string;
  files?: boolean;
}

/** What create would use for a source: its own config, or a setup Pitlane detects. */
export interface DetectResult {
  /** 'devcontainer', 'dockerfile', 'detected' or 'default'. */
  kind: string;
  configPath?: string;
  /** The detected setup ("Go 1.24 + PostgreSQL"), for kind 'detected'. */
  summary?: string;
  /** One sentence to show before create. */
  message: string;
  stacks: DetectedStack[];
  services?: string[];
  test?: string;
  warnings?: string[];
  files?: Record<string, string>;
}

export interface DetectedStack {
  language: string;
  dir: string;
  version?: string;
  file: string;
}

export interface SetConsentParams {
  enabled: boolean;
  ideTelemetryEnabled: boolean;
}

export interface SetConsentResult {
  effective: boolean;
}

export type ChangeKind = 'created' | 'createFailed' | 'started' | 'stopped' | 'deleted' | 'changed';

export interface DidChangeParams {
  name: string;
  kind: ChangeKind;
  removed?: boolean;
  workspace?: Workspace;
}

export interface ProgressBegin {
  kind: 'begin';
  title: string;
  cancellable?: boolean;
  message?: string;
  percentage?: number;
}

export interface ProgressReport {
  kind: 'report';
  message?: string;
  output?: string;
  cancellable?: boolean;
  percentage?: number;
  /** Set once when the image comes from Pitlane's image cache. */
  prebuilt?: PrebuiltImage;
}

/** An image a create or rebuild takes from Pitlane's cache instead of building. */
export interface PrebuiltImage {
  key: string;
  image: string;
  built: string;
  baked?: string[];
  pulledFrom?: string;
}

export interface ProgressEnd {
  kind: 'end';
  message?: string;
}

export type ProgressValue = ProgressBegin | ProgressReport | ProgressEnd;

export interface ProgressParams {
  token: ProgressToken;
  value: ProgressValue;
}

/** window/logMessage and window/showMessage: type 1 error, 2 warning, 3 info, 4 log. */
export interface MessageParams {
  type: 1 | 2 | 3 | 4;
  message: string;
}

export interface ErrorData {
  workspace?: string;
  /** With error 1010. */
  trust?: TrustRequest;
  /** With error 1011. */
  unsaved?: UnsavedWork;
}

/** What a configuration would do on this machine, or with host-level access. */
export interface TrustRequest {
  source: string;
  configPath?: string;
  items: TrustItem[];
}

export interface TrustItem {
  /** initializeCommand, privileged, capability, device, hostNetwork, hostNamespace, securityOpt, bindMount, buildContext. */
  kind: string;
  detail: string;
  from?: string;
}

/** Work a delete would lose: in the workspace's clone and nowhere else. */
export interface UnsavedWork {
  clone: string;
  changes?: string[];
  stashes?: number;
  unpushed?: string[];
  summary: string;
}
