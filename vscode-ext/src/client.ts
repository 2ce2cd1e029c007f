// A typed client for `pitlane bridge`. It knows nothing about VS Code, so the
// tests run it in plain Node against the real bridge.

import {
  CancellationToken,
  CancellationTokenSource,
  Disposable,
  Emitter,
  Event,
  MessageConnection,
  ProgressType,
  ResponseError,
} from 'vscode-jsonrpc';
import {
  ClientInfo,
  ConfigsResult,
  DetectResult,
  CreateParams,
  CreateResult,
  DidChangeParams,
  ErrorCode,
  ErrorData,
  ForwardPortResult,
  InitializeResult,
  ListResult,
  LogAppendedParams,
  LogsResult,
  MessageParams,
  Method,
  OpenResult,
  Port,
  PortsChangedParams,
  PortsResult,
  ProgressValue,
  Provider,
  ProvidersResult,
  SetConsentResult,
  Workspace,
  WorkspaceResult,
  protocolVersion,
} from './protocol';

/** Options of the requests that report progress and can be cancelled. */
export interface ProgressOptions {
  /** Called with every `$/progress` value of this request, begin to end. */
  onProgress?: (value: ProgressValue) => void;
  /** Cancelling it sends `$/cancelRequest`; the request then fails with code -32800. */
  token?: CancellationToken;
  /** The user accepted what the configuration asks of this machine (after error 1010). */
  trust?: boolean;
}

const progressType = new ProgressType<ProgressValue>();
let nextToken = 1;

/** PitlaneClient speaks the bridge protocol over an open connection. */
export class PitlaneClient implements Disposable {
  private readonly didChange = new Emitter<DidChangeParams>();
  private readonly message = new Emitter<MessageParams & { show: boolean }>();
  private readonly portsChanged = new Emitter<PortsChangedParams>();
  private readonly logAppended = new Emitter<LogAppendedParams>();
  private readonly subscriptions: Disposable[] = [];
  private readonly tokenPrefix = `p${process.pid}-`;

  /** Fires for every `workspace/didChange` the bridge pushes. */
  readonly onDidChange: Event<DidChangeParams> = this.didChange.event;
  /** Fires for `window/logMessage` (show false) and `window/showMessage` (show true). */
  readonly onMessage: Event<MessageParams & { show: boolean }> = this.message.event;
  /** Fires for every `workspace/portsChanged`. */
  readonly onPortsChanged: Event<PortsChangedParams> = this.portsChanged.event;
  /** Fires for every `workspace/logAppended` of a log this client follows. */
  readonly onLogAppended: Event<LogAppendedParams> = this.logAppended.event;

  constructor(readonly connection: MessageConnection) {
    this.subscriptions.push(
      connection.onNotification(Method.didChange, (p: DidChangeParams) => this.didChange.fire(p)),
      connection.onNotification(Method.logMessage, (p: MessageParams) => this.message.fire({ ...p, show: false })),
      connection.onNotification(Method.showMessage, (p: MessageParams) => this.message.fire({ ...p, show: true })),
      connection.onNotification(Method.portsChanged, (p: PortsChangedParams) =>
        this.portsChanged.fire({ ...p, ports: p.ports ?? [] }),
      ),
      connection.onNotification(Method.logAppended, (p: LogAppendedParams) =>
        this.logAppended.fire({ ...p, lines: p.lines ?? [] }),
      ),
      // A closed stream answers nothing more: fail what is still waiting.
      connection.onClose(() => connection.dispose()),
    );
  }

  initialize(clientInfo: ClientInfo): Promise<InitializeResult> {
    return this.connection.sendRequest(Method.initialize, { protocolVersion, clientInfo });
  }

  async list(token?: CancellationToken): Promise<Workspace[]> {
    const r: ListResult = await this.connection.sendRequest(Method.list, {}, token ?? CancellationToken.None);
    return r.workspaces ?? [];
  }

  create(params: Omit<CreateParams, 'workDoneToken'>, opts: ProgressOptions = {}): Promise<CreateResult> {
    return this.withProgress(Method.create, opts.trust ? { ...params, trust: true } : params, opts);
  }

  async start(name: string, opts: ProgressOptions = {}): Promise<Workspace> {
    const r: WorkspaceResult = await this.withProgress(Method.start, opts.trust ? { name, trust: true } : { name }, opts);
    return r.workspace;
  }

  async rebuild(name: string, opts: ProgressOptions = {}): Promise<Workspace> {
    const r: WorkspaceResult = await this.withProgress(Method.rebuild, opts.trust ? { name, trust: true } : { name }, opts);
    return r.workspace;
  }

  async stop(name: string): Promise<Workspace> {
    const r: WorkspaceResult = await this.connection.sendRequest(Method.stop, { name });
    return r.workspace;
  }

  /** Deletes a workspace; discardChanges also deletes a clone holding unsaved work (error 1011 without it). */
  async delete(name: string, discardChanges = false): Promise<void> {
    await this.connection.sendRequest(Method.delete, discardChanges ? { name, discardChanges: true } : { name });
  }

  open(name: string, ide?: string): Promise<OpenResult> {
    return this.connection.sendRequest(Method.open, ide ? { name, ide } : { name });
  }

  logs(name: string, tail?: number): Promise<LogsResult> {
    return this.connection.sendRequest(Method.logs, tail ? { name, tail } : { name });
  }

  /**
   * Returns the log's last lines and keeps sending new ones to onLogAppended
   * with the returned followId, until unfollowLogs.
   */
  followLogs(name: string, tail?: number): Promise<LogsResult> {
    return this.connection.sendRequest(Method.logs, tail ? { name, tail, follow: true } : { name, follow: true });
  }

  async unfollowLogs(followId: string): Promise<void> {
    await this.connection.sendRequest(Method.unfollowLogs, { followId });
  }

  async ports(name: string, token?: CancellationToken): Promise<Port[]> {
    const r: PortsResult = await this.connection.sendRequest(Method.ports, { name }, token ?? CancellationToken.None);
    return r.ports ?? [];
  }

  /** Forwards a workspace port to 127.0.0.1:localPort (0: the same number if free, else any). */
  forwardPort(name: string, port: number, localPort = 0): Promise<ForwardPortResult> {
    return this.connection.sendRequest(Method.forwardPort, { name, port, localPort });
  }

  async stopForwarding(name: string, port: number): Promise<void> {
    await this.connection.sendRequest(Method.stopForwarding, { name, port });
  }

  /**
   * The providers workspaces can be created on. A bridge that has no
   * providers (method not found) answers an empty list.
   */
  async providers(): Promise<Provider[]> {
    try {
      const r: ProvidersResult = await this.connection.sendRequest(Method.providers, {});
      return r.providers ?? [];
    } catch (err) {
      if (errorCode(err) === ErrorCode.methodNotFound) {
        return [];
      }
      throw err;
    }
  }

  async configs(source: string, token?: CancellationToken): Promise<string[]> {
    const r: ConfigsResult = await this.connection.sendRequest(Method.configs, { source }, token ?? CancellationToken.None);
    return r.configs ?? [];
  }

  detect(source: string, token?: CancellationToken): Promise<DetectResult> {
    return this.connection.sendRequest(Method.detect, { source }, token ?? CancellationToken.None);
  }

  async setConsent(enabled: boolean, ideTelemetryEnabled: boolean): Promise<boolean> {
    const r: SetConsentResult = await this.connection.sendRequest(Method.setConsent, { enabled, ideTelemetryEnabled });
    return r.effective;
  }

  /** Ends the session politely: shutdown, then exit. */
  async shutdown(): Promise<void> {
    await this.connection.sendRequest(Method.shutdown);
    await this.connection.sendNotification(Method.exit);
  }

  dispose(): void {
    for (const d of this.subscriptions) {
      d.dispose();
    }
    this.didChange.dispose();
    this.message.dispose();
    this.portsChanged.dispose();
    this.logAppended.dispose();
    this.connection.dispose();
  }

  private async withProgress<R>(method: string, params: object, opts: ProgressOptions): Promise<R> {
    const workDoneToken = this.tokenPrefix + nextToken++;
    const sub = opts.onProgress ? this.connection.onProgress(progressType, workDoneToken, opts.onProgress) : undefined;
    try {
      return await this.connection.sendRequest(
        method,
        { ...params, workDoneToken },
        opts.token ?? CancellationToken.None,
      );
    } finally {
      sub?.dispose();
    }
  }
}

/** isCancelled tells whether an error is the answer to a cancelled request. */
export function isCancelled(err: unknown): boolean {
  return err instanceof ResponseError && err.code === ErrorCode.requestCancelled;
}

/** errorCode returns the JSON-RPC error code of err, or undefined. */
export function errorCode(err: unknown): number | undefined {
  return err instanceof ResponseError ? err.code : undefined;
}

/** errorData returns the data of a Pitlane error (code 1000 and up), or undefined. */
export function errorData(err: unknown): ErrorData | undefined {
  if (err instanceof ResponseError && err.code >= 1000 && err.data && typeof err.data === 'object') {
    return err.data as ErrorData;
  }
  return undefined;
}

/** errorMessage returns a sentence for the user. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    return err.message;
  }
  return String(err);
}

export { CancellationTokenSource, ResponseError };
