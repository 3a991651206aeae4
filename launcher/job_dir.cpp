#include "job_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "checksum.h"
#include "undo.h"

namespace ckpt {
namespace {

std::error_code last_error() { return {errno, std::generic_category()}; }

std::error_code make_dir(const std::string &path)
{
    if (::mkdir(path.c_str(), 0700) == 0) return {};
    if (errno != EEXIST) return last_error();
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return last_error();
    if (!S_ISDIR(st.st_mode)) return std::make_error_code(std::errc::not_a_directory);
    return {};
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
    const char *home = std::getenv("HOME");
    return std::string(home && *home ? home : "/tmp") + "/.local/state/ckpt";
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
    if (lock_fd_ >= 0) ::close(lock_fd_);
}

bool JobDir::exists() const
{
    struct stat st;
    return ::stat(path_.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::error_code JobDir::create() const
{
    // Create missing parents of the root too (mode 0700 for what we create).
    for (size_t pos = root_.find('/', 1); pos != std::string::npos; pos = root_.find('/', pos + 1))
        if (auto ec = make_dir(root_.substr(0, pos))) return ec;
    if (auto ec = make_dir(root_)) return ec;
    if (auto ec = make_dir(path_)) return ec;
    ::chmod(path_.c_str(), 0700);
    // A directory can exist and still refuse files (read-only file system, permissions).
    const std::string probe = path_ + "/.probe";
    int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return last_error();
    ::close(fd);
    ::unlink(probe.c_str());
    return {};
}

std::vector<VersionInfo> JobDir::versions() const
{
    std::vector<VersionInfo> out;
    DIR *d = ::opendir(path_.c_str());
    if (!d) return out;
    while (dirent *e = ::readdir(d)) {
        uint64_t v;
        if (!parse_version(e->d_name, v)) continue;
        VersionInfo info;
        info.version = v;
        info.path = path_ + "/" + e->d_name;
        struct stat st;
        if (::stat(info.path.c_str(), &st) == 0) {
            info.size = uint64_t(st.st_size);
            info.mtime_ns = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
        }
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

bool JobDir::try_lock()
{
    if (lock_fd_ >= 0) return true;
    int fd = ::open((path_ + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        return false;
    }
    lock_fd_ = fd;
    return true;
}

bool JobDir::locked_by_other() const
{
    int fd = ::open((path_ + "/lock").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool locked = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(fd);
    return locked;
}

void JobDir::remove_stale_temps() const
{
    DIR *d = ::opendir(path_.c_str());
    if (!d) return;
    while (dirent *e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n.rfind(".ckpt-", 0) == 0 && n.size() > 4 && n.compare(n.size() - 4, 4, ".tmp") == 0)
            ::unlink((path_ + "/" + n).c_str());
    }
    ::closedir(d);
}

void JobDir::prune(size_t retain) const
{
    if (retain == 0) return;
    auto vs = versions();
    if (vs.size() <= retain) return;
    for (size_t i = 0; i + retain < vs.size(); ++i) ::unlink(vs[i].path.c_str());
    // Undo data only the deleted versions needed (epochs older than the oldest kept version).
    persist::prune_epochs(path_, vs[vs.size() - retain].version);
}

std::error_code JobDir::remove_all() const
{
    DIR *d = ::opendir(path_.c_str());
    if (!d) return last_error();
    std::error_code ec;
    while (dirent *e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n == "." || n == "..") continue;
        if (!persist::remove_tree(path_ + "/" + n) && !ec) ec = last_error();
    }
    ::closedir(d);
    if (::rmdir(path_.c_str()) != 0 && !ec) ec = last_error();
    return ec;
}

void JobDir::write_status(const JobStatus &s) const
{
    const std::string tmp = path_ + "/.status.tmp", dst = path_ + "/status";
    {
        std::ofstream out(tmp, std::ios::trunc);
        if (!out) return;
        out << "state=" << escape_value(s.state) << "\nlauncher_pid=" << s.launcher_pid << "\nprogram_pid=" << s.program_pid
            << "\nsignal=" << s.signal << "\nprogram=" << escape_value(s.program) << "\nseq=" << s.seq
            << "\ncheckpoints=" << s.checkpoints << "\nfailures=" << s.failures
            << "\nlast_version=" << s.last_version << "\nlast_checkpoint_ns=" << s.last_checkpoint_ns
            << "\nlast_pause_ns=" << s.last_pause_ns << "\nlast_image_bytes=" << s.last_image_bytes
            << "\nlast_error=" << escape_value(s.last_error) << "\nrestores=" << s.restores
            << "\nrestored_version=" << s.restored_version << "\nlast_restore_ns=" << s.last_restore_ns
            << "\nrestarts=" << s.restarts << "\nrestart_causes=" << escape_value(s.restart_causes) << "\n";
    }
    ::chmod(tmp.c_str(), 0600);
    ::rename(tmp.c_str(), dst.c_str());
}

std::optional<JobStatus> JobDir::read_status() const
{
    std::ifstream in(path_ + "/status");
    if (!in) return std::nullopt;
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
    }
    return s;
}

std::vector<std::string> list_jobs(const std::string &root)
{
    std::vector<std::string> out;
    DIR *d = ::opendir(root.c_str());
    if (!d) return out;
    while (dirent *e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n == "." || n == ".." || n[0] == '.') continue;
        struct stat st;
        if (::stat((root + "/" + n).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) out.push_back(n);
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace ckpt
