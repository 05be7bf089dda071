#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager and kubectl (the control plane), and
# kubelet and kube-scheduler (the test node, testenv/node.py), with Go from the modules pinned
# in testenv/tools/{kubernetes,etcd} into the cache; prints the bin folder.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

tools="$WOP_ROOT/testenv/tools"
key=$(cat "$tools"/kubernetes/go.{mod,sum} "$tools"/etcd/go.{mod,sum} | sha256sum | cut -c1-12)
bin="$WOP_CACHE/kubernetes-$WOP_KUBERNETES_VERSION-etcd-$WOP_ETCD_VERSION-$key/bin"
wanted=(etcd kube-apiserver kube-controller-manager kubectl kubelet kube-scheduler)
have_all() { for b in "${wanted[@]}"; do [ -x "$bin/$b" ] || return 1; done; }
if have_all; then echo "$bin"; exit 0; fi
take_lock kubernetes
if have_all; then echo "$bin"; exit 0; fi  # built by another run while we waited

need_cmd go "install Go 1.25 or newer to build the test control plane"
mkdir -p "$bin"
export GOFLAGS=-mod=readonly CGO_ENABLED=0
# Kubernetes binaries report the version they were stamped with (kubectl version, /version).
kversion="-X k8s.io/component-base/version.gitVersion=v$WOP_KUBERNETES_VERSION"
kversion+=" -X k8s.io/component-base/version.gitMajor=${WOP_KUBERNETES_VERSION%%.*}"
kminor=${WOP_KUBERNETES_VERSION#*.}; kversion+=" -X k8s.io/component-base/version.gitMinor=${kminor%%.*}"
kversion+=" -X k8s.io/client-go/pkg/version.gitVersion=v$WOP_KUBERNETES_VERSION"
build() { # name module-dir package extra-ldflags
  [ -x "$bin/$1" ] && return 0
  say "building $1 (once; a few minutes)"
  run_logged "go build of $1" "$WOP_CACHE/logs/build-$1.log" \
    bash -c "cd '$2' && go build -trimpath -ldflags='-s -w ${4:-}' -o '$bin/$1.tmp.$$' '$3' && mv '$bin/$1.tmp.$$' '$bin/$1'"
}
build etcd "$tools/etcd" go.etcd.io/etcd/server/v3
build kube-apiserver "$tools/kubernetes" k8s.io/kubernetes/cmd/kube-apiserver "$kversion"
build kube-controller-manager "$tools/kubernetes" k8s.io/kubernetes/cmd/kube-controller-manager "$kversion"
build kubectl "$tools/kubernetes" k8s.io/kubernetes/cmd/kubectl "$kversion"
build kubelet "$tools/kubernetes" k8s.io/kubernetes/cmd/kubelet "$kversion"
build kube-scheduler "$tools/kubernetes" k8s.io/kubernetes/cmd/kube-scheduler "$kversion"
say "control plane binaries ready in $bin"
echo "$bin"
