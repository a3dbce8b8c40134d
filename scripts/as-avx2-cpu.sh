#!/usr/bin/env bash
# Runs a command as if on an AVX2-only x86-64 CPU (an AMD EPYC before Zen 4: no AVX-512, no native bf16),
# on a CPU that has them, to test and diagnose that path here:
#   bash scripts/as-avx2-cpu.sh node scripts/test.mjs test/embed/precision
# - oneDNN: ONEDNN_MAX_CPU_ISA=AVX2 (DNNL_MAX_CPU_ISA for oneDNN before 2.5); ONEDNN_VERBOSE=1 prints
#   "isa:Intel AVX2" and the kernels (jit:avx2)
# - libtorch: tools/avx2-cpu/cpuinfo-no-avx512.c (LD_PRELOAD) hides AVX-512 from its cpuinfo, so bf16
#   convolutions are emulated by ATen as on such a CPU instead of sent to oneDNN (which would refuse them)
# - OpenBLAS: OPENBLAS_CORETYPE=Haswell (its AVX2 kernels)
# - our probe (src/util/cpu-bf16.ts): NORMSOFTMAX_CPU_BF16=none
# Needs gcc and libcpuinfo's header (Debian: apt-get install libcpuinfo-dev); the shim is built once into .cache/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/tools/avx2-cpu/cpuinfo-no-avx512.c"
lib="$root/.cache/avx2-cpu/cpuinfo-no-avx512.so"
if [ $# -eq 0 ]; then echo "usage: bash scripts/as-avx2-cpu.sh COMMAND [ARGS...]" >&2; exit 2; fi
if [ ! -e /usr/include/cpuinfo.h ]; then
  echo "as-avx2-cpu: /usr/include/cpuinfo.h is missing (apt-get install libcpuinfo-dev)" >&2
  exit 1
fi
if [ ! -e "$lib" ] || [ "$src" -nt "$lib" ]; then
  mkdir -p "$(dirname "$lib")"
  gcc -O2 -shared -fPIC -Wall -Werror -o "$lib.tmp" "$src" -ldl
  mv "$lib.tmp" "$lib"
fi
export LD_PRELOAD="$lib${LD_PRELOAD:+:$LD_PRELOAD}"
export ONEDNN_MAX_CPU_ISA=AVX2 DNNL_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell NORMSOFTMAX_CPU_BF16=none
exec "$@"
