// The section value format (see section_record.h).
#include "section_record.h"

#include <xxhash.h>

#include <cstring>

namespace cps {

namespace {
constexpr char kMagic[4] = {'C', 'P', 'S', '1'};
constexpr size_t kHeader = 4 + 8 + 8 + 8 + 8 + 8;

void put64(std::string &s, uint64_t v)
{
    char b[8];
    std::memcpy(b, &v, 8);
    s.append(b, 8);
}
uint64_t get64(const std::string &s, size_t at)
{
    uint64_t v;
    std::memcpy(&v, s.data() + at, 8);
    return v;
}
}  // namespace

std::string encode_section(const SectionRecord &r)
{
    std::string s;
    s.reserve(kHeader + r.data.size());
    s.append(kMagic, 4);
    put64(s, uint64_t(r.expiration));
    put64(s, uint64_t(r.last_update));
    put64(s, r.writer);
    put64(s, r.write_seq);
    put64(s, XXH64(r.data.data(), r.data.size(), 0));
    s += r.data;
    return s;
}

SectionRecord decode_section(const std::string &value)
{
    SectionRecord r;
    if (value.size() < kHeader || std::memcmp(value.data(), kMagic, 4) != 0) {
        r.corrupted = true;
        r.data = value;
        return r;
    }
    r.expiration = int64_t(get64(value, 4));
    r.last_update = int64_t(get64(value, 12));
    r.writer = get64(value, 20);
    r.write_seq = get64(value, 28);
    r.data = value.substr(kHeader);
    r.corrupted = XXH64(r.data.data(), r.data.size(), 0) != get64(value, 36);
    return r;
}

}  // namespace cps
