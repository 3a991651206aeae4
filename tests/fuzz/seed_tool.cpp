// Helper of make_corpus.sh (tests/fuzz), built with the main build:
//   fuzz_seed_tool shrink-image IN OUT   rewrites a real image with the page data of one
//                                        page only (all metadata kept), checksums recomputed,
//                                        so that a seed is a few KiB instead of megabytes
//   fuzz_seed_tool partial-undo JOB N    undoes N records of the job's newest epochs, as a
//                                        recovery interrupted there: leaves a progress file
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "checksum.h"
#include "image_reader.h"
#include "undo.h"

using namespace ckpt;
using namespace ckpt::image;

namespace {

int die(const std::string &m)
{
    std::fprintf(stderr, "fuzz_seed_tool: %s\n", m.c_str());
    return 1;
}

template <typename T>
uint64_t put(std::string &meta, const std::vector<T> &v)
{
    const uint64_t off = meta.size();
    meta.append(reinterpret_cast<const char *>(v.data()), v.size() * sizeof(T));
    return off;
}

int shrink_image(const std::string &in, const std::string &out)
{
    Image img;
    if (ImageStatus s = read_image(in, img)) return die(s.message);
    std::ifstream f(in, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), {});
    // Keep the first saved page of the first region that has any; nothing else.
    std::vector<PageRun> runs;
    std::string page;
    for (RegionRecord &r : img.regions) {
        const bool keep = page.empty() && r.data_pages > 0;
        if (keep) {
            page = bytes.substr(r.data_offset, kPageSize);
            runs.push_back({img.runs[r.first_run].first_page, 1});
            r.first_run = 0;
            r.n_runs = 1;
            r.data_pages = 1;
            r.data_checksum = checksum(page.data(), page.size());
        } else {
            r.first_run = 0;
            r.n_runs = 0;
            r.data_pages = 0;
            r.data_checksum = 0;
        }
    }
    ImageHeader h = img.header;
    std::string meta(reinterpret_cast<const char *>(&img.process), sizeof img.process);
    h.regions_offset = put(meta, img.regions);
    h.runs_offset = put(meta, runs);
    h.fds_offset = meta.size();
    meta += encode_fd_section(img.fds);
    h.sigactions_offset = put(meta, img.sigactions);
    h.strings_offset = meta.size();
    meta += img.strings;
    h.n_regions = uint32_t(img.regions.size());
    h.n_runs = uint32_t(runs.size());
    h.strings_size = img.strings.size();
    h.meta_offset = sizeof h;
    h.meta_size = meta.size();
    h.meta_checksum = 0;
    h.data_offset = (h.meta_offset + h.meta_size + kPageSize - 1) / kPageSize * kPageSize;
    h.data_size = page.size();
    h.image_size = h.data_offset + h.data_size;
    // The region offsets refer to the new data section.
    for (RegionRecord &r : img.regions)
        r.data_offset = r.data_pages ? h.data_offset : 0;
    meta.replace(h.regions_offset, img.regions.size() * sizeof(RegionRecord),
                 reinterpret_cast<const char *>(img.regions.data()), img.regions.size() * sizeof(RegionRecord));
    h.meta_checksum = checksum(meta.data(), meta.size());
    h.header_checksum = 0;
    h.header_checksum = checksum(&h, sizeof h);
    std::string outb(reinterpret_cast<const char *>(&h), sizeof h);
    outb += meta;
    outb.resize(h.data_offset, '\0');
    outb += page;
    std::ofstream o(out, std::ios::binary | std::ios::trunc);
    o.write(outb.data(), std::streamsize(outb.size()));
    if (!o) return die(out + ": cannot write");
    o.close();
    ::chmod(out.c_str(), 0600);  // the reader trusts only the user's own files with mode 0600
    Image check;
    if (ImageStatus s = verify_image(out, check); s && s.code != ImageError::FileChanged && s.code != ImageError::FileMissing)
        return die(out + ": the shrunk image does not verify: " + s.message);
    return 0;
}

int partial_undo(const std::string &job, uint64_t n)
{
    persist::UndoOptions o;
    o.stop_after = n;
    persist::UndoResult r = persist::undo_to(job, 0, o);
    if (!r.stopped) return die("recovery of " + job + " ended before " + std::to_string(n) + " records");
    return 0;
}

}  // namespace

int main(int argc, char **argv)
{
    if (argc == 4 && std::strcmp(argv[1], "shrink-image") == 0) return shrink_image(argv[2], argv[3]);
    if (argc == 4 && std::strcmp(argv[1], "partial-undo") == 0) return partial_undo(argv[2], std::stoull(argv[3]));
    return die("usage: fuzz_seed_tool shrink-image IN OUT | partial-undo JOB N");
}
