#!/usr/bin/env bash
# Runs the end-to-end test: packages the extension, makes sure code-server,
# Chromium and the pitlane binary are there, then drives VS Code (code-server)
# through every workspace action, ports, live logs and the Settings UI. Screenshots and logs go
# to vscode-ext/e2e-artifacts/. Needs a Docker engine (skips without one
# unless PITLANE_REQUIRE_DOCKER=1).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
root=$(cd "$here/.." && pwd)
cd "$here"

bash scripts/install-e2e.sh
if [ -z "${PITLANE_BIN:-}" ] && [ ! -x "$root/bin/pitlane" ]; then
  echo "==> building bin/pitlane"
  (cd "$root" && go build -o bin/pitlane ./cmd/pitlane)
fi
npm run --silent package >/dev/null
node esbuild.mjs --tests
node out/e2e/run.js
