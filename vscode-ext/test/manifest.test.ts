// The manifest: where the extension runs, the menus built from a workspace's
// actions, and what the marketplaces need to list the package.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { actionCommands, portContext, workspaceContext } from '../src/actions';
import { Action } from '../src/protocol';

const extDir = path.resolve(__dirname, '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(extDir, 'package.json'), 'utf8'));

interface MenuItem {
  command: string;
  when?: string;
  group?: string;
}

/** The regular expression a when clause applies to viewItem, if any. */
function viewItemRE(when: string | undefined): RegExp | undefined {
  const m = /viewItem =~ \/(.+?)\/(?:\s|$)/.exec(when ?? '');
  return m ? new RegExp(m[1]) : undefined;
}

/** The commands the item menu shows for a contextValue. */
function menuFor(contextValue: string): Set<string> {
  const items: MenuItem[] = manifest.contributes.menus['view/item/context'];
  return new Set(items.filter((i) => viewItemRE(i.when)?.test(contextValue)).map((i) => i.command));
}

describe('manifest', () => {
  it('runs the extension on the host in every window (extensionKind ui)', () => {
    assert.deepEqual(manifest.extensionKind, ['ui']);
  });

  it('has what the marketplaces list', () => {
    for (const k of ['name', 'displayName', 'description', 'version', 'publisher', 'license', 'icon', 'categories', 'repository']) {
      assert.ok(manifest[k], `package.json has no ${k}`);
    }
    assert.match(manifest.icon, /\.png$/, 'the marketplaces want a PNG icon');
    const png = fs.readFileSync(path.join(extDir, manifest.icon));
    assert.equal(png.subarray(1, 4).toString(), 'PNG');
    assert.ok(png.readUInt32BE(16) >= 128 && png.readUInt32BE(20) >= 128, 'the icon is at least 128x128');
    for (const f of ['README.md', 'CHANGELOG.md', 'LICENSE']) {
      assert.ok(fs.existsSync(path.join(extDir, f)), `${f} is missing`);
    }
    assert.match(fs.readFileSync(path.join(extDir, 'README.md'), 'utf8'), /^## Screenshots$/m);
    assert.match(fs.readFileSync(path.join(extDir, 'CHANGELOG.md'), 'utf8'), new RegExp(`^## ${manifest.version.replace(/\./g, '\\.')}$`, 'm'));
  });

  it('declares every command the menus name', () => {
    const declared = new Set(manifest.contributes.commands.map((c: { command: string }) => c.command));
    for (const [where, items] of Object.entries(manifest.contributes.menus as Record<string, MenuItem[]>)) {
      for (const i of items) {
        assert.ok(declared.has(i.command), `${where} names ${i.command}, which is not declared`);
      }
    }
    for (const a of Object.values(actionCommands)) {
      assert.ok(declared.has(a.command), `action command ${a.command} is not declared`);
    }
  });

  const cases: { state: string; actions: Action[] }[] = [
    { state: 'running', actions: ['open', 'stop', 'rebuild', 'delete', 'logs', 'ports'] },
    { state: 'stopped', actions: ['open', 'start', 'rebuild', 'delete', 'logs'] },
    { state: 'creating', actions: ['logs', 'cancel'] },
    { state: 'creating elsewhere', actions: ['logs'] },
    { state: 'error', actions: ['start', 'rebuild', 'delete', 'logs'] },
    { state: 'missing', actions: ['rebuild', 'delete', 'logs'] },
    { state: 'a version 1 bridge', actions: [] },
  ];
  for (const c of cases) {
    it(`offers exactly the actions of a workspace (${c.state}) in its menu`, () => {
      const shown = menuFor(workspaceContext({ actions: c.actions }));
      const want = new Set(c.actions.map((a) => actionCommands[a].command));
      if (c.actions.includes('open')) {
        want.add('pitlane.openNewWindow');
      }
      assert.deepEqual([...shown].sort(), [...want].sort());
    });
  }

  it('offers Stop Forwarding only on a forwarded port, Forward Port only on one that is not', () => {
    const forwarded = menuFor(portContext({ port: 3000, source: 'forwardPorts', forwarded: { localPort: 3000, url: 'http://127.0.0.1:3000/' } }));
    const plain = menuFor(portContext({ port: 3000, source: 'detected' }));
    assert.deepEqual([...forwarded].sort(), ['pitlane.openPortInBrowser', 'pitlane.stopForwarding']);
    assert.deepEqual([...plain].sort(), ['pitlane.forwardPort', 'pitlane.openPortInBrowser']);
  });

  it('packages with vsce', { timeout: 180_000 }, () => {
    if (!fs.existsSync(path.join(extDir, 'dist', 'extension.js'))) {
      const b = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: extDir, encoding: 'utf8' });
      assert.equal(b.status, 0, b.stderr);
    }
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pitlane-vsix-')), 'pitlane.vsix');
    try {
      const vsce = path.join(extDir, 'node_modules', '@vscode', 'vsce', 'vsce');
      const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--out', out], {
        cwd: extDir,
        encoding: 'utf8',
        timeout: 170_000,
      });
      assert.equal(r.status, 0, `vsce package failed:\n${r.stdout}\n${r.stderr}`);
      const ls = spawnSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: extDir, encoding: 'utf8' });
      const files = ls.stdout.split('\n').map((l) => l.trim());
      for (const f of ['package.json', 'dist/extension.js', 'README.md', 'CHANGELOG.md', 'LICENSE', manifest.icon]) {
        assert.ok(files.includes(f), `the package lacks ${f}: ${ls.stdout}`);
      }
      assert.ok(fs.statSync(out).size > 0);
    } finally {
      fs.rmSync(path.dirname(out), { recursive: true, force: true });
    }
  });
});

describe('README', () => {
  it('shows screenshots that exist', () => {
    const readme = fs.readFileSync(path.join(extDir, 'README.md'), 'utf8');
    const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);
    assert.ok(images.length >= 3, `the README shows ${images.length} screenshots`);
    for (const img of images) {
      assert.ok(fs.existsSync(path.join(extDir, img)), `${img} is missing`);
    }
  });
});
