#include "job_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <pwd.h>
#include <set>
#include <sstream>

#include <spdlog/spdlog.h>

#include "chain_reader.h"
#include "checksum.h"
#include "exit_codes.h"
#include "job_layout.h"
#include "sys/safe_path.h"
#include "undo.h"

namespace ckpt {
namespace {

std::error_code last_error() { return {errno, std::generic_category()}; }

std::string owner_name(uid_t uid)
{
    if (const passwd *pw = ::getpwuid(uid)) return std::string(pw->pw_name) + " (uid " + std::to_string(uid) + ")";
    return "uid " + std::to_string(uid);
}

DirError dir_error(DirError::Kind kind, std::string message) { return DirError{kind, std::move(message)}; }

// An errno from opening or creating `path`, as a DirError.
DirError os_error(const std::string &path, int err)
{
    if (err == EACCES || err == EPERM) return dir_error(DirError::Kind::PermissionDenied, path + ": permission denied");
    return dir_error(DirError::Kind::Os, path + ": " + std::strerror(err));
}

std::string absolute(const std::string &p)
{
    if (!p.empty() && p[0] == '/') return p;
    char cwd[4096];
    return std::string(::getcwd(cwd, sizeof cwd) ? cwd : "/") + "/" + p;
}

// Opens directory `path`, creating it (and its parents) with `create`; see safe_path.h.
long open_root(const std::string &path, bool create, DirError &error)
{
    PathFailure f;
    long fd = open_dir_path(absolute(path).c_str(), create, &f);
    if (fd >= 0) return fd;
    if (f.link_uid >= 0)
        error = dir_error(DirError::Kind::Unsafe, std::string(f.at) + " is a symbolic link owned by " +
                                                      owner_name(uid_t(f.link_uid)) +
                                                      ": not followed (only links of yours or root's are)");
    else
        error = os_error(f.at[0] ? std::string(f.at) : path, int(-fd));
    return fd;
}

// An older ckpt made job directories without the marker. One is adopted (the marker added)
// only if everything in it is something ckpt writes, of the right type, and it holds a
// committed image or the lock: such a directory cannot be anything else, and refusing it
// would strand the checkpoints of a job that crashed before the upgrade.
bool adoptable(int fd)
{
    DIR *d = ::fdopendir(::dup(fd));
    if (!d) return false;
    ::rewinddir(d);
    bool ok = true, seen = false;
    while (dirent *e = ::readdir(d)) {
        const std::string n = e->d_name;
        if (n == "." || n == "..") continue;
        struct stat st;
        if (::fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) { ok = false; break; }
        const layout::Entry kind = layout::classify(e->d_name);
        if (kind == layout::Entry::Foreign || kind == layout::Entry::Marker) { ok = false; break; }
        if (kind == layout::Entry::UndoDir) {
            if (!S_ISDIR(st.st_mode)) { ok = false; break; }
            long u = open_beneath(fd, e->d_name, O_RDONLY | O_DIRECTORY);
            DIR *ud = u >= 0 ? ::fdopendir(int(u)) : nullptr;
            if (!ud) { if (u >= 0) ::close(int(u)); ok = false; break; }
            while (dirent *ue = ::readdir(ud)) {
                const std::string un = ue->d_name;
                if (un != "." && un != ".." && !layout::is_undo_entry(ue->d_name)) ok = false;
            }
            ::closedir(ud);
            if (!ok) break;
            continue;
        }
        if (!S_ISREG(st.st_mode)) { ok = false; break; }
        if (kind == layout::Entry::Image || kind == layout::Entry::Lock) seen = true;
    }
    ::closedir(d);
    return ok && seen;
}

bool parse_version(const char *name, uint64_t &v)
{
    size_t len = std::strlen(name);
    if (len < 10 || std::strncmp(name, "ckpt-", 5) != 0 || std::strcmp(name + len - 4, ".img") != 0) return false;
    char *end = nullptr;
    v = std::strtoull(name + 5, &end, 10);
    return end == name + len - 4 && v > 0;
}

// Status values are one line each: newlines (a `python3 -c` script in the command line, a
// multi-line error) and the backslash that escapes them are written as \n, \r and \\.
std::string escape_value(const std::string &v)
{
    std::string out;
    for (char c : v) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else out += c;
    }
    return out;
}

std::string unescape_value(const std::string &v)
{
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '\\' && i + 1 < v.size()) {
            const char n = v[i + 1];
            if (n == 'n' || n == 'r' || n == '\\') {
                out += n == 'n' ? '\n' : n == 'r' ? '\r' : '\\';
                ++i;
                continue;
            }
        }
        out += v[i];
    }
    return out;
}

}  // namespace

std::string resolve_root(const std::string &option)
{
    if (!option.empty()) return option;
    if (const char *d = std::getenv("CKPT_DIR"); d && *d) return d;
    if (const char *x = std::getenv("XDG_STATE_HOME"); x && *x) return std::string(x) + "/ckpt";
    if (const char *home = std::getenv("HOME"); home && *home) return std::string(home) + "/.local/state/ckpt";
    // Never a path in a shared directory such as /tmp, where anyone could have made it first.
    if (const char *run = std::getenv("XDG_RUNTIME_DIR"); run && *run) return std::string(run) + "/ckpt";
    return "";
}

std::string no_root_message()
{
    return "no checkpoint root: HOME, XDG_STATE_HOME and XDG_RUNTIME_DIR are not set; pass --dir DIR or set CKPT_DIR "
           "(ckpt does not fall back to a shared directory such as /tmp)";
}

int DirError::exit_code() const
{
    switch (kind) {
    case Kind::None: return exit_code::kOk;
    case Kind::Missing: return exit_code::kNoInput;
    case Kind::Os: return exit_code::kCantCreate;
    case Kind::PermissionDenied: return exit_code::kNoPermission;
    case Kind::NotJobDir: return exit_code::kNotJobDir;
    case Kind::Unsafe: return exit_code::kUntrusted;
    }
    return exit_code::kSoftware;
}

std::string derive_job_name(const std::vector<std::string> &argv, const std::string &cwd)
{
    std::string key = cwd;
    for (const auto &a : argv) key += '\0' + a;
    std::string base = argv.empty() ? "job" : argv[0];
    if (auto slash = base.rfind('/'); slash != std::string::npos) base = base.substr(slash + 1);
    for (char &c : base)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
    char hash[17];
    std::snprintf(hash, sizeof hash, "%08llx",
                  static_cast<unsigned long long>(checksum(key.data(), key.size()) & 0xffffffffu));
    return base + "-" + hash;
}

JobDir::JobDir(std::string root, std::string name)
    : root_(std::move(root)), name_(std::move(name)), path_(root_ + "/" + name_)
{
}

JobDir::~JobDir()
{
    for (int fd : {lock_fd_, dir_fd_, root_fd_})
        if (fd >= 0) ::close(fd);
}

int JobDir::root_fd() const
{
    if (root_fd_ < 0) {
        DirError ignored;
        const long fd = open_root(root_, false, ignored);
        root_fd_ = fd >= 0 ? int(fd) : -1;
    }
    return root_fd_;
}

int JobDir::dir_fd() const
{
    if (dir_fd_ < 0 && root_fd() >= 0) {
        long fd = open_beneath(root_fd_, name_.c_str(), O_RDONLY | O_DIRECTORY);
        dir_fd_ = fd >= 0 ? int(fd) : -1;
    }
    return dir_fd_;
}

bool JobDir::exists() const
{
    struct stat st;
    return root_fd() >= 0 && ::fstatat(root_fd_, name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

// The StrictModes-like check of a directory we hold: the caller's (or root's), and not
// writable by others unless sticky.
DirError JobDir::check_dir(int fd, const std::string &path) const
{
    struct stat st;
    switch (dir_trust(fd, st)) {
    case DirTrust::Ok: return {};
    case DirTrust::ForeignOwner:
        return dir_error(DirError::Kind::Unsafe, path + " is owned by " + owner_name(st.st_uid) +
                                                     ", not by you: refusing to keep checkpoints there");
    case DirTrust::Writable: {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
        return dir_error(DirError::Kind::Unsafe, path + " (owner " + owner_name(st.st_uid) + ", mode " + mode +
                                                     ") is writable by others without the sticky bit: refusing it");
    }
    case DirTrust::Error: break;
    }
    return os_error(path, errno);
}

DirError JobDir::open(bool for_writing)
{
    DirError error;
    if (root_fd_ < 0) {
        const long fd = open_root(root_, false, error);
        if (fd == -ENOENT) return dir_error(DirError::Kind::Missing, "no job named '" + name_ + "' in " + root_);
        if (fd < 0) return error;
        root_fd_ = int(fd);
    }
    if (dir_fd_ < 0) {
        long fd = open_beneath(root_fd_, name_.c_str(), O_RDONLY | O_DIRECTORY);
        if (fd == -ENOENT) return dir_error(DirError::Kind::Missing, "no job named '" + name_ + "' in " + root_);
        struct stat st;
        if ((fd == -ELOOP || fd == -ENOTDIR) && ::fstatat(root_fd_, name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISLNK(st.st_mode))
            return dir_error(DirError::Kind::Unsafe, path_ + " is a symbolic link (owner " + owner_name(st.st_uid) +
                                                         "), not a job directory: not followed, left as it is");
        if (fd == -ENOTDIR || fd == -ELOOP)
            return dir_error(DirError::Kind::NotJobDir, path_ + " exists but is not a directory: left as it is");
        if (fd < 0) return os_error(path_, int(-fd));
        dir_fd_ = int(fd);
    }
    if (!for_writing) return {};
    if (auto e = check_dir(root_fd_, root_)) return e;
    if (auto e = check_dir(dir_fd_, path_)) return e;
    const long marked = layout::has_marker(dir_fd_);
    if (marked < 0) return os_error(path_, int(-marked));
    if (marked == 0) {
        if (!adoptable(dir_fd_))
            return dir_error(DirError::Kind::NotJobDir,
                             path_ + " exists but is not a ckpt job directory (it has no " + layout::kMarkerName +
                                 " marker and holds files ckpt does not write): refusing to use or delete it; "
                                 "choose another --name or --dir, or move it away yourself");
        long m = open_beneath(dir_fd_, layout::kMarkerName, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (m < 0 && m != -EEXIST) return os_error(path_ + "/" + layout::kMarkerName, int(-m));
        if (m >= 0) {
            const bool ok = ::write(int(m), layout::kMarkerText, layout::kMarkerLen) == ssize_t(layout::kMarkerLen);
            ::close(int(m));
            if (!ok) return os_error(path_ + "/" + layout::kMarkerName, errno ? errno : EIO);
            spdlog::info("{}: a job directory of an older ckpt (only ckpt's files in it): marked as ckpt's", path_);
        }
    }
    // ckpt never makes a symbolic link under one of its own names: one found there was planted
    // and goes (the link itself; what it points at is not touched), before anything opens it.
    if (DIR *d = ::fdopendir(::dup(dir_fd_))) {
        ::rewinddir(d);
        while (dirent *e = ::readdir(d)) {
            struct stat lst;
            if (layout::classify(e->d_name) == layout::Entry::Foreign ||
                ::fstatat(dir_fd_, e->d_name, &lst, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(lst.st_mode))
                continue;
            spdlog::warn("{}/{}: a symbolic link where ckpt keeps its own file; removed the link (not what it "
                         "points at)", path_, e->d_name);
            ::unlinkat(dir_fd_, e->d_name, 0);
        }
        ::closedir(d);
    }
    return {};
}

DirError JobDir::create()
{
    if (root_.empty()) return dir_error(DirError::Kind::Os, no_root_message());
    DirError error;
    if (root_fd_ < 0) {
        const long fd = open_root(root_, true, error);
        if (fd < 0) return error;
        root_fd_ = int(fd);
    }
    if (auto e = check_dir(root_fd_, root_)) return e;
    DirError e = open(true);
    if (e.kind == DirError::Kind::Missing) {
        // -EEXIST: made meanwhile by a launcher racing with us; open() checks it like any other.
        long r = layout::create_job_dir(root_fd_, name_.c_str());
        if (r < 0 && r != -EEXIST) return os_error(path_, int(-r));
        e = open(true);
        if (e.kind == DirError::Kind::Missing) return os_error(path_, ENOENT);
    }
    if (e) return e;
    // A job directory made with looser permissions (by an older ckpt, or by hand) is tightened,
    // through the descriptor, never by name.
    struct stat st;
    if (::fstat(dir_fd_, &st) == 0 && (st.st_mode & 07777) != 0700) ::fchmod(dir_fd_, 0700);
    // A directory can exist and still refuse files (read-only file system, permissions).
    ::unlinkat(dir_fd_, ".probe", 0);
    long fd = open_beneath(dir_fd_, ".probe", O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return os_error(path_, int(-fd));
    ::close(int(fd));
    ::unlinkat(dir_fd_, ".probe", 0);
    return {};
}

std::vector<VersionInfo> JobDir::versions() const
{
    std::vector<VersionInfo> out;
    if (dir_fd() < 0) return out;
    DIR *d = ::fdopendir(::dup(dir_fd_));
    if (!d) return out;
    ::rewinddir(d);
    while (dirent *e = ::readdir(d)) {
        uint64_t v;
        if (!parse_version(e->d_name, v)) continue;
        struct stat st;
        // Only regular files: a link named like a version is not one (and is never followed).
        if (::fstatat(dir_fd_, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
        VersionInfo info;
        info.version = v;
        info.path = path_ + "/" + e->d_name;
        info.size = uint64_t(st.st_size);
        info.mtime_ns = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
        out.push_back(info);
    }
    ::closedir(d);
    std::sort(out.begin(), out.end(), [](auto &a, auto &b) { return a.version < b.version; });
    return out;
}

std::string JobDir::image_path(uint64_t version) const
{
    char name[32];
    std::snprintf(name, sizeof name, "ckpt-%06llu.img", static_cast<unsigned long long>(version));
    return path_ + "/" + name;
}

namespace {
// The lock file: created if missing, never through a link, and only a regular file.
long open_lock(int dirfd, int flags)
{
    long fd = open_beneath(dirfd, "lock", flags, 0600);
    struct stat st;
    if (fd >= 0 && (::fstat(int(fd), &st) != 0 || !S_ISREG(st.st_mode))) {
        ::close(int(fd));
        return -EINVAL;
    }
    return fd;
}
}  // namespace

bool JobDir::try_lock()
{
    if (lock_fd_ >= 0) return true;
    if (dir_fd() < 0) return false;
    long fd = open_lock(dir_fd_, O_RDWR | O_CREAT | O_NONBLOCK);
    if (fd < 0) return false;
    if (::flock(int(fd), LOCK_EX | LOCK_NB) != 0) {
        ::close(int(fd));
        return false;
    }
    lock_fd_ = int(fd);
    return true;
}

bool JobDir::locked_by_other() const
{
    if (dir_fd() < 0) return false;
    long fd = open_lock(dir_fd_, O_RDONLY | O_NONBLOCK);
    if (fd < 0) return false;
    bool locked = ::flock(int(fd), LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(int(fd));
    return locked;
}

void JobDir::remove_stale_temps() const
{
    if (dir_fd() < 0) return;
    DIR *d = ::fdopendir(::dup(dir_fd_));
    if (!d) return;
    ::rewinddir(d);
    while (dirent *e = ::readdir(d)) {
        const layout::Entry k = layout::classify(e->d_name);
        if (k == layout::Entry::ImageTemp || k == layout::Entry::PctLogTemp || k == layout::Entry::StatusTemp || k == layout::Entry::Probe)
            ::unlinkat(dir_fd_, e->d_name, 0);  // the name itself, even if it is a link
    }
    ::closedir(d);
}

void JobDir::remove_image_temp(uint64_t version) const
{
    if (dir_fd() < 0) return;
    char name[40];
    std::snprintf(name, sizeof name, ".ckpt-%06llu.img.tmp", static_cast<unsigned long long>(version));
    ::unlinkat(dir_fd_, name, 0);  // the name itself, even if it is a link
}

void JobDir::prune(size_t retain) const
{
    if (retain == 0 || dir_fd() < 0) return;
    auto vs = versions();
    if (vs.size() <= retain) return;
    // The newest `retain`, and every image one of them needs (the chain of an incremental
    // image): a kept version stays restorable.
    std::set<uint64_t> keep;
    for (size_t i = vs.size() - retain; i < vs.size(); ++i) {
        keep.insert(vs[i].version);
        Image img;
        if (read_image(vs[i].path, img)) continue;
        for (uint64_t a : chain_versions(img)) keep.insert(a);
    }
    for (size_t i = 0; i + retain < vs.size(); ++i) {
        if (keep.count(vs[i].version)) continue;
        const std::string base = vs[i].path.substr(vs[i].path.rfind('/') + 1);
        ::unlinkat(dir_fd_, base.c_str(), 0);
    }
    // Undo data only the deleted versions needed (epochs older than the oldest kept version:
    // an ancestor kept for its pages can still be recovered to, if the newer ones fail).
    persist::prune_epochs(path_, *keep.begin());
}

std::error_code JobDir::remove_all() const
{
    if (dir_fd() < 0) return last_error();
    std::vector<std::string> left;
    long kept = layout::remove_job_dir(
        root_fd_, name_.c_str(), dir_fd_,
        [](const char *dir, const char *name, void *ctx) {
            static_cast<std::vector<std::string> *>(ctx)->push_back(*dir ? std::string(dir) + "/" + name : name);
        },
        &left);
    if (kept < 0) return {int(-kept), std::generic_category()};
    if (kept == 0) return {};
    std::string list;
    for (size_t i = 0; i < left.size() && i < 10; ++i) list += (i ? ", " : "") + left[i];
    if (left.size() > 10) list += ", ...";
    spdlog::warn("{}: left in place {} entr{} ckpt did not write{}{}; the directory is kept", path_, left.size(),
                 left.size() == 1 ? "y" : "ies", left.empty() ? "" : ": ", list);
    return std::make_error_code(std::errc::directory_not_empty);
}

void JobDir::write_status(const JobStatus &s) const
{
    if (dir_fd() < 0) return;
    std::ostringstream out;
    out << "state=" << escape_value(s.state) << "\nlauncher_pid=" << s.launcher_pid << "\nprogram_pid=" << s.program_pid
        << "\nsignal=" << s.signal << "\nprogram=" << escape_value(s.program) << "\nseq=" << s.seq
        << "\ncheckpoints=" << s.checkpoints << "\nfailures=" << s.failures
        << "\nlast_version=" << s.last_version << "\nlast_checkpoint_ns=" << s.last_checkpoint_ns
        << "\nlast_pause_ns=" << s.last_pause_ns << "\nlast_image_bytes=" << s.last_image_bytes
        << "\nlast_error=" << escape_value(s.last_error) << "\nrestores=" << s.restores
        << "\nrestored_version=" << s.restored_version << "\nlast_restore_ns=" << s.last_restore_ns
        << "\nrestarts=" << s.restarts << "\nrestart_causes=" << escape_value(s.restart_causes)
        << "\nstalled_since_ns=" << s.stalled_since_ns << "\nstall_reason=" << escape_value(s.stall_reason)
        << "\nwriting_version=" << s.writing_version << "\nwriter_pid=" << s.writer_pid
        << "\nwriting_since_ns=" << s.writing_since_ns << "\n";
    const std::string text = out.str();
    // A new file every time (a stale one, or a link planted under its name, is unlinked
    // first, never written through), renamed over the old status.
    ::unlinkat(dir_fd_, ".status.tmp", 0);
    long fd = open_beneath(dir_fd_, ".status.tmp", O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd >= 0) {
        const bool ok = ::write(int(fd), text.data(), text.size()) == ssize_t(text.size());
        ::close(int(fd));
        if (ok) {
            ::renameat(dir_fd_, ".status.tmp", dir_fd_, "status");
            return;
        }
        ::unlinkat(dir_fd_, ".status.tmp", 0);
    }
    // A full file system (when a user most wants to know why checkpoints fail): the status is
    // rewritten in place, in the space the old one has (it is far below a page). Only our
    // own regular file with one link; a reader may see it torn meanwhile.
    fd = open_beneath(dir_fd_, "status", O_WRONLY);
    if (fd < 0) return;
    struct stat st {};
    if (::fstat(int(fd), &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 && st.st_uid == ::geteuid() &&
        ::pwrite(int(fd), text.data(), text.size(), 0) == ssize_t(text.size())) {
        const int rc = ::ftruncate(int(fd), off_t(text.size()));  // the old tail, if it was longer
        (void)rc;
    }
    ::close(int(fd));
}

std::optional<JobStatus> JobDir::read_status() const
{
    if (dir_fd() < 0) return std::nullopt;
    long fd = open_beneath(dir_fd_, "status", O_RDONLY | O_NONBLOCK);
    if (fd < 0) return std::nullopt;
    std::string text;
    struct stat st;
    if (::fstat(int(fd), &st) == 0 && S_ISREG(st.st_mode)) {
        char buf[4096];
        for (ssize_t n; (n = ::read(int(fd), buf, sizeof buf)) > 0 && text.size() < (1u << 20);) text.append(buf, size_t(n));
    }
    ::close(int(fd));
    std::istringstream in(text);
    JobStatus s;
    std::string line;
    while (std::getline(in, line)) {
        auto eq = line.find('=');
        if (eq == std::string::npos) continue;
        std::string k = line.substr(0, eq), v = line.substr(eq + 1);
        auto num = [&] { return std::strtoull(v.c_str(), nullptr, 10); };
        if (k == "state") s.state = unescape_value(v);
        else if (k == "launcher_pid") s.launcher_pid = int(num());
        else if (k == "program_pid") s.program_pid = int(num());
        else if (k == "signal") s.signal = int(num());
        else if (k == "program") s.program = unescape_value(v);
        else if (k == "seq") s.seq = num();
        else if (k == "checkpoints") s.checkpoints = num();
        else if (k == "failures") s.failures = num();
        else if (k == "last_version") s.last_version = num();
        else if (k == "last_checkpoint_ns") s.last_checkpoint_ns = int64_t(num());
        else if (k == "last_pause_ns") s.last_pause_ns = num();
        else if (k == "last_image_bytes") s.last_image_bytes = num();
        else if (k == "last_error") s.last_error = unescape_value(v);
        else if (k == "restores") s.restores = num();
        else if (k == "restored_version") s.restored_version = num();
        else if (k == "last_restore_ns") s.last_restore_ns = num();
        else if (k == "restarts") s.restarts = num();
        else if (k == "restart_causes") s.restart_causes = unescape_value(v);
        else if (k == "stalled_since_ns") s.stalled_since_ns = int64_t(num());
        else if (k == "stall_reason") s.stall_reason = unescape_value(v);
        else if (k == "writing_version") s.writing_version = num();
        else if (k == "writer_pid") s.writer_pid = int(num());
        else if (k == "writing_since_ns") s.writing_since_ns = int64_t(num());
    }
    return s;
}

std::string disk_full_message(const std::string &dir, uint64_t needed)
{
    auto mib = [](uint64_t b) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1f MiB", double(b) / (1 << 20));
        return std::string(buf);
    };
    std::string m = "no space left in " + dir;
    if (needed) m += ": the image needs " + mib(needed) + " (" + std::to_string(needed) + " bytes)";
    struct statvfs vfs;
    if (::statvfs(dir.c_str(), &vfs) == 0)
        m += std::string(needed ? ", " : ": ") + mib(uint64_t(vfs.f_bavail) * vfs.f_frsize) + " free";
    return m;
}

std::vector<std::string> list_jobs(const std::string &root, DirError *error)
{
    std::vector<std::string> out;
    DirError e;
    long fd = open_root(root, false, e);
    if (fd < 0) {
        if (error && fd != -ENOENT) *error = e;  // a missing root simply has no jobs
        return out;
    }
    // A root one may pass through but not read comes back as an O_PATH descriptor.
    const int rfd = ::openat(int(fd), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = rfd >= 0 ? ::fdopendir(rfd) : nullptr;
    if (!d) {
        if (error) *error = os_error(root, errno);
        if (rfd >= 0) ::close(rfd);
        ::close(int(fd));
        return out;
    }
    while (dirent *ent = ::readdir(d)) {
        std::string n = ent->d_name;
        if (n == "." || n == ".." || n[0] == '.') continue;
        struct stat st;
        if (::fstatat(rfd, ent->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) out.push_back(n);
    }
    ::closedir(d);
    ::close(int(fd));
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace ckpt
