// Replays the bridge's JSONL transcripts (testdata/transcripts; the format
// is described in its README.md and implemented for Go in
// bridge/transcript_test.go) against the real `pitlane bridge`, speaking
// through vscode-jsonrpc's StreamMessageReader and StreamMessageWriter: the
// framing the extension uses. A transcript that the Go server passes but this
// client cannot replay means the two sides read the protocol differently.

import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { Message } from 'vscode-jsonrpc';
import { StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { TestEnv, dockerSkip, pitlaneBin, repoRoot } from './harness';

const dir = path.join(repoRoot, 'testdata', 'transcripts');

interface Header {
  description: string;
  vars: string[];
  ignore: string[];
  timeoutSeconds?: number;
}

interface Entry {
  comment?: string;
  client?: unknown;
  clientRaw?: string;
  server?: unknown;
  exit?: number;
  line: number;
}

function load(file: string): { header: Header; entries: Entry[] } {
  let header: Header | undefined;
  const entries: Entry[] = [];
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      if (text.trim() === '') {
        return;
      }
      const obj = JSON.parse(text);
      if (obj.header) {
        assert.equal(i, 0, `${file}:${i + 1}: the header must be the first line`);
        header = obj.header;
        return;
      }
      const known = ['comment', 'client', 'clientRaw', 'server', 'exit'];
      for (const k of Object.keys(obj)) {
        assert.ok(known.includes(k), `${file}:${i + 1}: unknown field ${k}`);
      }
      entries.push({ ...obj, line: i + 1 });
    });
  assert.ok(header, `${file} has no header`);
  return { header, entries };
}

const varRE = /\$\{([A-Z_][A-Z0-9_]*)\}/g;

function substitute(s: string, vars: Record<string, string>): string {
  return s.replace(varRE, (m, name: string) => (name in vars ? vars[name] : m));
}

function substituteAll(v: unknown, vars: Record<string, string>): unknown {
  if (typeof v === 'string') {
    return substitute(v, vars);
  }
  if (Array.isArray(v)) {
    return v.map((e) => substituteAll(e, vars));
  }
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, substituteAll(e, vars)]));
  }
  return v;
}

/** match tells whether act fits the pattern exp; captures go into bind. */
export function match(exp: unknown, act: unknown, vars: Record<string, string>, bind: Record<string, string>): boolean {
  if (typeof exp === 'string') {
    switch (exp) {
      case '<any>':
        return true;
      case '<string>':
        return typeof act === 'string';
      case '<number>':
        return typeof act === 'number';
      case '<bool>':
        return typeof act === 'boolean';
      case '<timestamp>':
        return typeof act === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(act);
    }
    if (exp.startsWith('<=') && exp.endsWith('>')) {
      if (typeof act !== 'string') {
        return false;
      }
      const name = exp.slice(2, -1);
      if (name in vars) {
        return vars[name] === act;
      }
      if (name in bind) {
        return bind[name] === act;
      }
      bind[name] = act;
      return true;
    }
    return typeof act === 'string' && substitute(exp, { ...vars, ...bind }) === act;
  }
  if (Array.isArray(exp)) {
    return Array.isArray(act) && act.length === exp.length && exp.every((e, i) => match(e, act[i], vars, bind));
  }
  if (exp && typeof exp === 'object') {
    if (!act || typeof act !== 'object' || Array.isArray(act)) {
      return false;
    }
    const e = exp as Record<string, unknown>;
    const a = act as Record<string, unknown>;
    for (const [k, ev] of Object.entries(e)) {
      if (k === '...') {
        continue;
      }
      if (!(k in a) || !match(ev, a[k], vars, bind)) {
        return false;
      }
    }
    return '...' in e || Object.keys(a).every((k) => k in e);
  }
  return exp === act;
}

/** A bridge process with the extension's framing on both of its pipes. */
class Peer {
  readonly proc: ChildProcess;
  private readonly writer: StreamMessageWriter;
  private readonly queue: Message[] = [];
  private waiting: (() => void) | undefined;
  private closed = false;
  private readonly exited: Promise<number | null>;

  constructor(env: NodeJS.ProcessEnv) {
    this.proc = spawn(pitlaneBin(), ['bridge'], { env, stdio: ['pipe', 'pipe', 'ignore'] });
    this.exited = new Promise((r) => this.proc.once('exit', (code) => r(code)));
    this.writer = new StreamMessageWriter(this.proc.stdin!);
    const reader = new StreamMessageReader(this.proc.stdout!);
    reader.listen((m) => {
      this.queue.push(m);
      this.waiting?.();
    });
    reader.onClose(() => {
      this.closed = true;
      this.waiting?.();
    });
    reader.onError((err) => assert.fail(`the client could not read the bridge's output: ${err}`));
  }

  send(msg: unknown): Promise<void> {
    return this.writer.write(msg as Message);
  }

  raw(data: string): Promise<void> {
    return new Promise((resolve, reject) => this.proc.stdin!.write(data, (err) => (err ? reject(err) : resolve())));
  }

  /** The next message, or undefined at end of output or after the deadline. */
  async next(deadline: number): Promise<Message | undefined> {
    while (this.queue.length === 0) {
      if (this.closed || Date.now() >= deadline) {
        return undefined;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiting = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiting = undefined;
    }
    return this.queue.shift();
  }

  exitCode(): Promise<number | null> {
    return this.exited;
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGKILL');
    }
  }
}

async function replay(file: string, env: NodeJS.ProcessEnv, given: Record<string, string>): Promise<void> {
  const { header, entries } = load(file);
  for (const v of header.vars) {
    assert.ok(v in given, `${file} needs variable ${v}`);
  }
  const vars = { ...given };
  const timeout = (header.timeoutSeconds || 10) * 1000;
  const ignorable = (m: Record<string, unknown>) =>
    typeof m.method === 'string' && !('id' in m) && header.ignore.includes(m.method);
  const peer = new Peer(env);
  let block: { pat: unknown; line: number }[] = [];
  const where = (line: number) => `${path.basename(file)}:${line}`;

  const flush = async () => {
    const deadline = Date.now() + timeout;
    while (block.length > 0) {
      const msg = await peer.next(deadline);
      assert.ok(
        msg,
        `${where(block[0].line)}: no matching message within ${timeout} ms; still expected ${JSON.stringify(block[0].pat)}`,
      );
      const act = msg as unknown as Record<string, unknown>;
      const i = block.findIndex((p) => {
        const bind: Record<string, string> = {};
        if (match(p.pat, act, vars, bind)) {
          Object.assign(vars, bind);
          return true;
        }
        return false;
      });
      if (i >= 0) {
        block.splice(i, 1);
        continue;
      }
      if (ignorable(act)) {
        continue;
      }
      assert.fail(
        `${where(block[0].line)}: unexpected message ${JSON.stringify(act)}; expected one of the block starting here: ${JSON.stringify(block[0].pat)}`,
      );
    }
  };

  try {
    for (const e of entries) {
      if (e.comment !== undefined) {
        continue;
      } else if (e.server !== undefined) {
        block.push({ pat: e.server, line: e.line });
      } else if (e.client !== undefined) {
        await flush();
        await peer.send(substituteAll(e.client, vars));
      } else if (e.clientRaw !== undefined) {
        await flush();
        await peer.raw(substitute(e.clientRaw, vars));
      } else if (e.exit !== undefined) {
        await flush();
        const deadline = Date.now() + timeout;
        for (;;) {
          const msg = await peer.next(deadline);
          if (!msg) {
            break;
          }
          assert.ok(ignorable(msg as never), `${where(e.line)}: unexpected message before exit: ${JSON.stringify(msg)}`);
        }
        let timer: NodeJS.Timeout | undefined;
        const code = await Promise.race([
          peer.exitCode(),
          new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeout))),
        ]);
        clearTimeout(timer);
        assert.equal(code, e.exit, `${where(e.line)}: exit code`);
        return;
      } else {
        assert.fail(`${where(e.line)}: empty entry`);
      }
    }
    await flush();
    block = [];
  } finally {
    peer.kill();
  }
}

const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort() : [];

describe('transcripts', { skip: dockerSkip() }, () => {
  const env = new TestEnv();
  after(() => env.remove());

  it('exist', () => {
    assert.ok(files.length > 0, `no transcripts in ${dir}`);
  });

  for (const f of files) {
    it(f, async () => {
      const source = path.join(env.dir, 'src', `tr-${f.replace(/\W/g, '-')}`);
      fs.mkdirSync(path.join(source, '.devcontainer'), { recursive: true });
      fs.writeFileSync(
        path.join(source, '.devcontainer', 'devcontainer.json'),
        JSON.stringify({ image: 'pitlane/base:bookworm', postCreateCommand: 'echo ready' }),
      );
      const slow = env.slowSource(120, 'building');
      const detect = path.join(env.dir, 'src', `detect-${f.replace(/\W/g, '-')}`);
      fs.mkdirSync(detect, { recursive: true });
      fs.writeFileSync(path.join(detect, 'go.mod'), 'module example.com/detect\n\ngo 1.24.2\n');
      const name = `ts-${f.replace(/\.jsonl$/, '').replace(/[^a-z0-9]/g, '')}-${process.pid}`;
      await replay(path.join(dir, f), env.env, { NAME: name, SOURCE: source, SLOW_SOURCE: slow, DETECT_SOURCE: detect });
    });
  }
});

describe('transcript matcher', () => {
  it('matches placeholders, captures and open objects', () => {
    const vars = { NAME: 'demo' };
    const bind: Record<string, string> = {};
    assert.ok(match({ a: '<string>', b: '<number>', c: '<any>' }, { a: 'x', b: 1, c: null }, vars, bind));
    assert.ok(!match({ a: '<string>' }, { a: 1 }, vars, bind));
    assert.ok(!match({ a: 1 }, { a: 1, b: 2 }, vars, bind), 'closed objects refuse extra keys');
    assert.ok(match({ a: 1, '...': true }, { a: 1, b: 2 }, vars, bind));
    assert.ok(match('${NAME}.pitlane', 'demo.pitlane', vars, bind));
    assert.ok(match({ id: '<=ID>' }, { id: 'abc' }, vars, bind) && bind.ID === 'abc');
    assert.ok(!match('<=ID>', 'xyz', vars, bind), 'a capture must match its first value');
    assert.ok(match('<timestamp>', '2025-05-01T09:30:00Z', vars, bind));
    assert.ok(!match('<timestamp>', 'yesterday', vars, bind));
    assert.ok(!match([1, 2], [1], vars, bind));
  });
});
