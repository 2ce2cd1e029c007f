// The TypeScript client against the real `pitlane bridge` built from this
// repository, on the real Docker engine.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CancellationTokenSource, ResponseError } from 'vscode-jsonrpc';
import { isCancelled } from '../src/client';
import { DidChangeParams, ErrorCode, ProgressValue, protocolVersion } from '../src/protocol';
import { Session, TestEnv, dockerSkip, startBridge, waitFor, withTimeout } from './harness';

const info = { name: 'vscode', version: 'test' };

describe('bridge without Docker', () => {
  let env: TestEnv;
  let s: Session;
  before(() => {
    env = new TestEnv();
    s = startBridge({
      ...env.env,
      // An engine address nobody answers: these requests must not need one.
      DOCKER_HOST: `unix://${path.join(env.dir, 'no-docker.sock')}`,
      // Neither switch of the environment forces telemetry off, so the IDE's
      // consent decides; whatever gets sent goes to a port nobody serves.
      DO_NOT_TRACK: '',
      PITLANE_TELEMETRY: '',
      PITLANE_TELEMETRY_ENDPOINT: 'http://127.0.0.1:9/v1/metrics',
    });
  });
  after(async () => {
    await s.close();
    env.remove();
  });

  it('refuses requests before initialize', async () => {
    await assert.rejects(s.client.list(), (err: unknown) => {
      assert.ok(err instanceof ResponseError);
      assert.equal(err.code, ErrorCode.serverNotInitialized);
      return true;
    });
  });

  it('initializes and agrees on the protocol version', async () => {
    const r = await s.client.initialize(info);
    assert.equal(r.protocolVersion, protocolVersion);
    assert.equal(r.serverInfo.name, 'pitlane');
    assert.ok(r.ides.includes('vscode'), `ides: ${JSON.stringify(r.ides)}`);
  });

  it('takes the telemetry consent: on only when both switches are on', async () => {
    assert.equal(await s.client.setConsent(true, true), true, 'both switches on');
    assert.equal(await s.client.setConsent(true, false), false, 'IDE telemetry off');
    assert.equal(await s.client.setConsent(false, true), false, 'Pitlane setting off');
    assert.equal(await s.client.setConsent(false, false), false, 'both off');
  });

  it('answers a missing engine with code 1006 and a sentence', async () => {
    await assert.rejects(s.client.list(), (err: unknown) => {
      assert.ok(err instanceof ResponseError);
      assert.equal(err.code, ErrorCode.engineDown, err.message);
      assert.match(err.message, /docker/i);
      return true;
    });
  });

  it('exits with status 0 after shutdown and exit', async () => {
    const exited = new Promise<number | null>((r) => s.proc.once('exit', (code) => r(code)));
    await s.client.shutdown();
    assert.equal(await withTimeout(exited, 5000, 'bridge exit'), 0);
  });
});

describe('bridge on the Docker engine', { skip: dockerSkip() }, () => {
  let env: TestEnv;
  let s: Session;
  const changes: DidChangeParams[] = [];

  before(async () => {
    env = new TestEnv();
    s = startBridge(env.env);
    s.client.onDidChange((c) => changes.push(c));
    await s.client.initialize(info);
  });
  after(async () => {
    await s.close();
    env.remove();
  });

  it('lists no workspaces in a fresh instance', async () => {
    assert.deepEqual(await s.client.list(), []);
  });

  it('creates a workspace from an example folder, with progress, and sees CLI changes', async () => {
    const src = env.example('image');
    const name = `img-${process.pid}`;
    const progress: ProgressValue[] = [];
    const created = waitFor(s.client.onDidChange, (c) => c.name === name && c.workspace?.state === 'running', 60_000, 'created');
    const r = await withTimeout(
      s.client.create({ source: src, name, ide: 'vscode' }, { onProgress: (v) => progress.push(v) }),
      120_000,
      'create',
    );
    assert.equal(r.workspace.name, name);
    assert.equal(r.workspace.state, 'running');
    assert.equal(r.workspace.sshHost, `${name}.pitlane`);
    assert.deepEqual(r.workspace.source.local, true);
    assert.equal(r.open?.uri, `vscode-remote://ssh-remote+${name}.pitlane${r.workspace.folder}`);

    // One begin, reports, one end, all before the response.
    assert.equal(progress[0]?.kind, 'begin', JSON.stringify(progress.slice(0, 3)));
    assert.equal(progress[progress.length - 1]?.kind, 'end');
    const reports = progress.filter((p) => p.kind === 'report');
    assert.ok(reports.length >= 1, 'no progress reports');
    assert.equal(progress.filter((p) => p.kind === 'begin').length, 1);
    assert.equal(progress.filter((p) => p.kind === 'end').length, 1);
    // The example's postCreateCommand ran.
    assert.ok(fs.existsSync(path.join(src, '.pitlane-created')), 'postCreateCommand left no .pitlane-created');

    await created;
    const list = await s.client.list();
    assert.deepEqual(
      list.map((w) => [w.name, w.state]),
      [[name, 'running']],
    );

    // A stop typed in a terminal reaches the client as a change.
    const stopped = waitFor(s.client.onDidChange, (c) => c.name === name && c.kind === 'stopped', 30_000, 'stopped change');
    const cli = env.cli('stop', name);
    assert.equal(cli.status, 0, `pitlane stop: ${cli.stderr}`);
    const change = await stopped;
    assert.equal(change.workspace?.state, 'stopped');
    assert.equal((await s.client.list())[0].state, 'stopped');

    // And start and delete through the bridge.
    const started = await withTimeout(s.client.start(name), 60_000, 'start');
    assert.equal(started.state, 'running');
    // The log holds what the create wrote: its steps, as the progress showed them.
    assert.ok(
      progress.some((p) => p.kind === 'report' && p.message === 'Creating container'),
      `no "Creating container" step in the progress: ${JSON.stringify(reports.map((p) => p.message))}`,
    );
    const logs = await s.client.logs(name, 50);
    assert.ok(
      logs.lines.some((l) => l.endsWith('==> Creating container')),
      `no "Creating container" step in the log:\n${logs.lines.join('\n')}`,
    );
    const removed = waitFor(s.client.onDidChange, (c) => c.name === name && c.removed === true, 30_000, 'removed change');
    await s.client.delete(name);
    await removed;
    assert.deepEqual(await s.client.list(), []);
    assert.deepEqual(env.containers(), []);
  });

  it('cancels a create midway and leaves nothing behind', async () => {
    const marker = `pitlane-cancel-${process.pid}-${Date.now()}`;
    const src = env.slowSource(30, marker);
    const name = `cancel-${process.pid}`;
    const cts = new CancellationTokenSource();
    const progress: ProgressValue[] = [];
    const req = s.client.create(
      { source: src, name },
      {
        token: cts.token,
        onProgress: (v) => {
          progress.push(v);
          // Cancel once the image build is under way. Nothing else cancels:
          // when the build output never arrives, the create runs to its end
          // and the test fails.
          if (v.kind === 'report' && v.output === marker) {
            cts.cancel();
          }
        },
      },
    );
    await assert.rejects(withTimeout(req, 60_000, 'cancelled create'), (err: unknown) => {
      assert.ok(isCancelled(err), `expected a cancelled request, got ${err}`);
      return true;
    });
    assert.ok(
      progress.some((p) => p.kind === 'report' && p.output === marker),
      `the build's output line ${marker} never reached the progress: ${JSON.stringify(progress)}`,
    );

    assert.deepEqual(await s.client.list(), []);
    assert.deepEqual(env.containers(), []);
    const data = path.join(env.dir, 'data', 'pitlane', 'workspaces', name);
    assert.equal(fs.existsSync(data), false, `${data} was left behind`);
    // The engine removes the image build's step container too (asynchronously).
    let left = env.containersRunning(marker);
    for (let i = 0; i < 40 && left.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      left = env.containersRunning(marker);
    }
    assert.deepEqual(left, [], 'the build step container was left behind');
  });

  it('reports a missing workspace with code 1002 and its name', async () => {
    await assert.rejects(s.client.stop('no-such-workspace'), (err: unknown) => {
      assert.ok(err instanceof ResponseError);
      assert.equal(err.code, ErrorCode.notFound);
      assert.deepEqual(err.data, { workspace: 'no-such-workspace' });
      return true;
    });
  });
});
