#!/usr/bin/env bash
# Prepares this host (as root) for `labgrader toolchain kind` and for kind clusters: Debian's
# Docker and the tools the offline node-image build uses, a running Docker daemon, and, only on
# hosts that need it, the runc wrapper that lets `docker run --privileged` start.
# Safe to run any number of times: it changes only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
  echo "kind-host: run as root (it installs packages and starts dockerd)" >&2
  exit 1
fi

# docker.io: the daemon kind drives; debootstrap: the node and image root filesystems;
# zstd: the cached node image; jq: the runc wrapper and the node's cri-base.json;
# gcc + libc6-dev: the static pause binary.
packages=(docker.io debootstrap zstd jq gcc libc6-dev ca-certificates)
missing=()
for p in "${packages[@]}"; do
  if [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) != "install ok installed" ]]; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} > 0)); then
  echo "kind-host: installing ${missing[*]} from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Bit 24 of the bounding set is CAP_SYS_RESOURCE. Without it runc cannot grant the full set
# --privileged asks for, and every kind node fails to start (see grader/toolchain/kind/host/runc-capfix).
wrapper_src=grader/toolchain/kind/host/runc-capfix
wrapper_dst=/usr/local/sbin/runc
capbnd=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)
if (( (16#$capbnd >> 24) & 1 )); then
  wrapper_needed=no
else
  wrapper_needed=yes
  if [[ -e $wrapper_dst ]] && ! grep -q "runc wrapper for hosts whose capability bounding set lacks CAP_SYS_RESOURCE" "$wrapper_dst"; then
    echo "kind-host: $wrapper_dst exists and is not labgrader's wrapper; move it away and run again" >&2
    exit 1
  fi
  if ! cmp -s "$wrapper_src" "$wrapper_dst"; then
    echo "kind-host: this host's capability bounding set ($capbnd) lacks CAP_SYS_RESOURCE, so docker --privileged cannot start; installing the runc wrapper at $wrapper_dst"
    install -D -m 0755 "$wrapper_src" "$wrapper_dst"
  fi
fi

# The wrapper only takes effect when dockerd (and the containerd it starts) find /usr/local/sbin
# before /usr/sbin, so the daemon is started with that PATH.
daemon_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
if ! docker info >/dev/null 2>&1; then
  echo "kind-host: starting dockerd (log: /var/log/dockerd.log)"
  PATH=$daemon_path setsid nohup dockerd >>/var/log/dockerd.log 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then break; fi
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    echo "kind-host: dockerd did not answer within 60 s; see /var/log/dockerd.log" >&2
    tail -n 20 /var/log/dockerd.log >&2 || true
    exit 1
  fi
fi

if [[ $wrapper_needed == yes ]]; then
  pid=$(pgrep -o -x dockerd || true)
  if [[ -n $pid ]]; then
    dpath=$(tr '\0' '\n' <"/proc/$pid/environ" | sed -n 's/^PATH=//p')
    first=""
    IFS=: read -ra dirs <<<"$dpath"
    for d in "${dirs[@]}"; do
      if [[ $d == /usr/local/sbin || $d == /usr/sbin ]]; then first=$d; break; fi
    done
    if [[ $first != /usr/local/sbin ]]; then
      echo "kind-host: warning: dockerd (pid $pid) runs with PATH=$dpath, where /usr/local/sbin does not come before /usr/sbin; restart dockerd so it uses the runc wrapper" >&2
    fi
  fi
fi

echo "kind-host: ready ($(docker version --format 'docker server {{.Server.Version}}'), runc wrapper: $wrapper_needed)"
