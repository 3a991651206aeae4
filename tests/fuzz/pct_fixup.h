// For the fuzz targets: recomputes every checksum of a PCT log in place (file header, each
// record's header and old data), as an attacker who can write the job directory would, so
// that mutations reach the structural checks behind them.
#pragma once

#include <cstdint>
#include <cstring>

#include "checksum.h"
#include "pct_format.h"

namespace ckpt::fuzz {

inline void fix_pct_checksums(uint8_t *data, size_t size)
{
    using namespace ckpt::pct;
    if (size < sizeof(FileHeader)) return;
    FileHeader fh;
    std::memcpy(&fh, data, sizeof fh);
    fh.checksum = 0;
    fh.checksum = checksum(&fh, sizeof fh);
    std::memcpy(data, &fh, sizeof fh);
    for (uint64_t off = sizeof fh; off + sizeof(RecordHeader) <= size;) {
        RecordHeader h;
        std::memcpy(&h, data + off, sizeof h);
        if (h.record_size < sizeof h || h.record_size % 8 || h.record_size > size - off) return;
        const uint64_t paths = uint64_t(h.path_len) + 1 + h.path2_len + 1;
        if (sizeof h + paths > h.record_size) return;
        const uint64_t data_at = data_offset_in_record(h.path_len, h.path2_len);
        if (data_at <= h.record_size && h.length <= h.record_size - data_at)
            h.data_checksum = checksum(data + off + data_at, h.length);
        h.header_checksum = 0;
        Checksum cs;
        cs.update(&h, sizeof h);
        cs.update(data + off + sizeof h, paths);
        h.header_checksum = cs.digest();
        std::memcpy(data + off, &h, sizeof h);
        off += h.record_size;
    }
}

}  // namespace ckpt::fuzz
