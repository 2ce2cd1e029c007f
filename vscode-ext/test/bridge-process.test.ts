// The bridge process manager: lazy start, stderr to the log, restart with
// backoff after a crash, and the "binary missing" state.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { Bridge, BridgeMissingError, Log, StateChange } from '../src/bridge';
import { TestEnv, pitlaneBin, waitFor, withTimeout } from './harness';

class MemoryLog implements Log {
  lines: string[] = [];
  info(m: string) {
    this.lines.push(`info ${m}`);
  }
  warn(m: string) {
    this.lines.push(`warn ${m}`);
  }
  error(m: string) {
    this.lines.push(`error ${m}`);
  }
}

describe('bridge process', () => {
  const env = new TestEnv();
  after(() => env.remove());

  it('starts only when asked, and restarts after a crash', async () => {
    const log = new MemoryLog();
    const bin = pitlaneBin();
    const bridge = new Bridge({ command: () => bin, clientInfo: { name: 'vscode' }, log, env: env.env, initialDelayMs: 50 });
    const states: StateChange[] = [];
    bridge.onDidChangeState((s) => states.push(s));
    let readies = 0;
    bridge.onReady(() => readies++);
    try {
      assert.equal(bridge.state, 'idle');
      assert.equal(bridge.pid, undefined, 'spawned before anyone asked');

      const client = await withTimeout(bridge.get(), 10_000, 'first start');
      assert.equal(bridge.state, 'ready');
      assert.equal(await bridge.get(), client, 'a second get() spawned another bridge');
      assert.equal(await client.setConsent(false, true), false);
      const pid = bridge.pid!;
      assert.ok(pid > 0);

      const back = waitFor(bridge.onReady, () => true, 10_000, 'restart');
      process.kill(pid, 'SIGKILL');
      const { client: again } = await back;
      assert.notEqual(bridge.pid, pid);
      assert.equal(await again.setConsent(false, false), false);
      assert.equal(readies, 2);
      const down = states.find((s) => s.state === 'restarting');
      assert.ok(down, `no restarting state in ${JSON.stringify(states)}`);
      assert.match(down.reason ?? '', /killed by SIGKILL/);
      assert.ok(log.lines.some((l) => l.startsWith('warn the Pitlane bridge was killed by SIGKILL')), log.lines.join('\n'));
    } finally {
      await bridge.dispose();
    }
  });

  it('shows the stderr of a bridge that keeps dying, and gives up', async () => {
    const script = path.join(env.dir, 'dying-pitlane');
    fs.writeFileSync(script, '#!/bin/sh\necho "cannot start: something is wrong" >&2\nexit 3\n', { mode: 0o755 });
    const log = new MemoryLog();
    const bridge = new Bridge({
      command: () => script,
      clientInfo: { name: 'vscode' },
      log,
      initialDelayMs: 10,
      maxRestarts: 3,
    });
    try {
      const failed = waitFor(bridge.onDidChangeState, (s) => s.state === 'failed', 10_000, 'failed state');
      await assert.rejects(bridge.get(), /exited with status 3: cannot start: something is wrong/);
      const s = await failed;
      assert.match(s.reason ?? '', /exited with status 3: cannot start/);
      assert.ok(log.lines.includes('info [bridge] cannot start: something is wrong'), log.lines.join('\n'));
      assert.equal(log.lines.filter((l) => l.startsWith('info starting')).length, 4);
      // Refresh (reset) tries again at once.
      bridge.reset();
      assert.equal(bridge.state, 'idle');
      await assert.rejects(bridge.get(), /exited with status 3/);
    } finally {
      await bridge.dispose();
    }
  });

  it('shows the reason of a panic, not the last line of its stack', async () => {
    const script = path.join(env.dir, 'panicking-pitlane');
    fs.writeFileSync(
      script,
      '#!/bin/sh\necho "panic: runtime error: nil pointer" >&2\necho "goroutine 6 [running]:" >&2\necho "\tconn.go:69 +0x230" >&2\nexit 2\n',
      { mode: 0o755 },
    );
    const bridge = new Bridge({ command: () => script, clientInfo: { name: 'vscode' }, log: new MemoryLog(), maxRestarts: 0 });
    try {
      await assert.rejects(bridge.get(), /exited with status 2: panic: runtime error: nil pointer$/);
    } finally {
      await bridge.dispose();
    }
  });

  it('says when the binary cannot be run', async () => {
    const log = new MemoryLog();
    const missing = path.join(env.dir, 'no-such-pitlane');
    const bridge = new Bridge({ command: () => missing, clientInfo: { name: 'vscode' }, log });
    try {
      await assert.rejects(bridge.get(), (err: unknown) => {
        assert.ok(err instanceof BridgeMissingError);
        assert.match(err.message, /ENOENT/);
        assert.match(err.message, /pitlane\.path/);
        return true;
      });
      assert.equal(bridge.state, 'missing');
    } finally {
      await bridge.dispose();
    }
  });
});
