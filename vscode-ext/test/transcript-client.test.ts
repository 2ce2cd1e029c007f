// The transcripts again, from the other side: a fake server plays the
// `server` lines to the extension's PitlaneClient, and the test checks that
// each request the client's own methods send is the transcript's `client`
// line (same method, same params), and that results and notifications reach
// the client's callers. transcripts.test.ts checks the bridge; this checks
// that the client's methods speak exactly the transcripts' wire shapes.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { NotificationMessage, RequestMessage, ResponseError, ResponseMessage } from 'vscode-jsonrpc';
import { PitlaneClient } from '../src/client';
import { LogAppendedParams, PortsChangedParams } from '../src/protocol';
import { pair, repoRoot } from './harness';

const dir = path.join(repoRoot, 'testdata', 'transcripts');

/** The protocol 2 transcripts whose requests all have a PitlaneClient method; the others test the server or speak version 1. */
const files = ['actions.jsonl', 'ports.jsonl', 'logs-follow.jsonl'];

type Params = Record<string, any>;

/** How the extension sends each request: through the client method it uses. */
const calls: Record<string, (c: PitlaneClient, p: Params) => Promise<unknown>> = {
  initialize: (c, p) => c.initialize(p.clientInfo),
  'workspace/list': (c) => c.list(),
  'workspace/configs': (c, p) => c.configs(p.source),
  'workspace/detect': (c, p) => c.detect(p.source),
  'workspace/create': (c, p) => {
    const { workDoneToken: _, trust, ...rest } = p;
    return c.create(rest as never, { trust });
  },
  'workspace/start': (c, p) => c.start(p.name, { trust: p.trust }),
  'workspace/rebuild': (c, p) => c.rebuild(p.name, { trust: p.trust }),
  'workspace/stop': (c, p) => c.stop(p.name),
  'workspace/delete': (c, p) => c.delete(p.name, p.discardChanges),
  'workspace/open': (c, p) => c.open(p.name, p.ide),
  'workspace/logs': (c, p) => (p.follow ? c.followLogs(p.name, p.tail) : c.logs(p.name, p.tail)),
  'workspace/unfollowLogs': (c, p) => c.unfollowLogs(p.followId),
  'workspace/ports': (c, p) => c.ports(p.name),
  'workspace/forwardPort': (c, p) => c.forwardPort(p.name, p.port, p.localPort),
  'workspace/stopForwarding': (c, p) => c.stopForwarding(p.name, p.port),
  'provider/list': (c) => c.providers(),
  'telemetry/setConsent': (c, p) => c.setConsent(p.enabled, p.ideTelemetryEnabled),
  shutdown: (c) => c.shutdown(),
};

/** Params whose absence the protocol defines as a value (PROTOCOL.md): compared as that value. */
const defaults: Record<string, Params> = {
  'workspace/forwardPort': { localPort: 0 },
};

const vars: Record<string, string> = {
  NAME: 'demo',
  SOURCE: '/src/demo',
  SLOW_SOURCE: '/src/slow',
  DETECT_SOURCE: '/src/detect',
};

function substitute(s: string, bind: Record<string, string>): string {
  return s.replace(/\$\{([A-Z_][A-Z0-9_]*)\}/g, (m, n: string) => bind[n] ?? m);
}

/** A concrete value that the pattern matches: what a real server could have sent. */
function materialize(v: unknown, bind: Record<string, string>): unknown {
  if (typeof v === 'string') {
    switch (v) {
      case '<any>':
        return null;
      case '<string>':
        return 'some text';
      case '<number>':
        return 7;
      case '<bool>':
        return true;
      case '<timestamp>':
        return '2025-05-01T09:30:00Z';
    }
    const cap = /^<=([A-Z_][A-Z0-9_]*)>$/.exec(v);
    if (cap) {
      bind[cap[1]] ??= `${cap[1].toLowerCase()}-1`;
      return bind[cap[1]];
    }
    return substitute(v, bind);
  }
  if (Array.isArray(v)) {
    return v.map((e) => materialize(e, bind));
  }
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => k !== '...')
        .map(([k, e]) => [k, materialize(e, bind)]),
    );
  }
  return v;
}

interface Line {
  client?: any;
  clientRaw?: string;
  server?: any;
  comment?: string;
  exit?: number;
  header?: unknown;
  n: number;
}

async function replayAsServer(file: string): Promise<number> {
  const lines: Line[] = fs
    .readFileSync(path.join(dir, file), 'utf8')
    .split('\n')
    .map((t, i) => ({ t, i }))
    .filter(({ t }) => t.trim() !== '')
    .map(({ t, i }) => ({ ...JSON.parse(t), n: i + 1 }));
  const bind: Record<string, string> = { ...vars };
  const p = pair();
  const ports: PortsChangedParams[] = [];
  const logs: LogAppendedParams[] = [];
  p.client.onPortsChanged((x) => ports.push(x));
  p.client.onLogAppended((x) => logs.push(x));
  let checked = 0;
  const notified: Record<string, number> = {};
  try {
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i];
      const where = `${file}:${l.n}`;
      if (l.client === undefined) {
        // clientRaw lines (bad framing) test the server; their answers are skipped too.
        continue;
      }
      const want = materialize(l.client, bind) as RequestMessage | NotificationMessage;
      if (want.method === 'exit' || want.method === '$/cancelRequest') {
        // Sent by shutdown() itself / by a cancellation token, checked there.
        continue;
      }
      const call = calls[want.method];
      assert.ok(call, `${where}: the client has no method for ${want.method}`);
      // The server lines answering this request, up to the next client line.
      const answers: any[] = [];
      for (let j = i + 1; j < lines.length && lines[j].client === undefined && lines[j].clientRaw === undefined; j++) {
        if (lines[j].server !== undefined) {
          answers.push(lines[j].server);
        }
      }
      const params = (want as RequestMessage).params as Params | undefined;
      const pending = call(p.client, params ?? {}).then(
        (v) => ({ ok: true as const, v }),
        (err) => ({ ok: false as const, err }),
      );
      const sent = (await p.next()) as RequestMessage;
      assert.equal(sent.method, want.method, `${where}: method`);
      const { workDoneToken, ...sentParams } = (sent.params ?? {}) as Params;
      const { workDoneToken: wantToken, ...wantParams } = (params ?? {}) as Params;
      const d = defaults[want.method] ?? {};
      assert.deepEqual({ ...d, ...sentParams }, { ...d, ...wantParams }, `${where}: the params of ${want.method}`);
      checked++;
      for (const a of answers) {
        const msg = materialize(a, bind) as any;
        if ('id' in msg && msg.id === (want as RequestMessage).id) {
          // The response, with the id the client used.
          await p.send({ ...msg, id: sent.id } as ResponseMessage);
        } else if (msg.method === '$/progress' && workDoneToken !== undefined) {
          await p.send({ ...msg, params: { ...msg.params, token: workDoneToken } });
        } else if (!('id' in msg)) {
          await p.send(msg);
          notified[msg.method] = (notified[msg.method] ?? 0) + 1;
        }
      }
      if (want.method === 'shutdown') {
        const exit = (await p.next()) as NotificationMessage;
        assert.equal(exit.method, 'exit', `${where}: shutdown() sends exit after the answer`);
      }
      if ('id' in want) {
        const r = await pending;
        const response = answers.map((a) => materialize(a, bind) as any).find((m) => m.id === (want as RequestMessage).id);
        if (response?.error) {
          assert.ok(!r.ok && r.err instanceof ResponseError, `${where}: ${want.method} should fail`);
          assert.equal((r.err as ResponseError<unknown>).code, response.error.code, `${where}: error code`);
        } else {
          assert.ok(r.ok, `${where}: ${want.method} failed: ${r.ok ? '' : r.err}`);
        }
      }
    }
    // Every notification of these kinds reached the client's listeners.
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(ports.length, notified['workspace/portsChanged'] ?? 0, `${file}: portsChanged reached the client`);
    assert.equal(logs.length, notified['workspace/logAppended'] ?? 0, `${file}: logAppended reached the client`);
    for (const x of ports) {
      assert.ok(Array.isArray(x.ports), `${file}: portsChanged carries ports`);
    }
    for (const x of logs) {
      assert.ok(x.followId && Array.isArray(x.lines), `${file}: logAppended carries followId and lines`);
    }
  } finally {
    p.close();
  }
  return checked;
}

describe('transcripts played to the client', () => {
  for (const f of files) {
    const exists = fs.existsSync(path.join(dir, f));
    it(f, { skip: exists ? false : `${f} is not in testdata/transcripts yet` }, async () => {
      const n = await replayAsServer(f);
      assert.ok(n > 0, `${f}: no request checked`);
    });
  }

  it('notices a client that sends other params than the transcript', async () => {
    const p = pair();
    try {
      const pending = p.client.forwardPort('demo', 3000).catch(() => undefined);
      const sent = (await p.next()) as RequestMessage;
      assert.notDeepEqual(sent.params, { name: 'demo', port: 3000 }, 'forwardPort always sends localPort');
      assert.deepEqual(sent.params, { name: 'demo', port: 3000, localPort: 0 });
      p.client.connection.dispose();
      await pending;
    } finally {
      p.close();
    }
  });
});

describe('provider/list', () => {
  it('is an empty list from a bridge without providers (method not found), so create asks nothing', async () => {
    const p = pair();
    try {
      const pending = p.client.providers();
      const sent = (await p.next()) as RequestMessage;
      assert.equal(sent.method, 'provider/list');
      assert.deepEqual(sent.params, {});
      await p.send({ jsonrpc: '2.0', id: sent.id, error: { code: -32601, message: 'method not found: provider/list' } });
      assert.deepEqual(await pending, []);
    } finally {
      p.close();
    }
  });

  it('returns the providers of a bridge that has them, and other errors fail', async () => {
    const p = pair();
    try {
      const providers = [
        { name: 'local', kind: 'docker', default: true, description: 'Docker on this machine' },
        { name: 'dev', kind: 'kubernetes', default: false, description: 'context kind-dev, namespace ws' },
      ];
      const ok = p.client.providers();
      const first = (await p.next()) as RequestMessage;
      await p.send({ jsonrpc: '2.0', id: first.id, result: { providers } });
      assert.deepEqual(await ok, providers);
      const bad = p.client.providers();
      const second = (await p.next()) as RequestMessage;
      await p.send({ jsonrpc: '2.0', id: second.id, error: { code: 1006, message: 'cannot reach the Docker engine' } });
      await assert.rejects(bad, (err: unknown) => err instanceof ResponseError && err.code === 1006);
    } finally {
      p.close();
    }
  });
});
