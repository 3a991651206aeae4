// Recovery of the persistent state (launcher side, with libc): before version V is restored, or
// before a fresh start (V = 0), every epoch K >= V is undone, newest first, each epoch's records
// in reverse order. Undo is idempotent and restartable: before a record is applied, a progress
// file says (durably: fdatasync) how many records are done and which object (dev, inode) the
// next one acts on; the undo acts only on that object (a rename only on the inode it moved, a
// created file only if it is the one the first attempt found), every single step can be
// repeated, and an epoch's log is deleted only after all of it is undone (and synced). A crash
// anywhere in a recovery followed by a new recovery ends in the same state. A record that
// cannot be applied fails the recovery, unless UndoOptions::accept_loss.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "foreign_growth.h"

namespace ckpt::persist {

struct UndoOptions {
    // Exclusion patterns (as given to the runtime: absolute paths/globs or component globs).
    // Records for excluded paths are skipped; built-ins (/proc, /sys, /dev, the job directory)
    // always apply.
    std::vector<std::string> exclude;
    // Restore-time changes to the table (patent steps 815-820): paths left as they are now
    // (--no-undo), and paths never touched (the NEW side of --replace-file). Absolute; a
    // directory covers what is below it.
    std::vector<std::string> no_undo;
    std::vector<std::string> keep;
    // --on-undo-failure=proceed: undo data found damaged or missing before the undo (see
    // check_undo) does not stop the recovery; what cannot be undone is left as it is and listed
    // in UndoResult::lost. Without it, such a recovery changes nothing and fails. The same for
    // files another process extended (find_foreign_growth): without it nothing is changed and
    // UndoResult::foreign names them; with it they keep their current size (everything else
    // about them is undone).
    bool accept_loss = false;
    // For tests only (no command-line option reaches these): stop, as if the launcher died,
    // after this many records were undone in total (stop_after), or before the change number
    // test_stop_step (every change the recovery makes counts: each rename, unlink, write,
    // truncate, chown, chmod, utimens, mkdir, progress write, the removal of an undone epoch).
    // test_drop_progress: when the last change before the stop was a progress write, it is
    // taken back, as if it never reached the disk.
    uint64_t stop_after = UINT64_MAX;
    uint64_t test_stop_step = UINT64_MAX;
    bool test_drop_progress = false;
    // Messages: level 0 = info, 1 = warning, 2 = error.
    std::function<void(int, const std::string &)> log;
};

struct UndoResult {
    bool ok = true;          // false: an epoch could not be undone at all; do not restore
    bool stopped = false;    // stop_after or test_stop_step reached
    uint64_t epochs = 0;     // epochs fully undone and removed
    uint64_t undone = 0;     // records applied
    uint64_t skipped = 0;    // records skipped (exclusions, --no-undo, replace targets)
    uint64_t failed = 0;     // accept_loss: records that could not be applied (logged as errors)
    std::vector<std::string> warnings;
    std::vector<std::string> lost;  // accept_loss: what check_undo found and was not rolled back
    std::string error;             // !ok: why (a record that cannot be applied is named)
    std::vector<ForeignGrowth> foreign;  // files another process extended (refused, or kept with accept_loss)
};

// Undoes every epoch >= version of the job directory. First checks (check_undo) that all of it
// can be undone: if not, and !opts.accept_loss, nothing is changed and ok is false.
UndoResult undo_to(const std::string &job_dir, uint64_t version, const UndoOptions &opts);

struct PctLog;

// The records undone of a log so far, from its progress file's bytes: 0 unless they are a
// valid progress record of that epoch and log instance (nonce).
uint64_t parse_progress(const void *data, size_t size, uint64_t epoch, uint64_t nonce);

// What undo_to() does with one epoch's log after `done` records were undone: each remaining
// record, newest first, applied or skipped (excluded, --no-undo, --replace-file). Touches
// nothing (tests, the fuzz target).
struct UndoStep {
    size_t record;  // index into log.records
    bool skip;
};
std::vector<UndoStep> plan_undo(const PctLog &log, uint64_t done, const std::string &job_dir, const UndoOptions &opts);

// Can the files be brought back to how they were at version `version` (0: the program's start)?
// Checks, changing nothing, all that undo_to would use: each epoch's log (missing though an
// image started it, a short header, cut short before its Seal, records failing their checksum,
// not yours), the old data of every Data record, every kept object of a Removed record (there,
// the very object, its checksum), changes recorded as unprotected. One message per problem;
// empty: yes. Records undo_to would skip (exclusions, --no-undo) are not checked.
std::vector<std::string> check_undo(const std::string &job_dir, uint64_t version, const UndoOptions &opts = {});

// The files an undo to `version` would cut bytes off that another process appended
// (find_foreign_growth, with the records undo_to would skip left out). Changes nothing.
std::vector<ForeignGrowth> check_growth(const std::string &job_dir, uint64_t version, const UndoOptions &opts = {});

// The same check for one epoch (ckptctl verify).
std::vector<std::string> check_epoch(const std::string &job_dir, uint64_t epoch);

// Deletes the logs and undo data of every epoch older than `oldest_kept_version`: only versions
// that no longer exist could need them.
void prune_epochs(const std::string &job_dir, uint64_t oldest_kept_version);

// rm -r without following symbolic links. False on the first failure.
bool remove_tree(const std::string &path);

}  // namespace ckpt::persist
