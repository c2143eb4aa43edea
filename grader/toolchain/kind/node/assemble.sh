#!/usr/bin/env bash
# Usage: assemble.sh <node-base-image> <node-image> <label=value> <image-ref>...
# Preloads images into the node's containerd and commits the node image, as kind's node-image
# builder does: a build container (not privileged) runs containerd, `docker save` of the images
# is imported with the pinned label (so the kubelet never garbage-collects them), containerd
# stops, and the container is committed with the node's entrypoint restored.
set -euo pipefail
base=$1 node=$2 label=$3
shift 3

name="labgrader-kind-assemble-$$"
trap 'docker rm -f "$name" >/dev/null 2>&1 || true' EXIT
docker run -d --name "$name" --entrypoint=sleep --security-opt seccomp=unconfined "$base" infinity >/dev/null
docker exec -d "$name" sh -c 'exec containerd >/var/log/containerd-assemble.log 2>&1'

# Debian's ctr 1.6 has no `ctr info`; `ctr version` needs the daemon too.
for _ in $(seq 1 60); do
  if docker exec "$name" ctr version >/dev/null 2>&1; then break; fi
  sleep 0.5
done
docker exec "$name" ctr version >/dev/null || { docker exec "$name" cat /var/log/containerd-assemble.log >&2; exit 1; }

docker save "$@" | docker exec -i "$name" ctr -n k8s.io images import \
  --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests -

have=$(docker exec "$name" ctr -n k8s.io images ls -q)
for ref in "$@"; do
  grep -qxF "$ref" <<<"$have" || { echo "assemble: $ref is not in the node's containerd after import" >&2; exit 1; }
done

docker exec "$name" pkill containerd
for _ in $(seq 1 60); do
  if ! docker exec "$name" pgrep -x containerd >/dev/null; then break; fi
  sleep 0.5
done
docker exec "$name" rm -f /var/log/containerd-assemble.log

docker commit \
  --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' \
  --change 'CMD []' \
  --change "LABEL $label" \
  "$name" "$node" >/dev/null
