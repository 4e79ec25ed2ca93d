// The data TLB geometry of this machine's CPU, from cpuid (as the kernel's arch/x86/kernel/cpu/
// amd.c cpu_detect_tlb_amd and intel.c intel_tlb_lookup read it).
// Build: cc -O2 -o tlb_geometry tlb_geometry.c   Run: ./tlb_geometry
// AMD (APM vol. 3, CPUID Fn8000_0005/6): leaf 0x80000005 EBX = L1 TLB for 4 KiB pages, [31:24] dTLB
// associativity (0xff = fully associative), [23:16] dTLB entries; leaf 0x80000006 EBX = L2 TLB for
// 4 KiB pages, [31:28] dTLB associativity code, [27:16] dTLB entries.
// Intel: leaf 0x18 subleaves (deterministic address translation parameters: type, level, page
// sizes, ways, sets). Prints one line per TLB level found; in a guest the hypervisor may filter them.
#include <cpuid.h>
#include <stdio.h>
#include <string.h>

static const char *amd_l2_assoc(unsigned code) {
  // AMD APM vol. 3, CPUID Fn8000_0006 associativity encoding
  static const char *t[16] = {"disabled", "1", "2", "3", "4", "6",  "8",  "?",
                              "16",       "?", "32", "48", "64", "96", "128", "full"};
  return t[code & 15];
}

int main(void) {
  unsigned a, b, c, d;
  char vendor[13] = {0};
  __cpuid(0, a, b, c, d);
  memcpy(vendor, &b, 4), memcpy(vendor + 4, &d, 4), memcpy(vendor + 8, &c, 4);
  unsigned maxleaf = a;
  __cpuid(1, a, b, c, d);
  unsigned fam = ((a >> 8) & 15) + (((a >> 8) & 15) == 15 ? (a >> 20) & 0xff : 0);
  unsigned model = ((a >> 4) & 15) | (((a >> 16) & 15) << 4);
  printf("vendor %s family %u model %u\n", vendor, fam, model);
  if (!strcmp(vendor, "AuthenticAMD")) {
    __cpuid(0x80000005, a, b, c, d);
    unsigned l1w = b >> 24, l1n = (b >> 16) & 0xff;
    if (l1w == 0xff)
      printf("L1 dTLB 4K entries %u ways full\n", l1n);
    else
      printf("L1 dTLB 4K entries %u ways %u\n", l1n, l1w);
    __cpuid(0x80000006, a, b, c, d);
    printf("L2 dTLB 4K entries %u ways %s\n", (b >> 16) & 0xfff, amd_l2_assoc(b >> 28));
  } else if (maxleaf >= 0x18) {
    __cpuid_count(0x18, 0, a, b, c, d);
    unsigned nsub = a;
    for (unsigned s = 0; s <= nsub; s++) {
      __cpuid_count(0x18, s, a, b, c, d);
      unsigned type = d & 31;
      if (type == 0) continue;
      unsigned level = (d >> 5) & 7, ways = (b >> 16) & 0xffff, sets = c;
      printf("leaf 0x18.%u type %u (1 data, 2 instr, 3 unified, 4 load, 5 store) level %u "
             "pages%s%s%s%s ways %u sets %u entries %u%s\n",
             s, type, level, b & 1 ? " 4K" : "", b & 2 ? " 2M" : "", b & 4 ? " 4M" : "",
             b & 8 ? " 1G" : "", ways, sets, ways * sets, (d >> 8) & 1 ? " fully-associative" : "");
    }
  } else
    printf("no TLB leaf (max basic leaf %#x)\n", maxleaf);
  return 0;
}
