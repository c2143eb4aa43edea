#!/usr/bin/env bash
# Installs everything labgrader's tests need: npm packages (including Node 24), the Go toolchain
# binaries (etcd, kube-apiserver, … built from pinned modules, cached), and host packages.
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
