#include "undo.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "../checksum.h"
#include "../job_layout.h"
#include "pathmatch.h"
#include "pct_reader.h"

namespace ckpt::persist {
namespace {

std::string err_text(int e) { return std::strerror(e); }

bool covers_prefix(const std::string &prefix, const std::string &path)
{
    if (prefix.empty()) return false;
    if (path.compare(0, prefix.size(), prefix) != 0) return false;
    return path.size() == prefix.size() || path[prefix.size()] == '/' || prefix.back() == '/';
}

std::string normalized(const std::string &p)
{
    std::string s = p;
    s.push_back('\0');
    if (!s.empty() && s[0] == '/') pathmatch::normalize(s.data());
    return std::string(s.c_str());
}

struct Rules {
    std::vector<std::pair<std::string, bool>> list;  // pattern, include
    std::string job_dir;

    bool excluded(const std::string &path_in) const
    {
        const std::string path = normalized(path_in);
        for (const char *b : {"/proc", "/sys", "/dev"})
            if (covers_prefix(b, path)) return true;
        if (covers_prefix(job_dir, path)) return true;
        for (auto it = list.rbegin(); it != list.rend(); ++it)
            if (pathmatch::covers(it->first.c_str(), path.c_str())) return !it->second;
        return false;
    }
};

struct Ctx {
    const std::string &job_dir;
    const UndoOptions &opts;
    UndoResult &res;
    uint64_t epoch = 0;
    std::string log_path, undo_dir;
    Rules rules;

    void log(int level, const std::string &msg)
    {
        if (level >= 1) res.warnings.push_back(msg);
        if (opts.log) opts.log(level, msg);
    }
    // --no-undo and --replace-file targets.
    bool user_skip(const std::string &path) const
    {
        const std::string p = normalized(path);
        for (const auto &n : opts.no_undo)
            if (covers_prefix(normalized(n), p)) return true;
        for (const auto &k : opts.keep)
            if (covers_prefix(normalized(k), p)) return true;
        return false;
    }
};

bool exists(const std::string &p, struct stat *out = nullptr)
{
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) return false;
    if (out) *out = st;
    return true;
}

bool copy_file(const std::string &from, const std::string &to, std::string &why)
{
    int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) { why = from + ": " + err_text(errno); return false; }
    struct stat st;
    ::fstat(in, &st);
    const std::string tmp = to + ".ckpt-undo-tmp";
    ::unlink(tmp.c_str());
    int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) { why = tmp + ": " + err_text(errno); ::close(in); return false; }
    char buf[1 << 16];
    bool ok = true;
    for (;;) {
        ssize_t n = ::read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { ok = false; why = err_text(errno); break; }
        if (n == 0) break;
        for (ssize_t w = 0; w < n;) {
            ssize_t m = ::write(out, buf + w, size_t(n - w));
            if (m < 0 && errno == EINTR) continue;
            if (m <= 0) { ok = false; why = err_text(errno); break; }
            w += m;
        }
        if (!ok) break;
    }
    if (ok) {
        ::fchown(out, st.st_uid, st.st_gid);
        ::fchmod(out, st.st_mode & 07777);
        struct timespec ts[2] = {st.st_atim, st.st_mtim};
        ::futimens(out, ts);
        ::fsync(out);
    }
    ::close(in);
    ::close(out);
    if (ok && ::rename(tmp.c_str(), to.c_str()) != 0) { ok = false; why = to + ": " + err_text(errno); }
    if (!ok) ::unlink(tmp.c_str());
    return ok;
}

void set_times(const std::string &p, const pct::RecordHeader &h, bool nofollow)
{
    struct timespec ts[2];
    ts[0].tv_sec = h.atime_ns / 1000000000;
    ts[0].tv_nsec = h.atime_ns % 1000000000;
    ts[1].tv_sec = h.mtime_ns / 1000000000;
    ts[1].tv_nsec = h.mtime_ns % 1000000000;
    ::utimensat(AT_FDCWD, p.c_str(), ts, nofollow ? AT_SYMLINK_NOFOLLOW : 0);
}

// Applies the undo of one record. Every step can be repeated: running it again after it (or
// part of it) was done leaves the same result. Returns false (with `why`) if it could not be done.
bool apply(Ctx &c, const PctRecord &r, std::string &why)
{
    const auto &h = r.header;
    const std::string path = (h.flags & pct::kPathInUndoDir) ? c.undo_dir + "/" + r.path : r.path;
    struct stat st;
    switch (r.kind()) {
    case pct::Kind::Meta: {
        if (!exists(path, &st)) return true;  // gone again later in the epoch; its removal is undone elsewhere
        const bool link = S_ISLNK(st.st_mode);
        if (S_ISREG(st.st_mode) && uint64_t(st.st_size) != h.size && ::truncate(path.c_str(), off_t(h.size)) != 0) {
            why = "truncate " + path + ": " + err_text(errno);
            return false;
        }
        if ((st.st_uid != h.uid || st.st_gid != h.gid) && ::lchown(path.c_str(), h.uid, h.gid) != 0) {
            why = "chown " + path + ": " + err_text(errno);
            return false;
        }
        if (!link && (st.st_mode & 07777) != (h.mode & 07777) && ::chmod(path.c_str(), h.mode & 07777) != 0) {
            why = "chmod " + path + ": " + err_text(errno);
            return false;
        }
        if (!(h.flags & pct::kDir)) set_times(path, h, link);
        return true;
    }
    case pct::Kind::Data: {
        std::string data;
        if (!read_record_data(c.log_path, r, data)) {
            why = "old data of " + path + " (record " + std::to_string(h.seq) + ") fails its checksum";
            return false;
        }
        int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT) return true;  // removed later in the epoch; that undo brings it back
            why = "open " + path + ": " + err_text(errno);
            return false;
        }
        bool ok = true;
        for (size_t w = 0; w < data.size();) {
            ssize_t n = ::pwrite(fd, data.data() + w, data.size() - w, off_t(uint64_t(h.offset) + w));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) { ok = false; why = "write " + path + ": " + err_text(errno); break; }
            w += size_t(n);
        }
        ::close(fd);
        return ok;
    }
    case pct::Kind::Create: {
        if (!exists(path, &st)) return true;
        if (S_ISDIR(st.st_mode)) {
            if (::rmdir(path.c_str()) != 0) {
                why = "rmdir " + path + ": " + err_text(errno) + " (it holds files not created in this epoch)";
                return false;
            }
            return true;
        }
        if (::unlink(path.c_str()) != 0) { why = "unlink " + path + ": " + err_text(errno); return false; }
        return true;
    }
    case pct::Kind::Removed: {
        const std::string kept = c.undo_dir + "/" + std::to_string(h.undo_id);
        if (!exists(kept)) {
            if (exists(path)) return true;  // brought back already
            why = "kept copy " + kept + " of " + path + " is missing";
            return false;
        }
        if (::rename(kept.c_str(), path.c_str()) == 0) return true;
        if (errno != EXDEV) { why = "rename " + kept + " -> " + path + ": " + err_text(errno); return false; }
        if (!copy_file(kept, path, why)) return false;
        ::unlink(kept.c_str());
        return true;
    }
    case pct::Kind::Rename: {
        const std::string &from = path, &to = r.path2;
        if (h.flags & pct::kExchange) {
            if (exists(from, &st) && st.st_ino == h.ino) return true;
            if (::renameat2(AT_FDCWD, to.c_str(), AT_FDCWD, from.c_str(), RENAME_EXCHANGE) != 0) {
                why = "exchange " + to + " <-> " + from + ": " + err_text(errno);
                return false;
            }
            return true;
        }
        // Not at `to` any more: renamed back already, or the object was created in this epoch
        // and removed again later (nothing was kept of it, and nothing needs to be).
        if (!exists(to)) return true;
        if (::rename(to.c_str(), from.c_str()) != 0) {
            why = "rename " + to + " -> " + from + ": " + err_text(errno);
            return false;
        }
        return true;
    }
    case pct::Kind::Rmdir: {
        if (exists(path, &st)) return true;
        if (::mkdir(path.c_str(), h.mode & 07777) != 0 && errno != EEXIST) {
            why = "mkdir " + path + ": " + err_text(errno);
            return false;
        }
        ::lchown(path.c_str(), h.uid, h.gid);
        ::chmod(path.c_str(), h.mode & 07777);
        set_times(path, h, false);
        return true;
    }
    case pct::Kind::Unprotected:
        why = path + " was changed in epoch " + std::to_string(c.epoch) +
              " without undo data (" + err_text(h.err) + ", --on-undo-failure=proceed): it is NOT rolled back";
        return false;
    case pct::Kind::Exclude:
    case pct::Kind::Include:
        return true;
    }
    why = "unknown record kind " + std::to_string(h.kind);
    return false;
}

bool write_progress(int fd, uint64_t epoch, uint64_t nonce, uint64_t done)
{
    pct::ProgressRecord p{};
    p.magic = pct::kProgressMagic;
    p.epoch = epoch;
    p.nonce = nonce;
    p.done = done;
    p.checksum = checksum(&p, sizeof p - sizeof p.checksum);
    return ::pwrite(fd, &p, sizeof p, 0) == ssize_t(sizeof p);
}

uint64_t read_progress(const std::string &path, uint64_t epoch, uint64_t nonce)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return 0;
    pct::ProgressRecord p{};
    const bool ok = ::pread(fd, &p, sizeof p, 0) == ssize_t(sizeof p);
    ::close(fd);
    if (!ok || p.magic != pct::kProgressMagic || p.epoch != epoch || p.nonce != nonce ||
        p.checksum != checksum(&p, sizeof p - sizeof p.checksum))
        return 0;
    return p.done;
}

void fsync_dir(const std::string &dir)
{
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) { ::fsync(fd); ::close(fd); }
}

// By name inside the job directory, never through a link: the log, the files kept for the
// epoch (only those, see job_layout.h), the progress file.
void remove_epoch_files(const std::string &job_dir, uint64_t epoch)
{
    auto base = [](const std::string &p) { return p.substr(p.rfind('/') + 1); };
    const int dfd = ::open(job_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (dfd < 0) return;
    ::unlinkat(dfd, base(log_path(job_dir, epoch)).c_str(), 0);  // first: from here on the epoch counts as undone
    layout::remove_undo_dir(dfd, base(undo_dir_path(job_dir, epoch)).c_str());
    ::unlinkat(dfd, base(progress_path(job_dir, epoch)).c_str(), 0);
    ::close(dfd);
}

// Undoes one epoch. False: the epoch could not be undone at all (its log is unreadable), or the
// test stop was reached.
bool undo_epoch(Ctx &c, uint64_t epoch)
{
    c.epoch = epoch;
    c.log_path = log_path(c.job_dir, epoch);
    c.undo_dir = undo_dir_path(c.job_dir, epoch);
    PctLog log = read_pct(c.log_path);
    if (!log.exists) {
        // Fully undone before (a crash after the log was deleted): only leftovers remain.
        remove_epoch_files(c.job_dir, epoch);
        return true;
    }
    if (!log.header_ok) {
        if (log.file_size < sizeof(pct::FileHeader)) {  // its creation was interrupted: nothing recorded
            remove_epoch_files(c.job_dir, epoch);
            ++c.res.epochs;
            return true;
        }
        c.res.ok = false;
        c.res.error = c.log_path + ": " + log.error + "; the changes of epoch " + std::to_string(epoch) +
                      " cannot be undone";
        return false;
    }
    if (log.torn_tail)
        c.log(0, c.log_path + ": ignoring a torn tail of " + std::to_string(log.file_size - log.valid_bytes) +
                     " bytes (the program died while recording; that change never happened)");
    for (uint64_t off : log.bad_records)
        c.log(2, c.log_path + ": a record at offset " + std::to_string(off) +
                     " is damaged (checksum); the change it protected cannot be undone");

    // Exclusions set by the program during this epoch (ckpt_exclude/ckpt_include) apply to the
    // whole epoch.
    c.rules.list.clear();
    for (const auto &e : c.opts.exclude) c.rules.list.emplace_back(e, false);
    for (const auto &r : log.records)
        if (r.kind() == pct::Kind::Exclude || r.kind() == pct::Kind::Include)
            c.rules.list.emplace_back(r.path, r.kind() == pct::Kind::Include);

    const std::string prog = progress_path(c.job_dir, epoch);
    uint64_t done = read_progress(prog, epoch, log.header.nonce);
    int pfd = ::open(prog.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    const size_t n = log.records.size();
    for (size_t i = done < n ? n - done : 0; i-- > 0;) {
        if (c.res.undone + c.res.skipped + c.res.failed >= c.opts.stop_after) {
            c.res.stopped = true;
            if (pfd >= 0) ::close(pfd);
            return false;
        }
        const PctRecord &r = log.records[i];
        const bool ours = r.header.flags & pct::kPathInUndoDir;
        bool skip = false;
        if (!ours && r.kind() == pct::Kind::Rename)
            skip = (c.rules.excluded(r.path) && c.rules.excluded(r.path2)) || c.user_skip(r.path) ||
                   c.user_skip(r.path2);
        else if (!ours)
            skip = c.rules.excluded(r.path) || c.user_skip(r.path);
        if (skip && r.kind() != pct::Kind::Exclude && r.kind() != pct::Kind::Include) {
            ++c.res.skipped;
        } else {
            std::string why;
            if (apply(c, r, why)) {
                ++c.res.undone;
            } else {
                ++c.res.failed;
                c.log(r.kind() == pct::Kind::Unprotected ? 2 : 1, why);
            }
        }
        ++done;
        if (pfd >= 0) write_progress(pfd, epoch, log.header.nonce, done);
    }
    if (pfd >= 0) ::close(pfd);
    // Everything undone reaches the disk before the log that could undo it again goes away.
    ::sync();
    remove_epoch_files(c.job_dir, epoch);
    fsync_dir(c.job_dir);
    ++c.res.epochs;
    return true;
}

}  // namespace

UndoResult undo_to(const std::string &job_dir, uint64_t version, const UndoOptions &opts)
{
    UndoResult res;
    Ctx c{job_dir, opts, res};
    c.rules.job_dir = normalized(job_dir);
    auto epochs = list_epochs(job_dir);
    for (auto it = epochs.rbegin(); it != epochs.rend(); ++it) {
        if (it->epoch < version) break;
        if (!undo_epoch(c, it->epoch)) break;
    }
    return res;
}

void prune_epochs(const std::string &job_dir, uint64_t oldest_kept_version)
{
    for (const auto &e : list_epochs(job_dir))
        if (e.epoch < oldest_kept_version) remove_epoch_files(job_dir, e.epoch);
}

bool remove_tree(const std::string &path)
{
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return errno == ENOENT;
    if (!S_ISDIR(st.st_mode)) return ::unlink(path.c_str()) == 0;
    bool ok = true;
    if (DIR *d = ::opendir(path.c_str())) {
        while (dirent *e = ::readdir(d)) {
            const std::string n = e->d_name;
            if (n == "." || n == "..") continue;
            ok = remove_tree(path + "/" + n) && ok;
        }
        ::closedir(d);
    }
    return ::rmdir(path.c_str()) == 0 && ok;
}

}  // namespace ckpt::persist
