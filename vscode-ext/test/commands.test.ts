// The commands' dialogs and hand-offs, with the recording vscode stand-in
// (test/fake-vscode.ts) and a fake server: trust and unsaved-work modals and
// their retries, the reconnect after rebuilding the window's own workspace,
// and the Remote-SSH hand-off per editor.

import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Emitter, RequestMessage } from 'vscode-jsonrpc';
import * as vscode from 'vscode';
import { Bridge } from '../src/bridge';
import { Commands } from '../src/commands';
import { ThisWorkspace } from '../src/here';
import { WorkspaceTree } from '../src/tree';
import { Workspace } from '../src/protocol';
import { pair } from './harness';

const fake = vscode as unknown as typeof import('./fake-vscode');
const log = { info: () => undefined, warn: () => undefined, error: () => undefined, show: () => undefined } as unknown as vscode.LogOutputChannel;

function ws(name: string, state: Workspace['state']): Workspace {
  return { id: '1', name, state, source: { url: '/src/x' }, sshHost: `${name}.pitlane`, folder: `/workspaces/${name}`, image: 'i', createdAt: '2025-05-01T09:30:00Z' };
}

/** Commands on a fake server; here is the window's own workspace, if any. */
function setup(here: Partial<ThisWorkspace> = {}) {
  const p = pair();
  const bridge = {
    state: 'ready',
    get: async () => p.client,
    onLogAppended: p.client.onLogAppended,
    onPortsChanged: p.client.onPortsChanged,
    onDidChange: new Emitter().event,
    onReady: new Emitter().event,
  } as unknown as Bridge;
  const upserted: Workspace[] = [];
  const tree = { get: () => undefined, setPending: () => undefined, upsert: (w: Workspace) => upserted.push(w), setPorts: () => undefined } as unknown as WorkspaceTree;
  const context = { subscriptions: [] as { dispose(): void }[], globalState: { get: (_: string, d: unknown) => d, update: async () => undefined } };
  const hereObj = { name: undefined, uri: undefined, busy: () => undefined, refresh: async () => undefined, ...here } as unknown as ThisWorkspace;
  new Commands(context as unknown as vscode.ExtensionContext, bridge, tree, log, hereObj).register();
  const run = (id: string, ...args: unknown[]) => {
    const fn = fake.registered.get(id);
    assert.ok(fn, `${id} is not registered`);
    return Promise.resolve(fn(...args));
  };
  return {
    p,
    run,
    upserted,
    close() {
      for (const d of context.subscriptions) {
        d.dispose();
      }
      p.close();
    },
  };
}

async function request(p: ReturnType<typeof pair>, method: string): Promise<RequestMessage> {
  const m = (await p.next()) as RequestMessage;
  assert.equal(m.method, method);
  return m;
}

const reply = (p: ReturnType<typeof pair>, m: RequestMessage, result: unknown) => p.send({ jsonrpc: '2.0', id: m.id, result });
const fail = (p: ReturnType<typeof pair>, m: RequestMessage, code: number, data: unknown) =>
  p.send({ jsonrpc: '2.0', id: m.id, error: { code, message: 'refused', data } });

const trust = {
  workspace: 'fi',
  trust: {
    source: 'https://example.com/acme/api.git',
    configPath: '.devcontainer/devcontainer.json',
    items: [{ kind: 'initializeCommand', detail: './scripts/prepare-host.sh', from: 'devcontainer.json' }],
  },
};

afterEach(() => {
  fake.recorded.messages.length = 0;
  fake.recorded.commands.length = 0;
  fake.answers.length = 0;
  fake.installed.clear();
  fake.registered.clear();
  fake.env.appName = 'Visual Studio Code';
  fake.env.uriScheme = 'vscode';
});

describe('trust', () => {
  it('shows what the configuration asks and retries with trust on "Trust and Continue"', async () => {
    const s = setup();
    try {
      fake.answers.push('Trust and Continue');
      const done = s.run('pitlane.start', 'fi');
      const first = await request(s.p, 'workspace/start');
      assert.equal((first.params as { trust?: boolean }).trust, undefined, 'the first try carries no trust');
      await fail(s.p, first, 1010, trust);
      const second = await request(s.p, 'workspace/start');
      assert.equal((second.params as { trust?: boolean; name: string }).trust, true);
      await reply(s.p, second, { workspace: ws('fi', 'running') });
      await done;
      const modal = fake.recorded.messages.find((m) => m.items.includes('Trust and Continue'))!;
      assert.ok(modal, 'no trust modal');
      assert.deepEqual((modal.options as { modal: boolean }).modal, true);
      assert.match((modal.options as { detail: string }).detail, /\.\/scripts\/prepare-host\.sh/);
      assert.equal(s.upserted[0]?.state, 'running');
    } finally {
      s.close();
    }
  });

  it('sends nothing more when the user cancels the modal', async () => {
    const s = setup();
    try {
      fake.answers.push(undefined);
      const done = s.run('pitlane.rebuild', 'fi');
      await fail(s.p, await request(s.p, 'workspace/rebuild'), 1010, trust);
      await done;
      await assert.rejects(s.p.next(300), /sent nothing/);
      assert.ok(fake.recorded.messages.some((m) => /not trusted/.test(m.text)));
    } finally {
      s.close();
    }
  });
});

describe('delete', () => {
  it('lists unsaved work after the confirmation and retries with discardChanges on "Delete Anyway"', async () => {
    const s = setup();
    try {
      fake.answers.push('Delete', 'Delete Anyway');
      const done = s.run('pitlane.delete', 'fi');
      const first = await request(s.p, 'workspace/delete');
      assert.deepEqual(first.params, { name: 'fi' });
      await fail(s.p, first, 1011, {
        workspace: 'fi',
        unsaved: { clone: '/data/fi/src', changes: [' M main.go'], unpushed: ['3f1c2a9 wip'], summary: '1 uncommitted change and 1 commit on no remote' },
      });
      const second = await request(s.p, 'workspace/delete');
      assert.deepEqual(second.params, { name: 'fi', discardChanges: true });
      await reply(s.p, second, null);
      await done;
      const [confirm, unsaved] = fake.recorded.messages.filter((m) => (m.options as { modal?: boolean })?.modal);
      assert.match(confirm.text, /Delete the workspace fi\?/);
      assert.match((unsaved.options as { detail: string }).detail, /M main\.go[\s\S]*3f1c2a9 wip/);
    } finally {
      s.close();
    }
  });

  it('keeps the workspace when the user does not confirm the loss', async () => {
    const s = setup();
    try {
      fake.answers.push('Delete', undefined);
      const done = s.run('pitlane.delete', 'fi');
      await fail(s.p, await request(s.p, 'workspace/delete'), 1011, { workspace: 'fi', unsaved: { clone: '/c', stashes: 1, summary: '1 stash entry' } });
      await done;
      await assert.rejects(s.p.next(300), /sent nothing/);
    } finally {
      s.close();
    }
  });
});

describe('the window\u2019s own workspace', () => {
  it('reopens the same folder after Rebuild This Workspace', async () => {
    const folder = fake.fakeUri('vscode-remote://ssh-remote+fi.pitlane/workspaces/fi');
    const s = setup({ name: 'fi', uri: folder as unknown as vscode.Uri });
    try {
      const done = s.run('pitlane.rebuildThisWorkspace');
      const m = await request(s.p, 'workspace/rebuild');
      assert.equal((m.params as { name: string }).name, 'fi');
      await reply(s.p, m, { workspace: ws('fi', 'running') });
      await done;
      const open = fake.recorded.commands.find((c) => c.command === 'vscode.openFolder');
      assert.ok(open, 'the window did not reconnect');
      assert.equal(open.args[0], folder);
      assert.deepEqual(open.args[1], { forceReuseWindow: true });
    } finally {
      s.close();
    }
  });

  it('does not reopen the window after rebuilding another workspace', async () => {
    const s = setup({ name: 'fi', uri: fake.fakeUri('vscode-remote://ssh-remote+fi.pitlane/workspaces/fi') as unknown as vscode.Uri });
    try {
      const done = s.run('pitlane.rebuild', 'other');
      await reply(s.p, await request(s.p, 'workspace/rebuild'), { workspace: ws('other', 'running') });
      await done;
      assert.ok(!fake.recorded.commands.some((c) => c.command === 'vscode.openFolder'));
    } finally {
      s.close();
    }
  });
});

describe('open', () => {
  const opened = { ide: 'vscode', uri: 'vscode-remote://ssh-remote+fi.pitlane/workspaces/fi', sshHost: 'fi.pitlane', folder: '/workspaces/fi' };

  for (const [appName, uriScheme, id] of [
    ['Visual Studio Code', 'vscode', 'ms-vscode-remote.remote-ssh'],
    ['VSCodium', 'vscodium', 'jeanp413.open-remote-ssh'],
    ['Cursor', 'cursor', 'anysphere.remote-ssh'],
    ['Windsurf', 'windsurf', 'codeium.windsurf-remote-openssh'],
  ]) {
    it(`${appName}: hands the URI over with ${id} installed, offers ${id} without it`, async () => {
      fake.env.appName = appName;
      fake.env.uriScheme = uriScheme;
      const s = setup();
      try {
        fake.installed.add(id);
        let done = s.run('pitlane.open', 'fi');
        await reply(s.p, await request(s.p, 'workspace/open'), opened);
        await done;
        const open = fake.recorded.commands.find((c) => c.command === 'vscode.openFolder');
        assert.equal(String(open?.args[0]), opened.uri);

        fake.installed.clear();
        fake.recorded.commands.length = 0;
        fake.answers.push(undefined);
        done = s.run('pitlane.open', 'fi');
        await reply(s.p, await request(s.p, 'workspace/open'), opened);
        await done;
        const offer = fake.recorded.messages.at(-1)!;
        assert.match(offer.text, new RegExp(id.replace(/\./g, '\\.')));
        assert.equal(offer.items.length, 1);
        assert.match(offer.items[0], /^Install /);
        assert.ok(!fake.recorded.commands.some((c) => c.command === 'vscode.openFolder'));
      } finally {
        s.close();
      }
    });
  }

  it('says an editor without a Remote-SSH extension has none', async () => {
    fake.env.appName = 'Some Editor';
    fake.env.uriScheme = 'some-editor';
    const s = setup();
    try {
      fake.answers.push(undefined);
      const done = s.run('pitlane.open', 'fi');
      await reply(s.p, await request(s.p, 'workspace/open'), opened);
      await done;
      const m = fake.recorded.messages.at(-1)!;
      assert.equal(m.kind, 'error');
      assert.match(m.text, /Some Editor has no Remote-SSH extension/);
      assert.deepEqual(m.items, ['Copy SSH Command']);
    } finally {
      s.close();
    }
  });
});

describe('create', () => {
  const providers = [
    { name: 'local', kind: 'docker', default: true, description: 'Docker on this machine' },
    { name: 'dev', kind: 'kubernetes', default: false, description: 'context kind-dev, namespace ws' },
  ];

  /** Runs Create Workspace on a git URL; provider answers provider/list. */
  async function create(providerAnswer: (s: ReturnType<typeof setup>, m: RequestMessage) => Promise<void>, choice?: string) {
    const s = setup();
    try {
      fake.window.picks.length = 0;
      fake.answers.push('Git repository URL', 'file:///src/api.git', 'main');
      if (choice !== undefined) {
        fake.answers.push(choice);
      }
      const done = s.run('pitlane.createWorkspace');
      await reply(s.p, await request(s.p, 'workspace/configs'), { configs: ['.devcontainer/devcontainer.json'] });
      await providerAnswer(s, await request(s.p, 'provider/list'));
      const m = await request(s.p, 'workspace/create');
      await reply(s.p, m, { workspace: ws('api', 'running') });
      fake.answers.push(undefined); // the "Open" question after create
      await done;
      return m.params as { source: string; branch?: string; provider?: string };
    } finally {
      s.close();
    }
  }

  it('asks nothing about providers when the bridge has no provider/list', async () => {
    const params = await create((s, m) => s.p.send({ jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'method not found' } }));
    assert.equal(params.source, 'file:///src/api.git');
    assert.equal(params.branch, 'main');
    assert.ok(!('provider' in params));
    assert.ok(!fake.window.picks.some((p) => p.items.includes('dev')));
  });

  it('asks nothing with one provider', async () => {
    const params = await create((s, m) => reply(s.p, m, { providers: [providers[0]] }));
    assert.ok(!('provider' in params));
    assert.ok(!fake.window.picks.some((p) => p.items.includes('local')));
  });

  it('asks with several, the default preselected, and sends the one picked', async () => {
    const params = await create((s, m) => reply(s.p, m, { providers }), 'dev');
    const pick = fake.window.picks.find((p) => p.items.includes('dev'))!;
    assert.deepEqual(pick.items, ['local', 'dev']);
    assert.deepEqual(pick.active, ['local']);
    assert.equal(params.provider, 'dev');
  });

  it('sends no provider when the default is picked', async () => {
    const params = await create((s, m) => reply(s.p, m, { providers }), '');
    assert.ok(!('provider' in params));
  });
});
