/* ckpt: checkpoint and rollback from inside a program (inserted mode).
 *
 * Link with -lckpt (pkg-config --cflags --libs ckpt). The same calls work when the program
 * runs under ckpt-run (transparent checkpoints continue at the interval) and when it is
 * started directly (checkpoints are then taken only by chkpnt(), into the job directory that
 * ckpt-run would use for the same command, so `ckpt-run -- PROGRAM ARGS` recovers them).
 * See docs/api.md. */
#ifndef CKPT_CKPT_H
#define CKPT_CKPT_H

#include <limits.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What chkpnt() returns when the process comes back to it after a crash recovery (the
 * launcher restored the checkpoint), rather than through rollback(). */
#define CKPT_RECOVERED INT_MAX

/* Take a checkpoint of memory and of the persistent state's epoch now.
 * Returns 0 once the checkpoint is committed; a positive value when execution returns here
 * through a restore: the value given to rollback(), or CKPT_RECOVERED after a crash
 * recovery; -1 with errno set if no checkpoint could be taken (the program goes on):
 * EOPNOTSUPP for a process state not supported yet (threads, children, sockets), or the
 * error of the file system (ENOSPC, EACCES, ...). */
int chkpnt(void);

/* Restore this process, memory and files, to checkpoint `version`: 1..N absolute, or
 * 0 = latest, -1 = the one before, ... relative. Does not return on success: chkpnt()
 * returns `value` (1 if value <= 0) at the restored point, in the same process (same pid),
 * with the descriptors it had at the checkpoint. Returns -1 with errno if the version does
 * not exist (ENOENT) or cannot be restored (EINVAL: image corrupt, or a protected range is
 * not writable memory in that checkpoint; ESTALE: a file it maps changed); nothing has
 * changed then. A successful rollback retires every version newer than `version` (the
 * abandoned timeline: no later rollback or crash recovery restores it). */
int rollback(int version, int value);

/* Protected variables: these bytes keep their values across rollback() (they are carried
 * over from before the rollback instead of taking the checkpoint's). Up to 64 ranges.
 * Returns 0, or -1 with errno (ENOSPC: table full; ENOENT: ckpt_unprotect of a range that
 * is not protected). */
int ckpt_protect(void *addr, size_t len);
int ckpt_unprotect(void *addr, size_t len);

/* The exclusion list: files (or directories with everything below them, or globs) whose
 * changes are never recorded nor undone. Same meaning as ckpt-run --exclude. */
int ckpt_exclude(const char *path);
int ckpt_include(const char *path);

/* Memory exclusion: the pages of [addr, addr + len) are not written into checkpoints (scratch
 * memory the program can rebuild); after a restore (crash recovery or rollback) they are zero.
 * Only whole pages are excluded: a partial page at either end is still saved (rounded
 * inward). ckpt_include_memory saves every page the range touches again (rounded outward),
 * also when it covers only part of an excluded range. Only private anonymous memory (heap,
 * mmap(MAP_PRIVATE|MAP_ANONYMOUS), stacks) is left out; an excluded range in a file mapping
 * or shared memory is still saved. Callable from any thread (not from a signal handler);
 * the ranges are kept across restores. Returns 0, or -1 with errno (EINVAL: len 0 or the
 * range wraps around; ENOSPC: table of 512 ranges full). */
int ckpt_exclude_memory(const void *addr, size_t len);
int ckpt_include_memory(const void *addr, size_t len);

/* Under ckpt-run: change the checkpoint interval (milliseconds; 0 stops periodic
 * checkpoints), tell the watchdog the program is alive, keep the checkpoints after a normal
 * exit (keep != 0) or not. Return 0, or -1 with errno = ENOTCONN when not under ckpt-run. */
int ckpt_set_interval(unsigned long milliseconds);
int ckpt_heartbeat(void);
int ckpt_keep(int keep);

enum ckpt_mode {
    CKPT_MODE_NONE = 0,        /* the runtime is not active (e.g. a child of the program) */
    CKPT_MODE_NORMAL = 1,      /* started fresh, never restored */
    CKPT_MODE_RECOVERED = 2,   /* restored by the launcher after a crash */
    CKPT_MODE_ROLLED_BACK = 3, /* came back through rollback() */
};

/* The current mode, and whether ckpt-run supervises the process (nonzero) or not. */
enum ckpt_mode ckpt_current_mode(void);
int ckpt_under_launcher(void);

#ifdef __cplusplus
}
#endif

#endif
