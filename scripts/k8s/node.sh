#!/usr/bin/env bash
# A single-node Kubernetes cluster for Pitlane's tests: etcd, the API
# server, controller manager and scheduler, a kubelet and a containerd of
# its own (own socket, root and state, so it never touches Docker's).
#
# Run it through cluster.sh, which builds the binaries and puts the cluster
# in a network namespace of its own; this script expects to run inside one.
#   node.sh up     start everything; return once the node is Ready
#   node.sh down   stop everything and remove the state folder
# Environment (cluster.sh sets it): BASE the state folder, KBIN the folder
# of binaries, NAME the cluster's name, IMAGES the Docker images to copy
# into the cluster's containerd (space-separated).
set -euo pipefail
: "${BASE:?}" "${KBIN:?}" "${NAME:?}"
IMAGES=${IMAGES-pitlane/base:bookworm}

node_ip=10.250.250.1     # kubelet refuses 127/8: a /32 on lo of the namespace
node=pitlane-node
pod_cidr=10.244.0.0/24
svc_cidr=10.96.0.0/16 svc_ip=10.96.0.1
pause_image=localhost/pitlane-k8s-pause:$NAME   # localhost/ names are never pulled from a registry
cgroup_root=/pitlane-k8s-$NAME                  # pods' cgroups, apart from any other cluster's
sock=$BASE/containerd/containerd.sock
pki=$BASE/pki
export KUBECONFIG=$pki/admin.kubeconfig PATH=$KBIN:$PATH

t0=$(date +%s%N)
say() { printf '[%5.1fs] %s\n' "$(( ($(date +%s%N) - t0) / 1000000 ))e-3" "$*"; }
# until SECONDS WHAT CMD...: run CMD every 0.1 s until it succeeds.
until_ok() {
  local secs=$1 what=$2; shift 2
  local end=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$end" ]; then
      echo "node.sh: $what not ready after ${secs}s; logs in $BASE/logs" >&2
      return 1
    fi
    sleep 0.1
  done
  say "$what ready"
}
daemon() { # daemon NAME CMD...: start CMD detached, logging to logs/NAME.log
  local n=$1; shift
  setsid "$@" >"$BASE/logs/$n.log" 2>&1 </dev/null &
  echo $! >"$BASE/pids/$n"
}

make_certs() {
  (
    cd "$pki"
    newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
    newkey ca
    openssl req -x509 -new -key ca.key -subj "/CN=pitlane-k8s-$NAME" -days 3650 -out ca.crt \
      -config <(printf '[req]\ndistinguished_name=dn\nx509_extensions=ext\n[dn]\n[ext]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\n')
    # issue NAME SUBJECT USAGE [SAN]
    issue() {
      newkey "$1"
      openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
      { printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n' "$3"
        [ -z "${4:-}" ] || printf 'subjectAltName=%s\n' "$4"; } >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
    }
    issue apiserver /CN=kube-apiserver serverAuth \
      "IP:127.0.0.1,IP:$node_ip,IP:$svc_ip,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
    issue admin /O=system:masters/CN=pitlane-admin clientAuth
    issue kubelet-client /O=system:masters/CN=kube-apiserver-kubelet-client clientAuth
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key 2>/dev/null
    openssl pkey -in sa.key -pubout -out sa.pub
    cat >admin.kubeconfig <<EOF
apiVersion: v1
kind: Config
clusters:
- name: pitlane-$NAME
  cluster: {server: "https://127.0.0.1:6443", certificate-authority: $pki/ca.crt}
users:
- name: admin
  user: {client-certificate: $pki/admin.crt, client-key: $pki/admin.key}
contexts:
- name: pitlane-$NAME
  context: {cluster: pitlane-$NAME, user: admin}
current-context: pitlane-$NAME
EOF
  )
}

write_configs() {
  mkdir -p "$BASE/cni/net.d" "$BASE/containerd/certs.d"
  cat >"$BASE/cni/net.d/10-pods.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "pods", "plugins": [
  {"type": "bridge", "bridge": "pods0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$BASE/cni/ipam", "ranges": [[{"subnet": "$pod_cidr"}]],
            "routes": [{"dst": "0.0.0.0/0"}]}}]}
EOF
  # restrict_oom_score_adj: root here may lack CAP_SYS_RESOURCE, and a
  # negative oom_score_adj for the sandbox would then kill runc's init.
  # certs.d: per-registry settings (tests add plain-HTTP registries there).
  cat >"$BASE/containerd/config.toml" <<EOF
version = 2
root = "$BASE/containerd/root"
state = "$BASE/containerd/state"
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$BASE/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$BASE/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$BASE/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$BASE/containerd/certs.d"
EOF
  # failCgroupV1: this kubelet refuses cgroup v1 hosts unless told.
  cat >"$BASE/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $node_ip
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
containerRuntimeEndpoint: unix://$sock
cgroupDriver: cgroupfs
cgroupRoot: $cgroup_root
failCgroupV1: false
failSwapOn: false
podLogsDir: $BASE/pod-logs
authentication: {anonymous: {enabled: false}, webhook: {enabled: false}, x509: {clientCAFile: $pki/ca.crt}}
authorization: {mode: AlwaysAllow}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%}
EOF
}

# cgroup folders of this cluster, in every hierarchy.
cgroup_dirs() {
  local h
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    echo "/sys/fs/cgroup$cgroup_root"
  else
    for h in /sys/fs/cgroup/*/; do
      [ -d "$h" ] && [ ! -L "${h%/}" ] && echo "${h%/}$cgroup_root"
    done
  fi
}

# Images: the pause image (built from the static pause binary) and the
# images tests run, copied from Docker into the cluster's containerd.
load_images() {
  local ctx=$BASE/pause-image
  mkdir -p "$ctx"
  cp "$KBIN/pause" "$ctx/pause"
  printf 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' >"$ctx/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q -t "$pause_image" "$ctx" >/dev/null 2>"$BASE/logs/pause-image.log"
  # shellcheck disable=SC2086
  docker save "$pause_image" $IMAGES | ctr -a "$sock" -n k8s.io images import - >/dev/null
  docker rmi "$pause_image" >/dev/null
}

up() {
  local b
  for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl pause; do
    [ -x "$KBIN/$b" ] || { echo "node.sh: $KBIN/$b is missing (scripts/k8s/build.sh builds it)" >&2; exit 1; }
  done
  if [ -e "$BASE/pids" ]; then
    echo "node.sh: $BASE is in use; stop that cluster first (cluster.sh down $NAME)" >&2
    exit 1
  fi
  mkdir -p "$BASE"/{pki,logs,pids,etcd,containerd,kubelet,pod-logs}
  ip link set lo up
  ip addr add "$node_ip/32" dev lo 2>/dev/null || true
  local d
  for d in $(cgroup_dirs); do mkdir -p "$d"; done
  make_certs
  write_configs
  say "certificates and configuration written"

  daemon etcd "$KBIN/etcd" --name node --data-dir "$BASE/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster node=http://127.0.0.1:2380 --unsafe-no-fsync
  daemon containerd containerd --config "$BASE/containerd/config.toml"
  until_ok 60 etcd curl -sf http://127.0.0.1:2379/health
  daemon kube-apiserver kube-apiserver --etcd-servers=http://127.0.0.1:2379 \
    --bind-address=127.0.0.1 --secure-port=6443 --advertise-address="$node_ip" \
    --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" --service-cluster-ip-range="$svc_cidr" \
    --authorization-mode=Node,RBAC --allow-privileged=true \
    --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$pki/sa.pub" \
    --service-account-signing-key-file="$pki/sa.key" \
    --kubelet-client-certificate="$pki/kubelet-client.crt" --kubelet-client-key="$pki/kubelet-client.key" \
    --kubelet-preferred-address-types=InternalIP --profiling=false
  until_ok 60 containerd ctr -a "$sock" version
  (load_images && say "images copied into the cluster's containerd") &
  local images=$!
  until_ok 120 kube-apiserver kubectl get --raw /readyz
  local common=(--kubeconfig="$KUBECONFIG" --authentication-kubeconfig="$KUBECONFIG"
    --authorization-kubeconfig="$KUBECONFIG" --bind-address=127.0.0.1 --leader-elect=false --profiling=false)
  # The in-tree host-path provisioner gives PersistentVolumeClaims real
  # volumes on this one node (and removes them with their claims).
  daemon kube-controller-manager kube-controller-manager "${common[@]}" \
    --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
    --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
    --use-service-account-credentials=false --enable-hostpath-provisioner
  daemon kube-scheduler kube-scheduler "${common[@]}"
  wait "$images"
  daemon kubelet kubelet --config="$BASE/kubelet/config.yaml" --kubeconfig="$KUBECONFIG" \
    --root-dir="$BASE/kubelet" --cert-dir="$BASE/kubelet/pki" --hostname-override="$node" \
    --node-ip="$node_ip" -v=1
  kubectl apply -f - >/dev/null <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/host-path
reclaimPolicy: Delete
volumeBindingMode: Immediate
EOF
  until_ok 120 "node $node" kubectl wait --for=condition=Ready "node/$node" --timeout=1s
  until_ok 60 "default service account" kubectl get serviceaccount default
}

down() {
  # Nothing of the cluster is kept, so nothing needs a clean shutdown.
  stop() { # stop NAME: TERM, wait up to 2 s, then KILL
    local f=$BASE/pids/$1 pid i
    [ -f "$f" ] || return 0
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$f"
  }
  [ -d "$BASE" ] || return 0
  if [ -f "$BASE/pids/kube-apiserver" ]; then
    # Pods go through the kubelet, which removes their network namespaces
    # (containerd keeps them where every containerd does); then claims,
    # so the provisioner removes their volumes.
    kubectl delete pods --all --all-namespaces --grace-period=1 --wait=false >/dev/null 2>&1 || true
    local i
    for ((i = 0; i < 300; i++)); do
      [ -z "$(kubectl get pods --all-namespaces -o name 2>/dev/null)" ] && break
      sleep 0.1
    done
    say "pods gone"
    kubectl delete pvc --all --all-namespaces --wait=false >/dev/null 2>&1 || true
    for ((i = 0; i < 300; i++)); do
      [ -z "$(kubectl get pv -o name 2>/dev/null)" ] && break
      sleep 0.1
    done
    say "volumes gone"
  fi
  stop kubelet
  say "kubelet stopped"
  local id pid
  for id in $(ctr -a "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
    ctr -a "$sock" -n k8s.io tasks kill -s KILL "$id" >/dev/null 2>&1 || true
  done
  sleep 0.5
  for id in $(ctr -a "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
    ctr -a "$sock" -n k8s.io tasks delete -f "$id" >/dev/null 2>&1 || true
  done
  # The shims of this containerd, found by its socket.
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $sock" || true); do
    kill "$pid" 2>/dev/null || true
  done
  for n in kube-scheduler kube-controller-manager kube-apiserver containerd etcd; do stop "$n"; done
  say "control plane stopped"
  grep " $BASE/" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  local d
  for d in $(cgroup_dirs); do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  ip link del pods0 2>/dev/null || true
  ip addr del "$node_ip/32" dev lo 2>/dev/null || true
  rm -rf "$BASE.logs"
  mv "$BASE/logs" "$BASE.logs" 2>/dev/null || true
  rm -rf "$BASE"
  say "state removed"
  echo "cluster $NAME stopped; its logs are in $BASE.logs"
}

case ${1:-} in
  up) up ;;
  down) down ;;
  *) echo "usage: node.sh up|down (run it through cluster.sh)" >&2; exit 2 ;;
esac
