// Messages from the runtime inside the program to its launcher, over a SOCK_SEQPACKET
// socketpair: one fixed-size record per message, never interleaved, and sent with
// MSG_NOSIGNAL, so that a launcher that died leaves an EPIPE, never a SIGPIPE. Written from
// the checkpoint signal handler with a raw write(): no formatting, no allocation; the launcher
// turns them into log lines.
#pragma once

#include <stdint.h>

namespace ckpt {

enum class StatusType : uint32_t {
    Ready = 1,            // runtime initialised, the checkpoint signal may be sent
    CheckpointDone = 2,   // version committed
    CheckpointFailed = 3, // err = errno, text = what failed
    CheckpointRefused = 4,// the process is in a state not supported yet (text says why)
    Restored = 5,         // version restored; ns_a = restorer start, ns_b = running again
    RestoreWarning = 6,   // something could not be restored exactly (text says what)
    Heartbeat = 7,        // ckpt_heartbeat(): the program is alive
    SetInterval = 8,      // ckpt_set_interval(): ns_a = new interval in ns (0 = none)
    SetKeep = 9,          // ckpt_keep(): version = 1 keep checkpoints after exit 0, 0 = not
    Warning = 10,         // anything else worth a log line (text)
    PollAnswer = 11,      // answer to the watchdog's poll; version = the poll's sequence number
    UndoFailure = 12,      // undo data for a file change could not be recorded: err = errno,
                          // text = the file, version = epoch, bytes = 1 if the change went ahead
                          // unprotected (--on-undo-failure=proceed), 0 if the call failed
    CheckpointDeferred = 13,  // the signal came inside a wrapper's record-and-change section: the
                          // checkpoint is taken when the call returns (text says why)
    CheckpointWriting = 14,   // a forked writer (pid ns_b) writes version `version`; the program
                          // went on after ns_a (its pause). CheckpointDone/Failed follow from
                          // the writer, or the launcher finds it dead.
    ForkUnsafe = 15,      // the forked writer cannot see all memory (text says which region):
                          // ask for synchronous checkpoints (kSyncTag) from now on
    LazyFailed = 16,      // from the lazy restore's loader (pid: the program's): page data of
                          // version `version` failed its check after the program ran again
                          // (text says what); the loader has killed the program
    Staged = 17,          // from the restorer started by ckpt-run: the page data of version
                          // `version` is loaded and checked, nothing is torn down yet. It waits
                          // for the launcher's answer, a record of the same type: err 0, the
                          // files are rolled back to that version, go on; else stop (exit
                          // kUndoFailed). A damaged image thus never costs a file rollback, and
                          // the image is read once (launcher/restorer/files_handshake.h).
};

struct StatusMessage {
    uint32_t magic;  // kStatusMagic
    StatusType type;
    int32_t pid;
    int32_t err;
    uint64_t version;
    uint64_t bytes;  // image size
    uint64_t ns_a;   // CheckpointDone: pause; Restored: restorer start (CLOCK_MONOTONIC)
    uint64_t ns_b;   // Restored: when the program runs again (CLOCK_MONOTONIC)
    char text[88];
};
static_assert(sizeof(StatusMessage) == 136);

inline constexpr uint32_t kStatusMagic = 0x434b5054;  // "CKPT"

// The launcher places its end of the status pipe at this descriptor in the program, high
// enough to stay out of the way of the program's own descriptors.
inline constexpr int kStatusFd = 1001;

// The job's lock file (flock()ed by the launcher), inherited by the program at this descriptor,
// just below the status socket: the lock stays held for as long as any process of the job runs,
// even after the launcher died (docs/ckpt-run.md, "When ckpt-run dies").
inline constexpr int kLockFd = kStatusFd - 1;

// The watchdog's active poll: the checkpoint signal sent with sigqueue() and a value whose
// high half is this tag (low half: sequence number). The handler answers instead of
// checkpointing.
inline constexpr uint32_t kPollTag = 0x504f;  // "PO"

// A checkpoint request sent with sigqueue() and this tag in the value's high half: written
// synchronously, never by a forked writer (--no-fork, or after ForkUnsafe).
inline constexpr uint32_t kSyncTag = 0x5359;  // "SY"

}  // namespace ckpt
