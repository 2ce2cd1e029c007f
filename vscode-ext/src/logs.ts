// Live logs: one output channel per workspace that follows the workspace's
// log (workspace/logs with follow, then workspace/logAppended) until the
// channel is disposed, which unfollows.

import * as vscode from 'vscode';
import { Bridge } from './bridge';
import { errorMessage } from './client';

/** The channel of one workspace's log and the bridge's follow of it. */
class LogView implements vscode.Disposable {
  readonly channel: vscode.OutputChannel;
  followId: string | undefined;
  private disposed = false;

  constructor(
    readonly name: string,
    private readonly bridge: Bridge,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.channel = vscode.window.createOutputChannel(`Pitlane Log: ${name}`);
  }

  /** Shows the log's tail and follows it from there. */
  async follow(): Promise<void> {
    const client = await this.bridge.get();
    const r = await client.followLogs(this.name);
    if (this.disposed) {
      if (r.followId) {
        await client.unfollowLogs(r.followId).catch(() => undefined);
      }
      return;
    }
    this.channel.clear();
    if (r.truncated) {
      this.channel.appendLine(`(earlier lines are in ${r.path})`);
    }
    for (const line of r.lines ?? []) {
      this.channel.appendLine(line);
    }
    this.followId = r.followId;
    if (!r.followId) {
      this.channel.appendLine('(this Pitlane version cannot follow the log: run Show Logs again for new lines)');
    }
  }

  append(lines: string[]): void {
    for (const line of lines) {
      this.channel.appendLine(line);
    }
  }

  dispose(): void {
    if (this.disposed) {
      return;
    }
    this.disposed = true;
    const id = this.followId;
    this.followId = undefined;
    this.channel.dispose();
    if (id && this.bridge.state === 'ready') {
      this.bridge
        .get()
        .then((c) => c.unfollowLogs(id))
        .catch((err) => this.log.warn(`unfollowing the log of ${this.name} failed: ${errorMessage(err)}`));
    }
  }
}

/** LogViews keeps one followed log channel per workspace. */
export class LogViews implements vscode.Disposable {
  private readonly views = new Map<string, LogView>();
  private readonly subscriptions: { dispose(): void }[] = [];

  constructor(
    private readonly bridge: Bridge,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subscriptions.push(
      bridge.onLogAppended((p) => {
        for (const v of this.views.values()) {
          if (v.followId === p.followId) {
            v.append(p.lines);
          }
        }
      }),
      // A deleted workspace has no log to follow.
      bridge.onDidChange((c) => {
        if (c.removed) {
          this.close(c.name);
        }
      }),
      // A new bridge process knows nothing of the old one's follows.
      bridge.onReady(() => {
        for (const v of this.views.values()) {
          if (v.followId) {
            v.followId = undefined;
            v.follow().catch((err) => this.log.warn(`following the log of ${v.name} again failed: ${errorMessage(err)}`));
          }
        }
      }),
    );
  }

  /** Shows the workspace's log channel, following the log. */
  async show(name: string): Promise<void> {
    let v = this.views.get(name);
    if (!v) {
      v = new LogView(name, this.bridge, this.log);
      this.views.set(name, v);
      try {
        await v.follow();
      } catch (err) {
        this.close(name);
        throw err;
      }
    }
    v.channel.show(true);
  }

  /** Is the log of name followed? */
  following(name: string): boolean {
    return this.views.get(name)?.followId !== undefined;
  }

  /** Stops following and disposes the channel of name. */
  close(name: string): void {
    this.views.get(name)?.dispose();
    this.views.delete(name);
  }

  dispose(): void {
    for (const v of this.views.values()) {
      v.dispose();
    }
    this.views.clear();
    for (const s of this.subscriptions) {
      s.dispose();
    }
  }
}
