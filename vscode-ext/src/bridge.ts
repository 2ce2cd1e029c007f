// The `pitlane bridge` child process: spawned on first use, spoken to over
// its stdin/stdout, its stderr passed to a log, and restarted with a growing
// delay when it dies. Free of VS Code APIs so that tests run it in Node.

import { ChildProcess, spawn } from 'node:child_process';
import { Disposable, Emitter, Event, Message, MessageWriter } from 'vscode-jsonrpc';
import { StreamMessageReader, StreamMessageWriter, createMessageConnection } from 'vscode-jsonrpc/node';
import { PitlaneClient } from './client';
import { ClientInfo, DidChangeParams, InitializeResult, LogAppendedParams, MessageParams, PortsChangedParams } from './protocol';

export interface Log {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * The bridge's state: idle (not spawned yet), starting, ready, restarting
 * (it died; waiting out the backoff), missing (the binary cannot be run) or
 * failed (it died too often in a row; a new request tries again).
 */
export type BridgeState = 'idle' | 'starting' | 'ready' | 'restarting' | 'missing' | 'failed';

export interface BridgeOptions {
  /** The pitlane binary; a bare name is looked up on PATH. */
  command: () => string;
  clientInfo: ClientInfo;
  log: Log;
  env?: NodeJS.ProcessEnv;
  /** First restart delay; doubles with every failure in a row, up to maxDelayMs. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** A bridge that lived this long resets the backoff. */
  stableAfterMs?: number;
  /** After this many deaths in a row the bridge is left down ('failed'). */
  maxRestarts?: number;
}

/** Raised when the bridge cannot be spawned at all. */
export class BridgeMissingError extends Error {
  constructor(readonly command: string, cause: string) {
    super(`cannot run the Pitlane binary "${command}" (${cause}): install Pitlane or set "pitlane.path" to the binary`);
  }
}

export interface StateChange {
  state: BridgeState;
  /** Why the bridge went down, for people, when it did. */
  reason?: string;
}

export class Bridge implements Disposable {
  private proc: ChildProcess | undefined;
  private current: Promise<PitlaneClient> | undefined;
  private client: PitlaneClient | undefined;
  private stateValue: BridgeState = 'idle';
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private disposed = false;
  private stderrTail: string[] = [];

  private readonly stateEmitter = new Emitter<StateChange>();
  private readonly readyEmitter = new Emitter<{ client: PitlaneClient; info: InitializeResult }>();
  private readonly changeEmitter = new Emitter<DidChangeParams>();
  private readonly messageEmitter = new Emitter<MessageParams & { show: boolean }>();
  private readonly portsEmitter = new Emitter<PortsChangedParams>();
  private readonly logEmitter = new Emitter<LogAppendedParams>();

  readonly onDidChangeState: Event<StateChange> = this.stateEmitter.event;
  /** Fires after every successful initialize, the first and after each restart. */
  readonly onReady: Event<{ client: PitlaneClient; info: InitializeResult }> = this.readyEmitter.event;
  /** workspace/didChange pushes, from whichever bridge process is current. */
  readonly onDidChange: Event<DidChangeParams> = this.changeEmitter.event;
  readonly onMessage: Event<MessageParams & { show: boolean }> = this.messageEmitter.event;
  /** workspace/portsChanged pushes, from whichever bridge process is current. */
  readonly onPortsChanged: Event<PortsChangedParams> = this.portsEmitter.event;
  /** workspace/logAppended pushes, from whichever bridge process is current. */
  readonly onLogAppended: Event<LogAppendedParams> = this.logEmitter.event;

  constructor(private readonly opts: BridgeOptions) {}

  get state(): BridgeState {
    return this.stateValue;
  }

  /** The process id of the running bridge, if one runs. */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Returns the initialized client, spawning the bridge if it is not running. */
  get(): Promise<PitlaneClient> {
    if (this.disposed) {
      return Promise.reject(new Error('the Pitlane extension is shutting down'));
    }
    if (!this.current) {
      if (this.restartTimer) {
        clearTimeout(this.restartTimer);
        this.restartTimer = undefined;
      }
      this.current = this.spawn();
      this.current.catch(() => undefined);
    }
    return this.current;
  }

  /** Forgets an earlier failure so that the next get() tries again at once. */
  reset(): void {
    if (this.stateValue === 'failed' || this.stateValue === 'missing') {
      this.failures = 0;
      this.current = undefined;
      this.setState({ state: 'idle' });
    }
  }

  /** Stops the running bridge, if any; the next get() starts a new one. */
  async restart(): Promise<void> {
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
    }
    await this.stopProcess();
    this.failures = 0;
    this.setState({ state: 'idle' });
  }

  /** Ends the bridge for good: shutdown and exit, then a kill if it lingers. */
  async dispose(): Promise<void> {
    this.disposed = true;
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
    }
    await this.stopProcess();
    this.stateEmitter.dispose();
    this.readyEmitter.dispose();
    this.changeEmitter.dispose();
    this.messageEmitter.dispose();
    this.portsEmitter.dispose();
    this.logEmitter.dispose();
  }

  private async stopProcess(): Promise<void> {
    const proc = this.proc;
    const client = this.client;
    this.proc = undefined;
    this.client = undefined;
    this.current = undefined;
    if (!proc) {
      return;
    }
    const exited = new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        resolve();
      } else {
        proc.once('exit', () => resolve());
      }
    });
    if (client) {
      try {
        await Promise.race([client.shutdown(), delay(2000)]);
      } catch {
        // The process may be gone already.
      }
    } else {
      proc.stdin?.end();
    }
    await Promise.race([exited, delay(2000)]);
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
    }
    client?.dispose();
  }

  private setState(change: StateChange): void {
    this.stateValue = change.state;
    if (!this.disposed) {
      this.stateEmitter.fire(change);
    }
  }

  private spawn(): Promise<PitlaneClient> {
    const command = this.opts.command();
    const log = this.opts.log;
    this.setState({ state: 'starting' });
    log.info(`starting ${command} bridge`);
    const startedAt = Date.now();
    let proc: ChildProcess;
    try {
      proc = spawn(command, ['bridge'], { env: this.opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (err) {
      return Promise.reject(this.missing(command, String(err)));
    }
    this.proc = proc;
    this.stderrTail = [];

    return new Promise<PitlaneClient>((resolve, reject) => {
      let settled = false;
      let initError: string | undefined;
      let connectionOf: { dispose(): void } | undefined;
      let panicLine: string | undefined;
      // Writing to a bridge that died fails with EPIPE; the exit handler reports it.
      proc.stdin?.on('error', (err) => log.warn(`writing to the bridge failed: ${err.message}`));
      proc.once('error', (err: NodeJS.ErrnoException) => {
        // Spawning failed (ENOENT, EACCES): no point in retrying.
        if (!settled) {
          settled = true;
          reject(this.missing(command, err.code ?? err.message));
        }
      });
      proc.once('spawn', () => {
        const connection = createMessageConnection(
          new StreamMessageReader(proc.stdout!),
          new QuietWriter(new StreamMessageWriter(proc.stdin!), (err) => log.warn(`writing to the bridge failed: ${err}`)),
        );
        connectionOf = connection;
        const client = new PitlaneClient(connection);
        client.onDidChange((p) => this.changeEmitter.fire(p));
        client.onMessage((m) => this.messageEmitter.fire(m));
        client.onPortsChanged((p) => this.portsEmitter.fire(p));
        client.onLogAppended((p) => this.logEmitter.fire(p));
        connection.listen();
        client.initialize(this.opts.clientInfo).then(
          (info) => {
            if (settled) {
              return;
            }
            settled = true;
            this.client = client;
            log.info(`bridge ready: ${info.serverInfo.name} ${info.serverInfo.version ?? ''}, protocol ${info.protocolVersion}`);
            this.setState({ state: 'ready' });
            resolve(client);
            this.readyEmitter.fire({ client, info });
          },
          (err) => {
            // Usually the process died (the exit handler then has the better
            // reason); otherwise it does not speak the protocol: end it, and the
            // exit handler counts a failure.
            initError = err instanceof Error ? err.message : String(err);
            if (proc.exitCode === null && proc.signalCode === null) {
              proc.kill();
            }
          },
        );
      });
      proc.stderr!.setEncoding('utf8');
      let partial = '';
      proc.stderr!.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          if (line.trim() !== '') {
            log.info(`[bridge] ${line}`);
            if (!panicLine && /^(panic|fatal error):/.test(line)) {
              panicLine = line;
            }
            this.stderrTail.push(line);
            if (this.stderrTail.length > 5) {
              this.stderrTail.shift();
            }
          }
        }
      });
      proc.once('exit', (code, signal) => {
        if (partial.trim() !== '') {
          log.info(`[bridge] ${partial}`);
          this.stderrTail.push(partial);
        }
        const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
        // A Go panic prints its reason first and a stack after it: show the reason.
        const last =
          panicLine ??
          this.stderrTail[this.stderrTail.length - 1] ??
          (initError ? `initialize failed: ${initError}` : undefined);
        const tail = last ? `: ${last}` : '';
        const reason = `the Pitlane bridge ${how}${tail}`;
        if (!settled) {
          settled = true;
          reject(new Error(reason));
          // Fails the requests still waiting for an answer.
          connectionOf?.dispose();
        }
        this.exited(proc, reason, Date.now() - startedAt);
      });
    });
  }

  private missing(command: string, cause: string): BridgeMissingError {
    const err = new BridgeMissingError(command, cause);
    this.opts.log.error(err.message);
    this.proc = undefined;
    this.current = undefined;
    this.setState({ state: 'missing', reason: err.message });
    return err;
  }

  private exited(proc: ChildProcess, reason: string, livedMs: number): void {
    if (this.disposed || this.proc !== proc) {
      return;
    }
    this.proc = undefined;
    this.client?.dispose();
    this.client = undefined;
    this.current = undefined;
    if (livedMs >= (this.opts.stableAfterMs ?? 60_000)) {
      this.failures = 0;
    }
    this.failures++;
    this.opts.log.warn(reason);
    if (this.failures > (this.opts.maxRestarts ?? 5)) {
      this.opts.log.error(`giving up after ${this.failures} failures in a row; Refresh tries again`);
      this.setState({ state: 'failed', reason });
      return;
    }
    const wait = Math.min((this.opts.initialDelayMs ?? 1000) * 2 ** (this.failures - 1), this.opts.maxDelayMs ?? 30_000);
    this.opts.log.info(`restarting the bridge in ${wait} ms`);
    this.setState({ state: 'restarting', reason: `${reason}; restarting in ${Math.round(wait / 1000)} s` });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.get().catch(() => undefined);
    }, wait);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref?.());
}

/**
 * QuietWriter reports a failed write instead of rejecting: vscode-jsonrpc
 * turns a rejected request write into an unhandled rejection, and a write to
 * a bridge that just died is reported better by its exit status. Requests
 * whose write failed are failed when the connection is disposed.
 */
class QuietWriter implements MessageWriter {
  readonly onError: MessageWriter['onError'];
  readonly onClose: MessageWriter['onClose'];
  constructor(
    private readonly inner: MessageWriter,
    private readonly failed: (message: string) => void,
  ) {
    this.onError = inner.onError;
    this.onClose = inner.onClose;
  }
  async write(msg: Message): Promise<void> {
    try {
      await this.inner.write(msg);
    } catch (err) {
      this.failed(err instanceof Error ? err.message : String(err));
    }
  }
  end(): void {
    this.inner.end();
  }
  dispose(): void {
    this.inner.dispose();
  }
}
