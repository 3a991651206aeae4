// A rollback's lineage: rollback() to version V abandons the timeline that went on from V, so
// every version newer than V is retired (recovery must never restore it again: its memory
// belongs with files the rollback undid). The retirement is made crash-safe by one record in
// the job directory, JOB/lineage, written before the first image is deleted and removed after
// the last:
//
//   1. check that the files can be rolled back (nothing changed yet; a failure leaves the old
//      timeline as it was);
//   2. write JOB/lineage ("rollback to V", and the retired images by version and inode) as a
//      fresh file (O_EXCL|O_NOFOLLOW, fsync) renamed into place, the directory synced;
//   3. unlink the retired images, sync the directory; 4. remove JOB/lineage, sync again;
//   5. undo the files to V (the retired epochs' logs are undone and removed with the others).
//
// Every recovery first calls resolve_lineage(): a lineage record left by a rollback that died
// between 2 and 4 is completed in the same direction (the images it names, if they are still
// the very files, go), so a crash anywhere resolves towards V. Version numbers are reused: the
// checkpoint after a rollback to V is V+1 again, its epoch logs fresh.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ckpt::persist {

struct Retirement {
    bool ok = true;
    std::string error;
    uint64_t target = 0;             // the version rolled back to (resolve_lineage: 0 if none pending)
    std::vector<uint64_t> retired;   // versions removed
};

// Steps 2-4 above for a rollback to `version` of the job directory. test_stop_after_record (tests
// only): return after step 2, as if the process died there.
Retirement retire_newer(const std::string &job_dir, uint64_t version, bool test_stop_after_record = false);

// Completes a retirement a dead rollback left half done; also removes the protected-bytes
// files (.protected-PID) of rollbacks that never finished: protected values cross a rollback,
// never a crash recovery.
Retirement resolve_lineage(const std::string &job_dir);

}  // namespace ckpt::persist
