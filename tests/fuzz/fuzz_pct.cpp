// libFuzzer target: the PCT log reader (runtime/persistent/pct_reader.cpp: read_pct,
// read_record_data, describe, from a buffer). Each input is parsed as it is and with every
// checksum recomputed (pct_fixup.h). Accepted records must satisfy what recovery relies on.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz_require.h"
#include "byte_source.h"
#include "pct_fixup.h"
#include "pct_reader.h"

using namespace ckpt;

namespace {


void parse(const uint8_t *data, size_t size)
{
    const ByteSource src = ByteSource::buffer(data, size);
    persist::PctLog log = persist::read_pct(src, "fuzz.log");
    require(log.valid_bytes <= size);
    uint64_t end = sizeof(pct::FileHeader);
    for (const auto &r : log.records) {
        require(r.file_offset >= end && r.header.record_size >= sizeof(pct::RecordHeader));
        end = r.file_offset + r.header.record_size;
        require(end <= size);
        require(r.path.size() == r.header.path_len && r.path2.size() == r.header.path2_len);
        require(r.header.length <= pct::kMaxDataChunk && r.data_offset + r.header.length <= end);
        std::string old;
        (void)persist::read_record_data(src, r, old);
        (void)persist::describe(r).size();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse(data, size);
    std::string copy(reinterpret_cast<const char *>(data), size);
    fuzz::fix_pct_checksums(reinterpret_cast<uint8_t *>(copy.data()), size);
    parse(reinterpret_cast<const uint8_t *>(copy.data()), size);
    return 0;
}
