// The VS Code glue that acts on its own, tested in Node: vscode is the
// recording stand-in test/fake-vscode.ts, and the bridge's client talks to a
// fake server on in-memory pipes.

import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { NotificationMessage, RequestMessage } from 'vscode-jsonrpc';
import * as vscode from 'vscode';
import { Bridge } from '../src/bridge';
import { Emitter } from 'vscode-jsonrpc';
import { ThisWorkspace } from '../src/here';
import { LogViews } from '../src/logs';
import { DidChangeParams, Workspace } from '../src/protocol';
import { pair } from './harness';

// The test build aliases 'vscode' to the stand-in; reach its recorder.
const fake = vscode as unknown as typeof import('./fake-vscode');

const log = { info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as vscode.LogOutputChannel;

/** What LogViews and ThisWorkspace use of a Bridge, on a fake server. */
function fakeBridge() {
  const p = pair();
  const changes = new Emitter<DidChangeParams>();
  const ready = new Emitter<unknown>();
  const bridge = {
    state: 'ready',
    get: async () => p.client,
    onLogAppended: p.client.onLogAppended,
    onPortsChanged: p.client.onPortsChanged,
    onDidChange: changes.event,
    onReady: ready.event,
  } as unknown as Bridge;
  return { p, bridge, changes, ready };
}

/** Answers the next request, after checking its method. */
async function answer(p: ReturnType<typeof pair>, method: string, result: unknown): Promise<RequestMessage> {
  const m = (await p.next()) as RequestMessage;
  assert.equal(m.method, method);
  await p.send({ jsonrpc: '2.0', id: m.id, result });
  return m;
}

const tick = () => new Promise((r) => setTimeout(r, 30));

function ws(name: string, state: Workspace['state']): Workspace {
  return { id: '1', name, state, source: { url: '/src/x' }, sshHost: `${name}.pitlane`, folder: `/workspaces/${name}`, image: 'i', createdAt: '2025-05-01T09:30:00Z' };
}

afterEach(() => {
  fake.recorded.channels.length = 0;
  fake.recorded.statusItems.length = 0;
  fake.recorded.commands.length = 0;
  fake.workspace.workspaceFolders = undefined;
});

describe('live logs', () => {
  it('follow a log into its channel and unfollow when the channel is disposed', async () => {
    const { p, bridge, changes } = fakeBridge();
    const views = new LogViews(bridge, log);
    try {
      const shown = views.show('fi');
      const req = await answer(p, 'workspace/logs', { path: '/l', lines: ['one', 'two'], followId: 'f7' });
      assert.deepEqual(req.params, { name: 'fi', follow: true });
      await shown;
      const ch = fake.recorded.channels.find((c) => c.name === 'Pitlane Log: fi')!;
      assert.equal(ch.text, 'one\ntwo\n');
      assert.equal(ch.shown, 1);
      assert.ok(views.following('fi'));

      await p.send({ jsonrpc: '2.0', method: 'workspace/logAppended', params: { followId: 'f7', name: 'fi', lines: ['three'] } });
      await p.send({ jsonrpc: '2.0', method: 'workspace/logAppended', params: { followId: 'other', name: 'x', lines: ['not mine'] } });
      await tick();
      assert.equal(ch.text, 'one\ntwo\nthree\n');

      // Show Logs again shows the same channel; it does not follow twice.
      await views.show('fi');
      assert.equal(fake.recorded.channels.filter((c) => c.name === 'Pitlane Log: fi').length, 1);
      assert.equal(ch.shown, 2);

      // Deleting the workspace disposes its channel, which unfollows.
      changes.fire({ name: 'fi', kind: 'deleted', removed: true });
      const unfollow = (await p.next()) as RequestMessage;
      assert.equal(unfollow.method, 'workspace/unfollowLogs');
      assert.deepEqual(unfollow.params, { followId: 'f7' });
      assert.ok(ch.disposed);
      assert.ok(!views.following('fi'));
    } finally {
      views.dispose();
      p.close();
    }
  });

  it('unfollow every log when the extension ends', async () => {
    const { p, bridge } = fakeBridge();
    const views = new LogViews(bridge, log);
    try {
      const shown = views.show('a');
      await answer(p, 'workspace/logs', { path: '/l', lines: [], followId: 'f1' });
      await shown;
      views.dispose();
      const m = (await p.next()) as NotificationMessage;
      assert.equal(m.method, 'workspace/unfollowLogs');
      assert.deepEqual(m.params, { followId: 'f1' });
      assert.ok(fake.recorded.channels.every((c) => c.disposed));
    } finally {
      p.close();
    }
  });

  it('say when the bridge cannot follow', async () => {
    const { p, bridge } = fakeBridge();
    const views = new LogViews(bridge, log);
    try {
      const shown = views.show('old');
      await answer(p, 'workspace/logs', { path: '/l', lines: ['only line'] });
      await shown;
      const ch = fake.recorded.channels[0];
      assert.match(ch.text, /only line\n.*cannot follow/);
      assert.ok(!views.following('old'));
    } finally {
      views.dispose();
      p.close();
    }
  });
});

describe('the workspace this window is in', () => {
  it('shows its name and state in the status bar and follows changes', async () => {
    fake.workspace.workspaceFolders = [{ uri: fake.fakeUri('vscode-remote://ssh-remote+fi.pitlane/workspaces/fi') }];
    const { p, bridge, changes } = fakeBridge();
    const here = new ThisWorkspace(bridge, log);
    try {
      assert.equal(here.name, 'fi');
      assert.deepEqual(fake.recorded.commands[0], { command: 'setContext', args: ['pitlane.inWorkspace', true] });
      await answer(p, 'workspace/list', { workspaces: [ws('other', 'stopped'), ws('fi', 'running')] });
      await tick();
      const item = fake.recorded.statusItems[0];
      assert.ok(item.visible);
      assert.equal(item.text, '$(vm) fi \u00b7 running');
      assert.equal(item.command, 'pitlane.thisWorkspaceActions');

      changes.fire({ name: 'other', kind: 'started', workspace: ws('other', 'running') });
      changes.fire({ name: 'fi', kind: 'stopped', workspace: ws('fi', 'stopped') });
      assert.equal(item.text, '$(vm) fi \u00b7 stopped');
      here.busy('rebuilding');
      assert.equal(item.text, '$(vm) fi \u00b7 rebuilding');
      changes.fire({ name: 'fi', kind: 'deleted', removed: true });
      assert.equal(item.text, '$(vm) fi \u00b7 deleted');
    } finally {
      here.dispose();
      p.close();
    }
  });

  it('stays hidden in a window that is not in a Pitlane workspace', () => {
    fake.workspace.workspaceFolders = [{ uri: fake.fakeUri('vscode-remote://ssh-remote+example.com/home/me') }];
    const { p, bridge } = fakeBridge();
    const here = new ThisWorkspace(bridge, log);
    try {
      assert.equal(here.name, undefined);
      assert.deepEqual(fake.recorded.commands[0], { command: 'setContext', args: ['pitlane.inWorkspace', false] });
      assert.ok(!fake.recorded.statusItems[0].visible);
    } finally {
      here.dispose();
      p.close();
    }
  });
});
