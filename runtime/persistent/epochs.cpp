// The epochs' life cycle (runtime/events.cpp): the program's start, the checkpoint (seal the
// epoch that ends, start the next one's log), the restore.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "../image_writer.h"
#include "../runtime_state.h"
#include "../sys/raw_syscall.h"
#include "../sys/safe_path.h"
#include "fd_cache.h"
#include "file_state.h"
#include "growth.h"
#include "invisible_writers.h"
#include "paths.h"
#include "pct_log.h"
#include "persist.h"
#include "rule_table.h"
#include "settings.h"
#include "slow_guard.h"

namespace ckpt::persist {

namespace {

void new_epoch(uint64_t epoch)
{
    reset_files();
    growth_reset();
    g_log = LogState{};
    g_log.epoch = epoch;
    forget_all_fds();
}

struct Started {
    uint64_t version = 0, nonce = 0;
    bool ok = false;
} g_started;  // the log seal_epoch() started for the image being written

}  // namespace

void program_start()
{
    g_pid = int(sys_getpid());
    load_settings();
    load_rules();
    if (const char *off = getenv("CKPT_PERSIST"); off && off[0] == '0') return;  // recording off
    SlowGuard g;
    if (ensure_buf() != 0) return;
    // Normally epoch 0 (the launcher's recovery removed every log before a fresh start). A
    // program that exec()s keeps its pid and starts the runtime again: it goes on in the epoch
    // of the newest checkpoint, appending to that epoch's log.
    uint64_t epoch = 0;
    long dirfd = open_job_dir();
    if (dirfd >= 0) {
        int64_t latest = latest_version(int(dirfd), g_buf, kBufSize);
        if (latest > 0) epoch = uint64_t(latest);
        sys_close(int(dirfd));
    }
    new_epoch(epoch);
    char name[64];
    pct::epoch_name(name, sizeof name, "pct-", epoch, ".log");
    job_path(g_tmp, sizeof g_tmp, name);
    struct stat st;
    if (sys_newfstatat(AT_FDCWD, g_tmp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
        st.st_size >= long(sizeof(pct::FileHeader)))
        g_log.created = true;  // append, never truncate
    __atomic_store_n(&g_enabled, 1, __ATOMIC_SEQ_CST);
    protect_invisible_writers();
}

bool before_checkpoint()
{
    if (defer_to_section_end()) return false;
    if (!enabled() || sys_getpid() != g_pid) return true;
    // Default durability: everything recorded in the epoch that ends is on disk before the
    // image that ends it is committed. Our descriptors are closed so that no image holds them.
    if (g_log.fd >= 0) {
        sys_fdatasync(g_log.fd);
        sys_close(g_log.fd);
        g_log.fd = -1;
    }
    if (g_log.undo_dir_fd >= 0) {
        if (g_log.undo_dirty) sys_fsync(g_log.undo_dir_fd);
        g_log.undo_dirty = false;
        sys_close(g_log.undo_dir_fd);
        g_log.undo_dir_fd = -1;
    }
    if (g_log.created && !g_log.dir_synced) {
        long d = open_job_dir();
        if (d >= 0) { sys_fsync(int(d)); sys_close(int(d)); }
        g_log.dir_synced = true;
    }
    growth_unmap();  // the job directory's, not the program's: no image holds it
    // The record buffer holds nothing between calls: keep its pages out of the image.
    if (g_buf) sys_madvise(g_buf, kBufSize, MADV_DONTNEED);
    return true;
}

bool seal_epoch(uint64_t version, uint64_t generation)
{
    g_started = Started{};
    if (!enabled() || sys_getpid() != g_pid || !g_rt.job_dir[0]) return false;
    SlowGuard g(true);
    if (ensure_buf() != 0 || ensure_log() != 0) return false;
    // The Seal: the last record of this epoch, at the offset it names (a log cut short loses it).
    RecordArgs a{pct::Kind::Seal};
    a.offset = int64_t(g_log.end);
    if (emit(a) != 0) return false;
    sys_fdatasync(g_log.fd);
    sys_close(g_log.fd);
    g_log.fd = -1;
    // The next epoch's log, started now so that the image can vouch for it.
    char name[64];
    pct::epoch_name(name, sizeof name, "pct-", version, ".log");
    job_path(g_tmp, sizeof g_tmp, name);
    // A new file, relative to the job directory and never through a link (as ensure_log()).
    long dfd = open_job_dir();
    if (dfd < 0) return false;
    sys_unlinkat(int(dfd), name, 0);
    long fd = open_beneath(int(dfd), name, O_WRONLY | O_CREAT | O_EXCL, 0600);
    sys_close(int(dfd));
    if (fd < 0) return false;
    sys_fchmod(int(fd), 0600);
    const uint64_t nonce = realtime_ns() ^ (uint64_t(uint32_t(g_pid)) << 40) ^ (version * 0x9E3779B97F4A7C15ull);
    // Durable before the image is (the image's commit syncs the directory).
    const bool ok = write_log_header(int(fd), version, pct::kLogStarted | (g_cfg.sync_undo ? pct::kLogSyncUndo : 0),
                                     generation, g_log.nonce, nonce) == 0 &&
                    sys_fdatasync(int(fd)) == 0;
    sys_close(int(fd));
    if (!ok) {
        sys_unlinkat(AT_FDCWD, g_tmp, 0);
        return false;
    }
    g_started = {version, nonce, true};
    return true;
}

void epoch_not_committed(uint64_t version)
{
    if (!g_started.ok || g_started.version != version) return;
    char name[64];
    pct::epoch_name(name, sizeof name, "pct-", version, ".log");
    job_path(g_tmp, sizeof g_tmp, name);
    sys_unlinkat(AT_FDCWD, g_tmp, 0);  // it would name the still open epoch as sealed
    g_started = Started{};
}

void after_checkpoint(uint64_t version)
{
    if (!enabled() || sys_getpid() != g_pid) return;
    SlowGuard g(true);
    new_epoch(version);
    if (g_started.ok && g_started.version == version) {
        g_log.created = true;  // append to the log seal_epoch() started, never truncate it
        g_log.nonce = g_started.nonce;
    }
    g_started = Started{};
    if (ensure_buf() == 0) protect_invisible_writers();
}

void after_restore(uint64_t version)
{
    if (!enabled()) return;
    SlowGuard g(true);
    g_pid = int(sys_getpid());
    // The descriptors of the image's process are gone (closed before the capture anyway).
    g_log.fd = -1;
    g_log.undo_dir_fd = -1;
    new_epoch(version);
    // The recovery started this epoch's log again (empty): append to it.
    char name[64];
    pct::epoch_name(name, sizeof name, "pct-", version, ".log");
    job_path(g_tmp, sizeof g_tmp, name);
    struct stat st;
    if (sys_newfstatat(AT_FDCWD, g_tmp, &st, 0) == 0 && st.st_size >= long(sizeof(pct::FileHeader)))
        g_log.created = true;
    if (ensure_buf() == 0) protect_invisible_writers();
}

}  // namespace ckpt::persist
