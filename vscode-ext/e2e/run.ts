// End-to-end test of the packaged extension in a real VS Code: code-server
// (VS Code in the browser), driven through Chromium with playwright-core,
// against the real `pitlane bridge` and Docker engine. It installs
// dist/pitlane.vsix and drives every action from the UI: create from a local
// folder (following its log live while a hook runs) and from a file:// git
// URL with a branch (trusting its initializeCommand in a modal), the
// workspace's ports (forward one and fetch a page through it), open (the URI
// handed to the Remote-SSH extension), stop, start, rebuild, "Go to
// Workspace...", cancel a create, delete with its confirmation and the
// unsaved-work dialog, and the settings. Screenshots go to e2e-artifacts/ (or
// $PITLANE_E2E_ARTIFACTS).

import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Page, chromium } from 'playwright-core';

const extDir = path.resolve(__dirname, '..', '..');
const repoRoot = path.resolve(extDir, '..');
const csDir = path.join(process.env.PITLANE_E2E_DIR || path.join(extDir, '.e2e'), 'code-server');
const codeServer = path.join(csDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const vsix = path.join(extDir, 'dist', 'pitlane.vsix');
const artifacts = process.env.PITLANE_E2E_ARTIFACTS || path.join(extDir, 'e2e-artifacts');
const pitlane = process.env.PITLANE_BIN || path.join(repoRoot, 'bin', 'pitlane');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const pageText = 'served-from-the-pitlane-workspace';
/** Steps to leave out while working on the test (PITLANE_E2E_SKIP=logs,ports); CI runs all. */
const skip = new Set((process.env.PITLANE_E2E_SKIP ?? '').split(',').filter(Boolean));
const ticks = 12;

let step = 0;
const started = Date.now();

function log(msg: string): void {
  console.log(`[e2e ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
}

async function shot(page: Page, name: string): Promise<void> {
  step++;
  const file = path.join(artifacts, `${String(step).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file });
  log(`screenshot ${path.relative(extDir, file)}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) {
        return v;
      }
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${last}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

function dockerAnswers(): boolean {
  return spawnSync('docker', ['version'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

/** Runs a command from the command palette, retrying until the extension has registered it. */
async function runCommand(page: Page, title: string): Promise<void> {
  await until(`the command "${title}" in the palette`, 60_000, async () => {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 5000 });
    await input.fill(`>${title}`);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    try {
      await row.waitFor({ state: 'visible', timeout: 3000 });
    } catch {
      return false;
    }
    await input.press('Enter');
    return true;
  });
}

async function main(): Promise<number> {
  if (!dockerAnswers()) {
    if (process.env.PITLANE_REQUIRE_DOCKER === '1') {
      console.error('e2e: PITLANE_REQUIRE_DOCKER=1 but no Docker engine answers');
      return 1;
    }
    console.log('e2e: skipped: no Docker engine answers (set PITLANE_REQUIRE_DOCKER=1 to fail instead)');
    return 0;
  }
  for (const [what, file, fix] of [
    ['code-server', codeServer, 'npm run e2e:install'],
    ['the packaged extension', vsix, 'npm run package'],
    ['the pitlane binary', pitlane, 'go build -o bin/pitlane ./cmd/pitlane (at the repository root)'],
    ['Chromium', chromiumPath, 'apt-get install chromium'],
  ]) {
    if (!fs.existsSync(file)) {
      console.error(`e2e: ${what} is missing (${file}); run: ${fix}`);
      return 1;
    }
  }

  fs.rmSync(artifacts, { recursive: true, force: true });
  fs.mkdirSync(artifacts, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pitlane-e2e-'));
  const d = (n: string) => {
    const p = path.join(tmp, n);
    fs.mkdirSync(p, { recursive: true });
    return p;
  };
  const userData = d('user-data');
  const extensions = d('extensions');
  const instance = `vscode-e2e-${process.pid}-${Date.now().toString(36)}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PITLANE_INSTANCE: instance,
    HOME: d('home'),
    XDG_DATA_HOME: d('xdg-data'),
    XDG_CONFIG_HOME: d('xdg-config'),
    XDG_CACHE_HOME: d('xdg-cache'),
    // The test turns telemetry on for a moment: keep anything it sends on this machine.
    PITLANE_TELEMETRY_ENDPOINT: 'http://127.0.0.1:9/v1/metrics',
  };
  const config = path.join(tmp, 'code-server.yaml');
  fs.writeFileSync(config, 'auth: none\ncert: false\n');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(userData, 'User', 'settings.json'),
    JSON.stringify(
      {
        'security.workspace.trust.enabled': false,
        'terminal.integrated.gpuAcceleration': 'off',
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'pitlane.path': pitlane,
        // The extension is "ui" (it runs beside the editor, on the user's
        // machine). code-server's UI is a browser tab that cannot spawn
        // processes; its server is this machine, so run the extension there.
        'remote.extensionKind': { 'pitlane.pitlane': ['workspace'] },
      },
      null,
      2,
    ),
  );
  // The folder VS Code opens, and the sources to create workspaces from.
  const project = d('project');
  fs.writeFileSync(path.join(project, 'README.md'), 'A folder for the Pitlane end-to-end test.\n');
  const suffix = Math.random().toString(36).slice(2, 7);
  // A local folder whose create runs a hook that prints a line a second (for
  // the live log) and whose container serves a page on port 8080.
  const source = path.join(tmp, `e2e-${suffix}`);
  fs.mkdirSync(path.join(source, '.devcontainer'), { recursive: true });
  fs.writeFileSync(
    path.join(source, '.devcontainer', 'serve.pl'),
    [
      'use IO::Socket::INET;',
      'my $s = IO::Socket::INET->new(LocalPort => 8080, Listen => 5, ReuseAddr => 1) or die "listen: $!";',
      // Read the whole request first: closing a socket with unread bytes resets the connection.
      'while (my $c = $s->accept) { while (my $l = <$c>) { last if $l =~ /^\\r?$/; } print $c "HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\n' + pageText + '\\n"; close $c; }',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(
    path.join(source, '.devcontainer', 'devcontainer.json'),
    JSON.stringify(
      {
        name: 'e2e',
        image: 'pitlane/base:bookworm',
        forwardPorts: [8080],
        postCreateCommand: `bash -c 'for i in $(seq 1 ${ticks}); do echo tick-$i; sleep 1; done'`,
        postStartCommand: 'setsid perl .devcontainer/serve.pl </dev/null >/dev/null 2>&1 &',
      },
      null,
      2,
    ),
  );
  // A git repository, created from by its file:// URL on a branch.
  const repo = path.join(tmp, `repo-${suffix}`);
  fs.mkdirSync(path.join(repo, '.devcontainer'), { recursive: true });
  // Its initializeCommand runs on this machine: creating it asks for trust first.
  const trustMarker = path.join(tmp, `trusted-${suffix}`);
  fs.writeFileSync(
    path.join(repo, '.devcontainer', 'devcontainer.json'),
    JSON.stringify({ image: 'pitlane/base:bookworm', initializeCommand: `touch ${trustMarker}` }),
  );
  const git = (...args: string[]) => {
    const r = spawnSync('git', ['-C', repo, '-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', ...args], { encoding: 'utf8' });
    if (r.status !== 0) {
      throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    }
  };
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'devcontainer');
  git('checkout', '-q', '-b', 'feature');
  fs.writeFileSync(path.join(repo, 'FEATURE'), 'on the feature branch\n');
  git('add', '.');
  git('commit', '-q', '-m', 'feature');
  git('checkout', '-q', 'main');
  const repoURL = `file://${repo}`;
  // A source whose setup runs for minutes: its create gets cancelled.
  const slow = path.join(tmp, `slow-${suffix}`);
  fs.mkdirSync(path.join(slow, '.devcontainer'), { recursive: true });
  fs.writeFileSync(
    path.join(slow, '.devcontainer', 'devcontainer.json'),
    JSON.stringify({ image: 'pitlane/base:bookworm', postCreateCommand: 'echo setting up; sleep 300' }),
  );

  const csArgs = ['--user-data-dir', userData, '--extensions-dir', extensions, '--config', config];
  log(`installing ${path.relative(extDir, vsix)} into code-server`);
  const inst = spawnSync(process.execPath, [codeServer, ...csArgs, '--install-extension', vsix], {
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (inst.status !== 0 || !/successfully installed/i.test(inst.stdout + inst.stderr)) {
    console.error(`e2e: installing the extension failed:\n${inst.stdout}\n${inst.stderr}`);
    return 1;
  }

  // code-server has no Remote-SSH extension. A stand-in with the id of the
  // Open VSX one makes the extension hand it the workspace's URI, which the
  // test then reads from the window code-server opens.
  const stub = makeRemoteSSHStub(d('stub'));
  const instStub = spawnSync(process.execPath, [codeServer, ...csArgs, '--install-extension', stub], {
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (instStub.status !== 0) {
    console.error(`e2e: installing the Remote-SSH stand-in failed:\n${instStub.stdout}\n${instStub.stderr}`);
    return 1;
  }

  const port = await freePort();
  const csLog = fs.openSync(path.join(artifacts, 'code-server.log'), 'w');
  log(`starting code-server on 127.0.0.1:${port}`);
  const cs: ChildProcess = spawn(
    process.execPath,
    [
      codeServer,
      ...csArgs,
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      project,
    ],
    { env, stdio: ['ignore', csLog, csLog], detached: true },
  );

  const browserProfile = d('chromium');
  let failed = false;
  let name = '';
  const names: string[] = [];
  const cliState = async (n: string, want: string | undefined) => {
    const cli = spawnSync(pitlane, ['list', '--json'], { env, encoding: 'utf8' });
    const listed = JSON.parse(cli.stdout || '[]');
    const rows: { name: string; state: string }[] = Array.isArray(listed) ? listed : (listed.workspaces ?? []);
    const got = rows.find((w) => w.name === n)?.state;
    if (got !== want) {
      throw new Error(`pitlane list says ${n} is ${got ?? 'missing'}, not ${want ?? 'missing'}: ${cli.stdout}${cli.stderr}`);
    }
  };
  const context = await chromium.launchPersistentContext(browserProfile, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  try {
    await until('code-server to answer', 60_000, async () => {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      return r?.ok;
    });
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(project)}`);
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    log('the workbench is up');
    await shot(page, 'workbench');

    // 0. The Pitlane view starts the bridge and shows its welcome for an empty list.
    await page.locator('.activitybar a[aria-label^="Pitlane"]').first().click();
    await page.locator('.welcome-view-content', { hasText: 'No workspaces yet' }).waitFor({ timeout: 30_000 });
    log('the Pitlane view shows the welcome for an empty list');
    await shot(page, 'sidebar-empty');

    const row = (n: string, state: string) => page.locator(`.monaco-list-row[aria-label="${n}, ${state}"]`);
    const anyRow = (n: string) => page.locator(`.monaco-list-row[aria-label^="${n}, "]`);
    const toast = (text: string | RegExp) => page.locator('.notifications-toasts .notification-toast', { hasText: text });
    /** Right-clicks a row and runs an entry of its context menu. */
    const menu = async (target: ReturnType<Page['locator']>, entry: string, shotName?: string) => {
      await target.first().click({ button: 'right' });
      const item = page.getByRole('menuitem', { name: entry, exact: true });
      await item.waitFor({ timeout: 10_000 });
      if (shotName) {
        await shot(page, shotName);
      }
      await item.click();
      // A redraw of the tree right before the click can leave the menu open:
      // the entry is focused then, and Enter runs it.
      const menuBox = page.locator('.context-view .monaco-menu');
      if (!(await menuBox.waitFor({ state: 'hidden', timeout: 2000 }).then(() => true, () => false))) {
        await item.focus().catch(() => undefined);
        await page.keyboard.press('Enter');
        await menuBox.waitFor({ state: 'hidden', timeout: 5000 });
      }
    };
    const closeToasts = async () => {
      await runCommand(page, 'Notifications: Clear All Notifications').catch(() => undefined);
    };
    const pitlaneLogOf = (n: string) => {
      const r = spawnSync(pitlane, ['logs', n], { env, encoding: 'utf8', timeout: 30_000 });
      return r.stdout ?? '';
    };
    const pitlaneLog = () =>
      findFiles(path.join(userData, 'logs'), /^Pitlane\.log$/)
        .map((f) => fs.readFileSync(f, 'utf8'))
        .join('\n');

    // 1. Create Workspace from the command palette, on a local folder.
    await createFromFolder(page, source, 'create');
    log(`creating a workspace from ${source}`);

    // 2. While its hook runs, Show Logs (offered while creating) follows the log live.
    const creating = page.locator('.monaco-list-row[aria-label$=", creating"]').first();
    await creating.waitFor({ timeout: 60_000 });
    name = (await creating.getAttribute('aria-label'))!.replace(/, creating$/, '');
    names.push(name);
    log(`the view shows ${name} creating`);
    if (skip.has('logs')) {
      log('SKIPPED: the live log (PITLANE_E2E_SKIP)');
    } else {
    await menu(creating, 'Show Logs', 'creating-menu');
    const output = page.locator('.part.panel .view-lines');
    const firstTick = await until('a tick line in the followed log', 60_000, async () => {
      const text = await output.innerText();
      const m = [...text.matchAll(/tick-(\d+)/g)].map((x) => Number(x[1]));
      return m.length ? Math.max(...m) : undefined;
    });
    if (firstTick >= ticks) {
      throw new Error(`the log showed tick-${firstTick} at once: the hook was over before the log was followed`);
    }
    await shot(page, 'logs-following');
    await until(`tick-${ticks} to arrive in the open log`, 60_000, async () => (await output.innerText()).includes(`tick-${ticks}`));
    log(`the followed log went from tick-${firstTick} to tick-${ticks} without being opened again`);
    await shot(page, 'logs-followed');
    }

    await toast(/workspace .* is running/).waitFor({ timeout: 180_000 });
    await row(name, 'running').waitFor({ timeout: 30_000 });
    log(`the Pitlane view shows ${name} running`);
    await shot(page, 'sidebar-running');
    await closeToasts();

    // 3. Ports: expand the workspace, forward 8080 and fetch the page through it.
    if (skip.has('ports')) {
      log('SKIPPED: ports (PITLANE_E2E_SKIP)');
    } else {
    await row(name, 'running').locator('.monaco-tl-twistie').click();
    const portRow = page.locator('.monaco-list-row[aria-label^="port 8080"]').first();
    await portRow.waitFor({ timeout: 30_000 });
    await menu(portRow, 'Forward Port', 'port-menu');
    const fwd = toast(/forwarded to/);
    await fwd.waitFor({ timeout: 30_000 });
    const fwdText = (await fwd.first().innerText()).replace(/\s+/g, ' ');
    const url = /(http:\/\/127\.0\.0\.1:\d+\/?)/.exec(fwdText)?.[1];
    if (!url) {
      throw new Error(`no URL in "${fwdText}"`);
    }
    const body = await until(`a page from ${url}`, 30_000, async () => {
      if (process.env.PITLANE_E2E_DEBUG) {
        const id = spawnSync('docker', ['ps', '-q', '--filter', `label=dev.pitlane.instance=${instance}`], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
        log(spawnSync('docker', ['exec', id, 'sh', '-c', 'ps aux; cat /proc/net/tcp'], { encoding: 'utf8' }).stdout);
        const u = new URL(url);
        const raw = await new Promise<string>((resolve) => {
          const sock = net.connect(Number(u.port), u.hostname, () => sock.write('GET / HTTP/1.0\r\nHost: x\r\n\r\n'));
          let data = '';
          sock.on('data', (b) => (data += b.toString('latin1')));
          sock.on('close', () => resolve(data));
          sock.on('error', (e) => resolve(`${data} [error ${e}]`));
        });
        log(`raw answer: ${JSON.stringify(raw)}`);
      }
      const r = await fetch(url).catch((err) => {
        throw new Error(`${err} (${err?.cause ?? 'no cause'})`);
      });
      if (!r.ok) {
        throw new Error(`${url} answered ${r.status}`);
      }
      return r.text();
    });
    if (!body.includes(pageText)) {
      throw new Error(`${url} answered "${body}", not the workspace's page`);
    }
    await page.locator('.monaco-list-row[aria-label*="forwarded to 127.0.0.1"]').first().waitFor({ timeout: 20_000 });
    log(`port 8080 forwarded to ${url}; the page came through`);
    await shot(page, 'port-forwarded');
    await closeToasts();
    await menu(page.locator('.monaco-list-row[aria-label^="port 8080"]'), 'Stop Forwarding');
    await until(`${url} to stop answering`, 20_000, async () => !(await fetch(url).then(() => true, () => false)));
    log('Stop Forwarding closed the local port');
    }

    // 4. Open in New Window: the URI goes to the Remote-SSH extension (here the stand-in).
    const opened = context.waitForEvent('page', { timeout: 30_000 });
    await menu(row(name, 'running'), 'Open in New Window');
    const win = await opened;
    await until('the new window to have its address', 10_000, async () => win.url() !== 'about:blank');
    const want = `vscode-remote://ssh-remote+${name}.pitlane/`;
    const line = await until('the open in the extension log', 10_000, async () =>
      /opening (vscode-remote:\/\/\S+) with (\S+) in a new window/.exec(pitlaneLog()) ?? undefined,
    );
    if (!line[1].startsWith(want) || line[2] !== 'jeanp413.open-remote-ssh') {
      throw new Error(`the extension opened ${line[1]} with ${line[2]}, not ${want}... with jeanp413.open-remote-ssh`);
    }
    // code-server has no remote resolvers: it opens the URI's folder on its own machine.
    const folder = new URL(win.url()).searchParams.get('folder');
    if (folder !== new URL(line[1]).pathname) {
      throw new Error(`the new window opened ${win.url()}, not the folder of ${line[1]}`);
    }
    log(`Open handed ${line[1]} to ${line[2]}`);
    await win.close();

    // 5. Stop, start and rebuild from the item's menu.
    await menu(row(name, 'running'), 'Stop', 'item-menu');
    await row(name, 'stopped').waitFor({ timeout: 60_000 });
    await cliState(name, 'stopped');
    log(`stopped ${name}`);
    await shot(page, 'sidebar-stopped');
    await menu(row(name, 'stopped'), 'Start');
    await row(name, 'running').waitFor({ timeout: 60_000 });
    await cliState(name, 'running');
    log(`started ${name}`);
    await menu(row(name, 'running'), 'Rebuild');
    await toast(`${name} was rebuilt`).waitFor({ timeout: 180_000 });
    await row(name, 'running').waitFor({ timeout: 30_000 });
    log(`rebuilt ${name}`);
    await shot(page, 'rebuilt');
    await closeToasts();

    // 6. Go to Workspace...: search, then pick from what the workspace allows.
    await runCommand(page, 'Pitlane: Go to Workspace…');
    const qi = page.locator('.quick-input-widget');
    await qi.locator('input').fill(name.slice(0, Math.max(3, name.length - 2)));
    await qi.locator('.monaco-list-row', { hasText: name }).first().waitFor({ timeout: 10_000 });
    await shot(page, 'go-to-workspace');
    await qi.locator('input').press('Enter');
    const stopItem = qi.locator('.monaco-list-row', { hasText: 'Stop' }).first();
    await stopItem.waitFor({ timeout: 10_000 });
    await shot(page, 'go-to-workspace-actions');
    if (await qi.locator('.monaco-list-row', { hasText: /^\s*Start\s*$/ }).count()) {
      throw new Error('the actions of a running workspace offer Start');
    }
    await stopItem.click();
    await row(name, 'stopped').waitFor({ timeout: 60_000 });
    log(`Go to Workspace found ${name} and stopped it`);

    // 7. Create from a file:// git URL on a branch.
    await runCommand(page, 'Pitlane: Create Workspace');
    await qi.locator('.monaco-list-row', { hasText: 'Git repository URL...' }).click();
    await qi.locator('input').fill(repoURL);
    await qi.locator('input').press('Enter');
    await until('the branch input', 10_000, async () => /Branch/.test(await qi.innerText()));
    await qi.locator('input').fill('feature');
    await shot(page, 'create-git-branch');
    await qi.locator('input').press('Enter');
    // The repository's initializeCommand would run here: a modal says so first.
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 60_000 });
    const trustText = await dialog.innerText();
    if (!trustText.includes('Trust this workspace configuration?') || !trustText.includes(`touch ${trustMarker}`)) {
      throw new Error(`the trust dialog does not list the initializeCommand: ${trustText}`);
    }
    if (fs.existsSync(trustMarker)) {
      throw new Error('the initializeCommand ran before the user trusted the repository');
    }
    await shot(page, 'trust-dialog');
    await dialog.locator('.monaco-button', { hasText: 'Trust and Continue' }).click();
    const gitDone = toast(/workspace .* is running/);
    await gitDone.waitFor({ timeout: 180_000 });
    const gitName = /workspace (\S+) is running/.exec((await gitDone.first().innerText()).replace(/\s+/g, ' '))?.[1];
    if (!gitName) {
      throw new Error('no workspace name in the notification of the git create');
    }
    names.push(gitName);
    const gitRow = row(gitName, 'running');
    await gitRow.waitFor({ timeout: 30_000 });
    const desc = await gitRow.innerText();
    if (!desc.includes('@feature')) {
      throw new Error(`the git workspace's item does not name the branch: ${desc}`);
    }
    if (!fs.existsSync(trustMarker)) {
      throw new Error('the initializeCommand did not run after Trust and Continue');
    }
    log(`created ${gitName} from ${repoURL} on branch feature, after trusting its initializeCommand`);
    await shot(page, 'created-from-git');
    await closeToasts();

    // 8. Cancel a create while its setup runs, from the item's menu (offered as the action "cancel").
    await createFromFolder(page, slow, 'create-slow');
    const slowRow = page.locator('.monaco-list-row[aria-label$=", creating"]').first();
    await slowRow.waitFor({ timeout: 60_000 });
    await until('the setup to be running', 60_000, async () =>
      pitlaneLogOf((await slowRow.getAttribute('aria-label'))!.replace(/, creating$/, '')).includes('setting up'),
    );
    await menu(slowRow, 'Cancel', 'cancel-menu');
    const cancelledFrom = 'the item menu';
    await toast('workspace creation cancelled').waitFor({ timeout: 60_000 });
    await until('the cancelled workspace to leave the view', 30_000, async () =>
      (await page.locator('.monaco-list-row[aria-label$=", creating"]').count()) === 0,
    );
    log(`cancelled a create from ${cancelledFrom}`);
    await shot(page, 'create-cancelled');
    await closeToasts();

    // 9. Delete, with its confirmation, of a clone holding a change found nowhere else.
    const change = spawnSync(pitlane, ['exec', gitName, '--', 'sh', '-c', 'echo draft > unsaved-notes.txt'], {
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (change.status !== 0) {
      throw new Error(`pitlane exec failed: ${change.stdout}${change.stderr}`);
    }
    await menu(gitRow, 'Delete');
    await dialog.waitFor({ timeout: 10_000 });
    if (!(await dialog.innerText()).includes(`Delete the workspace ${gitName}?`)) {
      throw new Error(`the delete confirmation says: ${await dialog.innerText()}`);
    }
    await shot(page, 'delete-confirm');
    await dialog.locator('.monaco-button', { hasText: /^Delete$/ }).click();
    // The bridge refuses (1011): a second modal lists the work and offers Delete Anyway.
    await until('the unsaved-work dialog', 30_000, async () =>
      (await dialog.isVisible()) && (await dialog.innerText()).includes('unsaved work'),
    );
    const unsavedText = await dialog.innerText();
    if (!unsavedText.includes('unsaved-notes.txt')) {
      throw new Error(`the unsaved-work dialog does not list the change: ${unsavedText}`);
    }
    await shot(page, 'delete-unsaved');
    await dialog.locator('.monaco-button', { hasText: 'Delete Anyway' }).click();
    await until(`${gitName} to leave the view`, 60_000, async () => (await anyRow(gitName).count()) === 0);
    await cliState(gitName, undefined);
    log(`deleted ${gitName}`);
    await shot(page, 'deleted');

    // 10. The telemetry setting, in the Settings UI, off.
    await runCommand(page, 'Preferences: Open Settings (UI)');
    const search = page.locator('.settings-editor .suggest-input-container textarea, .settings-editor .search-container textarea').first();
    await search.waitFor({ timeout: 20_000 });
    await search.fill('pitlane.telemetry.enabled');
    const item = page.locator('.settings-editor .setting-item-contents', { hasText: 'Telemetry: Enabled' }).first();
    await item.waitFor({ timeout: 20_000 });
    const box = item.locator('.setting-value-checkbox');
    const checked = await box.getAttribute('aria-checked');
    const text = (await item.innerText()).replace(/\s+/g, ' ');
    await shot(page, 'settings-telemetry');
    if (checked !== 'false') {
      throw new Error(`the telemetry setting is not off in the Settings UI (aria-checked=${checked})`);
    }
    if (!/docs\/telemetry\.md|telemetry\.md/.test(text + (await item.innerHTML()))) {
      throw new Error(`the telemetry setting's description does not link docs/telemetry.md: ${text}`);
    }
    log(`the telemetry setting shows off: "${text.slice(0, 120)}..."`);

    // 11. Turning it on reaches the bridge (setting AND VS Code's switch), and off again.
    const consentLine = (enabled: boolean, times: number) =>
      until(`the consent "setting ${enabled}" ${times} time(s) in the extension log`, 20_000, async () =>
        findFiles(path.join(userData, 'logs'), /^Pitlane\.log$/).some(
          (f) => fs.readFileSync(f, 'utf8').split(`telemetry consent: setting ${enabled},`).length - 1 >= times,
        ),
      );
    await consentLine(false, 1);
    // The settings editor redraws the item after a change, which can swallow a
    // click that comes right after: click until the box shows the wanted state.
    const setBox = (want: 'true' | 'false') =>
      until(`the checkbox to become ${want}`, 20_000, async () => {
        if ((await box.getAttribute('aria-checked')) === want) {
          return true;
        }
        await box.click();
        await page.waitForTimeout(1000);
        return (await box.getAttribute('aria-checked')) === want;
      });
    await setBox('true');
    await consentLine(true, 1);
    await shot(page, 'settings-telemetry-on');
    await setBox('false');
    await consentLine(false, 2);
    log('the bridge was told about both changes of the setting');

    // 12. A pitlane.path that does not exist: the view says so and offers the setting.
    // The search box is an editor: select what is there and type over it.
    await search.focus();
    await page.keyboard.press('Control+a');
    await page.keyboard.type('pitlane.path');
    // pitlane.path is machine-scoped (a folder's settings must not pick the binary
    // that runs), so in code-server it lives in the Remote settings.
    await page.locator('.settings-editor .settings-tabs-widget .action-label', { hasText: 'Remote' }).first().click();
    const pathItem = page.locator('.settings-editor .setting-item-contents', { hasText: 'Pitlane: Path' }).first();
    await pathItem.waitFor({ timeout: 20_000 });
    const pathInput = pathItem.locator('input').first();
    await pathInput.fill(path.join(tmp, 'no-such-pitlane'));
    await pathInput.press('Tab');
    await shot(page, 'settings-path');
    await page.locator('.welcome-view-content', { hasText: 'pitlane binary was not found' }).waitFor({ timeout: 30_000 });
    await page.locator('.welcome-view-content .monaco-button', { hasText: 'Set Pitlane Path' }).waitFor({ timeout: 5000 });
    log('with a wrong pitlane.path the view says the binary was not found');
    await shot(page, 'sidebar-binary-missing');
  } catch (err) {
    failed = true;
    console.error(`e2e: FAILED: ${err instanceof Error ? err.stack : err}`);
    await shot(page, 'failure').catch(() => undefined);
  } finally {
    await context.close().catch(() => undefined);
    if (cs.pid) {
      try {
        process.kill(-cs.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    // The extension's own log, for the artifacts.
    for (const f of findFiles(path.join(userData, 'logs'), /Pitlane/)) {
      fs.copyFileSync(f, path.join(artifacts, `extension-${path.basename(f)}`));
    }
    const ids = spawnSync('docker', ['ps', '-aq', '--filter', `label=dev.pitlane.instance=${instance}`], {
      encoding: 'utf8',
    }).stdout.trim();
    for (const n of names) {
      spawnSync(pitlane, ['delete', '--force', n], { env, stdio: 'ignore', timeout: 60_000 });
    }
    if (ids) {
      spawnSync('docker', ['rm', '-f', '-v', ...ids.split('\n')], { stdio: 'ignore' });
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(failed ? `e2e: 0 passed, 1 failed (${secs} s)` : `e2e: 1 passed, 0 failed (${secs} s)`);
  return failed ? 1 : 0;
}

/** Runs Create Workspace on a local folder through code-server's folder dialog. */
async function createFromFolder(page: Page, folder: string, shotName: string): Promise<void> {
  await runCommand(page, 'Pitlane: Create Workspace');
  const pick = page.locator('.quick-input-widget');
  await pick.locator('.monaco-list-row', { hasText: 'Local folder...' }).waitFor({ timeout: 30_000 });
  await shot(page, `${shotName}-source-pick`);
  await pick.locator('.monaco-list-row', { hasText: 'Local folder...' }).click();
  // code-server's file dialog is a quick input: type the folder's path and accept it.
  const input = page.locator('.quick-input-widget input');
  await until('the folder dialog', 20_000, async () => (await input.inputValue()).startsWith('/'));
  // The dialog may still be setting its first value: type until ours stays.
  await until('the folder path to stay in the dialog', 20_000, async () => {
    await input.fill(folder + '/');
    await page.waitForTimeout(700);
    return (await input.inputValue()) === folder + '/';
  });
  await page.locator('.quick-input-widget .monaco-button', { hasText: 'Create Workspace' }).click();
}

/** Writes and packages an extension with the id of Open Remote - SSH and nothing in it. */
function makeRemoteSSHStub(dir: string): string {
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({
      name: 'open-remote-ssh',
      displayName: 'Remote-SSH stand-in for the Pitlane end-to-end test',
      description: 'Has the id of Open Remote - SSH and does nothing.',
      publisher: 'jeanp413',
      version: '0.0.1',
      license: 'Apache-2.0',
      repository: { type: 'git', url: 'https://example.com/none.git' },
      engines: { vscode: '^1.90.0' },
    }),
  );
  fs.writeFileSync(path.join(dir, 'README.md'), 'A stand-in used by the Pitlane end-to-end test.\n');
  fs.writeFileSync(path.join(dir, 'LICENSE'), 'Apache-2.0\n');
  const out = path.join(dir, 'stub.vsix');
  const vsce = path.join(extDir, 'node_modules', '@vscode', 'vsce', 'vsce');
  const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--out', out], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`packaging the Remote-SSH stand-in failed: ${r.stdout}${r.stderr}`);
  }
  return out;
}

function findFiles(dir: string, re: RegExp): string[] {
  if (!fs.existsSync(dir)) {
    return [];
  }
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      out.push(...findFiles(p, re));
    } else if (re.test(e.name)) {
      out.push(p);
    }
  }
  return out;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
