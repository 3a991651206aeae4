#include "undo.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "../checksum.h"
#include "../image_reader.h"
#include "../trusted_file.h"
#include "../job_layout.h"
#include "exclusion.h"
#include "pathmatch.h"
#include "pct_reader.h"

namespace ckpt::persist {
namespace {

std::string err_text(int e) { return std::strerror(e); }

bool covers_prefix(const std::string &prefix, const std::string &path)
{
    return exclusion::prefix_covers(prefix.c_str(), path.c_str());
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
        return exclusion::excluded(path.c_str(), job_dir.c_str(), list.size(), [this](size_t i) {
            return exclusion::Rule{list[i].first.c_str(), list[i].second};
        });
    }
};

struct Ctx {
    const std::string &job_dir;
    const UndoOptions &opts;
    UndoResult &res;
    uint64_t epoch = 0;
    std::string log_path, undo_dir;
    Rules rules;

    std::vector<std::pair<uint64_t, uint64_t>> keep_size;  // dev, inode: extended by another process, never cut
    const PctLog *log_records = nullptr;  // the epoch's log, and the record being applied
    size_t index = 0;
    uint64_t steps = 0;  // changes made so far (UndoOptions::test_stop_step)
    bool last_step_progress = false;

    // Called before each change: false when the test stop is reached.
    bool step(bool progress = false)
    {
        if (steps >= opts.test_stop_step) {
            res.stopped = true;
            return false;
        }
        ++steps;
        last_step_progress = progress;
        return true;
    }
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

// Whether undo-K/<id> is the object a Removed record kept, intact: a hard link must be the very
// inode that was removed, and with kKeptChecksum its bytes (a symlink: its target) must match.
bool kept_intact(const std::string &kept, const pct::RecordHeader &h, std::string &why)
{
    struct stat st;
    if (::lstat(kept.c_str(), &st) != 0) {
        why = "kept copy " + kept + " is missing";
        return false;
    }
    if ((st.st_mode & S_IFMT) != (h.mode & S_IFMT)) {
        why = "kept copy " + kept + " is not the kind of object that was removed";
        return false;
    }
    if (!(h.flags & pct::kCopied) && (uint64_t(st.st_dev) != h.dev || uint64_t(st.st_ino) != h.ino)) {
        why = "kept copy " + kept + " is not the object that was removed (another inode)";
        return false;
    }
    if (!(h.flags & pct::kKeptChecksum)) return true;  // written before kept objects had checksums
    uint64_t sum = 0;
    if (S_ISLNK(st.st_mode)) {
        char target[pct::kMaxPath + 1];
        const ssize_t n = ::readlink(kept.c_str(), target, sizeof target);
        if (n < 0) { why = kept + ": " + err_text(errno); return false; }
        sum = checksum(target, size_t(n));
    } else {
        const int fd = ::open(kept.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) { why = kept + ": " + err_text(errno); return false; }
        Checksum cs;
        static thread_local char buf[1 << 16];
        for (;;) {
            const ssize_t n = ::read(fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) { why = kept + ": " + err_text(errno); ::close(fd); return false; }
            if (n == 0) break;
            cs.update(buf, size_t(n));
        }
        ::close(fd);
        sum = cs.digest();
    }
    if (sum != h.data_checksum) {
        why = "kept copy " + kept + " is damaged (its checksum does not match the record)";
        return false;
    }
    return true;
}

// The identity of a file system object (0/0: none there).
struct Identity {
    uint64_t dev = 0, ino = 0;
    bool present() const { return ino != 0; }
    bool operator==(const Identity &) const = default;
};

Identity identity_of(const std::string &p, bool follow)
{
    struct stat st;
    if ((follow ? ::stat(p.c_str(), &st) : ::lstat(p.c_str(), &st)) != 0) return {};
    return {uint64_t(st.st_dev), uint64_t(st.st_ino)};
}

std::string describe(const Identity &id)
{
    return "inode " + std::to_string(id.ino) + " on device " + std::to_string(id.dev);
}

// The object a record's undo acts on, as it is now: observed before its first application and
// kept durably in the progress file (the intent), so that a recovery that stops inside the
// record, and runs again, acts on that very object or on nothing. Reverse order makes the
// first observation the right one: every later change to the path is undone before.
Identity target_of(const Ctx &c, const PctRecord &r)
{
    const auto &h = r.header;
    const std::string path = (h.flags & pct::kPathInUndoDir) ? c.undo_dir + "/" + r.path : r.path;
    switch (r.kind()) {
    case pct::Kind::Create: return identity_of(path, false);
    case pct::Kind::Meta: return identity_of(path, false);
    case pct::Kind::Data: return identity_of(path, true);
    case pct::Kind::Rename: return identity_of(r.path2, false);
    case pct::Kind::Removed: return identity_of(c.undo_dir + "/" + std::to_string(h.undo_id), false);
    default: return {};
    }
}

// Whether `id` at `p` is the object an older Removed record of this epoch kept (and whose
// undo, which comes after this record's, has brought it back already): a recovery that lost
// its progress and runs again then finds the state of the checkpoint, not an object to undo.
bool restored_original(const Ctx &c, const std::string &p, const Identity &id)
{
    if (!c.log_records || !id.present()) return false;
    for (size_t i = 0; i < c.index && i < c.log_records->records.size(); ++i) {
        const PctRecord &o = c.log_records->records[i];
        if (o.kind() == pct::Kind::Removed && !(o.header.flags & (pct::kCopied | pct::kPathInUndoDir)) && o.path == p &&
            o.header.dev == id.dev && o.header.ino == id.ino)
            return true;
    }
    return false;
}

enum class Applied { Done, Failed, Stopped };

// Applies the undo of one record, acting only on `expected` (the object target_of found when
// the record was first reached). Every step can be repeated: running it again after it (or
// part of it) was done leaves the same result. Failed: `why` says what could not be done.
// Each step that changes something passes c.step() first (the tests' stop points).
Applied apply(Ctx &c, const PctRecord &r, const Identity &expected, std::string &why)
{
    const auto &h = r.header;
    const std::string path = (h.flags & pct::kPathInUndoDir) ? c.undo_dir + "/" + r.path : r.path;
    const std::string which = std::string(pct::kind_name(h.kind)) + " record " + std::to_string(h.seq) + " of " +
                              c.log_path;
    auto fail = [&](const std::string &what) {
        why = which + ": " + what;
        return Applied::Failed;
    };
    auto not_expected = [&](const std::string &p, const Identity &now) {
        return fail(p + " is " + describe(now) + ", not the object this record undoes (" + describe(expected) +
                    "): left as it is");
    };
#define CKPT_STEP() \
    do {            \
        if (!c.step()) return Applied::Stopped; \
    } while (0)
    struct stat st;
    switch (r.kind()) {
    case pct::Kind::Meta: {
        if (!exists(path, &st)) return Applied::Done;  // gone again later in the epoch; its removal is undone elsewhere
        const Identity now{uint64_t(st.st_dev), uint64_t(st.st_ino)};
        if (expected.present() && now != expected) return not_expected(path, now);
        const bool link = S_ISLNK(st.st_mode);
        const bool keep = std::find(c.keep_size.begin(), c.keep_size.end(), std::pair{now.dev, now.ino}) != c.keep_size.end();
        if (S_ISREG(st.st_mode) && uint64_t(st.st_size) != h.size && !(keep && uint64_t(st.st_size) > h.size)) {
            CKPT_STEP();
            if (::truncate(path.c_str(), off_t(h.size)) != 0) return fail("truncate " + path + ": " + err_text(errno));
        }
        if (st.st_uid != h.uid || st.st_gid != h.gid) {
            CKPT_STEP();
            if (::lchown(path.c_str(), h.uid, h.gid) != 0) return fail("chown " + path + ": " + err_text(errno));
        }
        if (!link && (st.st_mode & 07777) != (h.mode & 07777)) {
            CKPT_STEP();
            if (::chmod(path.c_str(), h.mode & 07777) != 0) return fail("chmod " + path + ": " + err_text(errno));
        }
        if (!(h.flags & pct::kDir)) {
            CKPT_STEP();
            set_times(path, h, link);
        }
        return Applied::Done;
    }
    case pct::Kind::Data: {
        std::string data;
        if (!read_record_data(c.log_path, r, data)) return fail("the old data of " + path + " fails its checksum");
        int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT) return Applied::Done;  // removed later in the epoch; that undo brings it back
            return fail("open " + path + ": " + err_text(errno));
        }
        if (::fstat(fd, &st) == 0 && expected.present() &&
            Identity{uint64_t(st.st_dev), uint64_t(st.st_ino)} != expected) {
            ::close(fd);
            return not_expected(path, {uint64_t(st.st_dev), uint64_t(st.st_ino)});
        }
        for (size_t w = 0; w < data.size();) {
            if (!c.step()) { ::close(fd); return Applied::Stopped; }
            ssize_t n = ::pwrite(fd, data.data() + w, data.size() - w, off_t(uint64_t(h.offset) + w));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                const int e = n < 0 ? errno : EIO;
                ::close(fd);
                return fail("write " + path + ": " + err_text(e));
            }
            w += size_t(n);
        }
        ::close(fd);
        return Applied::Done;
    }
    case pct::Kind::Create: {
        // Written before the object existed, the record cannot name it: `expected` does.
        if (!exists(path, &st)) return Applied::Done;
        const Identity now{uint64_t(st.st_dev), uint64_t(st.st_ino)};
        if (restored_original(c, path, now)) return Applied::Done;  // removed and brought back: not the created one
        if (expected.present() && now != expected) return not_expected(path, now);
        CKPT_STEP();
        if (S_ISDIR(st.st_mode)) {
            if (::rmdir(path.c_str()) != 0)
                return fail("rmdir " + path + ": " + err_text(errno) + " (it holds files not created in this epoch)");
            return Applied::Done;
        }
        if (::unlink(path.c_str()) != 0) return fail("unlink " + path + ": " + err_text(errno));
        return Applied::Done;
    }
    case pct::Kind::Removed: {
        const std::string kept = c.undo_dir + "/" + std::to_string(h.undo_id);
        if (!exists(kept)) {
            // Brought back already (stopped before the progress was written): the very object,
            // unless it came back as a copy (another file system), which has an inode of its own.
            if (exists(path, &st) &&
                ((h.flags & pct::kCopied) || (uint64_t(st.st_dev) == h.dev && uint64_t(st.st_ino) == h.ino)))
                return Applied::Done;
            return fail("the kept copy " + kept + " of " + path + " is missing");
        }
        if (!kept_intact(kept, h, why)) return fail(why + ": " + path + " is NOT brought back");
        CKPT_STEP();
        if (::rename(kept.c_str(), path.c_str()) == 0) return Applied::Done;
        if (errno != EXDEV) return fail("rename " + kept + " -> " + path + ": " + err_text(errno));
        if (!copy_file(kept, path, why)) return fail(why);
        CKPT_STEP();
        ::unlink(kept.c_str());
        return Applied::Done;
    }
    case pct::Kind::Rename: {
        const std::string &from = path, &to = r.path2;
        // The writer records the moved object's inode (not its device).
        // (Logs without it, ino 0, are undone by name.)
        auto is_moved = [&](const Identity &id) {
            return id.present() && (!h.ino || (id.ino == h.ino && (!h.dev || id.dev == h.dev)));
        };
        if (h.flags & pct::kExchange) {
            if (is_moved(identity_of(from, false))) return Applied::Done;  // exchanged back already
            const Identity now = identity_of(to, false);
            if (!is_moved(now))
                return fail(to + " is " + describe(now) + ", not the object that was exchanged (inode " +
                            std::to_string(h.ino) + "): left as it is");
            CKPT_STEP();
            if (::renameat2(AT_FDCWD, to.c_str(), AT_FDCWD, from.c_str(), RENAME_EXCHANGE) != 0)
                return fail("exchange " + to + " <-> " + from + ": " + err_text(errno));
            return Applied::Done;
        }
        // Not at `to` any more: renamed back already, or the object was created in this epoch
        // and removed again later (nothing was kept of it, and nothing needs to be).
        const Identity now = identity_of(to, false);
        if (!now.present()) return Applied::Done;
        if (!is_moved(now)) {
            // Renamed back already, and what is at `to` now is what the rename replaced (its
            // Removed record, undone next, or an object that is not ours to move).
            if (is_moved(identity_of(from, false)) || restored_original(c, to, now)) return Applied::Done;
            return fail(to + " is " + describe(now) + ", not the object renamed there (inode " + std::to_string(h.ino) +
                        "): left as it is");
        }
        CKPT_STEP();
        if (::rename(to.c_str(), from.c_str()) != 0) return fail("rename " + to + " -> " + from + ": " + err_text(errno));
        return Applied::Done;
    }
    case pct::Kind::Rmdir: {
        if (exists(path, &st)) {
            if (S_ISDIR(st.st_mode)) return Applied::Done;
            return fail(path + " exists and is not a directory: the removed directory is NOT brought back");
        }
        CKPT_STEP();
        if (::mkdir(path.c_str(), h.mode & 07777) != 0 && errno != EEXIST)
            return fail("mkdir " + path + ": " + err_text(errno));
        ::lchown(path.c_str(), h.uid, h.gid);
        ::chmod(path.c_str(), h.mode & 07777);
        set_times(path, h, false);
        return Applied::Done;
    }
    case pct::Kind::Unprotected:
        return fail(path + " was changed in epoch " + std::to_string(c.epoch) + " without undo data (" + err_text(h.err) +
                    ", --on-undo-failure=proceed): it is NOT rolled back");
    case pct::Kind::Exclude:
    case pct::Kind::Include:
    case pct::Kind::Seal:
        return Applied::Done;
    }
#undef CKPT_STEP
    return fail("unknown record kind " + std::to_string(h.kind));
}

// The progress file: a ProgressRecord (records done), then the intent for the next record (the
// object its undo acts on). Files without the intent (written by older versions) still count.
struct ProgressIntent {
    uint64_t magic;  // kIntentMagic
    uint64_t dev, ino;
    uint64_t checksum;  // of the ProgressRecord and the fields above
};
constexpr uint64_t kIntentMagic = 0x544e45544e49ull;  // "INTENT"

struct Progress {
    bool valid = false;       // a progress record of this log
    uint64_t done = 0;        // records undone, counted from the end
    Identity intent;          // has_intent: the object record `done` acts on (none: nothing there)
    bool has_intent = false;
};

Progress parse_progress_file(const void *data, size_t size, uint64_t epoch, uint64_t nonce)
{
    Progress out;
    pct::ProgressRecord p{};
    if (size < sizeof p) return out;
    std::memcpy(&p, data, sizeof p);
    if (p.magic != pct::kProgressMagic || p.epoch != epoch || p.nonce != nonce ||
        p.checksum != checksum(&p, sizeof p - sizeof p.checksum))
        return out;
    out.valid = true;
    out.done = p.done;
    ProgressIntent in{};
    if (size < sizeof p + sizeof in) return out;
    char both[sizeof p + sizeof in];
    std::memcpy(both, data, sizeof both);
    std::memcpy(&in, both + sizeof p, sizeof in);
    if (in.magic != kIntentMagic || in.checksum != checksum(both, sizeof both - sizeof in.checksum)) return out;
    out.intent = {in.dev, in.ino};
    out.has_intent = in.magic == kIntentMagic;
    return out;
}

// Durable before the record it announces is applied (a lost write then lost nothing but time).
bool write_progress(int fd, uint64_t epoch, uint64_t nonce, uint64_t done, const Identity &intent, bool has_intent)
{
    char buf[sizeof(pct::ProgressRecord) + sizeof(ProgressIntent)];
    pct::ProgressRecord p{};
    p.magic = pct::kProgressMagic;
    p.epoch = epoch;
    p.nonce = nonce;
    p.done = done;
    p.checksum = checksum(&p, sizeof p - sizeof p.checksum);
    ProgressIntent in{has_intent ? kIntentMagic : 0, intent.dev, intent.ino, 0};
    std::memcpy(buf, &p, sizeof p);
    std::memcpy(buf + sizeof p, &in, sizeof in);
    in.checksum = checksum(buf, sizeof buf - sizeof in.checksum);
    std::memcpy(buf + sizeof p, &in, sizeof in);
    return ::pwrite(fd, buf, sizeof buf, 0) == ssize_t(sizeof buf) && ::fdatasync(fd) == 0;
}

Progress read_progress(const std::string &path, uint64_t epoch, uint64_t nonce)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return {};
    std::string why;
    if (!trusted_own_file(fd, path, why)) {  // a planted progress file must not skip records
        ::close(fd);
        return {};
    }
    char buf[sizeof(pct::ProgressRecord) + sizeof(ProgressIntent)];
    const ssize_t n = ::pread(fd, buf, sizeof buf, 0);
    ::close(fd);
    return n > 0 ? parse_progress_file(buf, size_t(n), epoch, nonce) : Progress{};
}

void fsync_dir(const std::string &dir)
{
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) { ::fsync(fd); ::close(fd); }
}

// By name inside the job directory, never through a link: the log (unless `keep_log`), the
// files kept for the epoch (only those, see job_layout.h), the progress file.
void remove_epoch_files(const std::string &job_dir, uint64_t epoch, bool keep_log = false)
{
    auto base = [](const std::string &p) { return p.substr(p.rfind('/') + 1); };
    const int dfd = ::open(job_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (dfd < 0) return;
    if (!keep_log) ::unlinkat(dfd, base(log_path(job_dir, epoch)).c_str(), 0);  // first: from here on the epoch counts as undone
    layout::remove_undo_dir(dfd, base(undo_dir_path(job_dir, epoch)).c_str());
    ::unlinkat(dfd, base(progress_path(job_dir, epoch)).c_str(), 0);
    ::unlinkat(dfd, base(growth_path(job_dir, epoch)).c_str(), 0);
    ::close(dfd);
}

std::string image_path(const std::string &job_dir, uint64_t version)
{
    char name[64];
    pct::epoch_name(name, sizeof name, "ckpt-", version, ".img");
    return job_dir + "/" + name;
}

// An undone epoch whose image exists starts again with an empty log (kLogReset), put in place
// of the old one in one rename: the image vouches for a log of its epoch, which must therefore
// never be missing (it is what makes a deleted log detectable). Other epochs' files go.
void finish_epoch(const std::string &job_dir, uint64_t epoch)
{
    if (!exists(image_path(job_dir, epoch))) {
        remove_epoch_files(job_dir, epoch);
        return;
    }
    const std::string lp = log_path(job_dir, epoch), tmp = lp + ".reset";
    pct::FileHeader h{};
    std::memcpy(h.magic, pct::kFileMagic, sizeof h.magic);
    h.format_version = pct::kFormatVersion;
    h.header_size = sizeof h;
    h.epoch = epoch;
    h.pid = int32_t(::getpid());
    h.flags = pct::kLogReset;
    struct timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    h.created_realtime_ns = uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
    h.nonce = h.created_realtime_ns ^ (uint64_t(uint32_t(h.pid)) << 40) ^ (epoch * 0x9E3779B97F4A7C15ull) ^ 1;
    h.checksum = checksum(&h, sizeof h);
    ::unlink(tmp.c_str());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && ::fchmod(fd, 0600) == 0 && ::write(fd, &h, sizeof h) == ssize_t(sizeof h) && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    ok = ok && ::rename(tmp.c_str(), lp.c_str()) == 0;
    if (!ok) {  // no worse than before: the epoch counts as undone once its log is gone
        ::unlink(tmp.c_str());
        remove_epoch_files(job_dir, epoch);
        return;
    }
    remove_epoch_files(job_dir, epoch, /*keep_log=*/true);
}

// Exclusions set by the program during this epoch (ckpt_exclude/ckpt_include) apply to the
// whole epoch.
void set_rules(Ctx &c, const PctLog &log)
{
    c.rules.list.clear();
    for (const auto &e : c.opts.exclude) c.rules.list.emplace_back(e, false);
    for (const auto &r : log.records)
        if (r.kind() == pct::Kind::Exclude || r.kind() == pct::Kind::Include)
            c.rules.list.emplace_back(r.path, r.kind() == pct::Kind::Include);
}

// Records the recovery leaves alone (exclusions, --no-undo, --replace-file targets).
bool skipped(const Ctx &c, const PctRecord &r)
{
    if (r.header.flags & pct::kPathInUndoDir) return false;
    if (r.kind() == pct::Kind::Exclude || r.kind() == pct::Kind::Include || r.kind() == pct::Kind::Seal) return false;
    if (r.kind() == pct::Kind::Rename)
        return (c.rules.excluded(r.path) && c.rules.excluded(r.path2)) || c.user_skip(r.path) || c.user_skip(r.path2);
    return c.rules.excluded(r.path) || c.user_skip(r.path);
}

// The image of `version` says it started pct-<version>.log before it was committed.
bool image_started_log(const std::string &job_dir, uint64_t version)
{
    Image img;
    return !read_image(image_path(job_dir, version), img) && (img.process.flags & image::kProcEpochLog) &&
           img.process.checkpoint_version == version;
}

// check_undo for one epoch: appends its problems.
void check_one(Ctx &c, uint64_t epoch, std::vector<std::string> &problems)
{
    const std::string lp = log_path(c.job_dir, epoch), undo = undo_dir_path(c.job_dir, epoch);
    PctLog log = read_pct(lp);
    const bool started = epoch > 0 && image_started_log(c.job_dir, epoch);
    const std::string what = "the changes made after " +
                             (epoch ? "checkpoint version " + std::to_string(epoch) : std::string("the program's start"));
    if (!log.exists) {
        if (started)
            problems.push_back(lp + " is missing, though checkpoint version " + std::to_string(epoch) +
                               " started it: " + what + " are not known and cannot be undone");
        return;
    }
    if (log.untrusted) {
        problems.push_back(log.error);
        return;
    }
    if (!log.header_ok) {
        if (log.file_size < sizeof(pct::FileHeader) && !started) return;  // its creation was interrupted
        problems.push_back(lp + ": " + (log.error.empty() ? "truncated" : log.error) +
                           (started ? " (truncated: checkpoint version " + std::to_string(epoch) + " started it)" : "") +
                           ": " + what + " cannot be undone");
        return;
    }
    // Closed by the next checkpoint: the next log names this one as its predecessor.
    PctLog next = read_pct(log_path(c.job_dir, epoch + 1));
    const bool closed = next.header_ok && (next.header.flags & pct::kLogStarted) && next.header.prev_nonce == log.header.nonce;
    if (closed && !log.sealed())
        problems.push_back(lp + " is cut short: it ends at byte " + std::to_string(log.valid_bytes) + " of " +
                           std::to_string(log.file_size) + " without the seal written when checkpoint version " +
                           std::to_string(epoch + 1) + " was taken; some of " + what + " cannot be undone");
    for (uint64_t off : log.bad_records)
        problems.push_back(lp + ": the record at offset " + std::to_string(off) +
                           " fails its checksum: the change it protected cannot be undone");
    struct stat dst;
    if (::lstat(undo.c_str(), &dst) == 0) {
        const int dfd = ::open(undo.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        std::string why;
        if (dfd < 0) problems.push_back(undo + ": " + err_text(errno));
        else if (!trusted_own_file(dfd, undo, why, TrustKind::Directory)) problems.push_back(why);
        if (dfd >= 0) ::close(dfd);
    }
    set_rules(c, log);
    // Kept objects written to after their removal are checked when they are used (the writes
    // are undone first).
    std::vector<std::string> written_later;
    for (const auto &r : log.records)
        if (r.header.flags & pct::kPathInUndoDir) written_later.push_back(r.path);
    const uint64_t done = read_progress(progress_path(c.job_dir, epoch), epoch, log.header.nonce).done;
    const size_t n = log.records.size();
    for (size_t i = 0; i + done < n; ++i) {
        const PctRecord &r = log.records[i];
        if (skipped(c, r)) continue;
        const auto &h = r.header;
        std::string data, why;
        switch (r.kind()) {
        case pct::Kind::Data:
            if (!read_record_data(lp, r, data))
                problems.push_back(lp + ": the old data of " + r.path + " (record " + std::to_string(h.seq) +
                                   ") fails its checksum: that range cannot be rolled back");
            break;
        case pct::Kind::Removed: {
            const std::string id = std::to_string(h.undo_id), kept = undo + "/" + id;
            struct stat st;
            if (!exists(kept) && ::lstat(r.path.c_str(), &st) == 0 &&
                ((h.flags & pct::kCopied) || (uint64_t(st.st_ino) == h.ino && uint64_t(st.st_dev) == h.dev)))
                break;  // brought back already (a recovery interrupted before its progress was written)
            if (std::find(written_later.begin(), written_later.end(), id) != written_later.end()) {
                if (!exists(kept)) problems.push_back("kept copy " + kept + " of " + r.path + " is missing");
                break;
            }
            if (!kept_intact(kept, h, why)) problems.push_back(why + ": " + r.path + " cannot be brought back");
            break;
        }
        case pct::Kind::Unprotected:
            problems.push_back(r.path + " was changed " + (epoch ? "after checkpoint version " + std::to_string(epoch) : std::string("after the start")) +
                               " without undo data (" + err_text(h.err) + "): it cannot be rolled back");
            break;
        default:
            break;
        }
    }
}

// Undoes one epoch. False: the epoch could not be undone at all (its log is unreadable), a
// record could not be applied (without accept_loss), or the test stop was reached.
bool undo_epoch(Ctx &c, uint64_t epoch)
{
    c.epoch = epoch;
    c.log_path = log_path(c.job_dir, epoch);
    c.undo_dir = undo_dir_path(c.job_dir, epoch);
    PctLog log = read_pct(c.log_path);
    if (!log.exists) {
        // Fully undone before (a crash after the log was deleted): only leftovers remain. (A log
        // deleted by someone else was found by check_undo.)
        finish_epoch(c.job_dir, epoch);
        return true;
    }
    if (log.untrusted) {  // never applied, never deleted: it is not ours
        if (c.opts.accept_loss) return true;
        c.res.ok = false;
        c.res.error = log.error;
        return false;
    }
    if (!log.header_ok) {
        // Its creation was interrupted (nothing recorded), or, with accept_loss, it is lost.
        if (log.file_size < sizeof(pct::FileHeader) || c.opts.accept_loss) {
            finish_epoch(c.job_dir, epoch);
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

    set_rules(c, log);

    const std::string prog = progress_path(c.job_dir, epoch);
    Progress progress = read_progress(prog, epoch, log.header.nonce);
    Progress before = progress;  // what the file held before its last write (test_drop_progress)
    uint64_t done = progress.done;
    const int pfd = ::open(prog.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (pfd < 0) {
        c.res.ok = false;
        c.res.error = "cannot write the recovery's progress file " + prog + ": " + err_text(errno);
        return false;
    }
    ::fchmod(pfd, 0600);  // exactly 0600 whatever the umask: read_progress trusts nothing else
    auto stop = [&]() {
        // As if the last progress write never reached the disk (it was the last step taken).
        if (c.opts.test_drop_progress && c.last_step_progress) {
            if (before.valid) write_progress(pfd, epoch, log.header.nonce, before.done, before.intent, before.has_intent);
            else (void)::ftruncate(pfd, 0);
        }
        ::close(pfd);
        return false;
    };
    auto put = [&](uint64_t d, const Identity &intent, bool has_intent) -> int {  // 1 written, 0 stop, -1 failed
        if (!c.step(/*progress=*/true)) return 0;
        if (!write_progress(pfd, epoch, log.header.nonce, d, intent, has_intent)) {
            c.res.ok = false;
            c.res.error = "cannot write the recovery's progress file " + prog + ": " + err_text(errno);
            return -1;
        }
        before = progress;
        progress = Progress{true, d, intent, has_intent};
        return 1;
    };
    const size_t n = log.records.size();
    for (size_t i = done < n ? n - done : 0; i-- > 0;) {
        if (c.res.undone + c.res.skipped + c.res.failed >= c.opts.stop_after) {
            c.res.stopped = true;
            return stop();
        }
        const PctRecord &r = log.records[i];
        c.log_records = &log;
        c.index = i;
        if (skipped(c, r)) {
            ++c.res.skipped;
            ++done;
            continue;
        }
        // The object this record's undo acts on: announced (durably) before anything is done,
        // or, when a stopped recovery had announced it, that one.
        Identity expected;
        if (progress.valid && progress.done == done && progress.has_intent) {
            expected = progress.intent;
            if (!expected.present() && r.kind() != pct::Kind::Removed && r.kind() != pct::Kind::Rmdir) {
                ++c.res.undone;  // nothing was there to act on when it was first reached
                ++done;
                continue;
            }
        } else {
            expected = target_of(c, r);
            if (const int w = put(done, expected, true); w <= 0) return w == 0 ? stop() : (::close(pfd), false);
        }
        std::string why;
        switch (apply(c, r, expected, why)) {
        case Applied::Stopped: return stop();
        case Applied::Done: ++c.res.undone; break;
        case Applied::Failed:
            // Not applied: the files are not as they were at the checkpoint. The recovery fails
            // here (its progress still names this record), unless the loss is accepted.
            if (!c.opts.accept_loss) {
                c.res.ok = false;
                c.res.error = why + " (run again with --on-undo-failure=proceed to go on without this change)";
                ::close(pfd);
                return false;
            }
            ++c.res.failed;
            c.log(2, why + " (--on-undo-failure=proceed: going on; it is NOT rolled back)");
            break;
        }
        ++done;
    }
    if (const int w = put(done, {}, false); w <= 0) return w == 0 ? stop() : (::close(pfd), false);
    ::close(pfd);
    // Everything undone reaches the disk before the log that could undo it again goes away.
    if (!c.step()) return false;
    ::sync();
    finish_epoch(c.job_dir, epoch);
    fsync_dir(c.job_dir);
    ++c.res.epochs;
    return true;
}

}  // namespace

uint64_t parse_progress(const void *data, size_t size, uint64_t epoch, uint64_t nonce)
{
    pct::ProgressRecord p{};
    if (size < sizeof p) return 0;
    std::memcpy(&p, data, sizeof p);
    if (p.magic != pct::kProgressMagic || p.epoch != epoch || p.nonce != nonce ||
        p.checksum != checksum(&p, sizeof p - sizeof p.checksum))
        return 0;
    return p.done;
}

std::vector<UndoStep> plan_undo(const PctLog &log, uint64_t done, const std::string &job_dir, const UndoOptions &opts)
{
    UndoResult res;
    Ctx c{job_dir, opts, res};
    c.rules.job_dir = normalized(job_dir);
    set_rules(c, log);
    std::vector<UndoStep> steps;
    const size_t n = log.records.size();
    for (size_t i = done < n ? n - done : 0; i-- > 0;) steps.push_back({i, skipped(c, log.records[i])});
    return steps;
}

std::vector<std::string> check_undo(const std::string &job_dir, uint64_t version, const UndoOptions &opts)
{
    UndoResult res;
    Ctx c{job_dir, opts, res};
    c.rules.job_dir = normalized(job_dir);
    std::vector<std::string> problems;
    std::vector<uint64_t> epochs;
    for (const auto &e : list_epochs(job_dir))
        if (e.epoch >= version) epochs.push_back(e.epoch);
    // An epoch whose log was deleted along with everything else of it is found by its image.
    if (DIR *d = ::opendir(job_dir.c_str())) {
        while (dirent *e = ::readdir(d)) {
            const std::string n = e->d_name;
            if (n.size() < 10 || n.compare(0, 5, "ckpt-") != 0 || n.compare(n.size() - 4, 4, ".img") != 0) continue;
            const std::string digits = n.substr(5, n.size() - 9);
            if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) continue;
            const uint64_t v = std::strtoull(digits.c_str(), nullptr, 10);
            if (v >= version && std::find(epochs.begin(), epochs.end(), v) == epochs.end()) epochs.push_back(v);
        }
        ::closedir(d);
    }
    std::sort(epochs.begin(), epochs.end());
    for (auto it = epochs.rbegin(); it != epochs.rend(); ++it) check_one(c, *it, problems);
    return problems;
}

std::vector<std::string> check_epoch(const std::string &job_dir, uint64_t epoch)
{
    UndoResult res;
    UndoOptions opts;
    Ctx c{job_dir, opts, res};
    c.rules.job_dir = normalized(job_dir);
    std::vector<std::string> problems;
    check_one(c, epoch, problems);
    return problems;
}

std::vector<ForeignGrowth> check_growth(const std::string &job_dir, uint64_t version, const UndoOptions &opts)
{
    UndoResult res;
    Ctx c{job_dir, opts, res};
    c.rules.job_dir = normalized(job_dir);
    uint64_t rules_of = 0;  // the log whose exclusion records c.rules holds (by nonce)
    return find_foreign_growth(job_dir, version, [&](const PctLog &log, const PctRecord &r) {
        if (rules_of != log.header.nonce || !rules_of) { set_rules(c, log); rules_of = log.header.nonce; }
        return skipped(c, r);
    });
}

UndoResult undo_to(const std::string &job_dir, uint64_t version, const UndoOptions &opts)
{
    UndoResult res;
    // Memory is restored only with the files that go with it: everything the undo needs is
    // checked before anything is changed.
    const std::vector<std::string> problems = check_undo(job_dir, version, opts);
    if (!problems.empty()) {
        if (!opts.accept_loss) {
            res.ok = false;
            res.error = "the undo data needed to bring the files back to " +
                        (version ? "checkpoint version " + std::to_string(version) : std::string("the program's start")) +
                        " is damaged or missing: ";
            for (size_t i = 0; i < problems.size(); ++i) res.error += (i ? "; " : "") + problems[i];
            res.error += ". Nothing was rolled back";
            return res;
        }
        res.lost = problems;
        for (const auto &p : problems)
            if (opts.log) opts.log(2, p + " (--on-undo-failure=proceed: going on without it; it is NOT rolled back)");
    }
    Ctx c{job_dir, opts, res};
    c.rules.job_dir = normalized(job_dir);
    // Files another process extended since: truncating them would lose its bytes.
    res.foreign = check_growth(job_dir, version, opts);
    if (!res.foreign.empty()) {
        std::string what;
        for (size_t i = 0; i < res.foreign.size(); ++i) what += (i ? "; " : "") + res.foreign[i].describe();
        if (!opts.accept_loss) {
            res.ok = false;
            res.error = what;
            return res;
        }
        for (const auto &f : res.foreign) c.keep_size.emplace_back(f.dev, f.ino);
        c.log(1, what + " (--on-undo-failure=proceed: these files keep their current size, the bytes after their "
                        "size at the checkpoint stay, the program's own included; the rest of their changes is undone)");
    }
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
