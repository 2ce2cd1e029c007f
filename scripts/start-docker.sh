#!/usr/bin/env bash
# Makes sure a Docker engine answers: installs Debian's docker.io if the
# daemon is missing and starts it in the background when nothing listens.
# Needs root for the install and start steps; does nothing when an engine
# already answers.
set -euo pipefail

if docker version >/dev/null 2>&1; then
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "No Docker engine answers and dockerd is not installed; install Docker (as root: apt-get install docker.io)." >&2
    exit 1
  fi
  echo "==> installing the Docker engine (docker.io)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "No Docker engine answers; start it (for example: sudo systemctl start docker)." >&2
  exit 1
fi

echo "==> starting dockerd"
log=${DOCKERD_LOG:-/var/log/pitlane-dockerd.log}
setsid dockerd >"$log" 2>&1 </dev/null &
for _ in $(seq 1 60); do
  if docker version >/dev/null 2>&1; then
    exit 0
  fi
  sleep 0.5
done
echo "dockerd did not answer within 30 s; its log is in $log" >&2
tail -n 20 "$log" >&2 || true
exit 1
