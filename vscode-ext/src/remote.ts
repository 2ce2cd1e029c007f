// Which Remote-SSH extension opens a workspace in this editor, and which
// Pitlane workspace a remote window is connected to. Pure: the caller passes
// what it knows about the editor, so each fork is tested without VS Code.

/** The editors Pitlane knows, by the Remote-SSH extension each one's marketplace offers. */
export type EditorKind = 'vscode' | 'vscodium' | 'cursor' | 'windsurf' | 'other';

export interface EditorInfo {
  /** vscode.env.appName: "Visual Studio Code", "VSCodium", "Cursor", "Windsurf", ... */
  appName: string;
  /** vscode.env.uriScheme: "vscode", "vscode-insiders", "vscodium", "cursor", "windsurf", ... */
  uriScheme: string;
}

/** A Remote-SSH extension Pitlane can hand a vscode-remote://ssh-remote+HOST URI to. */
export interface RemoteSSHExtension {
  id: string;
  title: string;
}

export const remoteSSH = {
  microsoft: { id: 'ms-vscode-remote.remote-ssh', title: 'Remote - SSH' },
  openRemote: { id: 'jeanp413.open-remote-ssh', title: 'Open Remote - SSH' },
  cursor: { id: 'anysphere.remote-ssh', title: 'Remote - SSH (Cursor)' },
  windsurf: { id: 'codeium.windsurf-remote-openssh', title: 'Remote - SSH (Windsurf)' },
} as const satisfies Record<string, RemoteSSHExtension>;

/**
 * For each editor: the extensions that work there, the one its marketplace
 * offers first. Microsoft's extension refuses to run outside Microsoft's
 * builds; older Cursor builds used it, and Windsurf began as a fork of Open
 * Remote - SSH.
 */
const works: Record<Exclude<EditorKind, 'other'>, RemoteSSHExtension[]> = {
  vscode: [remoteSSH.microsoft],
  vscodium: [remoteSSH.openRemote],
  cursor: [remoteSSH.cursor, remoteSSH.microsoft],
  windsurf: [remoteSSH.windsurf, remoteSSH.openRemote],
};

const names: Record<EditorKind, string> = {
  vscode: 'VS Code',
  vscodium: 'VSCodium',
  cursor: 'Cursor',
  windsurf: 'Windsurf',
  other: 'this editor',
};

/** editorKind names the editor by its URI scheme, or else by its name. */
export function editorKind(e: EditorInfo): EditorKind {
  const scheme = e.uriScheme.toLowerCase();
  const app = e.appName.toLowerCase();
  if (scheme.startsWith('vscodium') || app.includes('vscodium')) {
    return 'vscodium';
  }
  if (scheme.startsWith('cursor') || app.includes('cursor')) {
    return 'cursor';
  }
  if (scheme.startsWith('windsurf') || app.includes('windsurf')) {
    return 'windsurf';
  }
  if (scheme === 'vscode' || scheme === 'vscode-insiders' || /^visual studio code/.test(app)) {
    return 'vscode';
  }
  return 'other';
}

export type RemoteChoice =
  /** Open with this installed extension. */
  | { kind: 'use'; extension: RemoteSSHExtension; editor: string }
  /** None installed: offer this one, which the editor's marketplace has. */
  | { kind: 'install'; extension: RemoteSSHExtension; editor: string; message: string }
  /** The editor has no Remote-SSH extension Pitlane can use. */
  | { kind: 'none'; editor: string; message: string };

/**
 * chooseRemoteSSH picks the Remote-SSH extension for this editor: an
 * installed one that works there, else the one to install from the editor's
 * marketplace. An editor Pitlane does not know uses any known extension that
 * is installed, and otherwise has none.
 */
export function chooseRemoteSSH(e: EditorInfo, installed: (id: string) => boolean): RemoteChoice {
  const kind = editorKind(e);
  const editor = kind === 'other' ? e.appName || names.other : names[kind];
  const candidates = kind === 'other' ? Object.values(remoteSSH) : works[kind];
  const found = candidates.find((x) => installed(x.id));
  if (found) {
    return { kind: 'use', extension: found, editor };
  }
  if (kind === 'other') {
    return {
      kind: 'none',
      editor,
      message:
        `${editor} has no Remote-SSH extension that Pitlane knows (it knows ${Object.values(remoteSSH)
          .map((x) => x.id)
          .join(', ')}). ` + 'Connect with any SSH client instead: Pitlane configured the host in ~/.ssh/config.',
    };
  }
  const ext = works[kind][0];
  return {
    kind: 'install',
    extension: ext,
    editor,
    message: `Opening a Pitlane workspace in ${editor} needs the ${ext.title} extension (${ext.id}), which is not installed.`,
  };
}

/**
 * workspaceOfAuthority returns the Pitlane workspace name of a remote
 * authority ("ssh-remote+fi.pitlane", or Remote-SSH's hex-encoded JSON form
 * "ssh-remote+7b22686f73744e616d65223a...7d"), or undefined when the window is
 * not connected to a Pitlane workspace.
 */
export function workspaceOfAuthority(authority: string | undefined): string | undefined {
  if (!authority) {
    return undefined;
  }
  const m = /^ssh-remote\+(.+)$/.exec(authority);
  if (!m) {
    return undefined;
  }
  let host = decodeURIComponent(m[1]);
  if (/^([0-9a-f]{2})+$/i.test(host) && host.startsWith('7b')) {
    try {
      const parsed = JSON.parse(Buffer.from(host, 'hex').toString('utf8')) as { hostName?: unknown };
      if (typeof parsed.hostName !== 'string') {
        return undefined;
      }
      host = parsed.hostName;
    } catch {
      return undefined;
    }
  }
  host = host.replace(/^[^@]*@/, '').replace(/:\d+$/, '');
  const w = /^([a-z0-9]([a-z0-9-]*[a-z0-9])?)\.pitlane$/i.exec(host);
  return w ? w[1] : undefined;
}
