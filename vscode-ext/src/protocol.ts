// The bridge's wire contract, as TypeScript types. protocol/protocol.go in the
// repository is the authority and protocol/PROTOCOL.md shows an example of
// every message; this file follows both field by field.

/** The highest protocol version this client speaks. */
export const protocolVersion = 1;

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
  setConsent: 'telemetry/setConsent',
  didChange: 'workspace/didChange',
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

export type State = 'creating' | 'running' | 'stopped' | 'error' | 'deleting';

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
}

export interface LogsResult {
  path: string;
  lines: string[];
  truncated?: boolean;
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
}
