#!/usr/bin/env bash
# Installs everything labgrader's tests need: npm packages (including Node 24), the Go toolchain
# binaries (etcd, kube-apiserver, … built from pinned modules, cached), host packages, and the kind node image.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-results

if ! command -v go >/dev/null; then
  echo "setup: Go is required (https://go.dev/dl); it builds the control plane and the operators" >&2
  exit 1
fi
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent toolchain

# npm start and the service tests run a redis-server of their own when REDIS_URL is not set.
if ! command -v redis-server >/dev/null; then
  echo "setup: installing Debian's redis-server (npm start runs one when REDIS_URL is not set)"
  apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
fi

# The sandbox gives each learner's manager a network namespace whose only way out is a relay (socat) to its API server.
if ! command -v socat >/dev/null || ! command -v ss >/dev/null; then
  echo "setup: installing socat and iproute2 (the sandbox relays a manager's only connection)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq socat iproute2 >/dev/null
fi

# The browser tests drive Debian's Chromium with playwright-core (no browser is downloaded).
if [ ! -x /usr/bin/chromium ]; then
  echo "setup: installing Debian's chromium (the browser tests drive it)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# Grading on kind: Docker running (and, on hosts that need it, the runc wrapper), then the kind
# node image built offline, or reloaded from its cached archive, or found already in Docker.
bash scripts/kind-host.sh
npm run --silent toolchain -- kind

# docker compose: the plugin when Docker lacks it, and every image docker-compose.yml names, made
# locally (nothing is pulled); the compose test starts them.
bash scripts/compose-images.sh
