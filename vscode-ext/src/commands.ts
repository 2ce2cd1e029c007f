// The commands of the palette, the view title and the item menus.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { Bridge } from './bridge';
import { ResponseError, errorMessage, isCancelled } from './client';
import { describePrebuilt, detectNotice } from './present';
import { CreateParams, ErrorData, OpenResult, ProgressValue, Workspace } from './protocol';
import { WorkspaceNode, WorkspaceTree } from './tree';

const recentKey = 'pitlane.recentSources';
const remoteSSHExtensions = ['ms-vscode-remote.remote-ssh', 'jeanp413.open-remote-ssh'];

type Target = WorkspaceNode | Workspace | string | undefined;

export class Commands {
  private readonly build: vscode.OutputChannel;
  private readonly status: vscode.StatusBarItem;
  /** What detection said about the source last picked, shown in the log when it is created. */
  private detected?: { source: string; lines: string[] };

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly bridge: Bridge,
    private readonly tree: WorkspaceTree,
    private readonly log: vscode.LogOutputChannel,
  ) {
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
    // No "ide" here: creating is not opening, and the workspace should not read "used" yet.
    return { source, branch, configPath };
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
      result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Pitlane', cancellable: true },
        async (progress, token) => {
          const client = await this.bridge.get();
          return client.create(params, { token, onProgress: this.progressSink(progress) });
        },
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
    const name = await this.resolve(t, 'Open which workspace?');
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
    if (!remoteSSHExtensions.some((id) => vscode.extensions.getExtension(id))) {
      const action = await vscode.window.showWarningMessage(
        `Pitlane: opening ${name} needs the Remote - SSH extension, which is not installed. Pitlane workspaces are reached over SSH (host ${open.sshHost}).`,
        'Install Remote - SSH',
      );
      if (action) {
        await vscode.commands.executeCommand('workbench.extensions.installExtension', remoteSSHExtensions[0]);
      }
      return;
    }
    await vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.parse(open.uri), { forceNewWindow: newWindow });
  }

  private async start(t: Target): Promise<void> {
    const name = await this.resolve(t, 'Start which workspace?');
    if (!name) {
      return;
    }
    await this.withPending(name, 'starting', async () => {
      const ws = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Pitlane: Starting ${name}`, cancellable: true },
        async (progress, token) =>
          (await this.bridge.get()).start(name, { token, onProgress: this.progressSink(progress) }),
      );
      this.tree.upsert(ws);
    });
  }

  private async stop(t: Target): Promise<void> {
    const name = await this.resolve(t, 'Stop which workspace?');
    if (!name) {
      return;
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
    const name = await this.resolve(t, 'Rebuild which workspace?');
    if (!name) {
      return;
    }
    this.build.clear();
    await this.withPending(name, 'rebuilding', async () => {
      const ws = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Pitlane: Rebuilding ${name}`, cancellable: true },
        async (progress, token) =>
          (await this.bridge.get()).rebuild(name, { token, onProgress: this.progressSink(progress) }),
      );
      this.tree.upsert(ws);
      void vscode.window.showInformationMessage(`Pitlane: ${name} was rebuilt and is ${ws.state}.`);
    });
  }

  private async delete(t: Target): Promise<void> {
    const name = await this.resolve(t, 'Delete which workspace?');
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
      await (await this.bridge.get()).delete(name);
      void vscode.window.showInformationMessage(`Pitlane: deleted ${name}.`);
    });
  }

  private async showLog(t: Target): Promise<void> {
    const name = await this.resolve(t, 'Show the log of which workspace?');
    if (!name) {
      return;
    }
    try {
      const logs = await (await this.bridge.get()).logs(name);
      try {
        const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(logs.path));
        await vscode.window.showTextDocument(doc, { preview: true });
      } catch {
        // No file (yet): show what the bridge returned.
        this.build.clear();
        this.build.appendLine(`Log of ${name} (${logs.path})`);
        for (const line of logs.lines) {
          this.build.appendLine(line);
        }
        this.build.show(true);
      }
    } catch (err) {
      await this.fail(`cannot show the log of ${name}`, err, undefined);
    }
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

  /** The workspace a command is about: its argument, or a pick. */
  private async resolve(t: Target, prompt: string): Promise<string | undefined> {
    if (typeof t === 'string') {
      return t;
    }
    if (t instanceof WorkspaceNode) {
      return t.name;
    }
    if (t && typeof t === 'object' && 'name' in t) {
      return t.name;
    }
    const list = await (await this.bridge.get()).list();
    if (list.length === 0) {
      void vscode.window.showInformationMessage('Pitlane: there are no workspaces yet.');
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(
      list.map((w) => ({ label: w.name, description: `${w.state} \u00b7 ${path.basename(w.source.url)}` })),
      { placeHolder: prompt },
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
