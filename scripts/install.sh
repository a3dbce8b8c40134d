#!/usr/bin/env bash
# Installs everything normsoftmax needs: libtorch (when none is found) and the npm packages,
# which builds the native addon. Safe to run again.
#   --with-reference   also install Debian's PyTorch/torchvision, used by parity tests and benchmarks,
#                      and Chromium, used by the search page's end-to-end test
#                      (implied when CI is set)
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  else
    echo "[install] please install: $*" >&2
    return 1
  fi
}

if ! node native/find-libtorch.mjs >/dev/null 2>&1; then
  echo "[install] libtorch not found: installing libtorch-dev with apt"
  apt_install libtorch-dev || { node native/find-libtorch.mjs || true; exit 1; }
fi
# distributed training: c10d's Gloo backend needs the Gloo headers (the gloo that libtorch_cpu links);
# without them the addon builds and `train --nproc-per-node` says distributed is unavailable
if [ -e /usr/include/torch/csrc/distributed/c10d/ProcessGroupGloo.hpp ] && [ ! -e /usr/include/gloo/algorithm.h ]; then
  apt_install libgloo-dev || echo "[install] libgloo-dev not installed: distributed training will be unavailable" >&2
fi
# JPEG decoding: the addon decodes JPEGs with the system's libjpeg-turbo (native/src/jpeg.cpp, dlopen'd)
# when its headers are there at build time; without them it builds and decodes through sharp instead
if [ ! -e /usr/include/jpeglib.h ]; then
  apt_install libjpeg62-turbo-dev || echo "[install] libjpeg62-turbo-dev not installed: JPEGs decode through sharp (slower)" >&2
fi
if [ -n "${CI:-}" ] || [ "${1:-}" = "--with-reference" ]; then
  if ! /usr/bin/python3 -c "import torch, torchvision, faiss, sklearn, PIL" >/dev/null 2>&1; then
    echo "[install] installing the PyTorch/faiss/sklearn reference (Debian packages)"
    apt_install python3-torch python3-torchvision python3-faiss python3-sklearn python3-pil python3-scipy
  fi
  # the web page's end-to-end test runs in headless Chromium (playwright-core drives it)
  if ! command -v chromium >/dev/null; then apt_install chromium; fi
fi
npm ci --no-fund --no-audit
