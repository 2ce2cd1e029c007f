#!/usr/bin/env bash
# Builds the binaries of the test cluster (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet, kubectl and the pods'
# pause process) from the Go module proxy, using the pinned modules under
# scripts/k8s/modules, and prints the folder that holds them.
#
# The binaries are cached per machine in
#   ${PITLANE_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pitlane/k8s}/<key>/bin
# where <key> hashes the module files, this script and the Go version, so a
# second run (or a fresh clone on the same machine) costs nothing, and a
# version bump builds afresh. Older keys are removed once a new one is built.
# A cold build takes about 8 minutes of CPU on 2 cores.
# With --print it only prints the folder, built or not; with --check it
# only says, by its exit status, whether they are built.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mods=$here/modules
root=${PITLANE_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pitlane/k8s}

key=$( { cat "$mods"/kubernetes/go.mod "$mods"/kubernetes/go.sum "$mods"/kubernetes/tools.go \
              "$mods"/etcd/go.mod "$mods"/etcd/go.sum "$mods"/etcd/main.go \
              "$mods"/pause/go.mod "$mods"/pause/main.go "$0"; go version; } |
       sha256sum | cut -c1-16)
out=$root/$key/bin
bins=(pause etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)

have=1
for b in "${bins[@]}"; do [ -x "$out/$b" ] || have=0; done
if [ "${1:-}" = --check ]; then
  [ $have = 1 ]
  exit
fi
if [ $have = 1 ] || [ "${1:-}" = --print ]; then
  echo "$out"
  exit 0
fi

mkdir -p "$root"
exec 9>"$root/.lock"
flock 9 # one build at a time on this machine; the other waits, then finds it done
have=1
for b in "${bins[@]}"; do [ -x "$out/$b" ] || have=0; done
if [ $have = 0 ]; then
  tmp=$root/$key.tmp
  rm -rf "$tmp"; mkdir -p "$tmp"
  export CGO_ENABLED=0 GOFLAGS=-mod=readonly
  v=$(cd "$mods/kubernetes" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
  major=${v#v}; major=${major%%.*}
  minor=${v#v*.}; minor=${minor%%.*}
  # Without these the components report v0.0.0 and the kubelet and
  # apiserver refuse each other.
  ld="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$v -X $p.gitMajor=$major -X $p.gitMinor=$minor"
  done
  ld+=" -X k8s.io/component-base/version.gitTreeState=clean"
  for b in "${bins[@]}"; do
    start=$(date +%s)
    if [ "$b" = etcd ] || [ "$b" = pause ]; then
      (cd "$mods/$b" && go build -trimpath -ldflags "-s -w" -o "$tmp/$b" .)
    else
      (cd "$mods/kubernetes" && go build -trimpath -ldflags "$ld" -o "$tmp/$b" "k8s.io/kubernetes/cmd/$b")
    fi
    echo "built $b in $(( $(date +%s) - start ))s" >&2
  done
  rm -rf "${out%/bin}"; mkdir -p "${out%/bin}"; mv "$tmp" "$out"
  for d in "$root"/*/; do
    [ "${d%/}" = "$root/$key" ] || rm -rf "$d"
  done
fi
echo "$out"
