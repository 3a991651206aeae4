#include "world.h"

#include <cpuid.h>
#include <elf.h>
#include <gnu/libc-version.h>
#include <link.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/utsname.h>

#include <cstdio>

#include "checksum.h"

#ifndef AT_RSEQ_FEATURE_SIZE
#define AT_RSEQ_FEATURE_SIZE 27
#define AT_RSEQ_ALIGN 28
#endif

namespace ckpt::world {
namespace {

struct CpuidWord {
    unsigned leaf, subleaf, reg;  // reg: 0 eax, 1 ebx, 2 ecx, 3 edx
    const char *name;
};
// The feature words a program (or its libc's ifunc resolvers) tests before using an
// instruction set extension: restored on a CPU without one of them it would fault.
constexpr CpuidWord kWords[8] = {
    {1, 0, 2, "CPUID 1 ecx"},          {1, 0, 3, "CPUID 1 edx"},
    {7, 0, 1, "CPUID 7.0 ebx"},        {7, 0, 2, "CPUID 7.0 ecx"},
    {7, 0, 3, "CPUID 7.0 edx"},        {0xd, 1, 0, "CPUID 0xd.1 eax"},
    {0x80000001, 0, 2, "CPUID 0x80000001 ecx"}, {0x80000001, 0, 3, "CPUID 0x80000001 edx"},
};

uint32_t cpuid_word(const CpuidWord &w)
{
    unsigned r[4] = {};
    const unsigned max = __get_cpuid_max(w.leaf & 0x80000000u, nullptr);
    if (max < w.leaf) return 0;
    __cpuid_count(w.leaf, w.subleaf, r[0], r[1], r[2], r[3]);
    uint32_t v = r[w.reg];
    // Bits that change while a process runs and say nothing about what it may execute:
    // leaf 1 ecx OSXSAVE follows CR4 (stable), but leaf 1 ebx (APIC id) is not recorded.
    return v;
}

uint64_t xcr0()
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0;  // no OSXSAVE
    uint32_t lo, hi;
    asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return uint64_t(hi) << 32 | lo;
}

// The vdso's mapped bytes: from its ELF header to the end of its last loadable segment.
void vdso(uint64_t &hash, uint64_t &size)
{
    hash = size = 0;
    const auto *eh = reinterpret_cast<const Elf64_Ehdr *>(getauxval(AT_SYSINFO_EHDR));
    if (!eh) return;
    const auto *ph = reinterpret_cast<const Elf64_Phdr *>(reinterpret_cast<const char *>(eh) + eh->e_phoff);
    uint64_t end = 0;
    for (unsigned i = 0; i < eh->e_phnum; ++i)
        if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr + ph[i].p_memsz > end) end = ph[i].p_vaddr + ph[i].p_memsz;
    size = (end + 4095) & ~uint64_t(4095);
    hash = checksum(eh, size);
}

int libc_build_id(struct dl_phdr_info *info, size_t, void *data)
{
    auto *w = static_cast<image::WorldRecord *>(data);
    const char *slash = info->dlpi_name ? strrchr(info->dlpi_name, '/') : nullptr;
    if (!slash || strncmp(slash + 1, "libc.so", 7) != 0) return 0;
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const ElfW(Phdr) &ph = info->dlpi_phdr[i];
        if (ph.p_type != PT_NOTE) continue;
        const char *p = reinterpret_cast<const char *>(info->dlpi_addr + ph.p_vaddr), *end = p + ph.p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const auto *n = reinterpret_cast<const ElfW(Nhdr) *>(p);
            const char *desc = p + sizeof *n + ((n->n_namesz + 3) & ~3u);
            if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && memcmp(p + sizeof *n, "GNU", 4) == 0) {
                w->libc_build_id_len = n->n_descsz < sizeof w->libc_build_id ? n->n_descsz : sizeof w->libc_build_id;
                memcpy(w->libc_build_id, desc, w->libc_build_id_len);
                return 1;
            }
            p = desc + ((n->n_descsz + 3) & ~3u);
        }
    }
    return 1;
}

std::string hex(const uint8_t *b, size_t n)
{
    std::string s;
    char two[3];
    for (size_t i = 0; i < n; ++i) {
        std::snprintf(two, sizeof two, "%02x", b[i]);
        s += two;
    }
    return s;
}

}  // namespace

void capture(image::WorldRecord &out)
{
    out = image::WorldRecord{};
    out.record_size = sizeof out;
    out.rseq_feature_size = uint32_t(getauxval(AT_RSEQ_FEATURE_SIZE));
    struct utsname u{};
    uname(&u);
    std::snprintf(out.kernel_release, sizeof out.kernel_release, "%s", u.release);
    std::snprintf(out.glibc_version, sizeof out.glibc_version, "%s", gnu_get_libc_version());
    dl_iterate_phdr(libc_build_id, &out);
    out.xcr0 = xcr0();
    vdso(out.vdso_hash, out.vdso_size);
    for (unsigned i = 0; i < 8; ++i) out.cpuid[i] = cpuid_word(kWords[i]);
}

uint32_t rseq_length()
{
    const uint64_t feature = getauxval(AT_RSEQ_FEATURE_SIZE);
    uint64_t align = getauxval(AT_RSEQ_ALIGN);
    if (!feature) return 32;
    if (!align) align = 32;
    const uint64_t len = (feature + align - 1) / align * align;
    return uint32_t(len < 32 ? 32 : len);
}

const char *cpuid_word_name(unsigned i) { return i < 8 ? kWords[i].name : "?"; }

std::string check(const image::WorldRecord &rec)
{
    image::WorldRecord now;
    capture(now);
    std::string why;
    auto add = [&](const std::string &s) { why += (why.empty() ? "" : "; ") + s; };
    if (strncmp(rec.kernel_release, now.kernel_release, sizeof rec.kernel_release) != 0)
        add(std::string("kernel release ") + rec.kernel_release + " (this one is " + now.kernel_release + ")");
    else if (rec.vdso_size != now.vdso_size || rec.vdso_hash != now.vdso_hash)
        add("the vdso's bytes differ (same kernel release, another build)");
    if (rec.xcr0 != now.xcr0) {
        char b[96];
        std::snprintf(b, sizeof b, "XSAVE features XCR0 %#llx (this CPU enables %#llx)", (unsigned long long)rec.xcr0,
                      (unsigned long long)now.xcr0);
        add(b);
    }
    for (unsigned i = 0; i < 8; ++i)
        if (rec.cpuid[i] & ~now.cpuid[i]) {
            char b[96];
            std::snprintf(b, sizeof b, "%s bits %#x missing on this CPU", kWords[i].name, rec.cpuid[i] & ~now.cpuid[i]);
            add(b);
        }
    if (strncmp(rec.glibc_version, now.glibc_version, sizeof rec.glibc_version) != 0)
        add(std::string("glibc ") + rec.glibc_version + " (this one is " + now.glibc_version + ")");
    else if (rec.libc_build_id_len != now.libc_build_id_len ||
             memcmp(rec.libc_build_id, now.libc_build_id, rec.libc_build_id_len) != 0)
        add("glibc build-id " + hex(rec.libc_build_id, rec.libc_build_id_len) + " (this one is " +
            hex(now.libc_build_id, now.libc_build_id_len) + ")");
    return why;
}

}  // namespace ckpt::world
