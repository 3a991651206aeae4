#include "pct_reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "../byte_source.h"
#include "../checksum.h"
#include "../trusted_file.h"

namespace ckpt::persist {
namespace {

// Validates the record at `off`; on success fills `rec` and returns true.
bool parse_record(const ByteSource &src, uint64_t off, uint64_t file_size, PctRecord &rec)
{
    if (off + sizeof(pct::RecordHeader) > file_size) return false;
    pct::RecordHeader h;
    if (!src.read(&h, sizeof h, off)) return false;
    if (h.magic != pct::kRecordMagic || h.path_len > pct::kMaxPath || h.path2_len > pct::kMaxPath) return false;
    if (h.record_size != pct::record_size(h.path_len, h.path2_len, h.length) || h.length > pct::kMaxDataChunk)
        return false;
    if (off + h.record_size > file_size) return false;
    std::string paths(size_t(h.path_len) + 1 + h.path2_len + 1, '\0');
    if (!src.read(paths.data(), paths.size(), off + sizeof h)) return false;
    pct::RecordHeader z = h;
    z.header_checksum = 0;
    Checksum cs;
    cs.update(&z, sizeof z);
    cs.update(paths.data(), paths.size());
    if (cs.digest() != h.header_checksum) return false;
    rec.header = h;
    rec.path.assign(paths.data(), h.path_len);
    rec.path2.assign(paths.data() + h.path_len + 1, h.path2_len);
    rec.file_offset = off;
    rec.data_offset = off + pct::data_offset_in_record(h.path_len, h.path2_len);
    return true;
}

std::string name_for(const char *prefix, uint64_t epoch, const char *suffix)
{
    char buf[64];
    pct::epoch_name(buf, sizeof buf, prefix, epoch, suffix);
    return buf;
}

bool parse_epoch_name(const std::string &n, const char *prefix, const char *suffix, uint64_t &epoch)
{
    const size_t pl = std::strlen(prefix), sl = std::strlen(suffix);
    if (n.size() <= pl + sl || n.compare(0, pl, prefix) != 0 || n.compare(n.size() - sl, sl, suffix) != 0) return false;
    const std::string digits = n.substr(pl, n.size() - pl - sl);
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit)) return false;
    epoch = std::strtoull(digits.c_str(), nullptr, 10);
    return true;
}

std::string octal(uint32_t mode)
{
    char b[16];
    std::snprintf(b, sizeof b, "%04o", mode & 07777);
    return b;
}

}  // namespace

PctLog read_pct(const std::string &path)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        PctLog log;
        log.path = path;
        log.error = path + ": " + std::strerror(errno);
        return log;
    }
    if (std::string why; !trusted_own_file(fd, path, why)) {
        PctLog log;
        log.path = path;
        log.exists = true;
        log.untrusted = true;
        log.error = why;
        ::close(fd);
        return log;
    }
    struct stat st;
    const uint64_t size = ::fstat(fd, &st) == 0 ? uint64_t(st.st_size) : 0;
    PctLog log = read_pct(ByteSource::file(fd, size), path);
    ::close(fd);
    return log;
}

PctLog read_pct(const ByteSource &src, const std::string &path)
{
    PctLog log;
    log.path = path;
    log.exists = true;
    log.file_size = src.size();
    pct::FileHeader h{};
    if (log.file_size < sizeof h || !src.read(&h, sizeof h, 0)) {
        // Created but its header never completed: an empty log (nothing was changed under it).
        log.torn_tail = log.file_size > 0;
        log.error = log.file_size ? "log header incomplete" : "";
        return log;
    }
    pct::FileHeader z = h;
    z.checksum = 0;
    if (std::memcmp(h.magic, pct::kFileMagic, 8) != 0 || h.header_size != sizeof h || checksum(&z, sizeof z) != h.checksum) {
        log.error = "not a PCT log or header checksum mismatch";
        return log;
    }
    if (h.format_version != pct::kFormatVersion) {
        log.error = "PCT format version " + std::to_string(h.format_version) + " is not supported";
        return log;
    }
    log.header_ok = true;
    log.header = h;
    uint64_t off = sizeof h;
    log.valid_bytes = off;
    while (off < log.file_size) {
        PctRecord rec;
        if (parse_record(src, off, log.file_size, rec)) {
            log.records.push_back(std::move(rec));
            off += log.records.back().header.record_size;
            log.valid_bytes = off;
            continue;
        }
        // Not a valid record. If its size field is plausible and the record is all there (a valid
        // record follows, or it ends exactly at the end of the file), it is damage; otherwise
        // the rest is a torn tail (an append that did not complete).
        pct::RecordHeader bad;
        bool resynced = false;
        if (src.read(&bad, sizeof bad, off) && bad.magic == pct::kRecordMagic &&
            bad.path_len <= pct::kMaxPath && bad.path2_len <= pct::kMaxPath && bad.length <= pct::kMaxDataChunk &&
            bad.record_size == pct::record_size(bad.path_len, bad.path2_len, bad.length) &&
            off + bad.record_size <= log.file_size) {
            PctRecord next;
            if (off + bad.record_size == log.file_size || parse_record(src, off + bad.record_size, log.file_size, next)) {
                log.bad_records.push_back(off);
                off += bad.record_size;
                resynced = true;
            }
        }
        if (!resynced) {
            log.torn_tail = true;
            break;
        }
    }
    return log;
}

bool read_record_data(const std::string &log_path, const PctRecord &r, std::string &out)
{
    int fd = ::open(log_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return false;
    std::string why;
    struct stat st;
    const bool ok = trusted_own_file(fd, log_path, why) && ::fstat(fd, &st) == 0 &&
                    read_record_data(ByteSource::file(fd, uint64_t(st.st_size)), r, out);
    ::close(fd);
    return ok;
}

bool read_record_data(const ByteSource &src, const PctRecord &r, std::string &out)
{
    out.clear();
    if (r.header.length > pct::kMaxDataChunk) return false;  // never allocate what the log claims unchecked
    out.assign(r.header.length, '\0');
    return src.read(out.data(), out.size(), r.data_offset) && checksum(out.data(), out.size()) == r.header.data_checksum;
}

std::string log_path(const std::string &job_dir, uint64_t epoch) { return job_dir + "/" + name_for("pct-", epoch, ".log"); }
std::string undo_dir_path(const std::string &job_dir, uint64_t epoch) { return job_dir + "/" + name_for("undo-", epoch, ""); }
std::string progress_path(const std::string &job_dir, uint64_t epoch)
{
    return job_dir + "/" + name_for("pct-", epoch, ".progress");
}

std::string growth_path(const std::string &job_dir, uint64_t epoch)
{
    return job_dir + "/" + name_for("grow-", epoch, ".map");
}

std::vector<EpochFiles> list_epochs(const std::string &job_dir)
{
    std::map<uint64_t, EpochFiles> m;
    DIR *d = ::opendir(job_dir.c_str());
    if (!d) return {};
    while (dirent *e = ::readdir(d)) {
        const std::string n = e->d_name;
        uint64_t k;
        if (parse_epoch_name(n, "pct-", ".log", k)) m[k].log = job_dir + "/" + n;
        else if (parse_epoch_name(n, "pct-", ".progress", k)) m[k].progress = job_dir + "/" + n;
        else if (parse_epoch_name(n, "undo-", "", k)) m[k].undo_dir = job_dir + "/" + n;
        else if (parse_epoch_name(n, "grow-", ".map", k)) m[k].growth = job_dir + "/" + n;
        else continue;
        m[k].epoch = k;
    }
    ::closedir(d);
    std::vector<EpochFiles> out;
    for (auto &[k, v] : m) out.push_back(v);
    return out;
}

VerifyResult verify_epoch(const std::string &job_dir, uint64_t epoch)
{
    VerifyResult v;
    const std::string lp = log_path(job_dir, epoch);
    PctLog log = read_pct(lp);
    auto problem = [&](const std::string &s) { v.ok = false; v.problems.push_back(s); };
    if (!log.exists) { problem(lp + ": missing"); return v; }
    if (!log.header_ok) { problem(lp + ": " + (log.error.empty() ? "no header" : log.error)); return v; }
    if (log.torn_tail)
        v.problems.push_back(lp + ": torn tail of " + std::to_string(log.file_size - log.valid_bytes) +
                             " bytes ignored (an interrupted append; the change it would protect never happened)");
    for (uint64_t off : log.bad_records) problem(lp + ": record at offset " + std::to_string(off) + " fails its checksum");
    const std::string undo = undo_dir_path(job_dir, epoch);
    for (const auto &r : log.records) {
        ++v.records;
        if (r.kind() == pct::Kind::Data) {
            std::string data;
            v.data_bytes += r.header.length;
            if (!read_record_data(lp, r, data))
                problem(lp + ": old data of record " + std::to_string(r.header.seq) + " (" + r.path + ") is damaged");
        } else if (r.kind() == pct::Kind::Removed) {
            ++v.kept_files;
            const std::string kept = undo + "/" + std::to_string(r.header.undo_id);
            struct stat st;
            if (::lstat(kept.c_str(), &st) != 0 && ::lstat(r.path.c_str(), &st) != 0)
                problem(kept + ": kept copy of " + r.path + " is missing");
        }
    }
    return v;
}

std::string describe(const PctRecord &r)
{
    const auto &h = r.header;
    std::string s = std::to_string(h.seq) + " " + pct::kind_name(h.kind) + " ";
    s += (h.flags & pct::kPathInUndoDir) ? "<undo>/" + r.path : r.path;
    switch (r.kind()) {
    case pct::Kind::Meta:
        s += " size=" + std::to_string(h.size) + " mode=" + octal(h.mode) + " uid=" + std::to_string(h.uid) +
             " gid=" + std::to_string(h.gid);
        break;
    case pct::Kind::Data:
        s += " range=" + std::to_string(h.offset) + "+" + std::to_string(h.length);
        break;
    case pct::Kind::Create: s += (h.flags & pct::kDir) ? " (directory)" : ""; break;
    case pct::Kind::Removed:
        s += std::string(" kept as undo/") + std::to_string(h.undo_id) + ((h.flags & pct::kCopied) ? " (copy)" : " (hard link)");
        break;
    case pct::Kind::Rename: s += " -> " + r.path2 + ((h.flags & pct::kExchange) ? " (exchange)" : ""); break;
    case pct::Kind::Rmdir: s += " mode=" + octal(h.mode); break;
    case pct::Kind::Unprotected: s += std::string(" NOT PROTECTED: ") + std::strerror(h.err); break;
    default: break;
    }
    return s;
}

}  // namespace ckpt::persist
