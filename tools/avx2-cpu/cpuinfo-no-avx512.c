// LD_PRELOAD shim (scripts/as-avx2-cpu.sh builds and uses it): libtorch asks the cpuinfo library, not
// oneDNN, whether the CPU has AVX-512 (ATen's kernel dispatch, and mkldnn_bf16_device_check(), which sends
// bf16 convolutions and matmuls to oneDNN). ONEDNN_MAX_CPU_ISA=AVX2 alone leaves libtorch sending them
// there, and oneDNN then refuses them ("could not create a primitive descriptor iterator"). This clears
// the AVX-512 flags after cpuinfo's own initialisation, so libtorch takes the paths it takes on an
// AVX2-only CPU (an AMD EPYC before Zen 4): AVX2 kernels, and bf16 emulated by ATen's own loops.
// Needs libcpuinfo's header (Debian: libcpuinfo-dev) of the libcpuinfo.so.0 libtorch links.
#define _GNU_SOURCE
#include <cpuinfo.h>
#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>

bool cpuinfo_initialize(void) {
  // Node opens the addon (and so libtorch and libcpuinfo) with RTLD_LOCAL: RTLD_NEXT cannot see them.
  void *lib = dlopen("libcpuinfo.so.0", RTLD_NOW | RTLD_NOLOAD);
  if (lib == NULL) lib = dlopen("libcpuinfo.so.0", RTLD_NOW);
  if (lib == NULL) return false;
  bool (*real)(void) = (bool (*)(void))dlsym(lib, "cpuinfo_initialize");
  struct cpuinfo_x86_isa *isa = (struct cpuinfo_x86_isa *)dlsym(lib, "cpuinfo_isa");
  if (real == NULL || isa == NULL || !real()) return false;
  isa->avx512f = isa->avx512pf = isa->avx512er = isa->avx512cd = isa->avx512dq = isa->avx512bw = false;
  isa->avx512vl = isa->avx512ifma = isa->avx512vbmi = isa->avx512vbmi2 = isa->avx512bitalg = false;
  isa->avx512vpopcntdq = isa->avx512vnni = isa->avx512bf16 = isa->avx512vp2intersect = false;
  isa->avx512_4vnniw = isa->avx512_4fmaps = false;
  return true;
}
