#!/usr/bin/env bash
# Builds the images some tests need on top of Pitlane's base image:
# pitlane/test-ssh:bookworm adds Debian's OpenSSH client and server, for
# the tests of agent forwarding and git over SSH inside a workspace. The
# packages come from Debian's repositories during this setup, never while
# tests run. Skips the work when the image already exists.
set -euo pipefail

base=${PITLANE_BASE_IMAGE:-pitlane/base:bookworm}
image=pitlane/test-ssh:bookworm

if docker image inspect "$image" >/dev/null 2>&1 && [ "${1:-}" != "--force" ]; then
  echo "==> test image $image is present"
  exit 0
fi
echo "==> building $image (OpenSSH client and server on $base)"
if ! out=$(docker build -q -t "$image" - 2>&1 <<DOCKERFILE
FROM $base
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-client openssh-server >/dev/null \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /run/sshd
DOCKERFILE
); then
  echo "$out" >&2
  exit 1
fi
echo "==> built $image"
