#include "image_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "byte_source.h"
#include "checksum.h"
#include "compress/block_codec.h"
#include "fd/fd_kind.h"
#include "process_attrs.h"
#include "world.h"
#include "trusted_file.h"

namespace ckpt {
namespace {

ImageStatus fail(ImageError code, std::string msg) { return {code, std::move(msg)}; }

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() { if (fd_ >= 0) ::close(fd_); }
    Fd(const Fd &) = delete;
    Fd &operator=(const Fd &) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

template <typename T>
bool section(const std::string &meta, uint64_t off, uint32_t count, std::vector<T> &out)
{
    if (off > meta.size() || uint64_t(count) * sizeof(T) > meta.size() - off) return false;
    out.resize(count);
    if (count) std::memcpy(out.data(), meta.data() + off, count * sizeof(T));
    return true;
}

// Format 3: n tagged records from `off`. The structure the restore relies on without checking
// again: sizes inside the section, known kinds, a shared description's first record earlier
// and itself the first of its description.
bool fd_section(const std::string &meta, uint64_t off, uint32_t n, std::vector<FdEntry> &out, std::string &why)
{
    using namespace image;
    if (off > meta.size()) return (why = "descriptor section out of bounds"), false;
    uint64_t at = off;
    out.clear();
    for (uint32_t i = 0; i < n; ++i) {
        FdEntry e;
        if (meta.size() - at < sizeof(FdCommon)) return (why = "descriptor records out of bounds"), false;
        std::memcpy(&e.c, meta.data() + at, sizeof e.c);
        if (e.c.record_size % 8 || e.c.record_size < sizeof(FdCommon) ||
            e.c.payload_size > e.c.record_size - sizeof(FdCommon) || e.c.record_size > meta.size() - at)
            return (why = "descriptor record " + std::to_string(i) + " has a bad size"), false;
        const fd::KindOps *kind = fd::kind_ops(e.c.kind);
        if (!kind)
            return (why = "descriptor record " + std::to_string(i) + " has an unknown kind " +
                          std::to_string(uint32_t(e.c.kind))), false;
        if (e.c.payload_size < kind->min_payload)
            return (why = "descriptor record " + std::to_string(i) + " is too short for its kind"), false;
        if (e.c.fd < 0 || e.c.shares_with > i || (e.c.shares_with < i && out[e.c.shares_with].c.shares_with != e.c.shares_with))
            return (why = "descriptor record " + std::to_string(i) + " is inconsistent"), false;
        e.payload.assign(meta.data() + at + sizeof(FdCommon), e.c.payload_size);
        at += e.c.record_size;
        out.push_back(std::move(e));
    }
    return true;
}

// Formats 1-2: fixed records, converted to the kinds of format 3.
bool legacy_fd_section(const std::string &meta, uint64_t off, uint32_t n, std::vector<FdEntry> &out)
{
    using namespace image;
    std::vector<LegacyFdRecord> old;
    if (!section(meta, off, n, old)) return false;
    out.clear();
    for (const LegacyFdRecord &r : old) {
        FdEntry e;
        e.c.fd = r.fd;
        e.c.open_flags = r.open_flags;
        e.c.flags = r.cloexec ? uint32_t(kFdCloexec) : 0u;
        e.c.shares_with = uint32_t(out.size());
        e.c.offset = r.offset;
        e.c.dev = r.dev;
        e.c.ino = r.ino;
        e.c.path = r.path;
        const uint32_t modes[] = {S_IFREG, S_IFDIR, S_IFCHR, S_IFCHR, S_IFIFO, S_IFSOCK, 0};
        const uint32_t mode = r.kind < 7 ? modes[r.kind] : 0;
        if ((r.flags & 1) || r.fd <= 2) {
            // Inherited, or a standard stream (which format 1-2 restored from the launcher
            // unless the program had pointed it at another regular file: now always).
            e.c.kind = r.fd <= 2 && !(r.flags & 1) ? FdKind::Standard : FdKind::Inherited;
            FdOriginPayload o{mode, 0};
            e.payload.assign(reinterpret_cast<const char *>(&o), sizeof o);
        } else if (r.kind <= 3) {
            e.c.kind = FdKind(r.kind);
        } else if (r.kind == 4) {
            e.c.kind = FdKind::SelfPipe;
        } else {
            return false;  // a socket or other object above 2 was never written
        }
        e.c.payload_size = uint32_t(e.payload.size());
        e.c.record_size = fd::record_size_for(e.c.payload_size);
        out.push_back(std::move(e));
    }
    return true;
}

}  // namespace

std::string encode_fd_section(const std::vector<FdEntry> &fds)
{
    std::string out;
    for (const FdEntry &e : fds) {
        image::FdCommon c = e.c;
        c.payload_size = uint32_t(e.payload.size());
        c.record_size = fd::record_size_for(c.payload_size);
        const size_t at = out.size();
        out.append(reinterpret_cast<const char *>(&c), sizeof c);
        out += e.payload;
        out.resize(at + c.record_size, '\0');
    }
    return out;
}

const char *image_error_name(ImageError e)
{
    switch (e) {
    case ImageError::None: return "ok";
    case ImageError::Missing: return "missing";
    case ImageError::Io: return "read error";
    case ImageError::Truncated: return "truncated";
    case ImageError::BadMagic: return "not a ckpt image";
    case ImageError::BadVersion: return "unsupported format version";
    case ImageError::HeaderChecksum: return "header checksum mismatch";
    case ImageError::MetaChecksum: return "metadata checksum mismatch";
    case ImageError::BadLayout: return "inconsistent layout";
    case ImageError::DataChecksum: return "page data checksum mismatch";
    case ImageError::FileChanged: return "a referenced file changed";
    case ImageError::FileMissing: return "a referenced file is missing";
    case ImageError::Untrusted: return "untrusted file";
    case ImageError::Incompatible: return "taken in another world (kernel, CPU, glibc)";
    case ImageError::AttrsRefused: return "process attributes cannot be restored";
    case ImageError::ChainBroken: return "the chain of incremental images is broken";
    }
    return "?";
}

std::string Image::str(image::StrRef ref) const
{
    if (ref == image::kNoString || ref >= strings.size()) return {};
    return std::string(strings.c_str() + ref);
}

ImageStatus read_image(const std::string &path, Image &out)
{
    out = Image{};
    out.path = path;
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0)
        return fail(errno == ENOENT ? ImageError::Missing : ImageError::Io,
                    path + ": " + std::strerror(errno));
    std::string why;
    if (!trusted_own_file(fd.get(), path, why)) return fail(ImageError::Untrusted, why);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return fail(ImageError::Io, path + ": " + std::strerror(errno));
    return read_image(ByteSource::file(fd.get(), uint64_t(st.st_size)), path, out, uint64_t(st.st_dev),
                      uint64_t(st.st_ino));
}

ImageStatus read_image(const ByteSource &src, const std::string &path, Image &out, uint64_t dev, uint64_t ino)
{
    using namespace image;
    out = Image{};
    out.path = path;
    out.dev = dev;
    out.ino = ino;
    const uint64_t file_size = src.size();
    ImageHeader &h = out.header;
    ImageHeaderV3 v3{};
    if (file_size < sizeof v3 || !src.read(&v3, sizeof v3, 0))
        return fail(ImageError::Truncated, path + ": shorter than an image header");
    if (std::memcmp(v3.magic, kMagic, sizeof kMagic) != 0)
        return fail(ImageError::BadMagic, path + ": not a ckpt image (bad magic)");
    const bool old_header = v3.format_version < 4;
    const bool v4_header = v3.format_version == 4;
    if (v3.format_version < kOldestFormatVersion || v3.format_version > kFormatVersion ||
        v3.header_size != (old_header ? sizeof(ImageHeaderV3) : v4_header ? sizeof(ImageHeaderV4) : sizeof(ImageHeader)))
        return fail(ImageError::BadVersion, path + ": image format version " +
                                                std::to_string(v3.format_version) + " is not supported");
    if (old_header) {
        // Formats 1-3: the same fields without the attribute and world sections.
        ImageHeaderV3 copy = v3;
        copy.header_checksum = 0;
        if (checksum(&copy, sizeof copy) != v3.header_checksum)
            return fail(ImageError::HeaderChecksum, path + ": header checksum mismatch");
        std::memcpy(&h, &v3, offsetof(ImageHeaderV3, header_checksum));
        h.attrs_offset = h.attrs_size = h.world_offset = h.world_size = 0;
        h.header_checksum = v3.header_checksum;
    } else if (v4_header) {
        // Format 4: the same fields without the thread section.
        ImageHeaderV4 v4{};
        if (file_size < sizeof v4 || !src.read(&v4, sizeof v4, 0))
            return fail(ImageError::Truncated, path + ": shorter than an image header");
        ImageHeaderV4 copy = v4;
        copy.header_checksum = 0;
        if (checksum(&copy, sizeof copy) != v4.header_checksum)
            return fail(ImageError::HeaderChecksum, path + ": header checksum mismatch");
        std::memcpy(&h, &v4, offsetof(ImageHeaderV4, header_checksum));
        h.header_checksum = v4.header_checksum;
    } else {
        if (file_size < sizeof h || !src.read(&h, sizeof h, 0))
            return fail(ImageError::Truncated, path + ": shorter than an image header");
        ImageHeader copy = h;
        copy.header_checksum = 0;
        if (checksum(&copy, sizeof copy) != h.header_checksum)
            return fail(ImageError::HeaderChecksum, path + ": header checksum mismatch");
        if (h.n_threads && h.thread_record_size != sizeof(ThreadRecord))
            return fail(ImageError::BadLayout, path + ": thread records of an unknown size");
    }
    if (file_size < h.image_size)
        return fail(ImageError::Truncated, path + ": truncated (" + std::to_string(file_size) + " of " +
                                               std::to_string(h.image_size) + " bytes)");
    if (h.meta_offset < sizeof h || h.meta_size > h.image_size || h.meta_offset > h.image_size - h.meta_size ||
        h.data_offset % kPageSize || h.data_offset < h.meta_offset + h.meta_size ||
        h.data_offset > h.image_size || h.data_size != h.image_size - h.data_offset ||
        h.meta_size < sizeof(ProcessRecord))
        return fail(ImageError::BadLayout, path + ": inconsistent section layout");
    std::string meta(h.meta_size, '\0');
    if (!src.read(meta.data(), meta.size(), h.meta_offset))
        return fail(ImageError::Io, path + ": cannot read metadata");
    if (checksum(meta.data(), meta.size()) != h.meta_checksum)
        return fail(ImageError::MetaChecksum, path + ": metadata checksum mismatch");
    std::memcpy(&out.process, meta.data(), sizeof(ProcessRecord));
    if (h.format_version < 2) out.process.command_id = kNoString;  // padding in format 1
    if (!section(meta, h.regions_offset, h.n_regions, out.regions) ||
        !section(meta, h.runs_offset, h.n_runs, out.runs) ||
        !section(meta, h.sigactions_offset, h.n_sigactions, out.sigactions) ||
        h.strings_offset > meta.size() || h.strings_size > meta.size() - h.strings_offset ||
        (old_header && h.strings_size != meta.size() - h.strings_offset))
        return fail(ImageError::BadLayout, path + ": metadata sections out of bounds");
    if (!old_header) {
        // Format 4: the process attributes (process_attrs.h checks their structure) and the world.
        if (h.attrs_offset > meta.size() || h.attrs_size > meta.size() - h.attrs_offset ||
            h.attrs_offset < h.strings_offset + h.strings_size || h.world_offset > meta.size() ||
            h.world_size != sizeof(WorldRecord) || h.world_size > meta.size() - h.world_offset ||
            h.world_offset < h.attrs_offset + h.attrs_size)
            return fail(ImageError::BadLayout, path + ": metadata sections out of bounds");
        out.attrs.assign(meta.data() + h.attrs_offset, h.attrs_size);
        attrs::View v;
        if (!attrs::parse(out.attrs.data(), out.attrs.size(), v))
            return fail(ImageError::BadLayout, path + ": process attributes section inconsistent");
        std::memcpy(&out.world, meta.data() + h.world_offset, sizeof out.world);
        if (out.world.record_size != sizeof out.world)
            return fail(ImageError::BadLayout, path + ": world record inconsistent");
        out.world.kernel_release[sizeof out.world.kernel_release - 1] = 0;
        out.world.glibc_version[sizeof out.world.glibc_version - 1] = 0;
        out.has_world = true;
    }
    // Format 5: the threads, after the world record.
    if (h.n_threads && (h.threads_offset < h.world_offset + h.world_size ||
                        !section(meta, h.threads_offset, h.n_threads, out.threads)))
        return fail(ImageError::BadLayout, path + ": thread section out of bounds");
    // Format 6: the block table and the statistics, after the threads.
    const bool blocks_format = h.format_version >= 6;
    if (blocks_format) {
        if ((h.n_blocks && h.block_record_size != sizeof(BlockRecord)) ||
            h.blocks_offset < h.threads_offset + uint64_t(h.n_threads) * sizeof(ThreadRecord) ||
            !section(meta, h.blocks_offset, h.n_blocks, out.blocks))
            return fail(ImageError::BadLayout, path + ": block table out of bounds");
        if (h.stats_size) {
            if (h.stats_offset > meta.size() || h.stats_size > meta.size() - h.stats_offset || h.stats_size < 8)
                return fail(ImageError::BadLayout, path + ": statistics out of bounds");
            std::memcpy(&out.stats, meta.data() + h.stats_offset,
                        h.stats_size < sizeof out.stats ? h.stats_size : sizeof out.stats);
            out.has_stats = true;
        }
    }
    std::string why;
    if (h.format_version < 3 ? !legacy_fd_section(meta, h.fds_offset, h.n_fds, out.fds)
                             : !fd_section(meta, h.fds_offset, h.n_fds, out.fds, why))
        return fail(ImageError::BadLayout, path + ": " + (why.empty() ? "descriptor section out of bounds" : why));
    out.strings.assign(meta.data() + h.strings_offset, h.strings_size);
    if (!out.strings.empty() && out.strings.back() != '\0')
        return fail(ImageError::BadLayout, path + ": string table not terminated");

    // Structure: regions ordered and disjoint, runs inside their regions, data inside the file.
    // Every sum is checked against its bound first, so that no crafted value wraps around.
    uint64_t prev_end = 0, data_end = h.data_offset;
    for (const RegionRecord &r : out.regions) {
        if (r.start % kPageSize || r.end % kPageSize || r.end <= r.start || r.start < prev_end)
            return fail(ImageError::BadLayout, path + ": memory regions overlap or are unaligned");
        prev_end = r.end;
        if (uint64_t(r.first_run) + r.n_runs > out.runs.size())
            return fail(ImageError::BadLayout, path + ": page runs out of bounds");
        const uint64_t region_pages = (r.end - r.start) / kPageSize;
        uint64_t pages = 0, inherited = 0, last = 0;
        for (uint32_t i = 0; i < r.n_runs; ++i) {
            const PageRun &run = out.runs[r.first_run + i];
            if (run.n_pages == 0 || run.first_page < last || run.n_pages > region_pages ||
                run.first_page > region_pages - run.n_pages)
                return fail(ImageError::BadLayout, path + ": page run outside its region");
            last = run.first_page + run.n_pages;
            // Inherited runs (incremental images) have their bytes in the parent chain.
            if (run.flags & kRunInherited) inherited += run.n_pages;
            else pages += run.n_pages;
        }
        if (inherited && !(h.image_flags & kImageIncremental))
            return fail(ImageError::BadLayout, path + ": inherited pages in an image without a parent");
        if (inherited != r.inherited_pages)
            return fail(ImageError::BadLayout, path + ": page data layout inconsistent");
        if (blocks_format) {
            // Blocks: inside the data section, each of whole pages (at most kBlockPages), raw
            // ones stored as they are, together covering the region's saved pages.
            uint64_t block_pages = 0;
            if (uint64_t(r.first_block) + r.n_blocks > out.blocks.size())
                return fail(ImageError::BadLayout, path + ": blocks out of bounds");
            for (uint32_t k = 0; k < r.n_blocks; ++k) {
                const BlockRecord &b = out.blocks[r.first_block + k];
                if (b.raw_size == 0 || b.raw_size % kPageSize || b.raw_size > kBlockPages * kPageSize ||
                    b.stored_offset < h.data_offset || b.stored_offset > h.image_size ||
                    b.stored_size > h.image_size - b.stored_offset ||
                    (b.codec == BlockCodec::Raw && b.stored_size != b.raw_size) ||
                    (b.codec != BlockCodec::Raw && b.codec != BlockCodec::Zstd))
                    return fail(ImageError::BadLayout, path + ": a page data block is inconsistent");
                block_pages += b.raw_size / kPageSize;
                if (b.stored_offset + b.stored_size > data_end) data_end = b.stored_offset + b.stored_size;
            }
            if (pages != r.data_pages || block_pages != r.data_pages ||
                (r.n_blocks && r.data_offset != out.blocks[r.first_block].stored_offset))
                return fail(ImageError::BadLayout, path + ": page data layout inconsistent");
        } else {
            if (pages != r.data_pages || (r.data_pages && r.data_offset != data_end) ||
                r.data_pages > (h.image_size - data_end) / kPageSize)
                return fail(ImageError::BadLayout, path + ": page data layout inconsistent");
            data_end += r.data_pages * kPageSize;
        }
        if (r.name != kNoString && r.name >= out.strings.size())
            return fail(ImageError::BadLayout, path + ": bad string reference");
    }
    if (data_end != h.image_size && !(blocks_format && out.blocks.empty() && data_end == h.data_offset))
        return fail(ImageError::BadLayout, path + ": page data size inconsistent");
    for (const FdEntry &f : out.fds) {
        if (f.c.path != kNoString && f.c.path >= out.strings.size())
            return fail(ImageError::BadLayout, path + ": bad string reference");
        // A listening socket's address and options are copied by their lengths.
        if (f.c.kind == FdKind::ListenSocket) {
            FdListenSocketPayload l;
            std::memcpy(&l, f.payload.data(), sizeof l);
            bool ok = l.addr_len <= sizeof l.addr && l.n_options <= kMaxSockOptions;
            for (uint32_t k = 0; ok && k < l.n_options; ++k) ok = l.options[k].len <= sizeof l.options[k].value;
            if (!ok) return fail(ImageError::BadLayout, path + ": a listening socket's record is inconsistent");
        }
        // A memfd's contents are read from memory the image restores: all inside one region.
        if (f.c.kind == FdKind::Memfd) {
            FdMemfdPayload m;
            std::memcpy(&m, f.payload.data(), sizeof m);
            if (!m.contents_addr) continue;
            const uint64_t len = (m.size + kPageSize - 1) / kPageSize * kPageSize;
            bool inside = false;
            for (const RegionRecord &r : out.regions)
                inside = inside || (m.contents_addr >= r.start && m.contents_addr < r.end && len <= r.end - m.contents_addr &&
                                    m.size <= len);
            if (!inside) return fail(ImageError::BadLayout, path + ": a memfd's contents are not in the image");
        }
    }
    // What the restorer copies into fixed tables (64 signal actions) or uses unchecked. It
    // ends its copy of the string table with a NUL: a process reference equal to the size is
    // the empty string (an image with no strings at all has only such references).
    for (StrRef ref : {out.process.exe_path, out.process.cwd, out.process.cmdline})
        if (ref != kNoString && ref > out.strings.size())
            return fail(ImageError::BadLayout, path + ": bad string reference");
    // Threads: at most one leader, the pid's; no tid twice; a coordinator among them.
    if (!out.threads.empty()) {
        int leaders = 0, coordinators = 0;
        for (size_t i = 0; i < out.threads.size(); ++i) {
            const ThreadRecord &t = out.threads[i];
            if (t.tid <= 0) return fail(ImageError::BadLayout, path + ": bad thread id");
            for (size_t j = 0; j < i; ++j)
                if (out.threads[j].tid == t.tid) return fail(ImageError::BadLayout, path + ": a thread id twice");
            leaders += (t.flags & kThreadMain) ? 1 : 0;
            coordinators += (t.flags & kThreadCoordinator) ? 1 : 0;
        }
        if (leaders != 1 || coordinators != 1 || out.threads.size() > kMaxImageThreads)
            return fail(ImageError::BadLayout, path + ": thread section inconsistent");
    }
    if (out.sigactions.size() > 64) return fail(ImageError::BadLayout, path + ": more signal actions than signals");
    for (const SigactionRecord &s : out.sigactions)
        if (s.signo < 1 || s.signo > 64) return fail(ImageError::BadLayout, path + ": bad signal number");
    return {};
}

int reopen_image(const Image &img, std::string &why)
{
    const int fd = ::open(img.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        why = img.path + ": " + std::strerror(errno);
        return -1;
    }
    struct stat st;
    if (!trusted_own_file(fd, img.path, why)) {
        ::close(fd);
        return -1;
    }
    if (::fstat(fd, &st) != 0 || uint64_t(st.st_dev) != img.dev || uint64_t(st.st_ino) != img.ino) {
        why = img.path + ": replaced since it was read";
        ::close(fd);
        return -1;
    }
    if (uint64_t(st.st_size) < img.header.image_size) {  // a mapping past the end would SIGBUS
        why = img.path + ": truncated since it was read";
        ::close(fd);
        return -1;
    }
    return fd;
}

ImageStatus verify_data(const Image &img)
{
    if (img.header.data_size == 0) return {};
    std::string why;
    Fd fd(reopen_image(img, why));
    if (fd.get() < 0) return fail(ImageError::Untrusted, why);
    void *map = ::mmap(nullptr, img.header.image_size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (map == MAP_FAILED) return fail(ImageError::Io, img.path + ": cannot map: " + std::strerror(errno));
    ::madvise(map, img.header.image_size, MADV_SEQUENTIAL);
    ImageStatus status = verify_data(img, map, img.header.image_size);
    ::munmap(map, img.header.image_size);
    return status;
}

ImageStatus verify_data(const Image &img, const void *image, uint64_t size)
{
    if (size < img.header.image_size)
        return fail(ImageError::Truncated, img.path + ": shorter than its header says");
    const char *base = static_cast<const char *>(image);
    ImageStatus status;
    if (img.header.format_version >= 6) {
        // Each block on its own: decompressed into a buffer where it is compressed.
        std::vector<uint64_t> dws(codec::decompressor_workspace() / 8 + 1);
        std::vector<char> raw(codec::kBlockBytes);
        codec::Decompressor d;
        d.init(dws.data(), dws.size() * 8);
        for (const auto &r : img.regions) {
            for (uint32_t k = 0; k < r.n_blocks; ++k) {
                const image::BlockRecord &b = img.blocks[r.first_block + k];
                const char *bytes = base + b.stored_offset;
                bool ok;
                if (b.codec == image::BlockCodec::Raw) {
                    ok = checksum(bytes, b.raw_size) == b.checksum;
                } else {
                    ok = d.decompress(bytes, b.stored_size, raw.data(), b.raw_size) &&
                         checksum(raw.data(), b.raw_size) == b.checksum;
                }
                if (!ok) {
                    char where[64];
                    std::snprintf(where, sizeof where, "%#lx-%#lx", (unsigned long)r.start, (unsigned long)r.end);
                    return fail(ImageError::DataChecksum,
                                img.path + ": page data of region " + where + " does not match its checksum");
                }
            }
        }
        return status;
    }
    for (const auto &r : img.regions) {
        if (!r.data_pages) continue;
        if (checksum(base + r.data_offset, r.data_pages * image::kPageSize) != r.data_checksum) {
            char where[64];
            std::snprintf(where, sizeof where, "%#lx-%#lx", (unsigned long)r.start, (unsigned long)r.end);
            status = fail(ImageError::DataChecksum,
                          img.path + ": page data of region " + where + " does not match its checksum");
            break;
        }
    }
    return status;
}

ImageStatus verify_files(const Image &img, bool open_files)
{
    using namespace image;
    for (const RegionRecord &r : img.regions) {
        if (r.kind != RegionKind::File) continue;
        const std::string path = img.str(r.name);
        struct stat st;
        if (::stat(path.c_str(), &st) != 0)
            return fail(ImageError::FileMissing, "the image maps " + path + ", which no longer exists");
        const int64_t mtime = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
        // Size and mtime only where the program did not write the file: through a writable
        // shared mapping it may have (the kernel updates mtime on write faults), and recovery
        // rolls those bytes back; the identity must hold in every case.
        const bool written = (r.flags & kRegionShared) && (r.prot & PROT_WRITE);
        if (uint64_t(st.st_dev) != r.file_dev || uint64_t(st.st_ino) != r.file_ino ||
            (!written && (uint64_t(st.st_size) != r.file_size || mtime != r.file_mtime_ns)))
            return fail(ImageError::FileChanged,
                        "the image maps " + path + ", which has changed since the checkpoint (" +
                            (uint64_t(st.st_ino) != r.file_ino || uint64_t(st.st_dev) != r.file_dev ? "inode"
                             : uint64_t(st.st_size) != r.file_size                              ? "size"
                                                                                                : "mtime") +
                            " differs); restoring it would run mismatched code");
        // A writable shared mapping writes into the file: the restorer opens it O_RDWR with the
        // user's own rights, so it must be a regular file this user may write (the check the
        // kernel made when the program mapped it; refused here before anything is torn down).
        if ((r.flags & kRegionShared) && (r.prot & PROT_WRITE) &&
            (!S_ISREG(st.st_mode) || ::faccessat(AT_FDCWD, path.c_str(), W_OK, AT_EACCESS) != 0))
            return fail(ImageError::FileChanged, "the image maps " + path +
                                                     " shared and writable, but it is not a regular file you may write");
    }
    // Each descriptor as its kind checks it (fd/kind_*.cpp): a file reopened by path after
    // the restore must be the object the program had open.
    for (const FdEntry &f : img.fds) {
        if (!open_files) break;
        const fd::KindOps *kind = fd::kind_ops(f.c.kind);
        if (!kind) continue;  // read_image refused it
        const std::string path = img.str(f.c.path);
        char why[512];
        text::Builder b(why, sizeof why);
        switch (kind->verify(f.c, f.payload.data(), path.c_str(), b)) {
        case fd::Verdict::Ok: break;
        case fd::Verdict::Missing: return fail(ImageError::FileMissing, why);
        case fd::Verdict::Changed: return fail(ImageError::FileChanged, why);
        }
    }
    return {};
}

ImageStatus verify_restorable(const Image &img, bool same_process)
{
    if (img.has_world)
        if (const std::string why = world::check(img.world); !why.empty())
            return fail(ImageError::Incompatible, img.path + " was taken in another world: " + why +
                                                      "; restoring it here could fault or misbehave");
    attrs::View v;
    if (img.attrs.empty() || !attrs::parse(img.attrs.data(), img.attrs.size(), v)) return {};
    struct Ctx {
        const Image *img;
        std::string path;
    } ctx{&img, {}};
    auto fd_path = [](int fd, const void *c) -> const char * {
        auto *x = static_cast<Ctx *>(const_cast<void *>(c));
        for (const FdEntry &f : x->img->fds)
            if (f.c.fd == fd && f.c.path != image::kNoString) return (x->path = x->img->str(f.c.path)).c_str();
        return nullptr;
    };
    char why[1024];
    text::Builder b(why, sizeof why);
    image::ProcessAttrsRecord rec = *v.proc;
    if (same_process) rec.n_locks = 0;  // its locks are its own (still held)
    attrs::View vv = v;
    vv.proc = &rec;
    if (!attrs::check_restorable(vv, fd_path, &ctx, b))
        return fail(ImageError::AttrsRefused, "cannot give the restored process back what it had: " + std::string(why));
    return {};
}

ImageStatus verify_image(const std::string &path, Image &out)
{
    if (auto s = read_image(path, out)) return s;
    if (auto s = verify_data(out)) return s;
    return verify_files(out);
}

}  // namespace ckpt
