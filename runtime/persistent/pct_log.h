// The epoch's log writer: pct-K.log (records, pct_format.h) and undo-K/ (kept objects) in the
// job directory, opened on first use, descriptors kept above the program's range. Records
// are assembled in g_buf (header | paths | data) and appended whole.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "pct_format.h"

namespace ckpt::persist {

struct LogState {
    uint64_t epoch = 0;
    int fd = -1;
    int undo_dir_fd = -1;
    bool created = false;      // the log file exists for this epoch (reopen without truncating)
    bool dir_synced = false;   // its directory entry is durable
    bool undo_dirty = false;   // undo-K/ changed since the last sync
    uint64_t end = 0;
    uint64_t synced_end = 0;   // the log is durable up to here
    uint64_t seq = 0;
    uint64_t next_undo_id = 1;
    uint64_t nonce = 0;
};
extern LogState g_log;

constexpr int kInternalFdBase = 1002;  // above the status pipe (1001), out of the program's way
constexpr size_t kBufSize = pct::kMaxDataChunk + 3 * pct::kMaxPath;
extern char *g_buf;  // record assembly (slow path only)

int ensure_buf();       // 0 or ENOMEM
int ensure_log();       // 0 or an errno
int ensure_undo_dir();  // 0 or an errno

struct RecordArgs {
    pct::Kind kind;
    uint16_t flags = 0;
    const char *path = "";
    const char *path2 = "";
    int64_t offset = 0;
    uint64_t undo_id = 0;
    int32_t err = 0;
    const struct stat *st = nullptr;  // META / RMDIR / REMOVED: old attributes and identity
    uint64_t ino = 0;                 // RENAME: the moved object
    uint64_t kept_checksum = 0;       // REMOVED with kKeptChecksum
};

// Assembles the record in g_buf (data, if any, already at its place) and appends it.
int emit(const RecordArgs &a, uint64_t data_len = 0);
// Position of the data area for a record with these paths (to read old bytes straight there).
char *data_area(const char *path, const char *path2 = "");

// Is everything recorded so far durable already?
inline bool log_synced()
{
    return (g_log.fd < 0 || g_log.synced_end >= g_log.end) && !g_log.undo_dirty &&
           (!g_log.created || g_log.dir_synced);
}
// Makes what is recorded so far durable: the log's data, undo-K/'s entries and the log's own
// directory entry. 0 or an errno.
int sync_log();

// Writes the header of a new log file. 0 or -errno.
long write_log_header(int fd, uint64_t epoch, uint32_t flags, uint64_t created_ns, uint64_t prev_nonce,
                      uint64_t nonce);

int move_high(long fd);  // a descriptor moved to kInternalFdBase or above
void job_path(char *out, size_t cap, const char *name);
long open_job_dir();  // its last component never a link
uint64_t realtime_ns();

}  // namespace ckpt::persist
