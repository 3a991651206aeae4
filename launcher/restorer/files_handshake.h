// The restorer's handshake with ckpt-run over the status socket (StatusType::Staged): the
// files go back to the checkpoint only once the image has been read and found whole, and the
// image is read once. Before it, ckpt-run read and checked every block itself before the
// rollback, and the restorer read them again.
//
//   ckpt-run                          ckpt-restore
//                                     reads the image, stages and checks every page
//              <---- Staged --------
//   rolls the files back
//              ----- Staged, err ---> err 0: checks the open files, goes on to the blob
//                                     else: exits (kUndoFailed), nothing torn down
#pragma once

#include <cstdint>
#include <string>

namespace ckpt::restorer {

// The status socket when ckpt-run asked for the handshake (CKPT_RESTORE_HANDSHAKE=1 with
// CKPT_STATUS_FD), else -1: `ckpt-restore` run by hand, and rollback(), whose runtime has
// rolled the files back itself, go on at once.
int handshake_fd();

// Tells the launcher that version `version` is staged and waits for its answer. True: the
// files are rolled back. False, with `why`: stop (the launcher could not roll them back, or
// is gone).
bool wait_for_files(int fd, uint64_t version, std::string &why);

}  // namespace ckpt::restorer
