/* The restore plan: everything the blob needs, prepared by the restorer's libc half and
 * placed, with the blob's code and stack, in one mapping that no saved region overlaps.
 * Plain C, pointers absolute (they point into that same mapping). */
#ifndef CKPT_RESTORE_PLAN_H
#define CKPT_RESTORE_PLAN_H

#include <stdint.h>

#include "../../runtime/restore_info.h"

#define PLAN_MAX_SPECIALS 8

enum plan_region_kind { PLAN_ANON = 0, PLAN_FILE = 1 };

/* How the region's pages of this image arrive (launcher/restorer/staging.h): the libc half
 * loaded and verified them into a staging mapping at plan_region.staging. */
enum plan_stage {
    PLAN_STAGE_NONE = 0,  /* no page in this image */
    PLAN_STAGE_MOVE = 1,  /* the staging mapping is moved into place (mremap) */
    PLAN_STAGE_COPY = 2,  /* mapped as before; runs with src PLAN_SRC_STAGING copied from staging */
    PLAN_STAGE_LAZY = 3,  /* mapped empty and registered with plan.lazy_uffd: the loader fills it
                             (lazy_loader.h) */
};
#define PLAN_SRC_STAGING 0xffffffffu

struct plan_region {
    uint64_t start, end;
    uint32_t prot;
    uint32_t kind;      /* plan_region_kind */
    uint32_t shared, stack;
    uint64_t file_offset;
    const char *path;   /* PLAN_FILE */
    uint64_t file_dev, file_ino;  /* PLAN_FILE: the file opened must be this one */
    uint64_t first_run, n_runs;
    uint64_t staging;   /* plan_stage: the staging mapping, of the region's size */
    uint32_t staged, pad;
};

/* Pages of a region filled by one pread: from source `src` (an index into
 * restore_plan::sources) at `src_offset`. A run of this image reads the image; a run inherited
 * from an earlier checkpoint (incremental images) reads that image; decompressed data reads a
 * staging file the libc half filled. */
struct plan_run {
    uint64_t first_page, n_pages;
    uint64_t src_offset;
    uint32_t src, pad;
};

#define PLAN_MAX_SOURCES 64

struct plan_range {
    uint64_t start, end;
};

struct plan_special {   /* a kernel mapping of this process to move to where the image had it */
    uint64_t current, len, scratch, target;
};

struct plan_sigaction {
    int32_t signo, pad;
    uint64_t handler, flags, restorer, mask;
};

struct plan_mm_map {    /* struct prctl_mm_map */
    uint64_t start_code, end_code, start_data, end_data, start_brk, brk, start_stack;
    uint64_t arg_start, arg_end, env_start, env_end;
    uint64_t auxv;
    uint32_t auxv_size, exe_fd;
};

struct plan_context {   /* image::CpuContext */
    uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
    uint32_t mxcsr;
    uint16_t fpu_cw, pad;
};

struct plan_thread {     /* a thread the blob clones (every one but the leader) */
    int32_t tid, pad;
    uint64_t fs_base;
    struct plan_context ctx;
};

struct plan_protected {  /* bytes carried over a rollback (ckpt_protect) */
    uint64_t addr, len;
    const char *data;
};

struct restore_plan {
    int32_t image_fd;   /* sources[0]; closed by the blob with the others */
    int32_t exe_fd;
    uint32_t n_sources, pad_sources;
    int32_t lazy_uffd, lazy_go_fd;  /* lazy restore: registered through, then told "go"; -1: none */
    int32_t sources[PLAN_MAX_SOURCES];
    uint64_t task_top;
    uint64_t n_keep;
    struct plan_range *keep;   /* sorted; everything else is unmapped (blob area, specials, staging) */
    uint64_t n_specials;
    struct plan_special specials[PLAN_MAX_SPECIALS];
    uint64_t n_regions;
    struct plan_region *regions;
    struct plan_run *runs;
    uint64_t n_sigactions;
    struct plan_sigaction sigactions[64];
    uint64_t altstack_sp, altstack_size;
    int32_t altstack_flags, pad;
    uint64_t sigmask;
    struct plan_mm_map mm;
    uint64_t rseq_addr;
    uint32_t rseq_len, rseq_sig;
    uint64_t fs_base;
    struct plan_context ctx;
    uint64_t restore_info_addr;
    uint64_t n_threads;
    struct plan_thread *threads;
    uint64_t n_protected;
    struct plan_protected *protected_ranges;
    struct ckpt_restore_info info;
};

/* Exit codes of the blob (the address space is gone: nothing else can be said). */
#define BLOB_EXIT_BASE 90
enum blob_step {
    BLOB_STEP_UNMAP = 1,
    BLOB_STEP_SPECIALS = 2,
    BLOB_STEP_OPEN = 3,
    BLOB_STEP_MAP = 4,
    BLOB_STEP_READ = 5,
    BLOB_STEP_PROTECT = 6,
    BLOB_STEP_SIGNALS = 7,
    BLOB_STEP_THREADS = 8,
    BLOB_STEP_LAZY = 9,
};

#ifdef __cplusplus
extern "C"
#endif
void ckpt_blob_main(struct restore_plan *plan);

#endif
