// The second checkpoint store of cp_file, a directory of small files (one per checkpointed
// file), to show that the hooks are the whole interface. ins/upd/done stage an entry in memory;
// com writes each staged entry to a temporary file, makes it durable and renames it over the
// entry (atomic replacement); rbk drops what is staged. An entry: magic "CPSTORE1", completed
// flag, fpos_t, name, XXH3-64 of all of it; one that fails its checksum is an error, never a
// position.
#include <ckp/cp_file.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <string>
#include <unistd.h>

#include "../common/checksum.h"
#include "../common/file_io.h"
#include "store.h"

namespace ckp::cp {
namespace {

constexpr char kMagic[8] = {'C', 'P', 'S', 'T', 'O', 'R', 'E', '1'};
std::string store_dir;

struct Staged {
    fpos_t pos;
    bool completed = false;
};
std::map<std::string, Staged> staged;

std::string entry_path(const std::string &name)
{
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(checksum(name.data(), name.size())));
    return store_dir + "/" + hex + ".cpe";
}

std::string encode(const std::string &name, const Staged &s)
{
    std::string out(kMagic, sizeof kMagic);
    const uint32_t flags = s.completed ? 1 : 0, len = uint32_t(name.size());
    out.append(reinterpret_cast<const char *>(&flags), 4);
    out.append(reinterpret_cast<const char *>(&s.pos), kPosBytes);
    out.append(reinterpret_cast<const char *>(&len), 4);
    out += name;
    const uint64_t sum = checksum(out.data(), out.size());
    out.append(reinterpret_cast<const char *>(&sum), 8);
    return out;
}

int ini() { return io::make_dirs(store_dir) == 0 ? 0 : -1; }
int fin()
{
    staged.clear();
    return 0;
}

int ins(char *fname, void **userdata)
{
    if (userdata) *userdata = nullptr;
    Staged s;
    std::memset(&s.pos, 0, sizeof s.pos);
    staged[fname] = s;
    return 0;
}

int upd(char *fname, fpos_t fpos, void *)
{
    staged[fname] = Staged{fpos, false};
    return 0;
}

int done(char *fname, void *)
{
    Staged s;
    std::memset(&s.pos, 0, sizeof s.pos);
    s.completed = true;
    staged[fname] = s;
    return 0;
}

int qry(char *fname, fpos_t *fpos, void **userdata)
{
    if (userdata) *userdata = nullptr;
    const std::string path = entry_path(fname);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? CP_NOT_FOUND : -1;
    char buf[8192];
    ssize_t n = ::read(fd, buf, sizeof buf);
    ::close(fd);
    const size_t fixed = sizeof kMagic + 4 + kPosBytes + 4;
    if (n < ssize_t(fixed + 8) || std::memcmp(buf, kMagic, sizeof kMagic) != 0) return -1;
    uint32_t flags, len;
    std::memcpy(&flags, buf + 8, 4);
    std::memcpy(&len, buf + 12 + kPosBytes, 4);
    if (size_t(n) != fixed + len + 8) return -1;
    uint64_t sum;
    std::memcpy(&sum, buf + fixed + len, 8);
    if (sum != checksum(buf, fixed + len)) return -1;  // damaged: an error, never a position
    if (std::string(buf + fixed, len) != fname) return -1;
    if (flags & 1) return CP_NOT_FOUND;                 // completed
    std::memcpy(fpos, buf + 12, kPosBytes);
    return 0;
}

int com()
{
    for (const auto &[name, s] : staged) {
        const std::string path = entry_path(name), tmp = path + ".tmp";
        const std::string bytes = encode(name, s);
        int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) return -1;
        const bool ok = io::pwrite_all(fd, bytes.data(), bytes.size(), 0) == 0 && ::fsync(fd) == 0;
        ::close(fd);
        if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0 || io::fsync_dir_of(path) != 0) return -1;
    }
    staged.clear();
    return 0;
}

int rbk()
{
    staged.clear();
    return 0;
}

}  // namespace

int use_files(const std::string &dir)
{
    store_dir = dir;
    if (cp_hooks(ins, upd, qry, com, rbk, ini, fin) != 0) return -1;
    return cp_hooks_done(done);
}

}  // namespace ckp::cp
