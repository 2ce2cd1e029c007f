#!/usr/bin/env bash
# A real single-node Kubernetes cluster for Pitlane's tests and for trying
# the Kubernetes provider, in a network namespace of its own: every address
# it uses (the API server on 127.0.0.1:6443, the node and pod addresses)
# exists only in that namespace, so run what talks to it there too.
#
#   cluster.sh up [NAME]          build the binaries (cached) and start cluster NAME
#   cluster.sh down [NAME]        stop it and remove its state
#   cluster.sh run NAME CMD...    run CMD in the cluster's namespace, with KUBECONFIG set
#   cluster.sh kubeconfig [NAME]  print the path of its admin kubeconfig
#   cluster.sh status [NAME]      say whether it runs
#   cluster.sh prune              stop the clusters whose owner process is gone
#                                 (up records $PITLANE_K8S_OWNER, a pid, if set)
#
# NAME defaults to "dev"; the namespace is pitlane-k8s-NAME and the state
# lives in $PITLANE_K8S_STATE/NAME (default: $TMPDIR/pitlane-k8s or
# /tmp/pitlane-k8s). PITLANE_K8S_IMAGES lists the Docker images copied into
# the cluster (default: pitlane/base:bookworm). Needs root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:-}
[ $# -gt 0 ] && shift
name=${1:-dev}
[ $# -gt 0 ] && shift
case $name in
  *[!a-z0-9-]* | "") echo "cluster.sh: cluster names are lowercase letters, digits and '-'" >&2; exit 2 ;;
esac
ns=pitlane-k8s-$name
state=${PITLANE_K8S_STATE:-${TMPDIR:-/tmp}/pitlane-k8s}
base=$state/$name
kubeconfig=$base/pki/admin.kubeconfig

# nsenter changes only the network namespace: `ip netns exec` would also
# remount /sys, and the kubelet would then miss the cgroup mounts.
inns() { nsenter --net="/run/netns/$ns" "$@"; }
have_ns() { ip netns list | awk '{print $1}' | grep -qx "$ns"; }
need_root() {
  [ "$(id -u)" -eq 0 ] || { echo "cluster.sh: the test cluster needs root (network namespaces, mounts, cgroups)" >&2; exit 1; }
}

case $cmd in
  up)
    need_root
    start=$(date +%s)
    kbin=$("$here/build.sh")
    echo "binaries: $kbin ($(( $(date +%s) - start ))s)"
    have_ns || ip netns add "$ns"
    if ! BASE=$base KBIN=$kbin NAME=$name IMAGES=${PITLANE_K8S_IMAGES-pitlane/base:bookworm} \
        inns bash "$here/node.sh" up; then
      echo "cluster.sh: the cluster did not start; its logs: $base/logs (or $base.logs)" >&2
      BASE=$base KBIN=$kbin NAME=$name inns bash "$here/node.sh" down >/dev/null 2>&1 || true
      ip netns del "$ns" 2>/dev/null || true
      exit 1
    fi
    if [ -n "${PITLANE_K8S_OWNER:-}" ]; then echo "$PITLANE_K8S_OWNER" >"$base/owner"; fi
    echo "cluster $name is up in $(( $(date +%s) - start ))s; use it with: $0 run $name kubectl get nodes"
    ;;
  down)
    need_root
    kbin=$("$here/build.sh" --print)
    if have_ns; then
      BASE=$base KBIN=$kbin NAME=$name inns bash "$here/node.sh" down || true
      ip netns del "$ns" 2>/dev/null || true
    elif [ -d "$base" ]; then
      # The namespace is gone but processes or state may be left.
      BASE=$base KBIN=$kbin NAME=$name bash "$here/node.sh" down || true
    else
      echo "cluster $name is not running"
    fi
    ;;
  run)
    [ $# -gt 0 ] || { echo "usage: cluster.sh run NAME CMD..." >&2; exit 2; }
    [ -f "$kubeconfig" ] || { echo "cluster.sh: cluster $name is not running (cluster.sh up $name)" >&2; exit 1; }
    kbin=$("$here/build.sh" --print)
    KUBECONFIG=$kubeconfig PATH=$kbin:$PATH exec nsenter --net="/run/netns/$ns" "$@"
    ;;
  prune)
    need_root
    for owner in "$state"/*/owner; do
      [ -f "$owner" ] || continue
      pid=$(cat "$owner")
      if ! kill -0 "$pid" 2>/dev/null; then
        n=$(basename "$(dirname "$owner")")
        echo "cluster $n: its owner (pid $pid) is gone; stopping it"
        "$0" down "$n"
      fi
    done
    ;;
  kubeconfig)
    echo "$kubeconfig"
    ;;
  status)
    if [ -f "$base/pids/kubelet" ] && inns "$("$here/build.sh" --print)/kubectl" --kubeconfig "$kubeconfig" get --raw /readyz >/dev/null 2>&1; then
      echo "cluster $name is running (namespace $ns, kubeconfig $kubeconfig)"
    else
      echo "cluster $name is not running"
      exit 1
    fi
    ;;
  *)
    sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
