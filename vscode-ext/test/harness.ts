// Shared set-up of the client tests: the real pitlane binary, an isolated
// environment (own PITLANE_INSTANCE, HOME and XDG folders), and clean-up of
// every container the tests made.

import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { Message } from 'vscode-jsonrpc';
import { StreamMessageReader, StreamMessageWriter, createMessageConnection } from 'vscode-jsonrpc/node';
import { PitlaneClient } from '../src/client';

/** The repository root (tests run from vscode-ext/out/test). */
export const repoRoot = path.resolve(__dirname, '..', '..', '..');

/** The pitlane binary: $PITLANE_BIN, or bin/pitlane built from this repository when absent. */
export function pitlaneBin(): string {
  const bin = process.env.PITLANE_BIN || path.join(repoRoot, 'bin', 'pitlane');
  if (!fs.existsSync(bin)) {
    if (process.env.PITLANE_BIN) {
      throw new Error(`PITLANE_BIN=${bin} does not exist; build it with "go build -o bin/pitlane ./cmd/pitlane"`);
    }
    const r = spawnSync('go', ['build', '-o', bin, './cmd/pitlane'], { cwd: repoRoot, stdio: 'inherit' });
    if (r.status !== 0) {
      throw new Error(`building ${bin} failed; run "go build -o bin/pitlane ./cmd/pitlane" at the repository root`);
    }
  }
  return bin;
}

/**
 * dockerSkip returns a reason to skip a test that needs Docker, or false.
 * With PITLANE_REQUIRE_DOCKER=1 a missing engine fails instead.
 */
export function dockerSkip(): string | false {
  const r = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status === 0) {
    return false;
  }
  if (process.env.PITLANE_REQUIRE_DOCKER === '1') {
    throw new Error(`PITLANE_REQUIRE_DOCKER=1 but no Docker engine answers: ${(r.stderr || String(r.error)).trim()}`);
  }
  return 'no Docker engine answers (set PITLANE_REQUIRE_DOCKER=1 to fail instead)';
}

/** An isolated environment; remove() deletes its folders and containers. */
export class TestEnv {
  readonly dir: string;
  readonly instance: string;
  readonly env: NodeJS.ProcessEnv;

  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitlane-vscode-test-'));
    this.instance = `vscode-test-${process.pid}-${Date.now().toString(36)}`;
    for (const d of ['home', 'data', 'config', 'src']) {
      fs.mkdirSync(path.join(this.dir, d));
    }
    this.env = {
      ...process.env,
      PITLANE_INSTANCE: this.instance,
      HOME: path.join(this.dir, 'home'),
      XDG_DATA_HOME: path.join(this.dir, 'data'),
      XDG_CONFIG_HOME: path.join(this.dir, 'config'),
    };
  }

  /** Copies examples/NAME into a fresh folder, so hooks never write into the repository. */
  example(name: string): string {
    const dest = path.join(this.dir, 'src', `${name}-${Math.random().toString(36).slice(2, 8)}`);
    fs.cpSync(path.join(repoRoot, 'examples', name), dest, { recursive: true });
    return dest;
  }

  /** Writes a source folder whose image build takes a while (for cancellation). */
  slowSource(seconds: number, marker: string): string {
    const dest = path.join(this.dir, 'src', `slow-${Math.random().toString(36).slice(2, 8)}`);
    fs.mkdirSync(path.join(dest, '.devcontainer'), { recursive: true });
    fs.writeFileSync(
      path.join(dest, '.devcontainer', 'Dockerfile'),
      `FROM pitlane/base:bookworm\nRUN echo ${marker} && : ${path.basename(dest)} && sleep ${seconds}\n`,
    );
    fs.writeFileSync(
      path.join(dest, '.devcontainer', 'devcontainer.json'),
      JSON.stringify({ name: 'slow', build: { dockerfile: 'Dockerfile' } }),
    );
    return dest;
  }

  /** Runs the pitlane CLI in this environment. */
  cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(pitlaneBin(), args, { env: this.env, encoding: 'utf8', timeout: 120_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Containers of this instance (all states), by workspace name. */
  containers(): string[] {
    const out = docker(
      'ps',
      '-a',
      '--filter',
      `label=dev.pitlane.instance=${this.instance}`,
      '--format',
      '{{.Label "dev.pitlane.workspace"}}',
    );
    return out.split('\n').filter((l) => l.trim() !== '');
  }

  /** Containers of any kind (build steps too) whose command mentions marker. */
  containersRunning(marker: string): string[] {
    const out = docker('ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Command}}');
    return out.split('\n').filter((l) => l.includes(marker));
  }

  remove(): void {
    const ids = spawnSync('docker', ['ps', '-aq', '--filter', `label=dev.pitlane.instance=${this.instance}`], {
      encoding: 'utf8',
    });
    const list = (ids.stdout ?? '').split('\n').filter((l) => l.trim() !== '');
    if (list.length) {
      spawnSync('docker', ['rm', '-f', '-v', ...list]);
    }
    // Images built for this instance's workspaces are tagged pitlane-NAME...; leave
    // shared base images alone.
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Runs the docker CLI and returns its standard output. It throws when docker
 * does not exit with status 0, so that an empty answer always means "none"
 * and never "docker failed".
 */
export function docker(...args: string[]): string {
  const r = spawnSync('docker', args, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) {
    const why = r.error ? String(r.error) : `exit status ${r.status ?? r.signal}`;
    throw new Error(`docker ${args.join(' ')} failed (${why}): ${(r.stderr ?? '').trim()}`);
  }
  return r.stdout;
}

/** A bridge process with a client on it. */
export interface Session {
  client: PitlaneClient;
  proc: ChildProcess;
  stderr: () => string;
  close(): Promise<void>;
}

export function startBridge(env: NodeJS.ProcessEnv): Session {
  const proc = spawn(pitlaneBin(), ['bridge'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (c: string) => (stderr += c));
  proc.once('exit', (code, signal) => {
    if (code !== 0 || signal) {
      process.stderr.write(`pitlane bridge exited (${signal ?? code}); its stderr:\n${stderr}\n`);
    }
  });
  const connection = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  const client = new PitlaneClient(connection);
  connection.listen();
  return {
    client,
    proc,
    stderr: () => stderr,
    async close() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        try {
          await withTimeout(client.shutdown(), 5000, 'shutdown');
        } catch {
          proc.kill('SIGKILL');
        }
        await withTimeout(exited, 5000, 'bridge exit').catch(() => proc.kill('SIGKILL'));
      }
      client.dispose();
    },
  };
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    }),
  ]);
}

/** Resolves with the first value of an event that satisfies pred. */
export function waitFor<T>(
  event: (l: (v: T) => void) => { dispose(): void },
  pred: (v: T) => boolean,
  ms: number,
  what: string,
): Promise<T> {
  let sub: { dispose(): void } | undefined;
  const p = new Promise<T>((resolve) => {
    sub = event((v) => {
      if (pred(v)) {
        resolve(v);
      }
    });
  });
  return withTimeout(p, ms, `waiting for ${what}`).finally(() => sub?.dispose());
}

/** A fake server on in-memory pipes, with the client on the other end. */
export function pair() {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const client = new PitlaneClient(createMessageConnection(new StreamMessageReader(toClient), new StreamMessageWriter(toServer)));
  client.connection.listen();
  const writer = new StreamMessageWriter(toClient);
  const reader = new StreamMessageReader(toServer);
  const queue: Message[] = [];
  let wake: (() => void) | undefined;
  reader.listen((m) => {
    queue.push(m);
    wake?.();
  });
  return {
    client,
    send: (m: unknown) => writer.write(m as Message),
    async next(ms = 2000): Promise<Message> {
      const deadline = Date.now() + ms;
      while (queue.length === 0) {
        if (Date.now() >= deadline) {
          throw new Error('the client sent nothing');
        }
        await new Promise<void>((r) => {
          const t = setTimeout(r, 20);
          wake = () => {
            clearTimeout(t);
            r();
          };
        });
      }
      return queue.shift()!;
    },
    close() {
      client.dispose();
      toServer.end();
      toClient.end();
    },
  };
}

