#include "lineage.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "../job_layout.h"
#include "../trusted_file.h"

namespace ckpt::persist {
namespace {

constexpr char kName[] = "lineage";
constexpr char kTemp[] = ".lineage.tmp";
constexpr char kMagic[] = "ckpt lineage 1";

struct Entry {
    uint64_t version, dev, ino;
};

std::string image_name(uint64_t v)
{
    char d[32];
    std::snprintf(d, sizeof d, "ckpt-%06llu.img", static_cast<unsigned long long>(v));
    return d;
}

// The committed images newer than `version`: a regular file each (never a link).
std::vector<Entry> newer_images(int dfd, uint64_t version)
{
    std::vector<Entry> out;
    DIR *d = ::fdopendir(::dup(dfd));
    if (!d) return out;
    ::rewinddir(d);
    while (dirent *e = ::readdir(d)) {
        if (layout::classify(e->d_name) != layout::Entry::Image) continue;
        const uint64_t v = std::strtoull(e->d_name + 5, nullptr, 10);
        struct stat st;
        if (v <= version || ::fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
        out.push_back({v, uint64_t(st.st_dev), uint64_t(st.st_ino)});
    }
    ::closedir(d);
    return out;
}

// Unlinks the listed images that are still the very files recorded.
void unlink_entries(int dfd, const std::vector<Entry> &list, Retirement &r)
{
    for (const Entry &e : list) {
        const std::string n = image_name(e.version);
        struct stat st;
        if (::fstatat(dfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone already
        if (uint64_t(st.st_dev) != e.dev || uint64_t(st.st_ino) != e.ino) continue;  // a newer checkpoint
        if (::unlinkat(dfd, n.c_str(), 0) != 0) {
            r.ok = false;
            r.error = "cannot remove the retired checkpoint " + n + ": " + std::strerror(errno);
            return;
        }
        r.retired.push_back(e.version);
    }
}

bool write_record(int dfd, uint64_t version, const std::vector<Entry> &list, std::string &why)
{
    std::string text = std::string(kMagic) + "\nrollback-to " + std::to_string(version) + "\n";
    for (const Entry &e : list)
        text += "retire " + std::to_string(e.version) + " " + std::to_string(e.dev) + " " + std::to_string(e.ino) + "\n";
    text += "end\n";
    ::unlinkat(dfd, kTemp, 0);
    const int fd = ::openat(dfd, kTemp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) { why = std::string("cannot write ") + kTemp + ": " + std::strerror(errno); return false; }
    bool ok = ::fchmod(fd, 0600) == 0 && ::write(fd, text.data(), text.size()) == ssize_t(text.size()) && ::fsync(fd) == 0;
    const int e = errno;
    ::close(fd);
    ok = ok && ::renameat(dfd, kTemp, dfd, kName) == 0 && ::fsync(dfd) == 0;
    if (!ok) {
        why = std::string("cannot write the lineage record: ") + std::strerror(errno ? errno : e);
        ::unlinkat(dfd, kTemp, 0);
    }
    return ok;
}

// The pending record, if any (false: none, or not ours/damaged: `why` says which).
bool read_record(int dfd, uint64_t &version, std::vector<Entry> &list, std::string &why)
{
    const long fd = open_beneath(dfd, kName, O_RDONLY | O_NONBLOCK);
    if (fd < 0) return false;
    if (!trusted_own_file(int(fd), kName, why)) { ::close(int(fd)); return false; }
    char buf[1 << 16];
    const ssize_t n = ::read(int(fd), buf, sizeof buf - 1);
    ::close(int(fd));
    if (n <= 0) { why = "the lineage record is empty"; return false; }
    buf[n] = 0;
    std::string s(buf, size_t(n));
    if (s.compare(0, sizeof kMagic - 1, kMagic) != 0 || s.find("\nend\n") == std::string::npos) {
        why = "the lineage record is damaged";
        return false;
    }
    unsigned long long v = 0, a = 0, b = 0, c = 0;
    const size_t at = s.find("\nrollback-to ");
    if (at == std::string::npos || std::sscanf(s.c_str() + at, "\nrollback-to %llu", &v) != 1) {
        why = "the lineage record is damaged";
        return false;
    }
    version = v;
    for (size_t p = s.find("\nretire "); p != std::string::npos; p = s.find("\nretire ", p + 1))
        if (std::sscanf(s.c_str() + p, "\nretire %llu %llu %llu", &a, &b, &c) == 3) list.push_back({a, b, c});
    return true;
}

Retirement finish(int dfd, uint64_t version, const std::vector<Entry> &list)
{
    Retirement r;
    r.target = version;
    unlink_entries(dfd, list, r);
    if (!r.ok) return r;
    if (::fsync(dfd) != 0 || (::unlinkat(dfd, kName, 0) != 0 && errno != ENOENT) || ::fsync(dfd) != 0) {
        r.ok = false;
        r.error = std::string("cannot complete the rollback's retirement of newer versions: ") + std::strerror(errno);
    }
    return r;
}

}  // namespace

Retirement retire_newer(const std::string &job_dir, uint64_t version, bool test_stop_after_record)
{
    Retirement r;
    const int dfd = ::open(job_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) return {false, job_dir + ": " + std::strerror(errno), version, {}};
    const std::vector<Entry> list = newer_images(dfd, version);
    if (!list.empty()) {
        std::string why;
        if (!write_record(dfd, version, list, why)) r = {false, why, version, {}};
        else if (!test_stop_after_record) r = finish(dfd, version, list);
    }
    r.target = version;
    ::close(dfd);
    return r;
}

Retirement resolve_lineage(const std::string &job_dir)
{
    Retirement r;
    const int dfd = ::open(job_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) return r;
    uint64_t version = 0;
    std::vector<Entry> list;
    std::string why;
    if (read_record(dfd, version, list, why)) r = finish(dfd, version, list);
    else if (!why.empty()) r = {false, why + " (" + job_dir + "/" + kName + "): remove it to go on", 0, {}};
    ::unlinkat(dfd, kTemp, 0);  // a record never put in place: that rollback changed nothing
    // The protected bytes of a rollback that did not finish: never applied by a recovery.
    if (DIR *d = ::fdopendir(::dup(dfd))) {
        ::rewinddir(d);
        while (dirent *e = ::readdir(d))
            if (layout::classify(e->d_name) == layout::Entry::Protected) ::unlinkat(dfd, e->d_name, 0);
        ::closedir(d);
    }
    ::close(dfd);
    return r;
}

}  // namespace ckpt::persist
