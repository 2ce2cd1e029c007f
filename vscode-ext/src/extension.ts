// The Pitlane extension: a thin client of `pitlane bridge`. It owns the
// bridge process, the Workspaces view, the commands and the telemetry
// consent it passes on.

import * as vscode from 'vscode';
import { Bridge } from './bridge';
import { Commands } from './commands';
import { ThisWorkspace } from './here';
import { watchConsent } from './telemetry';
import { WorkspaceTree } from './tree';

let bridge: Bridge | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Pitlane', { log: true });
  context.subscriptions.push(log);

  bridge = new Bridge({
    command: () => binaryPath(),
    clientInfo: { name: 'vscode', version: vscode.version },
    log,
  });
  const b = bridge;
  setContext(b.state);
  context.subscriptions.push(
    toDisposable(
      b.onDidChangeState(({ state, reason }) => {
        setContext(state);
        if (state === 'restarting' || state === 'failed') {
          void vscode.window.showWarningMessage(`Pitlane: ${reason}`, 'Show Log').then((a) => a && log.show());
        }
      }),
    ),
    toDisposable(
      b.onMessage((m) => {
        const text = `[bridge] ${m.message}`;
        if (m.type === 1) {
          log.error(text);
        } else if (m.type === 2) {
          log.warn(text);
        } else {
          log.info(text);
        }
        if (m.show) {
          const show =
            m.type === 1
              ? vscode.window.showErrorMessage
              : m.type === 2
                ? vscode.window.showWarningMessage
                : vscode.window.showInformationMessage;
          void show(`Pitlane: ${m.message}`);
        }
      }),
    ),
  );

  const tree = new WorkspaceTree(b, log);
  const view = vscode.window.createTreeView('pitlane.workspaces', { treeDataProvider: tree, showCollapseAll: false });
  tree.message = (text) => (view.message = text);
  context.subscriptions.push(tree, view);

  const here = new ThisWorkspace(b, log);
  context.subscriptions.push(here);
  new Commands(context, b, tree, log, here).register();
  watchConsent(context, b, log);

  // A new binary path means a new bridge.
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration('pitlane.path')) {
        log.info('pitlane.path changed; restarting the bridge');
        await b.restart();
        tree.reload();
      }
    }),
  );
}

export async function deactivate(): Promise<void> {
  await bridge?.dispose();
  bridge = undefined;
}

function binaryPath(): string {
  const configured = vscode.workspace.getConfiguration('pitlane').get<string>('path', '').trim();
  return configured || 'pitlane';
}

function setContext(state: string): void {
  void vscode.commands.executeCommand('setContext', 'pitlane.bridge', state);
}

function toDisposable(d: { dispose(): void }): vscode.Disposable {
  return { dispose: () => d.dispose() };
}
