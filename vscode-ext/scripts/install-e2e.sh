#!/usr/bin/env bash
# Installs what the end-to-end test needs: code-server (a real VS Code that
# runs in the browser) from npm, and Debian's Chromium for playwright-core to
# drive it. code-server's own postinstall would download ripgrep and native
# prebuilds, so the install is done in steps that need only the npm registry
# and Debian packages. Installs into vscode-ext/.e2e/ (git-ignored); does
# nothing when that install is already complete.
#
# Needs root only to install missing Debian packages (see APT_PACKAGES).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
version=${CODE_SERVER_VERSION:-4.100.3}
dest=${PITLANE_E2E_DIR:-$here/.e2e}/code-server
cs=$dest/node_modules/code-server
marker=$dest/.installed-$version

APT_PACKAGES=(build-essential pkg-config python3 libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev ripgrep chromium)

if [ -f "$marker" ] && [ -f "$cs/out/node/entry.js" ]; then
  echo "==> code-server $version is installed in $dest"
  exit 0
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages: ${missing[*]}; install them as root (apt-get install ${missing[*]})." >&2
    exit 1
  fi
  echo "==> installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Native modules build against the system Node's headers; node-pty's install
# runs "npx node-gyp", which must not stop to ask.
export npm_config_nodedir=/usr
export npm_config_yes=true
export npm_config_fund=false
export npm_config_audit=false
export npm_config_update_notifier=false

start=$(date +%s)
rm -rf "$dest"
mkdir -p "$dest"
cd "$dest"
echo '{"name":"pitlane-e2e-code-server","private":true}' >package.json

echo "==> installing code-server $version (without install scripts)"
npm install --no-package-lock --ignore-scripts --save-exact "code-server@$version" >/dev/null
echo "==> building argon2"
npm rebuild argon2 >/dev/null

echo "==> installing VS Code's runtime modules"
cd "$cs/lib/vscode"
npm install --omit=dev --ignore-scripts >/dev/null
# @vscode/ripgrep's postinstall skips its download when bin/ exists.
mkdir -p node_modules/@vscode/ripgrep/bin
cp /usr/bin/rg node_modules/@vscode/ripgrep/bin/rg
echo "==> building native modules (about half a minute)"
npm rebuild >/dev/null
ln -sfn node_modules node_modules.asar
ln -sfn code-linux.sh bin/remote-cli/code-server
ln -sfn browser-linux.sh bin/helpers/browser.sh

echo "==> installing the built-in extensions' modules"
cd "$cs/lib/vscode/extensions"
npm install --omit=dev >/dev/null

touch "$marker"
echo "==> code-server $version installed in $dest in $(( $(date +%s) - start )) s"
