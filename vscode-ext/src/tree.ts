// The Workspaces view: one item per workspace, kept current from the
// bridge's workspace/didChange pushes.

import * as vscode from 'vscode';
import { Bridge } from './bridge';
import { errorMessage } from './client';
import { allows, describePort, portContext, workspaceContext } from './actions';
import { DidChangeParams, Port, PortsChangedParams, Workspace } from './protocol';
import { describe, sortWorkspaces, tooltip } from './present';

/** A node of the tree; the object stays the same while its workspace changes. */
export class WorkspaceNode {
  /** An action in flight ("stopping", "starting", ...) shown until the bridge answers. */
  pending: string | undefined;
  /** The ports last heard of (workspace/ports or workspace/portsChanged); undefined: not asked yet. */
  ports: Port[] | undefined;
  constructor(public ws: Workspace) {}
  get name(): string {
    return this.ws.name;
  }
}

/** A port of a workspace, shown under it. */
export class PortNode {
  constructor(
    readonly workspace: WorkspaceNode,
    readonly port: Port,
  ) {}
  get name(): string {
    return this.workspace.name;
  }
}

/** Said under a workspace that has no ports. */
class NoPortsNode {
  constructor(readonly text: string) {}
}

export type Node = WorkspaceNode | PortNode | NoPortsNode;

export class WorkspaceTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<Node | undefined>();
  private readonly nodes = new Map<string, WorkspaceNode>();
  private order: string[] = [];
  private loaded: Promise<void> | undefined;
  private everReady = false;
  private loadFailed = false;
  private readonly subscriptions: vscode.Disposable[] = [];

  readonly onDidChangeTreeData = this.emitter.event;
  /** Where to show a problem with the whole list (the view's message line). */
  message: (text: string | undefined) => void = () => undefined;

  constructor(private readonly bridge: Bridge, private readonly log: vscode.LogOutputChannel) {
    this.subscriptions.push(
      { dispose: () => this.emitter.dispose() },
      toDisposable(bridge.onDidChange((p) => this.apply(p))),
      toDisposable(bridge.onPortsChanged((p) => this.setPorts(p))),
      // After a restart the list may have changed while no bridge was listening.
      toDisposable(
        bridge.onReady(() => {
          if (this.everReady || this.loadFailed) {
            this.reload();
          }
          this.everReady = true;
        }),
      ),
    );
  }

  dispose(): void {
    for (const d of this.subscriptions) {
      d.dispose();
    }
  }

  /** Loads the list again from the bridge and redraws everything. */
  reload(): void {
    this.loaded = undefined;
    this.emitter.fire(undefined);
  }

  get(name: string): WorkspaceNode | undefined {
    return this.nodes.get(name);
  }

  /** Marks a node as busy (spinner and a word) until the next change for it. */
  setPending(node: WorkspaceNode, pending: string | undefined): void {
    node.pending = pending;
    this.emitter.fire(node);
  }

  /** Puts a workspace the bridge returned into the tree. */
  upsert(ws: Workspace): void {
    this.apply({ name: ws.name, kind: 'changed', workspace: ws });
  }

  /** The workspaces the tree knows, in its order. */
  list(): Workspace[] {
    return this.order.map((n) => this.nodes.get(n)?.ws).filter((w): w is Workspace => w !== undefined);
  }

  /** Takes a workspace's ports (from workspace/portsChanged or a forward) and redraws them. */
  setPorts(p: PortsChangedParams): void {
    const node = this.nodes.get(p.name);
    if (node) {
      node.ports = p.ports;
      this.emitter.fire(node);
    }
  }

  async getChildren(element?: Node): Promise<Node[]> {
    if (element instanceof WorkspaceNode) {
      return this.portsOf(element);
    }
    if (element) {
      return [];
    }
    if (!this.loaded) {
      this.loaded = this.load();
    }
    try {
      await this.loaded;
    } catch (err) {
      this.loaded = undefined;
      this.loadFailed = true;
      this.log.error(`listing workspaces failed: ${errorMessage(err)}`);
      // A missing or failed bridge has its own welcome text, which a message would hide.
      const down = this.bridge.state === 'missing' || this.bridge.state === 'failed';
      this.message(down ? undefined : `Cannot list workspaces: ${errorMessage(err)}`);
      return [];
    }
    this.loadFailed = false;
    this.message(undefined);
    return this.order.map((n) => this.nodes.get(n)!).filter((n) => n !== undefined);
  }

  getParent(node: Node): Node | undefined {
    return node instanceof PortNode ? node.workspace : undefined;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node instanceof PortNode) {
      return portItem(node);
    }
    if (node instanceof NoPortsNode) {
      const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
      item.contextValue = 'noPorts';
      return item;
    }
    const ws = node.ws;
    const item = new vscode.TreeItem(
      ws.name,
      allows(ws, 'ports') ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
    );
    item.id = ws.name;
    const shown = node.pending ?? ws.state;
    item.description = node.pending ? `${node.pending}\u2026` : describe(ws, new Date());
    item.tooltip = new vscode.MarkdownString(tooltip(ws), true);
    item.iconPath = icon(shown);
    // The menus come from what the bridge says this state allows.
    item.contextValue = workspaceContext(ws);
    item.accessibilityInformation = { label: `${ws.name}, ${shown}` };
    return item;
  }

  private async portsOf(node: WorkspaceNode): Promise<Node[]> {
    if (!allows(node.ws, 'ports')) {
      return [];
    }
    if (node.ports === undefined) {
      try {
        node.ports = await (await this.bridge.get()).ports(node.name);
      } catch (err) {
        this.log.warn(`listing the ports of ${node.name} failed: ${errorMessage(err)}`);
        return [new NoPortsNode(`Cannot list ports: ${errorMessage(err)}`)];
      }
    }
    if (node.ports.length === 0) {
      return [new NoPortsNode('No ports yet')];
    }
    return node.ports.map((p) => new PortNode(node, p));
  }

  private async load(): Promise<void> {
    const client = await this.bridge.get();
    const list = await client.list();
    const seen = new Set<string>();
    for (const ws of list) {
      seen.add(ws.name);
      const node = this.nodes.get(ws.name);
      if (node) {
        node.ws = ws;
      } else {
        this.nodes.set(ws.name, new WorkspaceNode(ws));
      }
    }
    for (const name of [...this.nodes.keys()]) {
      if (!seen.has(name)) {
        this.nodes.delete(name);
      }
    }
    this.order = sortWorkspaces([...this.nodes.values()].map((n) => n.ws)).map((w) => w.name);
  }

  private apply(change: DidChangeParams): void {
    const node = this.nodes.get(change.name);
    if (change.removed || !change.workspace) {
      if (change.removed && node) {
        this.nodes.delete(change.name);
        this.order = this.order.filter((n) => n !== change.name);
        this.emitter.fire(undefined);
      }
      return;
    }
    if (node) {
      const hadPorts = allows(node.ws, 'ports');
      node.ws = change.workspace;
      node.pending = undefined;
      if (!hadPorts || !allows(node.ws, 'ports')) {
        // Stopped or started: ask again when the item opens.
        node.ports = undefined;
      }
    } else {
      this.nodes.set(change.name, new WorkspaceNode(change.workspace));
    }
    const order = sortWorkspaces([...this.nodes.values()].map((n) => n.ws)).map((w) => w.name);
    const moved = order.length !== this.order.length || order.some((n, i) => n !== this.order[i]);
    this.order = order;
    // A change that keeps the order redraws one item; anything else redraws the list.
    this.emitter.fire(moved || !node ? undefined : node);
  }
}

function portItem(node: PortNode): vscode.TreeItem {
  const p = node.port;
  const { label, description } = describePort(p);
  const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
  item.id = `${node.name}/port/${p.port}`;
  item.description = description;
  item.contextValue = portContext(p);
  item.iconPath = new vscode.ThemeIcon(p.forwarded ? 'radio-tower' : 'plug');
  item.tooltip = p.forwarded ? `${p.forwarded.url}` : `Port ${p.port} of ${node.name}: not forwarded`;
  item.accessibilityInformation = { label: `port ${label}, ${description}` };
  return item;
}

function icon(state: string): vscode.ThemeIcon {
  switch (state) {
    case 'running':
      return new vscode.ThemeIcon('vm-running', new vscode.ThemeColor('testing.iconPassed'));
    case 'stopped':
      return new vscode.ThemeIcon('vm-outline');
    case 'error':
    case 'interrupted':
      return new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
    default:
      // creating, deleting and the client's own "stopping", "starting", ...
      return new vscode.ThemeIcon('loading~spin');
  }
}

function toDisposable(d: { dispose(): void }): vscode.Disposable {
  return { dispose: () => d.dispose() };
}
