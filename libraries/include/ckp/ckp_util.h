/* ckp_util: named memory regions saved in versions to a checkpoint file (source document 000).
 *
 * A checkpoint "file" is two files: PATH (the data) and PATH.idx (the index). Every save
 * appends a new version of a region; a region is restored by version: absolute 1..N, or
 * relative 0 (the newest), -1 (the one before), ..., -N+1. Link with -lckp
 * (pkg-config --cflags --libs ckp). See docs/libraries.md.
 *
 * Every function returns 0 on success or an errno value, as the document's library does:
 *   EINVAL   a NULL handle or argument, an empty name, options other than NULL or ""
 *   EEXIST   ckpRegister: a region of that name is already registered with the file
 *   ENOENT   ckpOpen of a file that cannot be created; ckpRestore: the region was never saved
 *   ERANGE   ckpRestore/ckpRestoreAll: no such version
 *   EMSGSIZE ckpRestore: the saved version's size differs from the registered size
 *   EPROTO   ckpOpen: not a ckp_util checkpoint file, or one of a newer format
 *   EBADMSG  ckpOpen: the index is damaged; ckpRestore: the version's data fails its checksum
 *            (the region is left as it was)
 *   EBUSY    ckpOpen: the file is already open for saving (here or in another process)
 *   ENOMEM   out of memory (nothing is saved, restored or registered)
 *   and the error of the file system (ENOSPC, EIO, EACCES, ...).
 * A save is durable when ckpSave/ckpSaveAll returns 0. A crash during a save leaves the
 * previous version the newest; ckpSaveAll saves all of the file's regions or none. */
#ifndef CKP_CKP_UTIL_H
#define CKP_CKP_UTIL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _CheckpointFile *CheckpointFile;
typedef struct _Checkpoint *Checkpoint;

/* Opens (or creates) the checkpoint file `pathname` (+ `pathname`.idx). `options`: NULL or "". */
int ckpOpen(const char *pathname, const char *options, CheckpointFile *file);
/* Unregisters the file's checkpoints and closes it. */
int ckpClose(CheckpointFile file);

/* Registers `size` bytes at `address` as the checkpoint `name` of `file`. */
int ckpRegister(CheckpointFile file, const char *name, void *address, size_t size, Checkpoint *checkpoint);
int ckpUnregister(Checkpoint checkpoint);
/* The registered checkpoint called `name`, or NULL (errno ENOENT, or EINVAL for NULL arguments). */
Checkpoint ckpLocate(CheckpointFile file, const char *name);

/* Appends the region's current contents as its newest version. */
int ckpSave(Checkpoint checkpoint);
/* Appends every registered region of the file, atomically (all of them or none). */
int ckpSaveAll(CheckpointFile file);
/* Copies version `version` of the region back into its (current) address. */
int ckpRestore(Checkpoint checkpoint, int version);
/* Restores every registered region of the file; all are checked before any is written, so
 * either every region is restored or none is. */
int ckpRestoreAll(CheckpointFile file, int version);

/* Beyond the document: the number of saved versions of the region (0 if none), or -1 with
 * errno EINVAL. */
int ckpVersions(Checkpoint checkpoint);

#ifdef __cplusplus
}
#endif
#endif
