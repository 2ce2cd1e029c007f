// Menus from the workspace record's `actions`: the bridge decides what a
// workspace's state allows; this file only turns that list into VS Code's
// menu tags and pick items. Pure, tested without VS Code.

import { Action, Port, Workspace } from './protocol';

/** The actions of a workspace; a version 1 bridge sends none, so nothing is offered. */
export function actionsOf(ws: Pick<Workspace, 'actions'>): Action[] {
  return ws.actions ?? [];
}

export function allows(ws: Pick<Workspace, 'actions'>, action: Action): boolean {
  return actionsOf(ws).includes(action);
}

/**
 * contextValue tags a workspace item for package.json's menus:
 * "workspace;open;stop;rebuild;delete;logs;ports;". The menu entry of an
 * action matches `viewItem =~ /^workspace;(.*;)?ACTION;/`.
 */
export function workspaceContext(ws: Pick<Workspace, 'actions'>): string {
  return ['workspace', ...actionsOf(ws)].join(';') + ';';
}

/** contextValue of a port item: "port;forwarded;" or "port;". */
export function portContext(p: Port): string {
  return p.forwarded ? 'port;forwarded;' : 'port;';
}

/** The command that runs each action, and its title in picks. */
export const actionCommands: Record<Action, { command: string; title: string; icon: string }> = {
  open: { command: 'pitlane.open', title: 'Open', icon: 'window' },
  start: { command: 'pitlane.start', title: 'Start', icon: 'debug-start' },
  stop: { command: 'pitlane.stop', title: 'Stop', icon: 'debug-stop' },
  rebuild: { command: 'pitlane.rebuild', title: 'Rebuild', icon: 'refresh' },
  delete: { command: 'pitlane.delete', title: 'Delete', icon: 'trash' },
  logs: { command: 'pitlane.showLog', title: 'Show Logs', icon: 'output' },
  ports: { command: 'pitlane.forwardPort', title: 'Forward Port', icon: 'plug' },
  cancel: { command: 'pitlane.cancel', title: 'Cancel', icon: 'close' },
};

/** The pick items for what a workspace allows, in the bridge's order. */
export function actionItems(ws: Pick<Workspace, 'actions'>): { action: Action; label: string; command: string }[] {
  return actionsOf(ws)
    .filter((a) => a in actionCommands)
    .map((a) => ({ action: a, label: `$(${actionCommands[a].icon}) ${actionCommands[a].title}`, command: actionCommands[a].command }));
}

/** A port as one line: "3000 web (forwarded to 127.0.0.1:3001)". */
export function describePort(p: Port): { label: string; description: string } {
  const label = p.label ? `${p.port} ${p.label}` : String(p.port);
  const from = p.source === 'detected' ? 'listening' : p.source;
  const description = p.forwarded ? `${from} \u00b7 forwarded to 127.0.0.1:${p.forwarded.localPort}` : from;
  return { label, description };
}
