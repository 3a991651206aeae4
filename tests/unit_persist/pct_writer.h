// Test-side writer of PCT logs in the format the runtime writes (runtime/persistent/persist.cpp
// writes with raw system calls; this is the same layout with libc), plus small file helpers.
#pragma once

#include <catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "checksum.h"
#include "pct_format.h"
#include "pct_reader.h"
#include "undo.h"

namespace test {

using namespace ckpt;

inline std::string slurp(const std::string &p)
{
    std::ifstream f(p, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

inline void put(const std::string &p, const std::string &data)
{
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f << data;
}

// A file as ckpt writes its own (logs, progress files): owner-only, mode 0600.
inline void put_own(const std::string &p, const std::string &data)
{
    put(p, data);
    ::chmod(p.c_str(), 0600);
}

inline bool exists(const std::string &p)
{
    struct stat st;
    return ::lstat(p.c_str(), &st) == 0;
}

struct TempDir {
    std::string path;
    TempDir()
    {
        char t[] = "/tmp/ckpt-unit-XXXXXX";
        path = ::mkdtemp(t);
    }
    ~TempDir() { ckpt::persist::remove_tree(path); }
};

class PctWriter {
public:
    // prev_nonce != 0: started by a checkpoint after sealing the log whose nonce it is.
    PctWriter(const std::string &job_dir, uint64_t epoch, uint64_t prev_nonce = 0) : job_(job_dir), epoch_(epoch)
    {
        path_ = persist::log_path(job_dir, epoch);
        fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        pct::FileHeader h{};
        std::memcpy(h.magic, pct::kFileMagic, 8);
        h.format_version = pct::kFormatVersion;
        h.header_size = sizeof h;
        h.epoch = epoch;
        h.nonce = 0x1234 + epoch;
        h.pid = 1;
        h.prev_nonce = prev_nonce;
        h.flags = prev_nonce ? pct::kLogStarted : 0;
        h.checksum = checksum(&h, sizeof h);
        (void)!::write(fd_, &h, sizeof h);
    }
    ~PctWriter() { ::close(fd_); }
    const std::string &path() const { return path_; }
    std::string undo_dir() const { return persist::undo_dir_path(job_, epoch_); }

    // Generic record. `st` (optional) fills size/mode/owner/times/identity.
    uint64_t add(pct::Kind kind, const std::string &p1, const std::string &p2 = "", const std::string &data = "",
                 int64_t offset = 0, uint16_t flags = 0, const struct stat *st = nullptr, uint64_t undo_id = 0,
                 uint64_t ino = 0)
    {
        pct::RecordHeader h{};
        h.magic = pct::kRecordMagic;
        h.kind = uint16_t(kind);
        h.flags = flags;
        h.path_len = uint16_t(p1.size());
        h.path2_len = uint16_t(p2.size());
        h.seq = seq_++;
        h.offset = offset;
        h.length = data.size();
        h.undo_id = undo_id;
        h.ino = ino;
        if (st) {
            h.size = uint64_t(st->st_size);
            h.mode = st->st_mode;
            h.uid = st->st_uid;
            h.gid = st->st_gid;
            h.atime_ns = int64_t(st->st_atim.tv_sec) * 1000000000 + st->st_atim.tv_nsec;
            h.mtime_ns = int64_t(st->st_mtim.tv_sec) * 1000000000 + st->st_mtim.tv_nsec;
            h.dev = st->st_dev;
            h.ino = st->st_ino;
        }
        const uint64_t doff = pct::data_offset_in_record(h.path_len, h.path2_len);
        const uint64_t total = pct::record_size(h.path_len, h.path2_len, data.size());
        h.record_size = uint32_t(total);
        h.data_checksum = data.empty() ? kept_sum_ : checksum(data.data(), data.size());
        if (kind == pct::Kind::Seal) h.offset = int64_t(::lseek(fd_, 0, SEEK_END));
        std::string rec(total, '\0');
        std::memcpy(rec.data() + sizeof h, p1.data(), p1.size());
        std::memcpy(rec.data() + sizeof h + p1.size() + 1, p2.data(), p2.size());
        std::memcpy(rec.data() + doff, data.data(), data.size());
        h.header_checksum = 0;
        Checksum cs;
        cs.update(&h, sizeof h);
        cs.update(rec.data() + sizeof h, p1.size() + 1 + p2.size() + 1);
        h.header_checksum = cs.digest();
        std::memcpy(rec.data(), &h, sizeof h);
        const uint64_t at = uint64_t(::lseek(fd_, 0, SEEK_END));
        (void)!::write(fd_, rec.data(), rec.size());
        return at;
    }

    // The runtime's records for the usual changes, written before the change is made.
    void meta(const std::string &p)
    {
        struct stat st;
        REQUIRE(::lstat(p.c_str(), &st) == 0);
        add(pct::Kind::Meta, p, "", "", 0, S_ISDIR(st.st_mode) ? pct::kDir : 0, &st);
    }
    void data(const std::string &p, int64_t off, size_t len)
    {
        std::string all = slurp(p);
        add(pct::Kind::Data, p, "", all.substr(size_t(off), len), off);
    }
    void create(const std::string &p, bool dir = false) { add(pct::Kind::Create, p, "", "", 0, dir ? pct::kDir : 0); }
    // Keeps p (a hard link into undo-K/<id>) before it is unlinked or replaced.
    void removed(const std::string &p)
    {
        ::mkdir(undo_dir().c_str(), 0700);
        const uint64_t id = next_id_++;
        REQUIRE(::link(p.c_str(), (undo_dir() + "/" + std::to_string(id)).c_str()) == 0);
        struct stat st;
        ::lstat(p.c_str(), &st);
        add(pct::Kind::Removed, p, "", "", 0, 0, &st, id);
    }
    // As the runtime does now: the kept object's checksum in the record.
    void removed_checked(const std::string &p)
    {
        ::mkdir(undo_dir().c_str(), 0700);
        const uint64_t id = next_id_++;
        REQUIRE(::link(p.c_str(), (undo_dir() + "/" + std::to_string(id)).c_str()) == 0);
        struct stat st;
        ::lstat(p.c_str(), &st);
        const std::string bytes = slurp(p);
        kept_sum_ = checksum(bytes.data(), bytes.size());
        add(pct::Kind::Removed, p, "", "", 0, pct::kKeptChecksum, &st, id);
        kept_sum_ = 0;
    }
    void seal() { add(pct::Kind::Seal, ""); }
    uint64_t nonce() const { return 0x1234 + epoch_; }
    void rename(const std::string &from, const std::string &to)
    {
        struct stat st;
        ::lstat(from.c_str(), &st);
        add(pct::Kind::Rename, from, to, "", 0, 0, nullptr, 0, st.st_ino);
    }
    void rmdir(const std::string &p)
    {
        struct stat st;
        REQUIRE(::lstat(p.c_str(), &st) == 0);
        add(pct::Kind::Rmdir, p, "", "", 0, pct::kDir, &st);
    }

private:
    std::string job_, path_;
    uint64_t epoch_;
    int fd_ = -1;
    uint64_t seq_ = 0, next_id_ = 1, kept_sum_ = 0;
};

// A description of a directory tree (names, types, modes, sizes, contents) for comparisons.
inline std::string tree(const std::string &dir)
{
    std::vector<std::string> out;
    std::vector<std::string> todo{""};
    while (!todo.empty()) {
        std::string rel = todo.back();
        todo.pop_back();
        std::string full = dir + rel;
        if (DIR *d = ::opendir(full.c_str())) {
            while (dirent *e = ::readdir(d)) {
                std::string n = e->d_name;
                if (n == "." || n == "..") continue;
                std::string r = rel + "/" + n;
                struct stat st;
                ::lstat((dir + r).c_str(), &st);
                std::ostringstream line;
                line << r << " " << std::oct << (st.st_mode & 07777) << std::dec;
                if (S_ISDIR(st.st_mode)) {
                    line << " dir";
                    todo.push_back(r);
                } else {
                    line << " " << st.st_size << " " << slurp(dir + r);
                }
                out.push_back(line.str());
            }
            ::closedir(d);
        }
    }
    std::sort(out.begin(), out.end());
    std::string s;
    for (auto &l : out) s += l + "\n";
    return s;
}

}  // namespace test
