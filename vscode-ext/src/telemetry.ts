// Telemetry consent: Pitlane's own setting (off unless the user turns it on)
// AND VS Code's global telemetry switch. The extension sends nothing itself;
// it tells the bridge, which records the documented metrics only when both
// are on.

import * as vscode from 'vscode';
import { Bridge } from './bridge';
import { errorMessage } from './client';

export const telemetrySetting = 'pitlane.telemetry.enabled';

/** The two inputs of consent, as the bridge wants them. */
export function consent(): { enabled: boolean; ideTelemetryEnabled: boolean } {
  return {
    enabled: vscode.workspace.getConfiguration().get<boolean>(telemetrySetting, false) === true,
    ideTelemetryEnabled: vscode.env.isTelemetryEnabled,
  };
}

/** Sends the consent at every bridge start and again whenever either input changes. */
export function watchConsent(context: vscode.ExtensionContext, bridge: Bridge, log: vscode.LogOutputChannel): void {
  const send = async () => {
    if (bridge.state !== 'ready') {
      return; // onReady sends it when the bridge comes up.
    }
    try {
      const c = consent();
      const client = await bridge.get();
      const effective = await client.setConsent(c.enabled, c.ideTelemetryEnabled);
      log.info(
        `telemetry consent: setting ${c.enabled}, VS Code telemetry ${c.ideTelemetryEnabled}, effective ${effective}`,
      );
    } catch (err) {
      log.warn(`could not pass the telemetry consent to the bridge: ${errorMessage(err)}`);
    }
  };
  const ready = bridge.onReady(() => void send());
  context.subscriptions.push(
    { dispose: () => ready.dispose() },
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(telemetrySetting)) {
        void send();
      }
    }),
    vscode.env.onDidChangeTelemetryEnabled(() => void send()),
  );
}
