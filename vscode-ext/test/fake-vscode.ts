// A stand-in for the `vscode` module in unit tests of the extension's VS Code
// glue (test builds alias `vscode` to this file). It records what the code
// under test shows: output channel text, status bar items, commands run.
// Only what those tests use is here.

export const recorded = {
  channels: [] as FakeOutputChannel[],
  statusItems: [] as FakeStatusBarItem[],
  commands: [] as { command: string; args: unknown[] }[],
  /** Every message shown: kind, text, options (modal, detail) and buttons. */
  messages: [] as { kind: string; text: string; options?: unknown; items: string[] }[],
};

/** The buttons the "user" clicks, in order; undefined closes the message. */
export const answers: (string | undefined)[] = [];

/** Commands the code under test registered. */
export const registered = new Map<string, (...args: any[]) => unknown>();

/** Extension ids that count as installed. */
export const installed = new Set<string>();

export const env = { appName: 'Visual Studio Code', uriScheme: 'vscode', clipboard: { writeText: async (_: string) => undefined }, openExternal: async (_: unknown) => true };

export class FakeOutputChannel {
  text = '';
  disposed = false;
  shown = 0;
  constructor(readonly name: string) {}
  append(s: string): void {
    this.text += s;
  }
  appendLine(s: string): void {
    this.text += s + '\n';
  }
  clear(): void {
    this.text = '';
  }
  show(): void {
    this.shown++;
  }
  hide(): void {}
  dispose(): void {
    this.disposed = true;
  }
}

export class FakeStatusBarItem {
  text = '';
  tooltip: unknown;
  command: unknown;
  name: string | undefined;
  accessibilityInformation: unknown;
  visible = false;
  disposed = false;
  constructor(readonly id: string) {}
  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
  }
  dispose(): void {
    this.disposed = true;
  }
}

export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}

export enum ProgressLocation {
  SourceControl = 1,
  Window = 10,
  Notification = 15,
}

export enum QuickPickItemKind {
  Separator = -1,
  Default = 0,
}

function message(kind: string) {
  return async (text: string, ...rest: unknown[]): Promise<string | undefined> => {
    const options = rest.length && typeof rest[0] === 'object' ? rest.shift() : undefined;
    recorded.messages.push({ kind, text, options, items: rest as string[] });
    return answers.shift();
  };
}

const never = { isCancellationRequested: false, onCancellationRequested: () => ({ dispose() {} }) };

/** A pick answers with the item whose label contains the next answer ('' = the active item). */
function pickFrom<T extends { label: string }>(items: readonly T[], active?: readonly T[]): T | undefined {
  const a = answers.shift();
  if (a === undefined) {
    return undefined;
  }
  if (a === '' && active?.length) {
    return active[0];
  }
  return items.find((i) => i.label.includes(a));
}

export const window = {
  /** Every pick shown, with its items and active items (for createQuickPick). */
  picks: [] as { title?: string; items: string[]; active: string[] }[],
  async showQuickPick<T extends { label: string } | string>(items: readonly T[] | Promise<readonly T[]>, opts?: { title?: string }) {
    const list = await items;
    const objs = list.map((i) => (typeof i === 'string' ? { label: i, value: i } : { label: i.label, value: i }));
    window.picks.push({ title: opts?.title, items: objs.map((o) => o.label), active: [] });
    return pickFrom(objs)?.value;
  },
  async showInputBox(): Promise<string | undefined> {
    return answers.shift();
  },
  createQuickPick<T extends { label: string }>() {
    let accept: (() => void) | undefined;
    let hide: (() => void) | undefined;
    const qp = {
      title: '',
      placeholder: '',
      items: [] as T[],
      activeItems: [] as T[],
      selectedItems: [] as T[],
      onDidAccept: (l: () => void) => ((accept = l), { dispose() {} }),
      onDidHide: (l: () => void) => ((hide = l), { dispose() {} }),
      show() {
        window.picks.push({ title: qp.title, items: qp.items.map((i) => i.label), active: qp.activeItems.map((i) => i.label) });
        const chosen = pickFrom(qp.items, qp.activeItems);
        if (chosen) {
          qp.selectedItems = [chosen];
          accept?.();
        } else {
          hide?.();
        }
      },
      dispose() {},
    };
    return qp;
  },
  showInformationMessage: message('info'),
  showWarningMessage: message('warning'),
  showErrorMessage: message('error'),
  async withProgress<T>(_: unknown, fn: (p: { report(v: unknown): void }, t: typeof never) => Promise<T>): Promise<T> {
    return fn({ report: () => undefined }, never);
  },
  createOutputChannel(name: string): FakeOutputChannel {
    const c = new FakeOutputChannel(name);
    recorded.channels.push(c);
    return c;
  },
  createStatusBarItem(id: string): FakeStatusBarItem {
    const i = new FakeStatusBarItem(id);
    recorded.statusItems.push(i);
    return i;
  },
};

export const commands = {
  async executeCommand(command: string, ...args: unknown[]): Promise<void> {
    recorded.commands.push({ command, args });
  },
  registerCommand(id: string, fn: (...args: any[]) => unknown) {
    registered.set(id, fn);
    return { dispose: () => registered.delete(id) };
  },
};

export const extensions = {
  getExtension: (id: string) => (installed.has(id) ? { id } : undefined),
};

export const Uri = {
  parse: (s: string) => fakeUri(s),
};

export interface FakeUri {
  scheme: string;
  authority: string;
  path: string;
  toString(): string;
}

export function fakeUri(s: string): FakeUri {
  const u = new URL(s);
  return { scheme: u.protocol.replace(/:$/, ''), authority: decodeURIComponent(u.host), path: u.pathname, toString: () => s };
}

export const workspace: {
  workspaceFolders: { uri: FakeUri }[] | undefined;
  workspaceFile: FakeUri | undefined;
  getConfiguration(section?: string): { get<T>(key: string, def: T): T };
} = {
  workspaceFolders: undefined,
  workspaceFile: undefined,
  getConfiguration: () => ({ get: <T>(_: string, def: T) => def }),
};

// What src/tree.ts needs to load (commands.ts imports its node classes).
export class EventEmitter<T> {
  private listeners: ((v: T) => void)[] = [];
  readonly event = (l: (v: T) => void) => {
    this.listeners.push(l);
    return { dispose: () => (this.listeners = this.listeners.filter((x) => x !== l)) };
  };
  fire(v: T): void {
    this.listeners.forEach((l) => l(v));
  }
  dispose(): void {
    this.listeners = [];
  }
}

export enum TreeItemCollapsibleState {
  None = 0,
  Collapsed = 1,
  Expanded = 2,
}

export class TreeItem {
  [k: string]: unknown;
  constructor(
    public label: string,
    public collapsibleState?: TreeItemCollapsibleState,
  ) {}
}

export class MarkdownString {
  constructor(
    public value: string,
    public supportThemeIcons?: boolean,
  ) {}
}

export class ThemeColor {
  constructor(public id: string) {}
}

export class ThemeIcon {
  constructor(
    public id: string,
    public color?: ThemeColor,
  ) {}
}
