// libFuzzer target: what recovery reads of an epoch's undo data (runtime/persistent/undo.cpp):
// an input is a progress file (pct::ProgressRecord, 40 bytes) followed by the epoch's PCT log.
// It runs parse_progress and plan_undo (the exclusion rules the log itself carries, glob
// matching and path normalization, --no-undo and --replace-file targets) and reads the old
// data of every record that would be applied. Nothing is applied: the fuzzer touches no file.
// Checksums are recomputed too, as in fuzz_pct.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "fuzz_require.h"
#include "byte_source.h"
#include "checksum.h"
#include "pct_fixup.h"
#include "pct_reader.h"
#include "undo.h"

using namespace ckpt;

namespace {


void run(const uint8_t *data, size_t size)
{
    if (size < sizeof(pct::ProgressRecord)) return;
    const uint8_t *log_bytes = data + sizeof(pct::ProgressRecord);
    const size_t log_size = size - sizeof(pct::ProgressRecord);
    const ByteSource src = ByteSource::buffer(log_bytes, log_size);
    persist::PctLog log = persist::read_pct(src, "/job/pct-000001.log");
    if (!log.header_ok) return;
    const uint64_t done = persist::parse_progress(data, sizeof(pct::ProgressRecord), log.header.epoch, log.header.nonce);
    static const persist::UndoOptions opts = [] {
        persist::UndoOptions o;
        o.exclude = {"*.tmp", "/var/cache", "/home/*/build/[a-c]*"};
        o.no_undo = {"/data/keep"};
        o.keep = {"/data/new.db"};
        return o;
    }();
    const auto steps = persist::plan_undo(log, done, "/job", opts);
    require(steps.size() == (done < log.records.size() ? log.records.size() - done : 0));
    for (const auto &s : steps) {
        require(s.record < log.records.size());
        if (s.skip) continue;
        std::string old;
        if (log.records[s.record].kind() == pct::Kind::Data) (void)persist::read_record_data(src, log.records[s.record], old);
    }
}

void fix_progress(uint8_t *data, size_t size)
{
    if (size < sizeof(pct::ProgressRecord)) return;
    pct::ProgressRecord p;
    std::memcpy(&p, data, sizeof p);
    // Make it refer to the log that follows, as a genuine progress file would.
    if (size >= sizeof p + sizeof(pct::FileHeader)) {
        pct::FileHeader fh;
        std::memcpy(&fh, data + sizeof p, sizeof fh);
        p.epoch = fh.epoch;
        p.nonce = fh.nonce;
    }
    p.checksum = checksum(&p, sizeof p - sizeof p.checksum);
    std::memcpy(data, &p, sizeof p);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(data, size);
    if (size >= sizeof(pct::ProgressRecord)) {
        std::string copy(reinterpret_cast<const char *>(data), size);
        uint8_t *c = reinterpret_cast<uint8_t *>(copy.data());
        fix_progress(c, size);
        fuzz::fix_pct_checksums(c + sizeof(pct::ProgressRecord), size - sizeof(pct::ProgressRecord));
        run(c, size);
    }
    return 0;
}
