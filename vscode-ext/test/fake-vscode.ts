// A stand-in for the `vscode` module in unit tests of the extension's VS Code
// glue (test builds alias `vscode` to this file). It records what the code
// under test shows: output channel text, status bar items, commands run.
// Only what those tests use is here.

export const recorded = {
  channels: [] as FakeOutputChannel[],
  statusItems: [] as FakeStatusBarItem[],
  commands: [] as { command: string; args: unknown[] }[],
};

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

export const window = {
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

export const workspace: { workspaceFolders: { uri: FakeUri }[] | undefined; workspaceFile: FakeUri | undefined } = {
  workspaceFolders: undefined,
  workspaceFile: undefined,
};
