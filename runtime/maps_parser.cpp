#include "maps_parser.h"

#include <sys/mman.h>

namespace ckpt {
namespace {

bool parse_hex(const char *&p, const char *end, uint64_t &v)
{
    const char *s = p;
    v = 0;
    while (p < end) {
        char c = *p;
        unsigned d;
        if (c >= '0' && c <= '9') d = unsigned(c - '0');
        else if (c >= 'a' && c <= 'f') d = unsigned(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') d = unsigned(c - 'A' + 10);
        else break;
        v = v * 16 + d;
        ++p;
    }
    return p != s;
}

bool parse_dec(const char *&p, const char *end, uint64_t &v)
{
    const char *s = p;
    v = 0;
    while (p < end && *p >= '0' && *p <= '9') v = v * 10 + uint64_t(*p++ - '0');
    return p != s;
}

bool expect(const char *&p, const char *end, char c)
{
    if (p >= end || *p != c) return false;
    ++p;
    return true;
}

void skip_spaces(const char *&p, const char *end)
{
    while (p < end && *p == ' ') ++p;
}

}  // namespace

bool parse_maps_line(const char *line, size_t len, MapsEntry &e)
{
    const char *p = line, *end = line + len;
    e = MapsEntry{};
    uint64_t dmaj, dmin;
    if (!parse_hex(p, end, e.start) || !expect(p, end, '-') || !parse_hex(p, end, e.end) ||
        !expect(p, end, ' '))
        return false;
    if (end - p < 5) return false;
    if (p[0] == 'r') e.prot |= PROT_READ; else if (p[0] != '-') return false;
    if (p[1] == 'w') e.prot |= PROT_WRITE; else if (p[1] != '-') return false;
    if (p[2] == 'x') e.prot |= PROT_EXEC; else if (p[2] != '-') return false;
    if (p[3] == 's') e.shared = true; else if (p[3] != 'p') return false;
    p += 4;
    if (!expect(p, end, ' ') || !parse_hex(p, end, e.offset) || !expect(p, end, ' ') ||
        !parse_hex(p, end, dmaj) || !expect(p, end, ':') || !parse_hex(p, end, dmin) ||
        !expect(p, end, ' ') || !parse_dec(p, end, e.inode))
        return false;
    if (e.end <= e.start) return false;
    e.dev_major = uint32_t(dmaj);
    e.dev_minor = uint32_t(dmin);
    skip_spaces(p, end);
    e.name = p;
    e.name_len = size_t(end - p);
    static const char kDeleted[] = " (deleted)";
    const size_t dl = sizeof(kDeleted) - 1;
    if (e.name_len > dl) {
        const char *t = e.name + e.name_len - dl;
        bool match = true;
        for (size_t i = 0; i < dl; ++i) match = match && t[i] == kDeleted[i];
        if (match) {
            e.deleted = true;
            e.name_len -= dl;
        }
    }
    if (e.name_len == 0) e.name = nullptr;
    return true;
}

bool name_is(const MapsEntry &e, const char *s)
{
    size_t i = 0;
    for (; s[i]; ++i)
        if (i >= e.name_len || e.name[i] != s[i]) return false;
    return i == e.name_len;
}

bool is_kernel_special(const MapsEntry &e)
{
    if (e.name_len < 3 || e.name[0] != '[' || e.name[e.name_len - 1] != ']') return false;
    if (name_is(e, "[heap]") || name_is(e, "[stack]")) return false;
    static const char kAnon[] = "[anon:";
    bool anon = e.name_len > 6;
    for (size_t i = 0; anon && i < 6; ++i) anon = e.name[i] == kAnon[i];
    if (anon) return false;
    static const char kAnonShmem[] = "[anon_shmem:";
    bool shmem = e.name_len > 12;
    for (size_t i = 0; shmem && i < 12; ++i) shmem = e.name[i] == kAnonShmem[i];
    return !shmem;
}

}  // namespace ckpt
