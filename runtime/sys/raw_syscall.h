/* Raw Linux x86-64 system calls, for code that must not touch libc: the checkpoint signal
 * handler, the post-restore path, and the restorer blob that runs after the address space is
 * torn down. Every function returns the kernel's result: a value >= 0, or -errno.
 * They never set errno and never go through the PLT, so the interposed wrappers of libckpt.so
 * can call them without recursing into themselves. C and C++ compatible. */
#ifndef CKPT_RAW_SYSCALL_H
#define CKPT_RAW_SYSCALL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>

#define RAW_INLINE static inline __attribute__((always_inline))

#ifdef __cplusplus
extern "C" {
#endif

RAW_INLINE long raw_syscall6(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
    long ret;
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

#define RAW0(n) raw_syscall6((n), 0, 0, 0, 0, 0, 0)
#define RAW1(n, a) raw_syscall6((n), (long)(a), 0, 0, 0, 0, 0)
#define RAW2(n, a, b) raw_syscall6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define RAW3(n, a, b, c) raw_syscall6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define RAW4(n, a, b, c, d) raw_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define RAW5(n, a, b, c, d, e) \
    raw_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
#define RAW6(n, a, b, c, d, e, f) \
    raw_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

RAW_INLINE long sys_read(int fd, void *buf, size_t n) { return RAW3(SYS_read, fd, buf, n); }
RAW_INLINE long sys_write(int fd, const void *buf, size_t n) { return RAW3(SYS_write, fd, buf, n); }
RAW_INLINE long sys_pread(int fd, void *buf, size_t n, int64_t off) { return RAW4(SYS_pread64, fd, buf, n, off); }
RAW_INLINE long sys_pwrite(int fd, const void *buf, size_t n, int64_t off) { return RAW4(SYS_pwrite64, fd, buf, n, off); }
RAW_INLINE long sys_openat(int dirfd, const char *path, int flags, int mode) { return RAW4(SYS_openat, dirfd, path, flags, mode); }
RAW_INLINE long sys_close(int fd) { return RAW1(SYS_close, fd); }
RAW_INLINE long sys_close_range(unsigned first, unsigned last) { return RAW3(SYS_close_range, first, last, 0); }
RAW_INLINE long sys_dup3(int oldfd, int newfd, int flags) { return RAW3(SYS_dup3, oldfd, newfd, flags); }
RAW_INLINE long sys_fcntl(int fd, int cmd, long arg) { return RAW3(SYS_fcntl, fd, cmd, arg); }
RAW_INLINE long sys_lseek(int fd, int64_t off, int whence) { return RAW3(SYS_lseek, fd, off, whence); }
RAW_INLINE long sys_fsync(int fd) { return RAW1(SYS_fsync, fd); }
RAW_INLINE long sys_ftruncate(int fd, int64_t len) { return RAW2(SYS_ftruncate, fd, len); }
RAW_INLINE long sys_renameat(int od, const char *o, int nd, const char *n) { return RAW4(SYS_renameat, od, o, nd, n); }
RAW_INLINE long sys_unlinkat(int dirfd, const char *path, int flags) { return RAW3(SYS_unlinkat, dirfd, path, flags); }
RAW_INLINE long sys_readlinkat(int dirfd, const char *path, char *buf, size_t n) { return RAW4(SYS_readlinkat, dirfd, path, buf, n); }
RAW_INLINE long sys_getdents64(int fd, void *buf, size_t n) { return RAW3(SYS_getdents64, fd, buf, n); }
RAW_INLINE long sys_ioctl(int fd, unsigned long req, void *arg) { return RAW3(SYS_ioctl, fd, req, arg); }
RAW_INLINE long sys_fstat(int fd, void *st) { return RAW2(SYS_fstat, fd, st); }
RAW_INLINE long sys_newfstatat(int dirfd, const char *path, void *st, int flags) { return RAW4(SYS_newfstatat, dirfd, path, st, flags); }
RAW_INLINE long sys_chdir(const char *path) { return RAW1(SYS_chdir, path); }
RAW_INLINE long sys_umask(int mask) { return RAW1(SYS_umask, mask); }
RAW_INLINE void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)
{
    return (void *)RAW6(SYS_mmap, addr, len, prot, flags, fd, off);
}
RAW_INLINE long sys_munmap(void *addr, size_t len) { return RAW2(SYS_munmap, addr, len); }
RAW_INLINE long sys_mprotect(void *addr, size_t len, int prot) { return RAW3(SYS_mprotect, addr, len, prot); }
RAW_INLINE long sys_mremap(void *old, size_t olen, size_t nlen, int flags, void *naddr)
{
    return RAW5(SYS_mremap, old, olen, nlen, flags, naddr);
}
RAW_INLINE long sys_brk(unsigned long addr) { return RAW1(SYS_brk, addr); }
RAW_INLINE long sys_getpid(void) { return RAW0(SYS_getpid); }
RAW_INLINE long sys_getppid(void) { return RAW0(SYS_getppid); }
RAW_INLINE long sys_gettid(void) { return RAW0(SYS_gettid); }
RAW_INLINE long sys_kill(int pid, int sig) { return RAW2(SYS_kill, pid, sig); }
RAW_INLINE long sys_sendto(int fd, const void *buf, size_t n, int flags)
{
    return RAW6(SYS_sendto, fd, buf, n, flags, 0, 0);
}
RAW_INLINE long sys_clock_gettime(int clk, void *ts) { return RAW2(SYS_clock_gettime, clk, ts); }
RAW_INLINE long sys_rt_sigaction(int sig, const void *act, void *old) { return RAW4(SYS_rt_sigaction, sig, act, old, 8); }
RAW_INLINE long sys_rt_sigprocmask(int how, const void *set, void *old) { return RAW4(SYS_rt_sigprocmask, how, set, old, 8); }
RAW_INLINE long sys_sigaltstack(const void *ss, void *old) { return RAW2(SYS_sigaltstack, ss, old); }
RAW_INLINE long sys_arch_prctl(int code, unsigned long addr) { return RAW2(SYS_arch_prctl, code, addr); }
RAW_INLINE long sys_prctl(int opt, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)
{
    return RAW5(SYS_prctl, opt, a2, a3, a4, a5);
}
RAW_INLINE long sys_rseq(void *rseq, uint32_t len, int flags, uint32_t sig) { return RAW4(SYS_rseq, rseq, len, flags, sig); }
RAW_INLINE long sys_getcwd(char *buf, size_t n) { return RAW2(SYS_getcwd, buf, n); }
RAW_INLINE long sys_linkat(int od, const char *o, int nd, const char *n, int fl) { return RAW5(SYS_linkat, od, o, nd, n, fl); }
RAW_INLINE long sys_symlinkat(const char *t, int d, const char *p) { return RAW3(SYS_symlinkat, t, d, p); }
RAW_INLINE long sys_mkdirat(int d, const char *p, int mode) { return RAW3(SYS_mkdirat, d, p, mode); }
RAW_INLINE long sys_fdatasync(int fd) { return RAW1(SYS_fdatasync, fd); }
RAW_INLINE long sys_fchmod(int fd, int mode) { return RAW2(SYS_fchmod, fd, mode); }
RAW_INLINE long sys_fchmodat(int d, const char *p, int mode) { return RAW3(SYS_fchmodat, d, p, mode); }
RAW_INLINE long sys_geteuid(void) { return RAW0(SYS_geteuid); }
RAW_INLINE long sys_fchown(int fd, unsigned u, unsigned g) { return RAW3(SYS_fchown, fd, u, g); }
RAW_INLINE long sys_utimensat(int d, const char *p, const void *ts, int fl) { return RAW4(SYS_utimensat, d, p, ts, fl); }
RAW_INLINE long sys_copy_file_range(int in, int64_t *oi, int out, int64_t *oo, size_t n) { return RAW6(SYS_copy_file_range, in, oi, out, oo, n, 0); }
RAW_INLINE long sys_tgkill(int pid, int tid, int sig) { return RAW3(SYS_tgkill, pid, tid, sig); }
RAW_INLINE long sys_madvise(void *a, size_t n, int adv) { return RAW3(SYS_madvise, a, n, adv); }
/* Threads (runtime/threads.cpp, the restorer blob). */
RAW_INLINE long sys_futex(volatile void *uaddr, int op, uint32_t val, const void *timeout) { return RAW4(SYS_futex, uaddr, op, val, timeout); }
RAW_INLINE long sys_rt_tgsigqueueinfo(int pid, int tid, int sig, void *info) { return RAW4(SYS_rt_tgsigqueueinfo, pid, tid, sig, info); }
RAW_INLINE long sys_rt_sigqueueinfo(int pid, int sig, void *info) { return RAW3(SYS_rt_sigqueueinfo, pid, sig, info); }
RAW_INLINE long sys_get_robust_list(int tid, void *head_ptr, void *len_ptr) { return RAW3(SYS_get_robust_list, tid, head_ptr, len_ptr); }
RAW_INLINE long sys_set_robust_list(void *head, size_t len) { return RAW2(SYS_set_robust_list, head, len); }
RAW_INLINE long sys_set_tid_address(void *addr) { return RAW1(SYS_set_tid_address, addr); }
RAW_INLINE long sys_sched_getscheduler(int tid) { return RAW1(SYS_sched_getscheduler, tid); }
RAW_INLINE long sys_sched_getparam(int tid, int *prio) { return RAW2(SYS_sched_getparam, tid, prio); }
RAW_INLINE long sys_sched_setscheduler(int tid, int policy, const int *prio) { return RAW3(SYS_sched_setscheduler, tid, policy, prio); }
RAW_INLINE long sys_getpriority(int which, int who) { return RAW2(SYS_getpriority, which, who); }
RAW_INLINE long sys_setpriority(int which, int who, int prio) { return RAW3(SYS_setpriority, which, who, prio); }
RAW_INLINE int sys_is_err(long r) { return r < 0 && r > -4096; }

/* Writes all n bytes at off (retrying short writes and EINTR). 0 or -errno; -ENOSPC when the
 * file system accepts nothing more. */
RAW_INLINE long sys_pwrite_all(int fd, const void *p, uint64_t n, uint64_t off)
{
    const char *c = (const char *)p;
    while (n) {
        size_t chunk = n > (1u << 30) ? (1u << 30) : (size_t)n;
        long w = sys_pwrite(fd, c, chunk, (int64_t)off);
        if (w == -4 /* EINTR */) continue;
        if (w < 0) return w;
        if (w == 0) return -28; /* ENOSPC */
        c += w;
        off += (uint64_t)w;
        n -= (uint64_t)w;
    }
    return 0;
}
RAW_INLINE __attribute__((noreturn)) void sys_exit_group(int code)
{
    for (;;) RAW1(SYS_exit_group, code);
}

/* A directory entry as getdents64 returns it (glibc's struct dirent is not guaranteed to match). */
struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

struct raw_timespec {
    int64_t tv_sec, tv_nsec;
};

/* CLOCK_MONOTONIC (1) in nanoseconds. */
RAW_INLINE uint64_t sys_monotonic_ns(void)
{
    struct raw_timespec ts = {0, 0};
    RAW2(SYS_clock_gettime, 1, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The kernel's struct sigaction for rt_sigaction (not glibc's, which differs in layout). */
struct kernel_sigaction {
    uint64_t handler;
    uint64_t flags;
    uint64_t restorer;
    uint64_t mask;
};

#ifdef __cplusplus
}
#endif
#endif
