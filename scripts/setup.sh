#!/usr/bin/env bash
# Prepares a machine to build and test Pitlane: the system packages the
# tests use, a running Docker engine and Pitlane's offline base image.
# Idempotent and quick when everything is already there. Installing needs
# root (as on a fresh CI machine); without root it only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

# Commands the build and tests need, and the Debian package of each.
need=(
  "git:git"
  "dockerd:docker.io"
  "debootstrap:debootstrap"
  "ssh:openssh-client"
  "ssh-agent:openssh-client"
  # A test sshd in front of a second Docker engine (remote engines over ssh://).
  "/usr/sbin/sshd:openssh-server"
  "mvn:maven"
  "docker-registry:docker-registry"
  "busybox:busybox-static"
  "npm:npm"
  # The single-node Kubernetes cluster of the Kubernetes provider's tests
  # (scripts/k8s): its own containerd and runc, CNI plugins, certificates.
  "containerd:containerd"
  "runc:runc"
  "openssl:openssl"
  "curl:curl"
  "ip:iproute2"
  "nsenter:util-linux"
  "/usr/lib/cni/bridge:containernetworking-plugins"
)
missing=()
for pair in "${need[@]}"; do
  cmd=${pair%%:*} pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || [ -x "$cmd" ] || missing+=("$pkg")
done
if [ "${PITLANE_E2E:-1}" != 0 ]; then
  # The VS Code end-to-end test runs code-server in Debian's Chromium and
  # builds code-server's native modules.
  for pkg in chromium build-essential pkg-config python3 libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev ripgrep; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages: ${missing[*]}; install them (as root: apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "==> installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

scripts/start-docker.sh
scripts/base-image.sh
scripts/test-images.sh
if [ "${PITLANE_K8S:-1}" != 0 ]; then
  # Cached per machine: only the first run builds (several minutes).
  if ! scripts/k8s/build.sh --check >/dev/null 2>&1; then
    echo "==> building the test cluster's Kubernetes binaries (first time on this machine: several minutes)"
  fi
  scripts/k8s/build.sh >/dev/null
fi
