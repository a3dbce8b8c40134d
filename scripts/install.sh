#!/usr/bin/env bash
# Installs everything normsoftmax needs: libtorch (when none is found) and the npm packages,
# which builds the native addon. Safe to run again.
#   --with-reference   also install Debian's PyTorch/torchvision, used by parity tests and benchmarks,
#                      and Chromium, used by the search page's end-to-end test
#                      (implied when CI is set)
# Under CI, a system package the tests need that cannot be installed is a failure (exit 1, one line naming
# it): the tests would otherwise skip, or fail later for a reason further from the cause. Elsewhere the
# optional ones (Gloo, libjpeg) are a warning.
set -euo pipefail
cd "$(dirname "$0")/.."

# The probes, as the tests read them (test/helpers/reference-python.ts, chromium.ts) and the build compiles.
REFERENCE_PYTHON="${NORMSOFTMAX_PYTHON:-/usr/bin/python3}"
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
CXX="${CXX:-g++}"
WITH_REFERENCE=""
if [ -n "${CI:-}" ] || [ "${1:-}" = "--with-reference" ]; then WITH_REFERENCE=1; fi

apt_install() {
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  else
    return 1 # not root, or not Debian: the caller says what is missing
  fi
}

# not_installed PACKAGES WHAT [strict]: under CI (or when strict: asked for with --with-reference) a failure
# naming PACKAGES, else a warning.
not_installed() {
  if [ -n "${CI:-}" ]; then
    echo "[install] CI: could not install $1, which the tests need ($2)" >&2
    exit 1
  elif [ -n "${3:-}" ]; then
    echo "[install] could not install $1 ($2)" >&2
    exit 1
  fi
  echo "[install] $1 not installed: $2" >&2
}

gloo_missing() { ! node native/find-libtorch.mjs --gloo >/dev/null 2>&1; }
# as native/src/jpeg.cpp's __has_include(<jpeglib.h>) sees it (no compiler: the build itself will say so)
jpeglib_missing() { command -v "$CXX" >/dev/null && ! echo '#include <jpeglib.h>' | "$CXX" -E -x c++ - >/dev/null 2>&1; }
reference_missing() { ! "$REFERENCE_PYTHON" -c "import torch, torchvision, faiss, sklearn, PIL" >/dev/null 2>&1; }

if ! node native/find-libtorch.mjs >/dev/null 2>&1; then
  echo "[install] libtorch not found: installing libtorch-dev with apt"
  apt_install libtorch-dev || { node native/find-libtorch.mjs || true; echo "[install] could not install libtorch-dev" >&2; exit 1; }
fi
# distributed training: c10d's Gloo backend needs the Gloo headers (the gloo that libtorch_cpu links);
# without them the addon builds and `train --nproc-per-node` says distributed is unavailable
if gloo_missing; then
  apt_install libgloo-dev || true
  if gloo_missing; then
    not_installed libgloo-dev "distributed training will be unavailable: $(node native/find-libtorch.mjs --gloo 2>&1 || true)"
  fi
fi
# JPEG decoding: the addon decodes JPEGs with the system's libjpeg-turbo (native/src/jpeg.cpp, dlopen'd)
# when its headers are there at build time; without them it builds and decodes through sharp instead
if jpeglib_missing; then
  apt_install libjpeg62-turbo-dev || true
  if jpeglib_missing; then not_installed libjpeg62-turbo-dev "no jpeglib.h: JPEGs decode through sharp (slower)"; fi
fi
if [ -n "$WITH_REFERENCE" ]; then
  if reference_missing; then
    echo "[install] installing the PyTorch/faiss/sklearn reference (Debian packages)"
    apt_install python3-torch python3-torchvision python3-faiss python3-sklearn python3-pil python3-scipy || true
    if reference_missing; then
      not_installed "python3-torch python3-torchvision python3-faiss python3-sklearn python3-pil" \
        "$REFERENCE_PYTHON cannot import torch, torchvision, faiss, sklearn and PIL (the parity tests)" strict
    fi
  fi
  # the web page's end-to-end test runs in headless Chromium (playwright-core drives it)
  if [ ! -x "$CHROMIUM" ]; then
    apt_install chromium || true
    if [ ! -x "$CHROMIUM" ]; then not_installed chromium "no $CHROMIUM (the search page's end-to-end tests)" strict; fi
  fi
fi
npm ci --no-fund --no-audit
