// Image format: images written by the runtime's own writer (image_writer.cpp) from a filled
// CaptureSet, read back by image_reader.cpp, then damaged in every way the reader must notice.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <functional>
#include <vector>

#include "capture_set.h"
#include "fd/fd_kind.h"
#include "checksum.h"
#include "image_reader.h"
#include "image_writer.h"
#include "job_dir.h"
#include "maps_parser.h"
#include "process_attrs.h"
#include "world.h"
#include "test_util.h"

using namespace ckpt;
using namespace ckpt::image;

namespace {

constexpr size_t kPages = 12;

uint64_t monotonic_now()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

// Test memory: one mapping, each page filled with a pattern of its own. Regions are slices of
// it, so they come out ordered and disjoint as /proc/PID/maps would give them.
struct TestMemory {
    char *base = nullptr;
    TestMemory()
    {
        void *p = ::mmap(nullptr, kPages * kPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        REQUIRE(p != MAP_FAILED);
        base = static_cast<char *>(p);
        for (size_t i = 0; i < kPages * kPageSize; ++i) base[i] = char((i * 7 + i / kPageSize * 13) & 0xff);
    }
    ~TestMemory() { ::munmap(base, kPages * kPageSize); }
    TestMemory(const TestMemory &) = delete;
    TestMemory &operator=(const TestMemory &) = delete;
    uint64_t page(size_t i) const { return reinterpret_cast<uint64_t>(base) + i * kPageSize; }
};

struct stat stat_of(const std::string &path)
{
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st;
}

int64_t mtime_ns(const struct stat &st) { return int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec; }

// A CaptureSet as the checkpoint handler would fill it, with:
//   region 0: pages 0-3, rw-p anonymous, pages 0, 1 and 3 saved (two runs)
//   region 1: pages 4-5, r--p backed by `mapped_file`, page 1 saved (diverged from the file)
//   region 2: page 6, r-xp [vdso], nothing saved
//   region 3: pages 8-11, ---p [anon:guarded], all saved (the writer must unprotect it)
struct ImageFixture {
    test::TempDir dir;
    TestMemory mem;
    std::string mapped_file = dir / "libmapped.so";
    std::string open_file = dir / "output.log";
    std::string exe = "/usr/bin/test program";
    std::string cwd = "/home/user/work dir";
    std::string cmdline = "test program --flag \"quoted arg\"";
    CaptureSet set;
    uint64_t version = 7;
    std::string path;
    WriteResult result;

    ImageFixture()
    {
        test::write_file(mapped_file, std::string(3 * kPageSize, 'L'));
        test::write_file(open_file, "log line\n");
        REQUIRE(set.init());
        fill();
    }

    void add_fd(FdCommon c, const void *payload, uint32_t size)
    {
        FdCommon *r = set.fds.begin_record(fd::record_size_for(256));
        REQUIRE(r);
        *r = c;
        std::memset(r + 1, 0, fd::record_size_for(size) - sizeof c);
        if (size) std::memcpy(r + 1, payload, size);
        r->payload_size = size;
        r->record_size = fd::record_size_for(size);
        set.fds.end_record(r->record_size);
    }

    void add_region(size_t first_page, size_t n_pages, uint32_t prot, RegionKind kind, const char *name,
                    std::vector<PageRun> runs)
    {
        RegionRecord *r = set.regions.push();
        REQUIRE(r);
        *r = RegionRecord{};
        r->start = mem.page(first_page);
        r->end = mem.page(first_page + n_pages);
        r->prot = prot;
        r->kind = kind;
        r->name = name ? set.strings.add(name) : kNoString;
        r->first_run = uint32_t(set.runs.size());
        r->n_runs = uint32_t(runs.size());
        for (const PageRun &run : runs) {
            PageRun *p = set.runs.push();
            REQUIRE(p);
            *p = run;
            r->data_pages += run.n_pages;
        }
    }

    void fill()
    {
        ProcessRecord &p = set.process;
        p.created_realtime_ns = 1700000000123456789ull;
        p.pid = 4242;
        p.signal = SIGRTMAX - 1;
        p.umask = 022;
        p.tid_offset = 0x2d0;
        p.context = CpuContext{1, 2, 3, 4, 5, 6, 0x7ffc0000, 0x401234, 0x1f80, 0x37f, 0};
        p.fs_base = 0x7f0000001000;
        p.handler_sigmask = ~0ull;
        p.altstack_flags = SS_DISABLE;
        p.mm.start_brk = 0x555500000000;
        p.mm.brk = 0x555500021000;
        p.restore_info_addr = 0x7f0000002000;
        p.exe_path = set.strings.add(exe.c_str());
        p.cwd = set.strings.add(cwd.c_str());
        p.cmdline = set.strings.add(cmdline.c_str());
        p.stats.scan_ns = 1234;
        p.stats.pages_skipped = 5;
        set.t_start_ns = monotonic_now();

        add_region(0, 4, PROT_READ | PROT_WRITE, RegionKind::Anonymous, nullptr, {{0, 2}, {3, 1}});
        add_region(4, 2, PROT_READ, RegionKind::File, mapped_file.c_str(), {{1, 1}});
        RegionRecord &file = set.regions[1];
        const struct stat st = stat_of(mapped_file);
        file.file_offset = 2 * kPageSize;
        file.file_dev = st.st_dev;
        file.file_ino = st.st_ino;
        file.file_size = uint64_t(st.st_size);
        file.file_mtime_ns = mtime_ns(st);
        add_region(6, 1, PROT_READ | PROT_EXEC, RegionKind::Special, "[vdso]", {});
        add_region(8, 4, PROT_NONE, RegionKind::Anonymous, "[anon:guarded]", {{0, 4}});
        REQUIRE(::mprotect(mem.base + 8 * kPageSize, 4 * kPageSize, PROT_NONE) == 0);

        const struct stat null_st = stat_of("/dev/null");
        add_fd({FdKind::CharDevice, 0, 0, O_RDWR, 0, 0, 0, null_st.st_dev, null_st.st_ino,
                set.strings.add("/dev/null"), 0}, nullptr, 0);
        const struct stat log_st = stat_of(open_file);
        add_fd({FdKind::RegularFile, 0, 3, O_WRONLY | O_APPEND, kFdCloexec, 1, 9, log_st.st_dev, log_st.st_ino,
                set.strings.add(open_file.c_str()), 0}, nullptr, 0);
        const FdSelfPipePayload pipe{65536, 0};
        add_fd({FdKind::SelfPipe, 0, 7, O_RDONLY, 0, 2, -1, 12, 345, set.strings.add("pipe:[345]"), 0}, &pipe,
               sizeof pipe);

        *set.sigactions.push() = SigactionRecord{SIGINT, 0, 0x401000, 0x14000004, 0x7f0000003000, 1ull << (SIGTERM - 1)};
        *set.sigactions.push() = SigactionRecord{SIGPIPE, 0, 1, 0x04000000, 0x7f0000003000, 0};
        *set.sigactions.push() = SigactionRecord{SIGUSR1, 0, 0, 0, 0, 0};
        capture_attrs_and_world(set);
    }

    // What the checkpoint handler adds (format 4): this process's attributes and world.
    static void capture_attrs_and_world(CaptureSet &s)
    {
        const CaptureError e = attrs::capture(s, 0, false);
        INFO((e.what ? e.what : ""));
        REQUIRE(!e);
        REQUIRE(!attrs::capture_locks(s));
        world::capture(s.world);
    }

    // Writes the image into the temp directory and returns its path.
    std::string write()
    {
        const int dirfd = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        REQUIRE(dirfd >= 0);
        const CaptureError err = write_image(set, dirfd, version, result);
        ::close(dirfd);
        INFO((err.what ? err.what : ""));
        REQUIRE(!err);
        path = dir / "ckpt-000007.img";
        return path;
    }
};

ImageHeader read_header(const std::string &path)
{
    ImageHeader h;
    test::pread_exact(path, &h, sizeof h, 0);
    return h;
}

// Writes a header back, with a correct checksum unless told otherwise: damage that only the
// structural checks can find.
void write_header(const std::string &path, ImageHeader h, bool fix_checksum = true)
{
    if (fix_checksum) {
        h.header_checksum = 0;
        h.header_checksum = checksum(&h, sizeof h);
    }
    test::pwrite_exact(path, &h, sizeof h, 0);
}

// Edits the metadata in place and re-seals it (metadata and header checksums).
void edit_meta(const std::string &path, const std::function<void(const ImageHeader &, char *)> &edit)
{
    ImageHeader h = read_header(path);
    std::string meta(h.meta_size, '\0');
    test::pread_exact(path, meta.data(), meta.size(), h.meta_offset);
    edit(h, meta.data());
    test::pwrite_exact(path, meta.data(), meta.size(), h.meta_offset);
    h.meta_checksum = checksum(meta.data(), meta.size());
    write_header(path, h);
}

// Descriptor record i of the section (variable-length records).
FdCommon *fd_record(const ImageHeader &hh, char *meta, size_t i)
{
    char *at = meta + hh.fds_offset;
    for (size_t k = 0; k < i; ++k) at += reinterpret_cast<FdCommon *>(at)->record_size;
    return reinterpret_cast<FdCommon *>(at);
}

template <typename T>
T *record(const ImageHeader &, char *meta, uint64_t section_offset, size_t i)
{
    return reinterpret_cast<T *>(meta + section_offset + i * sizeof(T));
}

std::vector<std::string> dir_entries(const std::string &path)
{
    std::vector<std::string> out;
    DIR *d = ::opendir(path.c_str());
    REQUIRE(d);
    while (dirent *e = ::readdir(d))
        if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) out.push_back(e->d_name);
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

ImageError read_error(const std::string &path)
{
    Image img;
    const ImageStatus s = read_image(path, img);
    INFO(s.message);
    return s.code;
}

}  // namespace

TEST_CASE("image round trip through the runtime writer and the reader", "[image]")
{
    ImageFixture f;
    const std::string path = f.write();

    // Committed under its final name only, private to the user.
    CHECK(f.dir.path() + "/" + std::string("ckpt-000007.img") == path);
    const auto entries = dir_entries(f.dir.path());
    CHECK(entries == std::vector<std::string>{"ckpt-000007.img", "libmapped.so", "output.log"});
    CHECK((stat_of(path).st_mode & 07777) == 0600);
    CHECK(test::file_size(path) == f.result.bytes);

    Image img;
    ImageStatus s = read_image(path, img);
    INFO(s.message);
    REQUIRE(!s);
    CHECK(!verify_data(img));
    CHECK(!verify_files(img));
    Image again;
    CHECK(!verify_image(path, again));

    const ImageHeader &h = img.header;
    CHECK(std::memcmp(h.magic, kMagic, sizeof kMagic) == 0);
    CHECK(h.format_version == kFormatVersion);
    CHECK(h.header_size == sizeof(ImageHeader));
    CHECK(h.image_size == f.result.bytes);
    CHECK(h.meta_offset == kPageSize);
    CHECK(h.data_offset % kPageSize == 0);
    CHECK(h.data_size == (3 + 1 + 4) * kPageSize);
    CHECK(h.n_regions == 4);
    CHECK(h.n_runs == 4);
    CHECK(h.n_fds == 3);
    CHECK(h.n_sigactions == 3);

    // Process record: what the writer filled in itself, then the rest byte for byte.
    CHECK(img.process.checkpoint_version == 7);
    CHECK(img.process.stats.pages_written == 8);
    CHECK(img.process.stats.scan_ns == 1234);
    CHECK(img.process.stats.pages_skipped == 5);
    CHECK(img.process.stats.pause_ns > 0);
    ProcessRecord expected = f.set.process;
    expected.stats.sync_ns = img.process.stats.sync_ns;  // measured after the metadata was written
    CHECK(std::memcmp(&expected, &img.process, sizeof expected) == 0);
    CHECK(img.process.pid == 4242);
    CHECK(img.process.context.rip == 0x401234);
    CHECK(img.str(img.process.exe_path) == f.exe);
    CHECK(img.str(img.process.cwd) == f.cwd);
    CHECK(img.str(img.process.cmdline) == f.cmdline);
    CHECK(img.str(kNoString).empty());

    // Records byte for byte (the writer set the data offsets and checksums in the set).
    REQUIRE(img.regions.size() == f.set.regions.size());
    for (size_t i = 0; i < img.regions.size(); ++i)
        CHECK(std::memcmp(&img.regions[i], &f.set.regions[i], sizeof(RegionRecord)) == 0);
    REQUIRE(img.runs.size() == f.set.runs.size());
    CHECK(std::memcmp(img.runs.data(), f.set.runs.data(), img.runs.size() * sizeof(PageRun)) == 0);
    REQUIRE(img.fds.size() == f.set.fds.size());
    for (size_t i = 0; i < img.fds.size(); ++i) {
        CHECK(std::memcmp(&img.fds[i].c, &f.set.fds[i], sizeof(FdCommon)) == 0);
        CHECK(img.fds[i].payload == std::string(static_cast<const char *>(fd::payload_of(f.set.fds[i])),
                                                f.set.fds[i].payload_size));
    }
    CHECK(encode_fd_section(img.fds) ==
          std::string(static_cast<const char *>(f.set.fds.bytes()), f.set.fds.byte_size()));
    CHECK(img.fds[2].c.record_size == sizeof(FdCommon) + 8);
    REQUIRE(img.sigactions.size() == f.set.sigactions.size());
    CHECK(std::memcmp(img.sigactions.data(), f.set.sigactions.data(),
                      img.sigactions.size() * sizeof(SigactionRecord)) == 0);
    CHECK(img.strings == std::string(f.set.strings.data(), f.set.strings.size()));
    CHECK(img.regions[0].name == kNoString);
    CHECK(img.str(img.regions[1].name) == f.mapped_file);
    CHECK(img.str(img.regions[2].name) == "[vdso]");
    CHECK(img.str(img.regions[3].name) == "[anon:guarded]");
    CHECK(img.str(img.fds[1].c.path) == f.open_file);
    CHECK(img.fds[2].c.offset == -1);

    // Page data: each region's saved pages, contiguous, in the order of its runs.
    REQUIRE(::mprotect(f.mem.base + 8 * kPageSize, 4 * kPageSize, PROT_READ) == 0);
    const std::string bytes = test::read_file(path);
    for (const RegionRecord &r : img.regions) {
        uint64_t off = r.data_offset;
        for (uint32_t k = 0; k < r.n_runs; ++k) {
            const PageRun &run = img.runs[r.first_run + k];
            const size_t n = run.n_pages * kPageSize;
            CHECK(std::memcmp(bytes.data() + off, reinterpret_cast<const char *>(r.start + run.first_page * kPageSize),
                              n) == 0);
            off += n;
        }
        CHECK(off == r.data_offset + r.data_pages * kPageSize);
        // Format 6: raw blocks (no compression here), one after the other, each checksummed.
        uint64_t at = r.data_offset;
        for (uint32_t k = 0; k < r.n_blocks; ++k) {
            const BlockRecord &b = img.blocks[r.first_block + k];
            CHECK(b.codec == BlockCodec::Raw);
            CHECK(b.stored_offset == at);
            CHECK(b.checksum == checksum(bytes.data() + b.stored_offset, b.raw_size));
            at += b.stored_size;
        }
        CHECK(at == r.data_offset + r.data_pages * kPageSize);
    }
}

TEST_CASE("the writer leaves an unreadable region as protected as it found it", "[image]")
{
    ImageFixture f;
    f.write();
    // Region 3 was PROT_NONE; the writer made it readable to copy it and must have put it back.
    const std::string maps = test::read_file("/proc/self/maps");
    MapsLines lines(maps.data(), maps.size());
    const char *line;
    size_t len;
    bool found = false;
    while (lines.next(line, len)) {
        MapsEntry e;
        REQUIRE(parse_maps_line(line, len, e));
        if (e.start <= f.mem.page(8) && f.mem.page(8) < e.end) {
            found = true;
            CHECK(e.prot == 0);
        }
    }
    CHECK(found);
}

TEST_CASE("an image with no regions, descriptors or signal actions", "[image]")
{
    test::TempDir dir;
    CaptureSet set;
    REQUIRE(set.init());
    set.process.pid = 1;
    set.t_start_ns = monotonic_now();
    ImageFixture::capture_attrs_and_world(set);
    const int dirfd = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(dirfd >= 0);
    WriteResult result;
    const CaptureError err = write_image(set, dirfd, 1, result);
    ::close(dirfd);
    REQUIRE(!err);
    Image img;
    const std::string path = dir / "ckpt-000001.img";
    REQUIRE(!verify_image(path, img));
    CHECK(img.header.data_size == 0);
    CHECK(img.header.image_size == img.header.data_offset);
    CHECK(img.regions.empty());
    CHECK(img.strings.empty());
    CHECK(img.str(0).empty());
}

TEST_CASE("a failed write leaves nothing behind", "[image]")
{
    ImageFixture f;
    WriteResult result;
    const CaptureError err = write_image(f.set, -1, 3, result);  // no directory
    CHECK(err);
    CHECK(err.err == EBADF);
    CHECK(result.bytes == 0);
    CHECK(dir_entries(f.dir.path()) == std::vector<std::string>{"libmapped.so", "output.log"});
}

TEST_CASE("missing and truncated images", "[image][corruption]")
{
    ImageFixture f;
    const std::string path = f.write();
    const uint64_t size = test::file_size(path);

    SECTION("no such file") { CHECK(read_error(f.dir / "ckpt-000099.img") == ImageError::Missing); }
    SECTION("verify_image of a missing file")
    {
        Image img;
        CHECK(verify_image(f.dir / "nothing.img", img).code == ImageError::Missing);
    }
    SECTION("empty file")
    {
        REQUIRE(::truncate(path.c_str(), 0) == 0);
        CHECK(read_error(path) == ImageError::Truncated);
    }
    SECTION("shorter than a header")
    {
        REQUIRE(::truncate(path.c_str(), sizeof(ImageHeader) - 1) == 0);
        CHECK(read_error(path) == ImageError::Truncated);
    }
    SECTION("only the header page")
    {
        REQUIRE(::truncate(path.c_str(), kPageSize) == 0);
        CHECK(read_error(path) == ImageError::Truncated);
    }
    SECTION("last page of page data missing")
    {
        REQUIRE(::truncate(path.c_str(), off_t(size - kPageSize)) == 0);
        CHECK(read_error(path) == ImageError::Truncated);
    }
    SECTION("one byte short")
    {
        REQUIRE(::truncate(path.c_str(), off_t(size - 1)) == 0);
        CHECK(read_error(path) == ImageError::Truncated);
    }
}

TEST_CASE("damaged header and metadata", "[image][corruption]")
{
    ImageFixture f;
    const std::string path = f.write();
    const ImageHeader h = read_header(path);

    SECTION("bad magic")
    {
        test::flip_byte(path, 0);
        CHECK(read_error(path) == ImageError::BadMagic);
    }
    SECTION("not an image at all")
    {
        test::write_file(path, std::string(3 * kPageSize, 'x'));
        CHECK(read_error(path) == ImageError::BadMagic);
    }
    SECTION("unsupported format version")
    {
        ImageHeader bad = h;
        bad.format_version = kFormatVersion + 1;
        write_header(path, bad);
        CHECK(read_error(path) == ImageError::BadVersion);
    }
    SECTION("unsupported format version, checksum not updated")
    {
        ImageHeader bad = h;
        bad.format_version = 0;
        write_header(path, bad, false);
        CHECK(read_error(path) == ImageError::BadVersion);
    }
    SECTION("different header size")
    {
        ImageHeader bad = h;
        bad.header_size += 8;
        write_header(path, bad);
        CHECK(read_error(path) == ImageError::BadVersion);
    }
    SECTION("header byte flipped")
    {
        test::flip_byte(path, offsetof(ImageHeader, n_regions));
        CHECK(read_error(path) == ImageError::HeaderChecksum);
    }
    SECTION("header checksum itself flipped")
    {
        test::flip_byte(path, offsetof(ImageHeader, header_checksum) + 3);
        CHECK(read_error(path) == ImageError::HeaderChecksum);
    }
    SECTION("first metadata byte flipped")
    {
        test::flip_byte(path, h.meta_offset);
        CHECK(read_error(path) == ImageError::MetaChecksum);
    }
    SECTION("a region record byte flipped")
    {
        test::flip_byte(path, h.meta_offset + h.regions_offset + offsetof(RegionRecord, end));
        CHECK(read_error(path) == ImageError::MetaChecksum);
    }
    SECTION("last string table byte flipped")
    {
        test::flip_byte(path, h.meta_offset + h.meta_size - 1);
        CHECK(read_error(path) == ImageError::MetaChecksum);
    }
}

TEST_CASE("damaged page data", "[image][corruption]")
{
    ImageFixture f;
    const std::string path = f.write();
    const ImageHeader h = read_header(path);
    uint64_t where = 0;
    SECTION("first byte of the first region's data") { where = h.data_offset; }
    SECTION("inside the file region's saved page") { where = h.data_offset + 3 * kPageSize + 100; }
    SECTION("last byte of the image") { where = h.image_size - 1; }
    test::flip_byte(path, where);

    Image img;
    const ImageStatus s = read_image(path, img);  // header and metadata are intact
    INFO(s.message);
    REQUIRE(!s);
    CHECK(verify_data(img).code == ImageError::DataChecksum);
    Image again;
    CHECK(verify_image(path, again).code == ImageError::DataChecksum);
}

TEST_CASE("inconsistent layout behind valid checksums", "[image][corruption]")
{
    ImageFixture f;
    const std::string path = f.write();
    ImageHeader h = read_header(path);
    const uint64_t image_size = h.image_size;

    SECTION("metadata inside the header")
    {
        h.meta_offset = 0;
        write_header(path, h);
    }
    SECTION("metadata past the end of the image")
    {
        h.meta_offset = image_size - 16;
        write_header(path, h);
    }
    SECTION("metadata overlaps the page data")
    {
        h.meta_size = h.data_offset - h.meta_offset + 1;
        write_header(path, h);
    }
    SECTION("metadata too small for a process record")
    {
        h.meta_size = 16;
        write_header(path, h);
    }
    SECTION("page data not page aligned")
    {
        h.data_offset += 8;
        h.data_size -= 8;
        write_header(path, h);
    }
    SECTION("page data size does not add up to the image size")
    {
        h.data_size += kPageSize;
        write_header(path, h);
    }
    SECTION("more regions than the metadata holds")
    {
        h.n_regions = 100000;
        write_header(path, h);
    }
    SECTION("region section beyond the metadata")
    {
        h.regions_offset = h.meta_size;
        write_header(path, h);
    }
    SECTION("descriptor count too large")
    {
        h.n_fds = 0xffffffffu;
        write_header(path, h);
    }
    SECTION("string table size wrong")
    {
        h.strings_size -= 1;
        write_header(path, h);
    }
    SECTION("image size not the sum of its parts")
    {
        // The file is long enough, but the regions' page data no longer ends at image_size.
        h.image_size += kPageSize;
        h.data_size += kPageSize;
        write_header(path, h);
        const char zeros[kPageSize] = {};
        test::pwrite_exact(path, zeros, sizeof zeros, image_size);
    }
    SECTION("page data beyond 2^63: offsets that wrap around")
    {
        // data_offset + data_size and the regions' running data offset both wrap to the real
        // image size; the last region claims 2^51 more pages. Accepting this would make
        // verify_data read far outside the mapped file.
        const uint64_t huge = 1ull << 63;
        const uint64_t shift = huge - h.data_offset;
        const uint64_t extra = h.data_offset / kPageSize + (1ull << 51);
        h.data_size = image_size - huge;  // wraps
        edit_meta(path, [&](const ImageHeader &hh, char *meta) {
            for (uint32_t i = 0; i < hh.n_regions; ++i) {
                auto *r = record<RegionRecord>(hh, meta, hh.regions_offset, i);
                if (r->data_pages) r->data_offset += shift;
            }
            auto *last = record<RegionRecord>(hh, meta, hh.regions_offset, hh.n_regions - 1);
            auto *run = record<PageRun>(hh, meta, hh.runs_offset, last->first_run);
            run->n_pages += extra;
            last->data_pages += extra;
            last->end += extra * kPageSize;
        });
        ImageHeader sealed = read_header(path);
        sealed.data_offset = huge;
        sealed.data_size = h.data_size;
        write_header(path, sealed);
    }
    SECTION("regions overlap")
    {
        edit_meta(path, [](const ImageHeader &hh, char *meta) {
            record<RegionRecord>(hh, meta, hh.regions_offset, 1)->start -= kPageSize;
        });
    }
    SECTION("regions out of order")
    {
        edit_meta(path, [](const ImageHeader &hh, char *meta) {
            auto *a = record<RegionRecord>(hh, meta, hh.regions_offset, 1);
            auto *b = record<RegionRecord>(hh, meta, hh.regions_offset, 2);
            std::swap(*a, *b);
        });
    }
    SECTION("region end not page aligned")
    {
        edit_meta(path, [](const ImageHeader &hh, char *meta) {
            record<RegionRecord>(hh, meta, hh.regions_offset, 2)->end -= 1;
        });
    }
    SECTION("empty region")
    {
        edit_meta(path, [](const ImageHeader &hh, char *meta) {
            auto *r = record<RegionRecord>(hh, meta, hh.regions_offset, 2);
            r->end = r->start;
        });
    }
    SECTION("page runs out of bounds")
    {
        edit_meta(path, [](const ImageHeader &hh, char *meta) {
            record<RegionRecord>(hh, meta, hh.regions_offset, 3)->first_run = hh.n_runs;
        });
    }
    SECTION("page run outside its region")
    {
        edit_meta(path, [](const ImageHeader &hh, char *meta) {
            auto *r = record<RegionRecord>(hh, meta, hh.regions_offset, 1);
            record<PageRun>(hh, meta, hh.runs_offset, r->first_run)->first_page = 2;
        });
    }
    SECTION("page run that wraps around the address space")
    {
        // first_page + n_pages overflows to 0, which would pass a naive bounds check; the
        // restorer would then write the page below the region.
        edit_meta(path, [](const ImageHeader &hh, char *meta) {
            auto *r = record<RegionRecord>(hh, meta, hh.regions_offset, 1);
            record<PageRun>(hh, meta, hh.runs_offset, r->first_run)->first_page = ~0ull;
        });
    }
    SECTION("empty page run")
    {
        edit_meta(path, [](const ImageHeader &hh, char *meta) {
            record<PageRun>(hh, meta, hh.runs_offset, 0)->n_pages = 0;
        });
    }
    SECTION("page runs out of order")
    {
        edit_meta(path, [](const ImageHeader &hh, char *meta) {
            std::swap(*record<PageRun>(hh, meta, hh.runs_offset, 0), *record<PageRun>(hh, meta, hh.runs_offset, 1));
        });
    }
    SECTION("saved page count disagrees with the runs")
    {
        edit_meta(path, [](const ImageHeader &hh, char *meta) {
            record<RegionRecord>(hh, meta, hh.regions_offset, 0)->data_pages += 1;
        });
    }
    SECTION("region page data not where the previous one ended")
    {
        edit_meta(path, [](const ImageHeader &hh, char *meta) {
            record<RegionRecord>(hh, meta, hh.regions_offset, 1)->data_offset += kPageSize;
        });
    }
    SECTION("region name outside the string table")
    {
        edit_meta(path, [](const ImageHeader &hh, char *meta) {
            record<RegionRecord>(hh, meta, hh.regions_offset, 1)->name = uint32_t(hh.strings_size);
        });
    }
    SECTION("descriptor path outside the string table")
    {
        edit_meta(path, [](const ImageHeader &hh, char *meta) {
            fd_record(hh, meta, 1)->path = uint32_t(hh.strings_size + 100);
        });
    }
    SECTION("descriptor record longer than the metadata")
    {
        edit_meta(path, [](const ImageHeader &hh, char *meta) {
            fd_record(hh, meta, 2)->record_size = uint32_t(hh.meta_size);
        });
    }
    SECTION("descriptor record size not a multiple of 8")
    {
        edit_meta(path, [](const ImageHeader &hh, char *meta) { fd_record(hh, meta, 0)->record_size = 60; });
    }
    SECTION("descriptor payload longer than its record")
    {
        edit_meta(path, [](const ImageHeader &hh, char *meta) { fd_record(hh, meta, 2)->payload_size = 9; });
    }
    SECTION("descriptor of an unknown kind")
    {
        edit_meta(path, [](const ImageHeader &hh, char *meta) { fd_record(hh, meta, 1)->kind = FdKind(77); });
    }
    SECTION("descriptor sharing the description of a later record")
    {
        edit_meta(path, [](const ImageHeader &hh, char *meta) { fd_record(hh, meta, 1)->shares_with = 2; });
    }
    SECTION("string table not terminated")
    {
        edit_meta(path, [](const ImageHeader &hh, char *meta) { meta[hh.strings_offset + hh.strings_size - 1] = 'x'; });
    }

    Image img;
    const ImageStatus s = read_image(path, img);
    INFO(s.message);
    REQUIRE(s.code == ImageError::BadLayout);
    CHECK(!s.message.empty());
}

TEST_CASE("files an image refers to", "[image][files]")
{
    ImageFixture f;
    const std::string path = f.write();
    Image img;
    REQUIRE(!read_image(path, img));
    REQUIRE(!verify_files(img));

    SECTION("mapped file grew")
    {
        test::write_file(f.mapped_file, std::string(3 * kPageSize + 1, 'L'));
        CHECK(verify_files(img).code == ImageError::FileChanged);
    }
    SECTION("mapped file touched: same size, other mtime")
    {
        const struct stat st = stat_of(f.mapped_file);
        timespec times[2] = {st.st_atim, st.st_mtim};
        times[1].tv_sec -= 10;
        REQUIRE(::utimensat(AT_FDCWD, f.mapped_file.c_str(), times, 0) == 0);
        CHECK(verify_files(img).code == ImageError::FileChanged);
    }
    SECTION("mapped file replaced by another with the same size and mtime")
    {
        const struct stat st = stat_of(f.mapped_file);
        const std::string other = f.dir / "replacement";
        test::write_file(other, std::string(3 * kPageSize, 'M'));
        timespec times[2] = {st.st_atim, st.st_mtim};
        REQUIRE(::utimensat(AT_FDCWD, other.c_str(), times, 0) == 0);
        REQUIRE(::rename(other.c_str(), f.mapped_file.c_str()) == 0);
        CHECK(verify_files(img).code == ImageError::FileChanged);
    }
    SECTION("mapped file deleted")
    {
        REQUIRE(::unlink(f.mapped_file.c_str()) == 0);
        const ImageStatus s = verify_files(img);
        CHECK(s.code == ImageError::FileMissing);
        CHECK(s.message.find(f.mapped_file) != std::string::npos);
        Image again;
        CHECK(verify_image(path, again).code == ImageError::FileMissing);
    }
    SECTION("file open as a descriptor deleted")
    {
        REQUIRE(::unlink(f.open_file.c_str()) == 0);
        const ImageStatus s = verify_files(img);
        CHECK(s.code == ImageError::FileMissing);
        CHECK(s.message.find("fd 3") != std::string::npos);
    }
    SECTION("the open file's content may change")
    {
        test::write_file(f.open_file, "much longer log content than before\n");
        CHECK(!verify_files(img));
    }
    SECTION("verify_image reports a changed file after the data checks")
    {
        test::write_file(f.mapped_file, "short");
        Image again;
        CHECK(verify_image(path, again).code == ImageError::FileChanged);
    }
}

TEST_CASE("image error names", "[image]")
{
    CHECK(std::string(image_error_name(ImageError::None)) == "ok");
    for (int e = int(ImageError::Missing); e <= int(ImageError::FileMissing); ++e) {
        const std::string name = image_error_name(ImageError(e));
        CHECK(!name.empty());
        CHECK(name != "?");
    }
}

TEST_CASE("image file names", "[image][writer]")
{
    char buf[64];
    image_file_name(42, buf, sizeof buf);
    CHECK(std::string(buf) == "ckpt-000042.img");
    image_file_name(1, buf, sizeof buf);
    CHECK(std::string(buf) == "ckpt-000001.img");
    image_file_name(999999, buf, sizeof buf);
    CHECK(std::string(buf) == "ckpt-999999.img");
    image_file_name(1234567, buf, sizeof buf);
    CHECK(std::string(buf) == "ckpt-1234567.img");
    image_file_name(18446744073709551615ull, buf, sizeof buf);
    CHECK(std::string(buf) == "ckpt-18446744073709551615.img");
    char small[8];
    image_file_name(42, small, sizeof small);
    CHECK(std::string(small) == "ckpt-00");  // cut, still terminated

    // The launcher finds versions under the same names.
    ckpt::JobDir job("/nonexistent-root", "job");
    image_file_name(42, buf, sizeof buf);
    CHECK(job.image_path(42) == "/nonexistent-root/job/" + std::string(buf));
}

TEST_CASE("latest version in a job directory", "[image][writer]")
{
    test::TempDir dir;
    const int dirfd = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(dirfd >= 0);
    std::vector<char> scratch(64 * 1024);

    CHECK(latest_version(dirfd, scratch.data(), scratch.size()) == 0);

    for (const char *name : {"ckpt-000003.img", "ckpt-000012.img", "ckpt-000009.img"}) test::write_file(dir / name, "");
    CHECK(latest_version(dirfd, scratch.data(), scratch.size()) == 12);

    // Not versions: temp files, other suffixes, bad numbers, directories named otherwise.
    for (const char *name : {".ckpt-000099.img.tmp", "ckpt-000050.img.bak", "ckpt-abcdef.img", "ckpt-0000x1.img",
                             "ckpt-.img", "xckpt-000077.img", "ckpt-000088.IMG", "status", "lock"})
        test::write_file(dir / name, "");
    CHECK(latest_version(dirfd, scratch.data(), scratch.size()) == 12);

    test::write_file(dir / "ckpt-1000000.img", "");
    CHECK(latest_version(dirfd, scratch.data(), scratch.size()) == 1000000);

    // A small buffer takes several getdents64 calls; the answer is the same.
    for (int i = 0; i < 60; ++i) test::write_file(dir / ("filler-file-with-a-long-name-" + std::to_string(i)), "");
    CHECK(latest_version(dirfd, scratch.data(), 512) == 1000000);
    ::close(dirfd);

    CHECK(latest_version(-1, scratch.data(), scratch.size()) == -EBADF);
}

// Issue 9, item 5: once the image is renamed into place it is committed (recovery may pick
// it), so a failed sync of the directory must not report the checkpoint as failed (which
// would leave the epoch unswitched). A directory descriptor opened O_PATH renames fine but
// cannot be fsynced (EBADF): the image must be there, valid, and the failure reported aside.
TEST_CASE("a renamed image is committed even if the directory sync fails", "[image]")
{
    ImageFixture f;
    const int dirfd = ::open(f.dir.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(dirfd >= 0);
    WriteResult result;
    const CaptureError err = write_image(f.set, dirfd, 7, result);
    ::close(dirfd);
    INFO((err.what ? err.what : ""));
    CHECK(!err);
    CHECK(result.dir_sync_err == EBADF);
    Image img;
    CHECK(!verify_image(f.dir / "ckpt-000007.img", img));
}

// Format 4: the process attributes and the world come back as captured, and this process can
// restore what it recorded itself.
TEST_CASE("process attributes and world round trip", "[image][attrs]")
{
    ImageFixture f;
    const std::string path = f.write();
    Image img;
    const ImageStatus s = read_image(path, img);
    INFO(s.message);
    REQUIRE(!s);
    CHECK(img.header.format_version == kFormatVersion);
    attrs::View v;
    REQUIRE(attrs::parse(img.attrs.data(), img.attrs.size(), v));
    struct rlimit rl;
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &rl) == 0);
    CHECK(v.proc->rlimits[RLIMIT_NOFILE].cur == rl.rlim_cur);
    CHECK(v.proc->rlimits[RLIMIT_NOFILE].max == rl.rlim_max);
    CHECK(v.proc->euid == ::geteuid());
    CHECK(v.proc->pid == ::getpid());
    CHECK(v.proc->n_threads == 1);
    REQUIRE(img.has_world);
    struct utsname u;
    REQUIRE(::uname(&u) == 0);
    CHECK(std::string(img.world.kernel_release) == u.release);
    CHECK(img.world.vdso_size > 0);
    const ImageStatus r = verify_restorable(img);
    INFO(r.message);
    CHECK(!r);
}

TEST_CASE("a process-attributes section of the wrong size is refused", "[image][attrs][corruption]")
{
    ImageFixture f;
    const std::string path = f.write();
    ImageHeader h = read_header(path);
    h.attrs_size -= 8;
    write_header(path, h);
    CHECK(read_error(path) == ImageError::BadLayout);
}

TEST_CASE("counts in the process attributes beyond their bounds are refused", "[image][attrs][corruption]")
{
    ImageFixture f;
    const std::string path = f.write();
    edit_meta(path, [](const ImageHeader &hh, char *meta) {
        reinterpret_cast<ProcessAttrsRecord *>(meta + hh.attrs_offset)->n_groups = kMaxGroups + 1;
    });
    CHECK(read_error(path) == ImageError::BadLayout);
}

TEST_CASE("an image of another kernel release or XCR0 is not restorable here", "[image][world]")
{
    ImageFixture f;
    const std::string path = f.write();
    edit_meta(path, [](const ImageHeader &hh, char *meta) {
        std::memcpy(reinterpret_cast<WorldRecord *>(meta + hh.world_offset)->kernel_release, "1.2.3-elsewhere", 16);
    });
    Image img;
    REQUIRE(!read_image(path, img));
    ImageStatus s = verify_restorable(img);
    CHECK(s.code == ImageError::Incompatible);
    CHECK(s.message.find("kernel release 1.2.3-elsewhere") != std::string::npos);
    img.world = WorldRecord{};
    world::capture(img.world);
    img.world.xcr0 ^= 1u << 9;
    s = verify_restorable(img);
    CHECK(s.code == ImageError::Incompatible);
    CHECK(s.message.find("XCR0") != std::string::npos);
}

// An image written before format 4 (ImageHeaderV3, no attributes or world) is still read.
TEST_CASE("a format-3 image is still read", "[image][compat]")
{
    ImageFixture f;
    const std::string path = f.write();
    const ImageHeader h = read_header(path);
    std::string meta(h.strings_offset + h.strings_size, '\0');
    test::pread_exact(path, meta.data(), meta.size(), h.meta_offset);
    // Format 3 checks each region's data as a whole (the writer's blocks are raw here).
    for (uint32_t i = 0; i < h.n_regions; ++i) {
        auto *r = reinterpret_cast<RegionRecord *>(meta.data() + h.regions_offset + i * sizeof(RegionRecord));
        std::string data(r->data_pages * kPageSize, '\0');
        if (!data.empty()) test::pread_exact(path, data.data(), data.size(), r->data_offset);
        r->data_checksum = checksum(data.data(), data.size());
    }
    ImageHeaderV3 old{};
    std::memcpy(&old, &h, offsetof(ImageHeaderV3, header_checksum));
    old.format_version = 3;
    old.header_size = sizeof old;
    old.meta_size = meta.size();
    old.meta_checksum = checksum(meta.data(), meta.size());
    old.header_checksum = 0;
    old.header_checksum = checksum(&old, sizeof old);
    std::string zeros(h.meta_size, '\0');
    test::pwrite_exact(path, zeros.data(), zeros.size(), h.meta_offset);
    test::pwrite_exact(path, meta.data(), meta.size(), h.meta_offset);
    std::string page(kPageSize, '\0');
    std::memcpy(page.data(), &old, sizeof old);
    test::pwrite_exact(path, page.data(), page.size(), 0);
    Image img;
    const ImageStatus s = verify_image(path, img);
    INFO(s.message);
    REQUIRE(!s);
    CHECK(img.header.format_version == 3);
    CHECK(img.attrs.empty());
    CHECK(!img.has_world);
    CHECK(img.regions.size() == 4);
    CHECK(img.str(img.process.cmdline) == f.cmdline);
    CHECK(!verify_restorable(img));
}

// Format 5: the thread section.
namespace {

ThreadRecord thread_record(int32_t tid, uint32_t flags, const char *name)
{
    ThreadRecord t{};
    t.tid = tid;
    t.flags = flags;
    t.context = CpuContext{11, 12, 13, 14, 15, 16, 0x7ffd0000, 0x405678, 0x1f80, 0x37f, 0};
    t.fs_base = 0x7f0000100000 + uint64_t(tid);
    t.clear_child_tid = t.fs_base + 0x2d0;
    t.robust_list = t.fs_base + 0x9a0;
    t.robust_len = 24;
    t.sigmask = 1ull << (SIGUSR1 - 1);
    t.ucontext = 0x7ffd0100;
    t.syscall = 202;
    std::snprintf(t.comm, sizeof t.comm, "%s", name);
    return t;
}

}  // namespace

TEST_CASE("thread records round trip; an inconsistent thread section is refused", "[image][threads]")
{
    ImageFixture f;
    *f.set.threads.push() = thread_record(4242, kThreadMain, "main");
    *f.set.threads.push() = thread_record(4243, kThreadCoordinator, "worker");
    const std::string path = f.write();

    SECTION("round trip")
    {
        Image img;
        REQUIRE(!read_image(path, img));
        CHECK(img.header.format_version == kFormatVersion);
        CHECK(img.header.header_size == sizeof(ImageHeader));
        REQUIRE(img.threads.size() == 2);
        const ThreadRecord want = thread_record(4243, kThreadCoordinator, "worker");
        CHECK(std::memcmp(&img.threads[1], &want, sizeof want) == 0);
        CHECK(img.threads[0].flags == kThreadMain);
    }
    SECTION("two threads with one tid")
    {
        edit_meta(path, [](const ImageHeader &h, char *meta) {
            record<ThreadRecord>(h, meta, h.threads_offset, 1)->tid = 4242;
        });
        CHECK(read_error(path) == ImageError::BadLayout);
    }
    SECTION("no thread group leader")
    {
        edit_meta(path, [](const ImageHeader &h, char *meta) {
            record<ThreadRecord>(h, meta, h.threads_offset, 0)->flags = 0;
        });
        CHECK(read_error(path) == ImageError::BadLayout);
    }
    SECTION("records of another size")
    {
        ImageHeader h = read_header(path);
        h.thread_record_size = sizeof(ThreadRecord) + 8;
        write_header(path, h);
        CHECK(read_error(path) == ImageError::BadLayout);
    }
    SECTION("the thread section leaves the metadata")
    {
        ImageHeader h = read_header(path);
        h.n_threads = 1000;
        write_header(path, h);
        CHECK(read_error(path) == ImageError::BadLayout);
    }
}

TEST_CASE("a format-4 image (no thread section) is still read", "[image][threads][compat]")
{
    ImageFixture f;
    const std::string path = f.write();
    const ImageHeader h = read_header(path);
    // The same image as a format-4 writer laid it out: the V4 header, checksummed as such.
    ImageHeaderV4 v4{};
    std::memcpy(&v4, &h, offsetof(ImageHeaderV4, header_checksum));
    v4.format_version = 4;
    v4.header_size = sizeof v4;
    v4.header_checksum = 0;
    v4.header_checksum = checksum(&v4, sizeof v4);
    std::string page(kPageSize, '\0');
    std::memcpy(page.data(), &v4, sizeof v4);
    test::pwrite_exact(path, page.data(), page.size(), 0);
    Image img;
    const ImageStatus s = read_image(path, img);
    INFO(s.message);
    REQUIRE(!s);
    CHECK(img.header.format_version == 4);
    CHECK(img.threads.empty());
    CHECK(img.has_world);
    CHECK(img.regions.size() == 4);
}
