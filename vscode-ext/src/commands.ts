// The commands of the palette, the view title and the item menus.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { actionItems, allows, describePort } from './actions';
import { Bridge } from './bridge';
import { CancellationTokenSource, ResponseError, errorCode, errorData, errorMessage, isCancelled } from './client';
import { ThisWorkspace } from './here';
import { LogViews } from './logs';
import { describePrebuilt, detectNotice, repoName, trustDialog, unsavedDialog } from './present';
import { Action, CreateParams, ErrorCode, ErrorData, OpenResult, Port, ProgressValue, Workspace } from './protocol';
import { chooseRemoteSSH } from './remote';
import { PortNode, WorkspaceNode, WorkspaceTree } from './tree';

const recentKey = 'pitlane.recentSources';

type Target = WorkspaceNode | PortNode | Workspace | string | undefined;

/** Returned by trusting() when the user did not trust the configuration. */
const declined = Symbol('declined');

export class Commands {
  private readonly build: vscode.OutputChannel;
  private readonly status: vscode.StatusBarItem;
  /** What detection said about the source last picked, shown in the log when it is created. */
  private detected?: { source: string; lines: string[] };
  /** Requests this window can cancel, by workspace name ('' for a create whose name the bridge picks). */
  private readonly inflight = new Map<string, CancellationTokenSource>();
  private readonly logs: LogViews;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly bridge: Bridge,
    private readonly tree: WorkspaceTree,
    private readonly log: vscode.LogOutputChannel,
    private readonly here: ThisWorkspace,
  ) {
    this.logs = new LogViews(bridge, log);
    context.subscriptions.push(this.logs);
    this.build = vscode.window.createOutputChannel('Pitlane Build');
    this.status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
    this.status.command = 'pitlane.showBuildOutput';
    this.status.tooltip = 'Show the build output of the workspace being created';
    context.subscriptions.push(this.build, this.status);
  }

  register(): void {
    const reg = (id: string, fn: (...args: any[]) => unknown) =>
      this.context.subscriptions.push(vscode.commands.registerCommand(id, fn));
    reg('pitlane.createWorkspace', () => this.create());
    reg('pitlane.refresh', () => {
      this.bridge.reset();
      this.tree.reload();
    });
    reg('pitlane.open', (t: Target) => this.open(t, false));
    reg('pitlane.openNewWindow', (t: Target) => this.open(t, true));
    reg('pitlane.start', (t: Target) => this.start(t));
    reg('pitlane.stop', (t: Target) => this.stop(t));
    reg('pitlane.rebuild', (t: Target) => this.rebuild(t));
    reg('pitlane.delete', (t: Target) => this.delete(t));
    reg('pitlane.showLog', (t: Target) => this.showLog(t));
    reg('pitlane.cancel', (t: Target) => this.cancel(t));
    reg('pitlane.forwardPort', (t: Target) => this.forwardPort(t));
    reg('pitlane.openPortInBrowser', (t: PortNode) => this.openPortInBrowser(t));
    reg('pitlane.stopForwarding', (t: PortNode) => this.stopForwarding(t));
    reg('pitlane.goToWorkspace', () => this.goToWorkspace());
    reg('pitlane.thisWorkspaceActions', () => this.thisWorkspaceActions());
    reg('pitlane.rebuildThisWorkspace', () => this.here.name && this.rebuild(this.here.name));
    reg('pitlane.showThisWorkspaceLogs', () => this.here.name && this.showLog(this.here.name));
    reg('pitlane.forwardThisWorkspacePort', () => this.here.name && this.forwardPort(this.here.name));
    reg('pitlane.stopThisWorkspace', () => this.here.name && this.stop(this.here.name));
    reg('pitlane.showOutput', () => this.log.show());
    reg('pitlane.showBuildOutput', () => this.build.show(true));
    reg('pitlane.openPathSetting', () => vscode.commands.executeCommand('workbench.action.openSettings', 'pitlane.path'));
  }

  // ---- Create ---------------------------------------------------------

  private async create(): Promise<void> {
    const params = await this.askCreateParams();
    if (params) {
      await this.runCreate(params);
    }
  }

  private async askCreateParams(): Promise<Omit<CreateParams, 'workDoneToken'> | undefined> {
    type Pick = vscode.QuickPickItem & { action: 'this' | 'url' | 'folder' | 'recent'; source?: string };
    const items: Pick[] = [];
    const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
    if (folder) {
      items.push({ label: '$(folder-active) This folder', description: folder.uri.fsPath, action: 'this', source: folder.uri.fsPath });
    }
    items.push(
      { label: '$(repo) Git repository URL...', action: 'url' },
      { label: '$(folder-opened) Local folder...', action: 'folder' },
    );
    const recent = this.context.globalState.get<string[]>(recentKey, []);
    if (recent.length) {
      items.push({ label: 'Recent', kind: vscode.QuickPickItemKind.Separator, action: 'recent' });
      for (const r of recent) {
        items.push({ label: `$(history) ${r}`, action: 'recent', source: r });
      }
    }
    const choice = await vscode.window.showQuickPick(items, {
      title: 'Pitlane: Create Workspace',
      placeHolder: 'Where are the files of the new workspace?',
    });
    if (!choice) {
      return undefined;
    }
    let source = choice.source;
    let branch: string | undefined;
    if (choice.action === 'url') {
      source = await vscode.window.showInputBox({
        title: 'Pitlane: Create Workspace',
        prompt: 'Git repository URL',
        placeHolder: 'https://example.com/team/project.git',
        ignoreFocusOut: true,
        validateInput: (v) => (v.trim() === '' ? 'Enter the URL of a git repository' : undefined),
      });
      if (!source) {
        return undefined;
      }
      source = source.trim();
      branch = await vscode.window.showInputBox({
        title: 'Pitlane: Create Workspace',
        prompt: 'Branch to check out (leave empty for the default branch)',
        ignoreFocusOut: true,
      });
      if (branch === undefined) {
        return undefined;
      }
      branch = branch.trim() || undefined;
    } else if (choice.action === 'folder') {
      const picked = await vscode.window.showOpenDialog({
        title: 'Pitlane: Create Workspace from a Local Folder',
        canSelectFolders: true,
        canSelectFiles: false,
        canSelectMany: false,
        openLabel: 'Create Workspace',
      });
      if (!picked || picked.length === 0) {
        return undefined;
      }
      source = picked[0].fsPath;
    }
    if (!source) {
      return undefined;
    }

    let configPath: string | undefined;
    try {
      const client = await this.bridge.get();
      const configs = await client.configs(source);
      if (configs.length > 1) {
        configPath = await vscode.window.showQuickPick(configs, {
          title: 'Pitlane: Create Workspace',
          placeHolder: 'This source has several dev container configurations; pick one',
        });
        if (!configPath) {
          return undefined;
        }
      } else if (configs.length === 0) {
        // Say before creating what the workspace gets without a config.
        const d = await client.detect(source);
        const notice = detectNotice(d);
        if (notice) {
          this.detected = { source, lines: [notice, ...(d.warnings ?? []).map((w) => `warning: ${w}`)] };
          void vscode.window.showInformationMessage(`Pitlane: ${notice}`);
        }
      }
    } catch (err) {
      // The create itself reports a bad source with a better message.
      this.log.warn(`listing the configurations of ${source} failed: ${errorMessage(err)}`);
    }
    const provider = await this.askProvider();
    if (provider === null) {
      return undefined;
    }
    // No "ide" here: creating is not opening, and the workspace should not read "used" yet.
    return { source, branch, configPath, ...(provider ? { provider } : {}) };
  }

  /**
   * Asks where to create when the bridge has more than one provider.
   * Undefined: the default (one provider, or a bridge without providers);
   * null: the user cancelled.
   */
  private async askProvider(): Promise<string | undefined | null> {
    let providers;
    try {
      providers = await (await this.bridge.get()).providers();
    } catch (err) {
      this.log.warn(`listing the providers failed: ${errorMessage(err)}`);
      return undefined;
    }
    if (providers.length <= 1) {
      return undefined;
    }
    const items = providers.map((p) => ({
      label: p.name,
      description: [p.kind, p.default ? 'default' : ''].filter(Boolean).join(' \u00b7 '),
      detail: p.description,
      provider: p,
    }));
    const qp = vscode.window.createQuickPick<(typeof items)[number]>();
    qp.title = 'Pitlane: Create Workspace';
    qp.placeholder = 'Where should the workspace run?';
    qp.items = items;
    const def = items.find((i) => i.provider.default);
    if (def) {
      qp.activeItems = [def];
    }
    const picked = await new Promise<(typeof items)[number] | undefined>((resolve) => {
      qp.onDidAccept(() => resolve(qp.selectedItems[0] ?? qp.activeItems[0]));
      qp.onDidHide(() => resolve(undefined));
      qp.show();
    });
    qp.dispose();
    if (!picked) {
      return null;
    }
    return picked.provider.default ? undefined : picked.provider.name;
  }

  private async runCreate(params: Omit<CreateParams, 'workDoneToken'>): Promise<void> {
    const dots = vscode.workspace.getConfiguration('pitlane.dotfiles');
    const repository = dots.get<string>('repository', '').trim();
    if (repository && !params.dotfiles) {
      params = { ...params, dotfiles: { repository, script: dots.get<string>('installScript', '').trim() || undefined } };
    }
    await this.remember(params.source);
    this.build.clear();
    this.build.appendLine(`Creating a workspace from ${params.source}${params.branch ? ` (${params.branch})` : ''}`);
    if (this.detected?.source === params.source) {
      this.detected.lines.forEach((l) => this.build.appendLine(l));
    }
    this.status.text = '$(loading~spin) Pitlane: creating workspace \u00b7 Show Log';
    this.status.show();
    let result;
    try {
      result = await this.trusting(params.source, (trust) =>
        this.cancellable(params.name ?? '', (token) =>
          vscode.window.withProgress(
            { location: vscode.ProgressLocation.Notification, title: 'Pitlane', cancellable: true },
            async (progress, ptoken) => {
              ptoken.onCancellationRequested(() => token.cancel());
              const client = await this.bridge.get();
              return client.create(params, { token: token.token, trust, onProgress: this.progressSink(progress) });
            },
          ),
        ),
      );
    } catch (err) {
      this.status.hide();
      if (isCancelled(err)) {
        this.build.appendLine('Cancelled; what was made so far was removed.');
        void vscode.window.showInformationMessage('Pitlane: workspace creation cancelled.');
        return;
      }
      this.build.appendLine(`Failed: ${errorMessage(err)}`);
      const action = await vscode.window.showErrorMessage(`Pitlane: ${errorMessage(err)}`, 'Show Log', 'Retry');
      if (action === 'Retry') {
        return this.runCreate(params);
      }
      if (action === 'Show Log') {
        const name = workspaceOf(err);
        if (name) {
          await this.showLog(name);
        } else {
          this.build.show(true);
        }
      }
      return;
    }
    this.status.hide();
    if (result === declined) {
      this.build.appendLine('Not created: the configuration was not trusted.');
      return;
    }
    const ws = result.workspace;
    this.tree.upsert(ws);
    this.build.appendLine(`Workspace ${ws.name} is ${ws.state}.`);
    const action = await vscode.window.showInformationMessage(
      `Pitlane: workspace ${ws.name} is ${ws.state}.`,
      'Open',
      'Open in New Window',
    );
    if (action) {
      await this.openResult(ws.name, result.open, action === 'Open in New Window');
    }
  }

  private progressSink(progress: vscode.Progress<{ message?: string }>): (v: ProgressValue) => void {
    return (v) => {
      if (v.kind === 'begin') {
        this.build.appendLine(`== ${v.title}`);
        progress.report({ message: v.message ? `${v.title}: ${v.message}` : v.title });
      } else if (v.kind === 'report') {
        if (v.prebuilt) {
          const line = describePrebuilt(v.prebuilt);
          this.build.appendLine(`== ${line}`);
          progress.report({ message: line });
          return;
        }
        if (v.output !== undefined) {
          this.build.appendLine(v.output);
        }
        if (v.message) {
          if (v.output === undefined) {
            this.build.appendLine(`== ${v.message}`);
          }
          progress.report({ message: v.message });
        }
      } else if (v.message) {
        this.build.appendLine(`== ${v.message}`);
      }
    };
  }

  private async remember(source: string): Promise<void> {
    const list = this.context.globalState.get<string[]>(recentKey, []).filter((s) => s !== source);
    list.unshift(source);
    await this.context.globalState.update(recentKey, list.slice(0, 5));
  }

  // ---- Actions on one workspace ----------------------------------------

  private async open(t: Target, newWindow: boolean): Promise<void> {
    const name = await this.resolve(t, 'Open which workspace?', 'open');
    if (!name) {
      return;
    }
    try {
      const client = await this.bridge.get();
      await this.openResult(name, await client.open(name, 'vscode'), newWindow);
    } catch (err) {
      await this.fail(`cannot open ${name}`, err, name);
    }
  }

  private async openResult(name: string, open: OpenResult | undefined, newWindow: boolean): Promise<void> {
    if (!open) {
      const client = await this.bridge.get();
      open = await client.open(name, 'vscode');
    }
    if (!open.uri) {
      void vscode.window.showErrorMessage(`Pitlane: the bridge gave no address to open ${name}.`);
      return;
    }
    const editor = { appName: vscode.env.appName, uriScheme: vscode.env.uriScheme };
    const choice = chooseRemoteSSH(editor, (id) => vscode.extensions.getExtension(id) !== undefined);
    if (choice.kind === 'none') {
      this.log.warn(`cannot open ${name}: ${choice.message}`);
      const action = await vscode.window.showErrorMessage(`Pitlane: ${choice.message}`, 'Copy SSH Command');
      if (action) {
        await vscode.env.clipboard.writeText(`ssh ${open.sshHost}`);
      }
      return;
    }
    if (choice.kind === 'install') {
      const install = `Install ${choice.extension.title}`;
      const action = await vscode.window.showWarningMessage(
        `Pitlane: ${choice.message} Pitlane workspaces are reached over SSH (host ${open.sshHost}).`,
        install,
      );
      if (action !== install) {
        return;
      }
      await vscode.commands.executeCommand('workbench.extensions.installExtension', choice.extension.id);
      if (!vscode.extensions.getExtension(choice.extension.id)) {
        void vscode.window.showInformationMessage(`Pitlane: once ${choice.extension.title} is installed, open ${name} again.`);
        return;
      }
    }
    const uri = vscode.Uri.parse(open.uri);
    this.log.info(`opening ${uri.toString(true)} with ${choice.extension.id}${newWindow ? ' in a new window' : ''}`);
    await vscode.commands.executeCommand('vscode.openFolder', uri, { forceNewWindow: newWindow });
  }

  private async start(t: Target): Promise<void> {
    const name = await this.resolve(t, 'Start which workspace?', 'start');
    if (!name) {
      return;
    }
    await this.withPending(name, 'starting', async () => {
      const ws = await this.trusting(name, (trust) =>
        this.progressRequest(name, `Pitlane: Starting ${name}`, (client, opts) => client.start(name, { ...opts, trust })),
      );
      if (ws !== declined) {
        this.tree.upsert(ws);
      }
    });
  }

  private async stop(t: Target): Promise<void> {
    const name = await this.resolve(t, 'Stop which workspace?', 'stop');
    if (!name) {
      return;
    }
    if (name === this.here.name) {
      const ok = await vscode.window.showWarningMessage(
        `Stop ${name}?`,
        { modal: true, detail: 'This window is connected to it: the connection ends until the workspace starts again.' },
        'Stop',
      );
      if (ok !== 'Stop') {
        return;
      }
    }
    await this.withPending(name, 'stopping', async () => {
      const ws = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: `Stopping ${name}` },
        async () => (await this.bridge.get()).stop(name),
      );
      this.tree.upsert(ws);
    });
  }

  private async rebuild(t: Target): Promise<void> {
    const name = await this.resolve(t, 'Rebuild which workspace?', 'rebuild');
    if (!name) {
      return;
    }
    const inside = name === this.here.name;
    if (inside) {
      this.here.busy('rebuilding');
    }
    this.build.clear();
    await this.withPending(name, 'rebuilding', async () => {
      const ws = await this.trusting(name, (trust) =>
        this.progressRequest(name, `Pitlane: Rebuilding ${name}`, (client, opts) => client.rebuild(name, { ...opts, trust })),
      );
      if (ws === declined) {
        return;
      }
      this.tree.upsert(ws);
      if (inside && this.here.uri) {
        // The container this window was connected to is gone: connect to the new one.
        this.log.info(`${name} was rebuilt; reopening ${this.here.uri.toString(true)}`);
        await vscode.commands.executeCommand('vscode.openFolder', this.here.uri, { forceReuseWindow: true });
        return;
      }
      void vscode.window.showInformationMessage(`Pitlane: ${name} was rebuilt and is ${ws.state}.`);
    });
    if (inside) {
      void this.here.refresh();
    }
  }

  private async delete(t: Target): Promise<void> {
    const name = await this.resolve(t, 'Delete which workspace?', 'delete');
    if (!name) {
      return;
    }
    const ok = await vscode.window.showWarningMessage(
      `Delete the workspace ${name}?`,
      { modal: true, detail: 'Its container and the data Pitlane keeps for it are removed. A local source folder is left alone.' },
      'Delete',
    );
    if (ok !== 'Delete') {
      return;
    }
    await this.withPending(name, 'deleting', async () => {
      const client = await this.bridge.get();
      try {
        await client.delete(name);
      } catch (err) {
        const unsaved = errorCode(err) === ErrorCode.unsavedWork ? errorData(err)?.unsaved : undefined;
        if (!unsaved) {
          throw err;
        }
        const d = unsavedDialog(name, unsaved);
        const again = await vscode.window.showWarningMessage(d.message, { modal: true, detail: d.detail }, 'Delete Anyway');
        if (again !== 'Delete Anyway') {
          void vscode.window.showInformationMessage(`Pitlane: ${name} was not deleted; its clone is in ${unsaved.clone}.`);
          return;
        }
        await client.delete(name, true);
      }
      this.logs.close(name);
      void vscode.window.showInformationMessage(`Pitlane: deleted ${name}.`);
    });
  }

  private async showLog(t: Target): Promise<void> {
    const name = await this.resolve(t, 'Show the log of which workspace?', 'logs');
    if (!name) {
      return;
    }
    try {
      await this.logs.show(name);
    } catch (err) {
      await this.fail(`cannot show the log of ${name}`, err, undefined);
    }
  }

  /** Cancels the request this window runs for a workspace (offered as the action "cancel"). */
  private async cancel(t: Target): Promise<void> {
    const name = await this.resolve(t, 'Cancel the operation on which workspace?', 'cancel');
    if (!name) {
      return;
    }
    // A create whose name the bridge picked is known here under ''.
    const src = this.inflight.get(name) ?? this.inflight.get('');
    if (!src) {
      void vscode.window.showInformationMessage(`Pitlane: nothing this window started is running on ${name}.`);
      return;
    }
    src.cancel();
  }

  // ---- Ports -------------------------------------------------------------

  private async forwardPort(t: Target): Promise<void> {
    let port: number | undefined;
    let name: string | undefined;
    if (t instanceof PortNode) {
      name = t.name;
      port = t.port.port;
    } else {
      name = await this.resolve(t, 'Forward a port of which workspace?', 'ports');
      if (!name) {
        return;
      }
      port = await this.askPort(name);
    }
    if (port === undefined) {
      return;
    }
    try {
      const r = await (await this.bridge.get()).forwardPort(name, port, 0);
      this.refreshPorts(name);
      const url = r.forwarded?.url;
      const where = url ?? `127.0.0.1:${r.forwarded?.localPort}`;
      const text = r.message ? `Pitlane: ${r.message} (${where}).` : `Pitlane: port ${port} of ${name} is forwarded to ${where}.`;
      const action = await vscode.window.showInformationMessage(text, ...(url ? ['Open in Browser'] : []));
      if (action && url) {
        await vscode.env.openExternal(vscode.Uri.parse(url));
      }
    } catch (err) {
      await this.fail(`cannot forward port ${port} of ${name}`, err, undefined);
    }
  }

  /** A port to forward: one the workspace has, or one typed in. */
  private async askPort(name: string): Promise<number | undefined> {
    let ports: Port[] = [];
    try {
      ports = await (await this.bridge.get()).ports(name);
    } catch (err) {
      this.log.warn(`listing the ports of ${name} failed: ${errorMessage(err)}`);
    }
    const other = { label: '$(edit) Other port\u2026', description: '', port: undefined as number | undefined };
    const items = [
      ...ports.filter((p) => !p.forwarded).map((p) => ({ ...describePort(p), port: p.port as number | undefined })),
      other,
    ];
    let picked: (typeof items)[number] | undefined = other;
    if (items.length > 1) {
      picked = await vscode.window.showQuickPick(items, { title: `Pitlane: Forward a Port of ${name}`, placeHolder: 'Which port?' });
    }
    if (!picked) {
      return undefined;
    }
    if (picked.port !== undefined) {
      return picked.port;
    }
    const typed = await vscode.window.showInputBox({
      title: `Pitlane: Forward a Port of ${name}`,
      prompt: 'Port inside the workspace',
      placeHolder: '3000',
      validateInput: (v) => (/^\d+$/.test(v.trim()) && +v > 0 && +v < 65536 ? undefined : 'Enter a port number from 1 to 65535'),
    });
    return typed ? Number(typed.trim()) : undefined;
  }

  private async openPortInBrowser(t: PortNode | undefined): Promise<void> {
    if (!(t instanceof PortNode)) {
      return;
    }
    let url = t.port.forwarded?.url;
    try {
      if (!url) {
        const r = await (await this.bridge.get()).forwardPort(t.name, t.port.port, 0);
        this.refreshPorts(t.name);
        url = r.forwarded?.url;
        if (r.message) {
          void vscode.window.showInformationMessage(`Pitlane: ${r.message}.`);
        }
      }
      if (url) {
        await vscode.env.openExternal(vscode.Uri.parse(url));
      }
    } catch (err) {
      await this.fail(`cannot open port ${t.port.port} of ${t.name}`, err, undefined);
    }
  }

  private async stopForwarding(t: PortNode | undefined): Promise<void> {
    if (!(t instanceof PortNode)) {
      return;
    }
    try {
      await (await this.bridge.get()).stopForwarding(t.name, t.port.port);
      this.refreshPorts(t.name);
    } catch (err) {
      await this.fail(`cannot stop forwarding port ${t.port.port} of ${t.name}`, err, undefined);
    }
  }

  /** Reads a workspace's ports again (workspace/portsChanged usually comes first). */
  private refreshPorts(name: string): void {
    void this.bridge
      .get()
      .then((c) => c.ports(name))
      .then((ports) => this.tree.setPorts({ name, ports }))
      .catch((err) => this.log.warn(`listing the ports of ${name} failed: ${errorMessage(err)}`));
  }

  // ---- Many workspaces ---------------------------------------------------

  /** "Go to Workspace...": search all workspaces, then pick what to do with one. */
  private async goToWorkspace(): Promise<void> {
    let list: Workspace[];
    try {
      list = await (await this.bridge.get()).list();
    } catch (err) {
      await this.fail('cannot list workspaces', err, undefined);
      return;
    }
    if (list.length === 0) {
      void vscode.window.showInformationMessage('Pitlane: there are no workspaces yet.');
      return;
    }
    const items = list.map((w) => ({
      label: w.name,
      description: `${w.state} \u00b7 ${repoName(w.source.url)}${w.source.ref ? `@${w.source.ref}` : ''}`,
      detail: [w.source.url, w.provider ? `on ${w.provider}` : ''].filter(Boolean).join(' \u00b7 '),
      ws: w,
    }));
    const picked = await vscode.window.showQuickPick(items, {
      title: 'Pitlane: Go to Workspace',
      placeHolder: 'Type to search by name, state or source',
      matchOnDescription: true,
      matchOnDetail: true,
    });
    if (picked) {
      await this.pickAction(picked.ws);
    }
  }

  /** The actions of the workspace this window is connected to. */
  private async thisWorkspaceActions(): Promise<void> {
    if (!this.here.name) {
      return;
    }
    await this.here.refresh();
    if (!this.here.ws) {
      void vscode.window.showWarningMessage(`Pitlane: the workspace ${this.here.name} was not found.`);
      return;
    }
    await this.pickAction(this.here.ws);
  }

  /** A pick of what the workspace's state allows; runs the chosen command. */
  private async pickAction(ws: Workspace): Promise<void> {
    const items = actionItems(ws);
    if (items.length === 0) {
      void vscode.window.showInformationMessage(`Pitlane: ${ws.name} is ${ws.state}; nothing can be done with it now.`);
      return;
    }
    const picked = await vscode.window.showQuickPick(items, {
      title: `Pitlane: ${ws.name} (${ws.state})`,
      placeHolder: `What to do with ${ws.name}?`,
    });
    if (picked) {
      await vscode.commands.executeCommand(picked.command, ws.name);
    }
  }

  // ---- Helpers -----------------------------------------------------------

  /**
   * Runs a request that may need trust: without it first, then, when the
   * bridge answers 1010, again with trust if the user agrees in a modal that
   * lists what the configuration asks of this machine.
   */
  private async trusting<T>(what: string, fn: (trust: boolean) => PromiseLike<T>): Promise<T | typeof declined> {
    try {
      return await fn(false);
    } catch (err) {
      const req = errorCode(err) === ErrorCode.trustRequired ? errorData(err)?.trust : undefined;
      if (!req) {
        throw err;
      }
      const d = trustDialog(req);
      this.log.info(`${what}: the configuration asks for trust: ${d.detail.replace(/\s+/g, ' ')}`);
      const ok = await vscode.window.showWarningMessage(d.message, { modal: true, detail: d.detail }, 'Trust and Continue');
      if (ok !== 'Trust and Continue') {
        void vscode.window.showInformationMessage(`Pitlane: ${what} was not trusted; nothing ran.`);
        return declined;
      }
      return fn(true);
    }
  }

  /** Runs fn with a cancellation source that the "cancel" action of name reaches. */
  private async cancellable<T>(name: string, fn: (src: CancellationTokenSource) => PromiseLike<T>): Promise<T> {
    const src = new CancellationTokenSource();
    this.inflight.set(name, src);
    try {
      return await fn(src);
    } finally {
      if (this.inflight.get(name) === src) {
        this.inflight.delete(name);
      }
      src.dispose();
    }
  }

  /** A start or rebuild with a cancellable progress notification. */
  private progressRequest<T>(
    name: string,
    title: string,
    fn: (
      client: Awaited<ReturnType<Bridge['get']>>,
      opts: { token: vscode.CancellationToken; onProgress: (v: ProgressValue) => void },
    ) => Promise<T>,
  ): PromiseLike<T> {
    return this.cancellable(name, (src) =>
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
        token.onCancellationRequested(() => src.cancel());
        return fn(await this.bridge.get(), { token: src.token, onProgress: this.progressSink(progress) });
      }),
    );
  }

  /** Runs an action with the item marked busy, and reports a failure. */
  private async withPending(name: string, word: string, fn: () => Promise<void>): Promise<void> {
    const node = this.tree.get(name);
    if (node) {
      this.tree.setPending(node, word);
    }
    try {
      await fn();
    } catch (err) {
      if (isCancelled(err)) {
        void vscode.window.showInformationMessage(`Pitlane: ${word} ${name} was cancelled.`);
      } else {
        await this.fail(`${word} ${name} failed`, err, name);
      }
    } finally {
      if (node && node.pending === word && this.tree.get(name) === node) {
        this.tree.setPending(node, undefined);
      }
    }
  }

  private async fail(what: string, err: unknown, logOf: string | undefined): Promise<void> {
    this.log.error(`${what}: ${errorMessage(err)}`);
    const actions = logOf ? ['Show Log'] : ['Show Output'];
    const action = await vscode.window.showErrorMessage(`Pitlane: ${what}: ${errorMessage(err)}`, ...actions);
    if (action === 'Show Log' && logOf) {
      await this.showLog(logOf);
    } else if (action === 'Show Output') {
      this.log.show();
    }
  }

  /**
   * The workspace a command is about: its argument, or a pick among the
   * workspaces whose actions include the command's.
   */
  private async resolve(t: Target, prompt: string, action: Action): Promise<string | undefined> {
    if (typeof t === 'string') {
      return t;
    }
    if (t instanceof WorkspaceNode || t instanceof PortNode) {
      return t.name;
    }
    if (t && typeof t === 'object' && 'name' in t) {
      return t.name;
    }
    const list = (await (await this.bridge.get()).list()).filter((w) => allows(w, action));
    if (list.length === 0) {
      void vscode.window.showInformationMessage(`Pitlane: no workspace can do that now.`);
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(
      list.map((w) => ({ label: w.name, description: `${w.state} \u00b7 ${path.basename(w.source.url)}` })),
      { placeHolder: prompt, matchOnDescription: true },
    );
    return pick?.label;
  }
}

function workspaceOf(err: unknown): string | undefined {
  if (err instanceof ResponseError && err.code >= 1000) {
    return (err.data as ErrorData | undefined)?.workspace;
  }
  return undefined;
}
