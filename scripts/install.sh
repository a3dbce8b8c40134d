#!/usr/bin/env bash
# Installs everything normsoftmax needs: libtorch (when none is found) and the npm packages,
# which builds the native addon. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! node native/find-libtorch.mjs >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "[install] libtorch not found: installing libtorch-dev with apt"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libtorch-dev >/dev/null
  else
    node native/find-libtorch.mjs || true
    exit 1
  fi
fi
npm ci --no-fund --no-audit
