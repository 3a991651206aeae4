/* What the restorer hands to the restored runtime. The blob copies this struct into the
 * restored process at ProcessRecord::restore_info_addr just before jumping back into the
 * checkpoint handler, which then reads it to finish the restore with a working libc.
 * C-compatible: the blob is C. */
#ifndef CKPT_RESTORE_INFO_H
#define CKPT_RESTORE_INFO_H

#include <stdint.h>

#define CKPT_RESTORE_INFO_MAGIC 0x4f464e4954534552ull /* "RESTINFO" */
#define CKPT_PATH_MAX 4096

struct ckpt_restore_info {
    uint64_t magic;
    uint64_t version;            /* checkpoint version restored from */
    uint64_t restorer_start_ns;  /* CLOCK_MONOTONIC when the restorer started */
    uint64_t blob_addr, blob_len;/* the restorer's leftover area, unmapped by the runtime */
    int32_t status_fd;           /* pipe to the new launcher, -1 if none */
    int32_t launcher_pid;
    int32_t mm_map_result;       /* prctl(PR_SET_MM_MAP): 0 or -errno */
    int32_t rseq_result;         /* rseq registration: 0 or -errno */
    int32_t exe_result;          /* exe link update: 0 or -errno */
    uint32_t umask;
    uint64_t fds, n_fds;         /* descriptor records (image::FdCommon + payload, one after the
                                    other, as in the image) in the blob area (still mapped on arrival) */
    uint64_t strings;            /* the image's string table, in the blob area */
    uint64_t cwd;                /* working directory at checkpoint time, in the blob area */
    uint64_t attrs, attrs_size;  /* the image's process-attributes section, in the blob area (0: none) */
    int32_t rollback_value;      /* > 0: restored by rollback(), chkpnt() returns this; 0: recovery */
    int32_t signal;              /* the new launcher's checkpoint signal, 0 without launcher */
    int32_t compress_level;      /* the new launcher's --compress level (CKPT_COMPRESS), 0: off */
    int32_t lazy_fd;             /* lazy restore: end of file once every page is loaded; -1: none */
    char job_dir[CKPT_PATH_MAX]; /* the launcher's job directory, which may have moved */
};

#endif
