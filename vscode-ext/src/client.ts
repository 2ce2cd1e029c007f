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
  InitializeResult,
  ListResult,
  LogsResult,
  MessageParams,
  Method,
  OpenResult,
  ProgressValue,
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
}

const progressType = new ProgressType<ProgressValue>();
let nextToken = 1;

/** PitlaneClient speaks the bridge protocol over an open connection. */
export class PitlaneClient implements Disposable {
  private readonly didChange = new Emitter<DidChangeParams>();
  private readonly message = new Emitter<MessageParams & { show: boolean }>();
  private readonly subscriptions: Disposable[] = [];
  private readonly tokenPrefix = `p${process.pid}-`;

  /** Fires for every `workspace/didChange` the bridge pushes. */
  readonly onDidChange: Event<DidChangeParams> = this.didChange.event;
  /** Fires for `window/logMessage` (show false) and `window/showMessage` (show true). */
  readonly onMessage: Event<MessageParams & { show: boolean }> = this.message.event;

  constructor(readonly connection: MessageConnection) {
    this.subscriptions.push(
      connection.onNotification(Method.didChange, (p: DidChangeParams) => this.didChange.fire(p)),
      connection.onNotification(Method.logMessage, (p: MessageParams) => this.message.fire({ ...p, show: false })),
      connection.onNotification(Method.showMessage, (p: MessageParams) => this.message.fire({ ...p, show: true })),
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
    return this.withProgress(Method.create, params, opts);
  }

  async start(name: string, opts: ProgressOptions = {}): Promise<Workspace> {
    const r: WorkspaceResult = await this.withProgress(Method.start, { name }, opts);
    return r.workspace;
  }

  async rebuild(name: string, opts: ProgressOptions = {}): Promise<Workspace> {
    const r: WorkspaceResult = await this.withProgress(Method.rebuild, { name }, opts);
    return r.workspace;
  }

  async stop(name: string): Promise<Workspace> {
    const r: WorkspaceResult = await this.connection.sendRequest(Method.stop, { name });
    return r.workspace;
  }

  async delete(name: string): Promise<void> {
    await this.connection.sendRequest(Method.delete, { name });
  }

  open(name: string, ide?: string): Promise<OpenResult> {
    return this.connection.sendRequest(Method.open, ide ? { name, ide } : { name });
  }

  logs(name: string, tail?: number): Promise<LogsResult> {
    return this.connection.sendRequest(Method.logs, tail ? { name, tail } : { name });
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

/** errorMessage returns a sentence for the user. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    return err.message;
  }
  return String(err);
}

export { CancellationTokenSource, ResponseError };
