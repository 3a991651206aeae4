// libFuzzer target: the checkpoint image reader (runtime/image_reader.cpp: read_image and
// verify_data, from a buffer). Each input is parsed twice: as it is, and with its metadata
// and header checksums recomputed, as an attacker who can write the job directory would do,
// so that mutations get past the checksums to the structural checks. An image the reader
// accepts must satisfy what its consumers (the restorer, ckptctl) rely on without checking
// again; a violation aborts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_require.h"
#include "byte_source.h"
#include "checksum.h"
#include "fd/fd_kind.h"
#include "image_reader.h"

using namespace ckpt;
using namespace ckpt::image;

namespace {


bool str_ok(const Image &img, StrRef r) { return r == kNoString || r < img.strings.size(); }

// The guarantees of a successful read_image.
void check_accepted(const Image &img, uint64_t size)
{
    const ImageHeader &h = img.header;
    require(h.image_size <= size);
    require(img.sigactions.size() <= 64);  // restore_plan::sigactions[64]
    // The restorer appends a NUL to its copy of the strings: `size` is the empty string there.
    for (StrRef ref : {img.process.exe_path, img.process.cwd, img.process.cmdline})
        require(ref == kNoString || ref <= img.strings.size());
    uint64_t prev_end = 0;
    for (const RegionRecord &r : img.regions) {
        require(r.start < r.end && r.start >= prev_end);
        prev_end = r.end;
        require(str_ok(img, r.name));
        require(uint64_t(r.first_run) + r.n_runs <= img.runs.size());
        // (data_offset means nothing for a region without saved pages)
        require(!r.data_pages ||
                (r.data_offset <= h.image_size && r.data_pages <= (h.image_size - r.data_offset) / kPageSize));
        for (uint32_t i = 0; i < r.n_runs; ++i) {
            const PageRun &run = img.runs[r.first_run + i];
            require(run.first_page + run.n_pages <= (r.end - r.start) / kPageSize);
        }
    }
    for (size_t i = 0; i < img.fds.size(); ++i) {
        const FdEntry &f = img.fds[i];
        require(str_ok(img, f.c.path));
        // The restore walks the section by record_size and dups shared descriptions from an
        // earlier record; ckptctl describes each by its kind.
        require(fd::kind_ops(f.c.kind) != nullptr);
        require(f.c.shares_with <= i && img.fds[f.c.shares_with].c.shares_with == f.c.shares_with);
        require(f.payload.size() == f.c.payload_size);
        char buf[256];
        text::Builder b(buf, sizeof buf);
        std::vector<uint64_t> payload(f.payload.size() / 8 + 2, 0);
        std::memcpy(payload.data(), f.payload.data(), f.payload.size());
        fd::kind_ops(f.c.kind)->describe(f.c, payload.data(), b);
    }
    (void)encode_fd_section(img.fds).size();
    for (const SigactionRecord &s : img.sigactions) require(s.signo >= 1 && s.signo <= 64);
    // What ckptctl prints.
    for (const RegionRecord &r : img.regions) (void)img.str(r.name).size();
    (void)img.str(img.process.cmdline).size();
}

void parse(const uint8_t *data, size_t size)
{
    Image img;
    if (read_image(ByteSource::buffer(data, size), "fuzz.img", img)) return;
    check_accepted(img, size);
    (void)verify_data(img, data, size);
}

// Recomputes the checksums an attacker would recompute (not the page data's: verify_data
// reads it all in any case).
void fix_checksums(uint8_t *data, size_t size)
{
    if (size < sizeof(ImageHeader)) return;
    ImageHeader h;
    std::memcpy(&h, data, sizeof h);
    if (h.meta_offset <= size && h.meta_size <= size - h.meta_offset)
        h.meta_checksum = checksum(data + h.meta_offset, h.meta_size);
    h.header_checksum = 0;
    h.header_checksum = checksum(&h, sizeof h);
    std::memcpy(data, &h, sizeof h);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse(data, size);
    if (size >= sizeof(ImageHeader)) {
        std::string copy(reinterpret_cast<const char *>(data), size);
        fix_checksums(reinterpret_cast<uint8_t *>(copy.data()), size);
        parse(reinterpret_cast<const uint8_t *>(copy.data()), size);
    }
    return 0;
}
