// The value of a section key: a fixed header, then the section's data.
//   magic "CPS1" | expiration (ns, CL_TIME_END: never) | last update (ns) | writer (16 bytes:
//   the writing handle's id and its write counter) | xxh64 of the data | data
// The writer tag makes a write recognisable after an ambiguous failure (etcd may have
// committed a request whose answer was lost), so that a retry never applies it twice. The
// checksum lets a reader call a section CORRUPTED rather than hand out damaged data.
#pragma once

#include <cstdint>
#include <string>

namespace cps {

struct SectionRecord {
    int64_t expiration = 0;
    int64_t last_update = 0;
    uint64_t writer = 0, write_seq = 0;
    bool corrupted = false;  // set by decode
    std::string data;
};

std::string encode_section(const SectionRecord &r);
SectionRecord decode_section(const std::string &value);  // corrupted = true if it does not check

}  // namespace cps
