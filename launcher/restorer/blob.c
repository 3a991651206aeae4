/* The restorer blob: the part of the restore that runs after the address space is torn down.
 * No libc, no globals, no relocations (CMake checks the object): it is copied to an address
 * that no saved region uses and runs there on its own stack, with only the plan it is given.
 * Every function lives in section "ckpt_blob" so the restorer can find and copy the code. */
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <signal.h>
#include <linux/ioctl.h>
#include <linux/userfaultfd.h>

#include "../../runtime/sys/raw_syscall.h"
#include "restore_plan.h"

#define BLOB __attribute__((section("ckpt_blob"), noinline))
#define BLOB_INLINE static inline __attribute__((always_inline))

#ifndef MREMAP_MAYMOVE
#define MREMAP_MAYMOVE 1
#define MREMAP_FIXED 2
#endif
#define PAGE 4096ull

BLOB_INLINE int is_err(long rc) { return rc < 0 && rc > -4096; }

BLOB static void die(int step) { sys_exit_group(BLOB_EXIT_BASE + step); }

BLOB static void copy_bytes(void *dst, const void *src, uint64_t n)
{
    volatile char *d = (volatile char *)dst;
    const char *s = (const char *)src;
    for (uint64_t i = 0; i < n; ++i) d[i] = s[i];
}

BLOB static void unmap_all_but_kept(const struct restore_plan *p)
{
    uint64_t cur = PAGE;
    for (uint64_t i = 0; i < p->n_keep; ++i) {
        if (p->keep[i].start > cur && is_err(sys_munmap((void *)cur, p->keep[i].start - cur)))
            die(BLOB_STEP_UNMAP);
        if (p->keep[i].end > cur) cur = p->keep[i].end;
    }
    if (p->task_top > cur && is_err(sys_munmap((void *)cur, p->task_top - cur))) die(BLOB_STEP_UNMAP);
}

/* [vdso], [vvar], ...: glibc keeps pointers into the vdso, so the kernel's mappings of this
 * process go where the image had them. Via scratch space first, so that no move lands on a
 * mapping still waiting to be moved. */
BLOB static void move_specials(const struct restore_plan *p)
{
    for (uint64_t i = 0; i < p->n_specials; ++i) {
        const struct plan_special *s = &p->specials[i];
        if (is_err(sys_mremap((void *)s->current, s->len, s->len, MREMAP_MAYMOVE | MREMAP_FIXED,
                              (void *)s->scratch)))
            die(BLOB_STEP_SPECIALS);
    }
    for (uint64_t i = 0; i < p->n_specials; ++i) {
        const struct plan_special *s = &p->specials[i];
        if (is_err(sys_mremap((void *)s->scratch, s->len, s->len, MREMAP_MAYMOVE | MREMAP_FIXED,
                              (void *)s->target)))
            die(BLOB_STEP_SPECIALS);
    }
}

BLOB static void read_pages(int fd, char *dst, uint64_t len, uint64_t off)
{
    while (len) {
        uint64_t chunk = len > (1ull << 30) ? (1ull << 30) : len;
        long n = sys_pread(fd, dst, chunk, (int64_t)off);
        if (n <= 0) die(BLOB_STEP_READ);
        dst += n;
        off += (uint64_t)n;
        len -= (uint64_t)n;
    }
}

/* Whole pages, a word at a time (no memcpy here; the loop stays a loop: -fno-builtin). */
BLOB static void copy_pages(char *dst, const char *src, uint64_t len)
{
    volatile uint64_t *d = (volatile uint64_t *)dst;
    const uint64_t *s = (const uint64_t *)src;
    for (uint64_t i = 0; i < len / 8; ++i) d[i] = s[i];
}

BLOB static void map_region(const struct restore_plan *p, const struct plan_region *r)
{
    const uint64_t len = r->end - r->start;
    if (r->staged == PLAN_STAGE_LAZY) {
        /* Empty; every missing page is the loader's to fill. */
        long addr = (long)sys_mmap((void *)r->start, len, (int)r->prot, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (is_err(addr) || (uint64_t)addr != r->start) die(BLOB_STEP_MAP);
        struct uffdio_register reg;
        reg.range.start = r->start;
        reg.range.len = len;
        reg.mode = UFFDIO_REGISTER_MODE_MISSING;
        reg.ioctls = 0;
        if (is_err(sys_ioctl(p->lazy_uffd, UFFDIO_REGISTER, &reg))) die(BLOB_STEP_LAZY);
        return;
    }
    if (r->staged == PLAN_STAGE_MOVE) {
        /* Loaded and verified by the libc half: moved into place as it is, one mapping. */
        long addr = sys_mremap((void *)r->staging, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)r->start);
        if (is_err(addr) || (uint64_t)addr != r->start) die(BLOB_STEP_MAP);
        for (uint64_t i = 0; i < r->n_runs; ++i) {  /* runs of other images (inherited) */
            const struct plan_run *run = &p->runs[r->first_run + i];
            if (run->src == PLAN_SRC_STAGING) continue;  /* already there */
            if (run->src >= p->n_sources) die(BLOB_STEP_READ);
            read_pages(p->sources[run->src], (char *)(r->start + run->first_page * PAGE), run->n_pages * PAGE,
                       run->src_offset);
        }
        if (r->prot != (PROT_READ | PROT_WRITE) && is_err(sys_mprotect((void *)r->start, len, (int)r->prot)))
            die(BLOB_STEP_PROTECT);
        return;
    }
    /* Writable while its pages are filled, then the saved protection. */
    const int fill_prot = r->n_runs ? (PROT_READ | PROT_WRITE) : 0;
    int flags = MAP_FIXED | (r->shared ? MAP_SHARED : MAP_PRIVATE);
    long addr;
    if (r->kind == PLAN_FILE) {
        int oflags = (r->shared && (r->prot & PROT_WRITE)) ? O_RDWR : O_RDONLY;
        long fd = sys_openat(AT_FDCWD, r->path, oflags | O_CLOEXEC, 0);
        if (fd < 0) die(BLOB_STEP_OPEN);
        /* The libc half checked the identity; a file swapped in since is not mapped. x86-64
         * struct stat: st_dev, then st_ino. */
        uint64_t st[18];
        if (sys_fstat((int)fd, st) != 0 || st[0] != r->file_dev || st[1] != r->file_ino) die(BLOB_STEP_OPEN);
        addr = (long)sys_mmap((void *)r->start, len, (int)r->prot | fill_prot, flags, (int)fd,
                              (int64_t)r->file_offset);
        sys_close((int)fd);
    } else {
        flags |= MAP_ANONYMOUS;
        if (r->stack) flags |= MAP_GROWSDOWN;
        addr = (long)sys_mmap((void *)r->start, len, (int)r->prot | fill_prot, flags, -1, 0);
    }
    if (is_err(addr) || (uint64_t)addr != r->start) die(BLOB_STEP_MAP);

    for (uint64_t i = 0; i < r->n_runs; ++i) {
        const struct plan_run *run = &p->runs[r->first_run + i];
        char *at = (char *)(r->start + run->first_page * PAGE);
        if (run->src == PLAN_SRC_STAGING && r->staged == PLAN_STAGE_COPY) {
            copy_pages(at, (const char *)(r->staging + run->first_page * PAGE), run->n_pages * PAGE);
            continue;
        }
        if (run->src >= p->n_sources) die(BLOB_STEP_READ);
        read_pages(p->sources[run->src], at, run->n_pages * PAGE, run->src_offset);
    }
    if (r->staged == PLAN_STAGE_COPY && is_err(sys_munmap((void *)r->staging, len))) die(BLOB_STEP_MAP);
    if (fill_prot && ((int)r->prot | fill_prot) != (int)r->prot &&
        is_err(sys_mprotect((void *)r->start, len, (int)r->prot)))
        die(BLOB_STEP_PROTECT);
}

BLOB static void restore_signals(const struct restore_plan *p)
{
    struct { uint64_t sp; int32_t flags; int32_t pad; uint64_t size; } ss;
    ss.sp = p->altstack_sp;
    ss.flags = p->altstack_flags;
    ss.pad = 0;
    ss.size = p->altstack_size;
    if (is_err(sys_sigaltstack(&ss, 0))) die(BLOB_STEP_SIGNALS);
    for (uint64_t i = 0; i < p->n_sigactions; ++i) {
        const struct plan_sigaction *s = &p->sigactions[i];
        struct kernel_sigaction k;
        k.handler = s->handler;
        k.flags = s->flags;
        k.restorer = s->restorer;
        k.mask = s->mask;
        sys_rt_sigaction(s->signo, &k, 0);
    }
}

/* struct clone_args of clone3(2). */
struct blob_clone_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
    uint64_t set_tid, set_tid_size, cgroup;
};

/* clone3: the new thread starts on the caller's stack, which it leaves at once without
 * touching it: into its saved context, as resume() below (r12 holds the context). */
BLOB static long spawn_thread(struct blob_clone_args *args, const struct plan_context *c)
{
    long rc;
    register const struct plan_context *ctx __asm__("r12") = c;
    __asm__ volatile(
        "syscall\n\t"
        "testq %%rax, %%rax\n\t"
        "jnz 1f\n\t"
        "ldmxcsr 64(%%r12)\n\t"
        "fldcw 68(%%r12)\n\t"
        "movq 0(%%r12), %%rbx\n\t"
        "movq 8(%%r12), %%rbp\n\t"
        "movq 24(%%r12), %%r13\n\t"
        "movq 32(%%r12), %%r14\n\t"
        "movq 40(%%r12), %%r15\n\t"
        "movq 56(%%r12), %%rcx\n\t"
        "movq 48(%%r12), %%rsp\n\t"
        "movq 16(%%r12), %%r12\n\t"
        "movl $1, %%eax\n\t"
        "jmp *%%rcx\n\t"
        "1:\n\t"
        : "=a"(rc)
        : "0"(435L /* clone3 */), "D"(args), "S"(sizeof *args), "r"(ctx)
        : "rcx", "r11", "memory");
    return rc;
}

/* Every thread but the leader, each under its old tid where the kernel allows it (set_tid:
 * CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE, and the tid free), else under a new one (the
 * runtime puts the new tid into glibc's cache). They start with every signal blocked (the
 * blob's mask) and wait in the runtime until the restore is complete. */
BLOB static void spawn_threads(const struct restore_plan *p)
{
    for (uint64_t i = 0; i < p->n_threads; ++i) {
        const struct plan_thread *t = &p->threads[i];
        struct blob_clone_args a;
        uint64_t *w = (uint64_t *)&a;
        for (uint64_t k = 0; k < sizeof a / 8; ++k) w[k] = 0;
        a.flags = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000 | 0x80000;
        /* CLONE_VM FS FILES SIGHAND THREAD SYSVSEM SETTLS */
        a.tls = t->fs_base;
        int32_t tid = t->tid;
        a.set_tid = (uint64_t)&tid;
        a.set_tid_size = 1;
        long rc = spawn_thread(&a, &t->ctx);
        if (rc == -1 /* EPERM */ || rc == -17 /* EEXIST */ || rc == -22 /* EINVAL */) {
            a.set_tid = 0;
            a.set_tid_size = 0;
            rc = spawn_thread(&a, &t->ctx);
        }
        if (is_err(rc)) die(BLOB_STEP_THREADS);
    }
}

/* Loads the saved callee-saved registers and stack, and returns 1 from ckpt_context_save. */
BLOB static void __attribute__((noreturn)) resume(const struct plan_context *c)
{
    __asm__ volatile(
        "ldmxcsr 64(%0)\n\t"
        "fldcw 68(%0)\n\t"
        "movq 0(%0), %%rbx\n\t"
        "movq 8(%0), %%rbp\n\t"
        "movq 16(%0), %%r12\n\t"
        "movq 24(%0), %%r13\n\t"
        "movq 32(%0), %%r14\n\t"
        "movq 40(%0), %%r15\n\t"
        "movq 56(%0), %%rcx\n\t"
        "movq 48(%0), %%rsp\n\t"
        "movl $1, %%eax\n\t"
        "jmp *%%rcx\n\t"
        :
        : "D"(c)
        : "memory");
    __builtin_unreachable();
}

BLOB void ckpt_blob_main(struct restore_plan *p)
{
    unmap_all_but_kept(p);
    move_specials(p);
    for (uint64_t i = 0; i < p->n_regions; ++i) map_region(p, &p->regions[i]);
    if (p->lazy_uffd >= 0) {
        /* Every lazy region is registered: the loader may serve faults (the blob's own writes
         * below among them). Its descriptor stays the loader's alone. */
        char go = 1;
        if (sys_write(p->lazy_go_fd, &go, 1) != 1) die(BLOB_STEP_LAZY);
        sys_close(p->lazy_go_fd);
        sys_close(p->lazy_uffd);
    }
    for (uint64_t i = 0; i < p->n_protected; ++i)  /* rollback: protected variables win */
        copy_bytes((void *)p->protected_ranges[i].addr, p->protected_ranges[i].data, p->protected_ranges[i].len);

    /* The kernel's view: brk, /proc/PID/{stat,cmdline,environ}, /proc/PID/exe. */
    p->mm.exe_fd = p->exe_fd >= 0 ? (uint32_t)p->exe_fd : (uint32_t)-1;
    long rc = sys_prctl(35 /* PR_SET_MM */, 14 /* PR_SET_MM_MAP */, (unsigned long)&p->mm, sizeof p->mm, 0);
    if (is_err(rc) && p->exe_fd >= 0) {  /* keep the layout even if the exe link cannot change */
        p->info.exe_result = (int32_t)rc;
        p->mm.exe_fd = (uint32_t)-1;
        rc = sys_prctl(35, 14, (unsigned long)&p->mm, sizeof p->mm, 0);
    }
    p->info.mm_map_result = (int32_t)rc;
    if (p->rseq_addr)
        p->info.rseq_result = (int32_t)sys_rseq((void *)p->rseq_addr, p->rseq_len, 0, p->rseq_sig);
    restore_signals(p);
    if (p->exe_fd >= 0) sys_close(p->exe_fd);
    for (uint32_t i = 0; i < p->n_sources; ++i) sys_close(p->sources[i]);

    copy_bytes((void *)p->restore_info_addr, &p->info, sizeof p->info);
    spawn_threads(p);
    sys_rt_sigprocmask(SIG_SETMASK, &p->sigmask, 0);
    sys_arch_prctl(0x1002 /* ARCH_SET_FS */, p->fs_base);
    resume(&p->ctx);
}
