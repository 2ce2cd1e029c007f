// The Remote-SSH choice for each VS Code fork, and recognizing a window
// connected to a Pitlane workspace.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseRemoteSSH, editorKind, remoteSSH, workspaceOfAuthority } from '../src/remote';

const installedOnly =
  (...ids: string[]) =>
  (id: string) =>
    ids.includes(id);

const forks = [
  { fork: 'VS Code', appName: 'Visual Studio Code', uriScheme: 'vscode', kind: 'vscode', want: remoteSSH.microsoft.id },
  { fork: 'VS Code Insiders', appName: 'Visual Studio Code - Insiders', uriScheme: 'vscode-insiders', kind: 'vscode', want: remoteSSH.microsoft.id },
  { fork: 'VSCodium', appName: 'VSCodium', uriScheme: 'vscodium', kind: 'vscodium', want: remoteSSH.openRemote.id },
  { fork: 'Cursor', appName: 'Cursor', uriScheme: 'cursor', kind: 'cursor', want: remoteSSH.cursor.id },
  { fork: 'Windsurf', appName: 'Windsurf', uriScheme: 'windsurf', kind: 'windsurf', want: remoteSSH.windsurf.id },
] as const;

describe('Remote-SSH per fork', () => {
  for (const f of forks) {
    it(`${f.fork}: uses its own extension when installed`, () => {
      assert.equal(editorKind(f), f.kind);
      const all = Object.values(remoteSSH).map((x) => x.id);
      // Everything installed: the fork's own extension wins.
      const c = chooseRemoteSSH(f, installedOnly(...all));
      assert.equal(c.kind, 'use');
      assert.equal(c.kind === 'use' && c.extension.id, f.want);
    });

    it(`${f.fork}: offers its own extension when none is installed`, () => {
      const c = chooseRemoteSSH(f, installedOnly());
      assert.equal(c.kind, 'install');
      assert.equal(c.kind === 'install' && c.extension.id, f.want);
      assert.ok(c.kind === 'install' && c.message.includes(f.want), c.kind === 'install' ? c.message : '');
    });
  }

  it('VSCodium does not use Microsoft\u2019s extension, which refuses to run there', () => {
    const c = chooseRemoteSSH({ appName: 'VSCodium', uriScheme: 'vscodium' }, installedOnly(remoteSSH.microsoft.id));
    assert.equal(c.kind, 'install');
    assert.equal(c.kind === 'install' && c.extension.id, remoteSSH.openRemote.id);
  });

  it('Cursor uses Microsoft\u2019s extension when that is what it has', () => {
    const c = chooseRemoteSSH({ appName: 'Cursor', uriScheme: 'cursor' }, installedOnly(remoteSSH.microsoft.id));
    assert.equal(c.kind === 'use' && c.extension.id, remoteSSH.microsoft.id);
  });

  it('an unknown editor uses a known extension that is installed', () => {
    const c = chooseRemoteSSH({ appName: 'code-server', uriScheme: 'code-oss' }, installedOnly(remoteSSH.openRemote.id));
    assert.equal(c.kind === 'use' && c.extension.id, remoteSSH.openRemote.id);
  });

  it('an unknown editor without one is told clearly that it has none', () => {
    const c = chooseRemoteSSH({ appName: 'code-server', uriScheme: 'code-oss' }, installedOnly());
    assert.equal(c.kind, 'none');
    assert.match(c.kind === 'none' ? c.message : '', /^code-server has no Remote-SSH extension/);
    assert.match(c.kind === 'none' ? c.message : '', /ssh/i);
  });
});

describe('the workspace of a remote window', () => {
  const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');
  const cases: [string | undefined, string | undefined][] = [
    ['ssh-remote+fi.pitlane', 'fi'],
    ['ssh-remote+my-api.pitlane', 'my-api'],
    ['ssh-remote+dev@my-api.pitlane', 'my-api'],
    [`ssh-remote+${hex(JSON.stringify({ hostName: 'web.pitlane' }))}`, 'web'],
    [`ssh-remote+${hex(JSON.stringify({ hostName: 'example.com' }))}`, undefined],
    ['ssh-remote+example.com', undefined],
    ['ssh-remote+fi.pitlane.example.com', undefined],
    ['wsl+Ubuntu', undefined],
    ['dev-container+abc', undefined],
    ['ssh-remote+$(touch x).pitlane', undefined],
    [undefined, undefined],
  ];
  for (const [authority, want] of cases) {
    it(`${authority} -> ${want}`, () => {
      assert.equal(workspaceOfAuthority(authority), want);
    });
  }
});
