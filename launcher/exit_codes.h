// Exit codes of ckpt-run, ckptctl and ckpt-restore for their own failures (docs/cli.md).
// sysexits(3) where one fits; ckpt-specific ones above its range. When the program itself
// exits, ckpt-run exits with the program's status instead (128+N for death by signal N).
#pragma once

namespace ckpt::exit_code {

inline constexpr int kOk = 0;
inline constexpr int kUsage = 64;          // EX_USAGE: bad option or argument
inline constexpr int kBadImage = 65;       // EX_DATAERR: image corrupt, truncated, unreadable
inline constexpr int kNoInput = 66;        // EX_NOINPUT: no such job, image, or file it needs
inline constexpr int kUnavailable = 69;    // EX_UNAVAILABLE: ckptctl checkpoint: no launcher runs the job
inline constexpr int kSoftware = 70;       // EX_SOFTWARE: internal error
inline constexpr int kOsError = 71;        // EX_OSERR: fork, mmap, ... failed
inline constexpr int kCantCreate = 73;     // EX_CANTCREAT: checkpoint directory not usable
inline constexpr int kTempFail = 75;       // EX_TEMPFAIL: the job is already running
inline constexpr int kNoPermission = 77;   // EX_NOPERM: permission denied on the root or job directory
inline constexpr int kStaleImage = 79;     // a file the image maps has changed
inline constexpr int kRestoreFailed = 80;  // restore failed after the old process was gone
inline constexpr int kTimeout = 81;        // ckptctl checkpoint: no checkpoint in time
inline constexpr int kCheckpointFailed = 82;  // ckptctl checkpoint: the runtime reported failure
inline constexpr int kUndoFailed = 83;     // the persistent state could not be rolled back
inline constexpr int kWrongProgram = 84;   // the job's checkpoints are of another command
// Another process appended to a file the program changed since the checkpoint: the recovery
// would cut its bytes off. Refused with one message naming the files and byte counts; nothing
// rolled back, checkpoints kept (--on-undo-failure=proceed keeps the bytes and goes on).
inline constexpr int kForeignAppends = 85;
inline constexpr int kNotJobDir = 86;      // ROOT/NAME exists but is not a ckpt job directory (no marker)
// Not provably yours: a root or job directory owned by someone else, writable by others
// without the sticky bit, or a symbolic link; an image, PCT log or undo directory not owned by
// you with mode 0600 (0700). Refused, nothing run, rolled back or removed.
inline constexpr int kUntrusted = 87;
// The restoring user cannot give the process back an attribute it had (credentials it may not
// take, a hard limit above its own, a capability, a lock another process holds now): refused
// before anything is torn down, with one message naming them; checkpoints kept.
inline constexpr int kAttrsRefused = 88;
// The image was taken on another kernel release, vdso, CPU (XSAVE features, CPUID bits) or
// glibc build: refused before anything is torn down, naming the difference; checkpoints kept.
inline constexpr int kIncompatible = 89;
inline constexpr int kNotExecutable = 126; // shell convention
inline constexpr int kNotFound = 127;      // shell convention

}  // namespace ckpt::exit_code
