// How a workspace reads in the tree: order, one-line description, tooltip.
// Pure functions, tested without VS Code.

import { PrebuiltImage, TrustRequest, UnsavedWork, Workspace } from './protocol';

/** "Prebuilt image found: 3f9a1c2b7d4e (pulled from REPO; already set up: onCreateCommand)". */
export function describePrebuilt(p: PrebuiltImage): string {
  const notes: string[] = [];
  if (p.pulledFrom) {
    notes.push(`pulled from ${p.pulledFrom}`);
  }
  if (p.baked && p.baked.length > 0) {
    notes.push(`already set up: ${p.baked.join(', ')}`);
  }
  const key = p.key.slice(0, 12);
  return notes.length ? `Prebuilt image found: ${key} (${notes.join('; ')})` : `Prebuilt image found: ${key}`;
}

/** Running workspaces first, then the most recently used, then by name. */
export function sortWorkspaces(list: Workspace[]): Workspace[] {
  const used = (w: Workspace) => Date.parse(w.lastUsedAt ?? w.createdAt) || 0;
  return [...list].sort((a, b) => {
    const ra = a.state === 'running' ? 0 : 1;
    const rb = b.state === 'running' ? 0 : 1;
    if (ra !== rb) {
      return ra - rb;
    }
    const d = used(b) - used(a);
    return d !== 0 ? d : a.name.localeCompare(b.name);
  });
}

/** The repository (or folder) name of a source, without ".git". */
export function repoName(url: string): string {
  const trimmed = url.replace(/[/\\]+$/, '').replace(/\.git$/, '');
  const parts = trimmed.split(/[/\\:]/);
  return parts[parts.length - 1] || trimmed;
}

/** "repo@branch · used 5 min ago", or "... · never opened". */
export function describe(ws: Workspace, now: Date): string {
  const src = repoName(ws.source.url) + (ws.source.ref ? `@${ws.source.ref}` : '');
  const used = ws.lastUsedAt ? `used ${ago(Date.parse(ws.lastUsedAt), now.getTime())}` : 'never opened';
  const state = ws.state === 'running' || ws.state === 'stopped' ? '' : `${ws.state} \u00b7 `;
  return `${state}${src} \u00b7 ${used}`;
}

/** A short "how long ago" for descriptions. */
export function ago(then: number, now: number): string {
  const s = Math.max(0, Math.round((now - then) / 1000));
  if (s < 60) {
    return 'just now';
  }
  const m = Math.round(s / 60);
  if (m < 60) {
    return `${m} min ago`;
  }
  const h = Math.round(m / 60);
  if (h < 48) {
    return `${h} h ago`;
  }
  return `${Math.round(h / 24)} days ago`;
}

/** Markdown for the item's tooltip. */
export function tooltip(ws: Workspace): string {
  const rows: [string, string][] = [
    ['State', ws.state],
    ['Source', ws.source.url + (ws.source.ref ? ` (${ws.source.ref})` : '')],
    ['Image', ws.image],
    ['Folder', ws.folder],
    ['SSH host', ws.sshHost],
  ];
  if (ws.configPath) {
    rows.push(['Config', ws.configPath]);
  }
  if (ws.ports && ws.ports.length) {
    rows.push(['Ports', ws.ports.join(', ')]);
  }
  rows.push(['Created', new Date(ws.createdAt).toLocaleString()]);
  if (ws.lastUsedAt) {
    rows.push(['Last used', new Date(ws.lastUsedAt).toLocaleString()]);
  }
  let md = `**${escape(ws.name)}**\n\n` + rows.map(([k, v]) => `${k}: \`${v.replace(/`/g, "'")}\``).join('  \n');
  if (ws.lastError) {
    md += `\n\n$(error) ${escape(ws.lastError)}`;
  }
  return md;
}

function escape(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

/**
 * What to tell the user before creating from a source without its own
 * devcontainer.json: "No devcontainer.json: Pitlane will use a detected
 * Go 1.24 + PostgreSQL setup." and how many asked-for versions cannot be
 * installed exactly. Undefined for a source with a config.
 */
export function detectNotice(d: { kind: string; message: string; warnings?: string[] }): string | undefined {
  if (d.kind === 'devcontainer' || !d.message) {
    return undefined;
  }
  let s = d.message.charAt(0).toUpperCase() + d.message.slice(1) + '.';
  const n = d.warnings?.length ?? 0;
  if (n > 0) {
    s += ` ${n === 1 ? '1 version' : `${n} versions`} cannot be installed exactly: see the log.`;
  }
  return s;
}

const trustWords: Record<string, string> = {
  initializeCommand: 'Run a command on this machine',
  privileged: 'Run the container in privileged mode',
  capability: 'Add a Linux capability',
  device: 'Access a device of this machine',
  hostNetwork: "Use this machine's network",
  hostNamespace: "Share a namespace of this machine",
  securityOpt: 'Change a security option',
  bindMount: 'Mount a folder of this machine',
  buildContext: 'Send a folder outside the source to the image build',
};

/** The modal's text for error 1010: what the configuration asks of this machine. */
export function trustDialog(t: TrustRequest): { message: string; detail: string } {
  const where = t.configPath ? `${t.configPath} of ${t.source}` : `The configuration of ${t.source}`;
  const lines = (t.items ?? []).map((i) => {
    const what = trustWords[i.kind] ?? i.kind;
    return `\u2022 ${what}: ${i.detail}${i.from ? ` (asked by ${i.from})` : ''}`;
  });
  return {
    message: 'Trust this workspace configuration?',
    detail:
      `${where} asks for access to this machine:\n\n${lines.join('\n')}\n\n` +
      'Continue only if you trust the repository. Pitlane remembers the answer until the configuration changes.',
  };
}

/** The modal's text for error 1011: the work a delete would lose. */
export function unsavedDialog(name: string, u: UnsavedWork): { message: string; detail: string } {
  const parts: string[] = [];
  if (u.changes && u.changes.length) {
    parts.push(`Uncommitted changes:\n${u.changes.map((c) => `  ${c.trim()}`).join('\n')}`);
  }
  if (u.stashes) {
    parts.push(`${u.stashes === 1 ? '1 stash entry' : `${u.stashes} stash entries`}`);
  }
  if (u.unpushed && u.unpushed.length) {
    parts.push(`Commits on no remote:\n${u.unpushed.map((c) => `  ${c}`).join('\n')}`);
  }
  return {
    message: `Delete ${name} and lose its unsaved work?`,
    detail: `The clone ${u.clone} holds work found nowhere else (${u.summary}).\n\n${parts.join('\n\n')}\n\nPush or copy it first to keep it.`,
  };
}
