// The workspace this window is connected to. The extension runs on the host
// (extensionKind "ui") even in a window connected to NAME.pitlane, so it can
// reach the bridge there and act on the workspace the user is in.

import * as vscode from 'vscode';
import { Bridge } from './bridge';
import { errorMessage } from './client';
import { Workspace } from './protocol';
import { workspaceOfAuthority } from './remote';

/** The window's remote authority, as seen from a UI extension. */
export function remoteAuthority(): string | undefined {
  const uri = vscode.workspace.workspaceFile ?? vscode.workspace.workspaceFolders?.[0]?.uri;
  return uri?.scheme === 'vscode-remote' ? uri.authority : undefined;
}

export class ThisWorkspace implements vscode.Disposable {
  /** The name of the workspace this window is connected to, if it is a Pitlane workspace. */
  readonly name: string | undefined;
  /** The folder (or workspace file) the window has open: reopened to reconnect. */
  readonly uri: vscode.Uri | undefined;
  ws: Workspace | undefined;
  private readonly item: vscode.StatusBarItem;
  private readonly subscriptions: { dispose(): void }[] = [];

  constructor(
    private readonly bridge: Bridge,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.name = workspaceOfAuthority(remoteAuthority());
    this.uri = vscode.workspace.workspaceFile ?? vscode.workspace.workspaceFolders?.[0]?.uri;
    this.item = vscode.window.createStatusBarItem('pitlane.thisWorkspace', vscode.StatusBarAlignment.Left, 100);
    this.item.name = 'Pitlane Workspace';
    this.item.command = 'pitlane.thisWorkspaceActions';
    void vscode.commands.executeCommand('setContext', 'pitlane.inWorkspace', this.name !== undefined);
    if (!this.name) {
      return;
    }
    this.render();
    this.item.show();
    this.subscriptions.push(
      bridge.onDidChange((c) => {
        if (c.name !== this.name) {
          return;
        }
        this.ws = c.removed ? undefined : (c.workspace ?? this.ws);
        this.render(c.removed ? 'deleted' : undefined);
      }),
      bridge.onReady(() => void this.refresh()),
    );
    void this.refresh();
  }

  /** Asks the bridge for the workspace again. */
  async refresh(): Promise<void> {
    if (!this.name) {
      return;
    }
    try {
      const list = await (await this.bridge.get()).list();
      this.ws = list.find((w) => w.name === this.name);
      this.render(this.ws ? undefined : 'not found');
    } catch (err) {
      this.log.warn(`cannot read the state of ${this.name}: ${errorMessage(err)}`);
      this.render('unknown');
    }
  }

  /** Shows an action in flight ("rebuilding") until the bridge says otherwise. */
  busy(word: string): void {
    this.render(word);
  }

  private render(override?: string): void {
    const state = override ?? this.ws?.state ?? '\u2026';
    this.item.text = `$(vm) ${this.name} \u00b7 ${state}`;
    this.item.tooltip = `Pitlane workspace ${this.name} is ${state}. Click for its actions.`;
    this.item.accessibilityInformation = { label: `Pitlane workspace ${this.name}, ${state}` };
  }

  dispose(): void {
    for (const s of this.subscriptions) {
      s.dispose();
    }
    this.item.dispose();
  }
}
