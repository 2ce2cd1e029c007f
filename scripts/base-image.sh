#!/usr/bin/env bash
# Builds Pitlane's default base image offline from Debian packages with
# debootstrap and imports it into the local Docker engine. Nothing is pulled
# from a registry. Skips the work when the image already exists.
set -euo pipefail

image=${PITLANE_BASE_IMAGE:-pitlane/base:bookworm}
suite=${PITLANE_BASE_SUITE:-bookworm}

if docker image inspect "$image" >/dev/null 2>&1 && [ "${1:-}" != "--force" ]; then
  echo "==> base image $image is present"
  exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "debootstrap is needed to build $image; install it (apt-get install debootstrap)." >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq debootstrap >/dev/null
fi

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
echo "==> building $image with debootstrap ($suite, minbase); this takes about a minute"
debootstrap --variant=minbase --include=git,ca-certificates,bash,procps "$suite" "$rootfs" >/dev/null
tar -C "$rootfs" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["bash"]' - "$image" >/dev/null
echo "==> built $image"
