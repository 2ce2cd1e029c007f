// How workspaces read in the tree: order, description, tooltip.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actionItems, describePort } from '../src/actions';
import {
  describe as describeWs,
  describePrebuilt,
  detectNotice,
  repoName,
  sortWorkspaces,
  tooltip,
  trustDialog,
  unsavedDialog,
} from '../src/present';
import { Workspace } from '../src/protocol';

function ws(name: string, state: Workspace['state'], extra: Partial<Workspace> = {}): Workspace {
  return {
    id: '',
    name,
    state,
    source: { url: `https://example.com/acme/${name}.git` },
    sshHost: `${name}.pitlane`,
    folder: `/workspaces/${name}`,
    image: 'pitlane/base:bookworm',
    createdAt: '2025-05-01T09:00:00Z',
    ...extra,
  };
}

describe('presentation', () => {
  it('puts running workspaces first, then the most recently used', () => {
    const list = [
      ws('old', 'stopped', { lastUsedAt: '2025-05-02T00:00:00Z' }),
      ws('new', 'stopped', { lastUsedAt: '2025-05-09T00:00:00Z' }),
      ws('run-b', 'running'),
      ws('run-a', 'running'),
      ws('never', 'error'),
    ];
    assert.deepEqual(
      sortWorkspaces(list).map((w) => w.name),
      ['run-a', 'run-b', 'new', 'old', 'never'],
    );
  });

  it('names the repository of any kind of source', () => {
    assert.equal(repoName('https://example.com/acme/api.git'), 'api');
    assert.equal(repoName('git@example.com:acme/api.git'), 'api');
    assert.equal(repoName('/home/ada/notes/'), 'notes');
  });

  it('describes source, branch, state and last use', () => {
    const now = new Date('2025-05-01T10:00:00Z');
    assert.equal(
      describeWs(ws('api', 'running', { source: { url: 'https://example.com/acme/api.git', ref: 'main' }, lastUsedAt: '2025-05-01T09:55:00Z' }), now),
      'api@main \u00b7 used 5 min ago',
    );
    assert.equal(describeWs(ws('api', 'error'), now), 'error \u00b7 api \u00b7 never opened');
  });

  it('puts image, folder, ports and the last error in the tooltip', () => {
    const t = tooltip(ws('api', 'error', { ports: [8080, 3000], lastError: 'postStartCommand failed' }));
    assert.match(t, /Image: `pitlane\/base:bookworm`/);
    assert.match(t, /Folder: `\/workspaces\/api`/);
    assert.match(t, /Ports: `8080, 3000`/);
    assert.match(t, /postStartCommand failed/);
  });

  it('says a prebuilt image was found, with what it saves', () => {
    const key = '3f9a1c2b7d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8';
    assert.equal(describePrebuilt({ key, image: `pitlane/cache:${key}`, built: '2025-05-01T09:12:00Z' }), 'Prebuilt image found: 3f9a1c2b7d4e');
    assert.equal(
      describePrebuilt({ key, image: '', built: '', baked: ['onCreateCommand', 'updateContentCommand'], pulledFrom: 'registry.example.com/team/api' }),
      'Prebuilt image found: 3f9a1c2b7d4e (pulled from registry.example.com/team/api; already set up: onCreateCommand, updateContentCommand)',
    );
  });

  it('says what a source without a devcontainer.json gets', () => {
    const d = { kind: 'detected', message: 'no devcontainer.json: Pitlane will use a detected Go 1.24 + PostgreSQL setup' };
    assert.equal(detectNotice(d), 'No devcontainer.json: Pitlane will use a detected Go 1.24 + PostgreSQL setup.');
    assert.equal(
      detectNotice({ ...d, warnings: ['Python 3.12 ...', 'Java 21 ...'] }),
      'No devcontainer.json: Pitlane will use a detected Go 1.24 + PostgreSQL setup. 2 versions cannot be installed exactly: see the log.',
    );
    assert.equal(detectNotice({ kind: 'devcontainer', message: 'using .devcontainer/devcontainer.json' }), undefined);
  });
});

describe('trust and unsaved-work dialogs', () => {
  it('lists every item a configuration asks for, with who asks', () => {
    const d = trustDialog({
      source: 'https://example.com/acme/api.git',
      configPath: '.devcontainer/devcontainer.json',
      items: [
        { kind: 'initializeCommand', detail: './scripts/prepare-host.sh', from: 'devcontainer.json' },
        { kind: 'privileged', detail: 'privileged mode', from: 'ghcr.io/devcontainers/features/docker-in-docker:2' },
      ],
    });
    assert.match(d.detail, /\.devcontainer\/devcontainer\.json of https:\/\/example\.com\/acme\/api\.git/);
    assert.match(d.detail, /Run a command on this machine: \.\/scripts\/prepare-host\.sh \(asked by devcontainer\.json\)/);
    assert.match(d.detail, /privileged mode: privileged mode \(asked by ghcr\.io\/devcontainers\/features\/docker-in-docker:2\)/);
  });

  it('names an item kind it does not know as it is', () => {
    const d = trustDialog({ source: '/src/x', items: [{ kind: 'somethingNew', detail: 'd' }] });
    assert.match(d.detail, /somethingNew: d/);
  });

  it('lists the changes, stashes and commits a delete would lose', () => {
    const d = unsavedDialog('api', {
      clone: '/data/api/src',
      changes: [' M main.go', '?? notes.txt'],
      stashes: 2,
      unpushed: ['3f1c2a9 wip: retry the upload'],
      summary: '2 uncommitted changes, 2 stash entries and 1 commit on no remote',
    });
    assert.match(d.message, /Delete api/);
    assert.match(d.detail, /\/data\/api\/src/);
    assert.match(d.detail, /M main\.go/);
    assert.match(d.detail, /\?\? notes\.txt/);
    assert.match(d.detail, /2 stash entries/);
    assert.match(d.detail, /3f1c2a9 wip: retry the upload/);
  });
});

describe('action picks', () => {
  it('follow the bridge\u2019s actions in its order', () => {
    assert.deepEqual(
      actionItems({ actions: ['open', 'stop', 'logs'] }).map((i) => i.command),
      ['pitlane.open', 'pitlane.stop', 'pitlane.showLog'],
    );
    assert.deepEqual(actionItems({}), []);
  });

  it('describe a forwarded port with its local address', () => {
    const d = describePort({ port: 3000, label: 'web', source: 'forwardPorts', forwarded: { localPort: 3001, url: 'http://127.0.0.1:3001/' } });
    assert.equal(d.label, '3000 web');
    assert.match(d.description, /forwarded to 127\.0\.0\.1:3001/);
    assert.equal(describePort({ port: 8080, source: 'detected' }).description, 'listening');
  });
});
