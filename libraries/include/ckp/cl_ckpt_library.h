/* Library-based checkpoints of the OpenClovis checkpoint service (source document 004,
 * chapters 2.2.1, 3.1 and 3.3): checkpoints made of datasets, each packed and unpacked by the
 * application's serializer and deserializer, stored persistently (they survive the
 * application's and the machine's restart). Link with -lckp. See docs/libraries.md.
 *
 * Storage: one SQLite database (WAL mode), $CL_CKPT_LIBRARY_DB, else
 * $XDG_STATE_HOME/ckp/cl_ckpt_library.db (~/.local/state/ckp/cl_ckpt_library.db). Every write
 * is one transaction: a crash leaves the previous contents of the dataset or element. Stored
 * data carries a checksum; data that fails it is reported (CL_CKPT_ERR_CORRUPTED), never
 * handed to a deserializer.
 *
 * Return codes (ckp/cl_common.h): CL_OK, or the CL_CKPT_ERR_* code the document lists for the
 * call (compare with CL_GET_ERROR_CODE(rc) == CL_ERR_...). Beyond the document's lists:
 * CL_CKPT_ERR_NOT_EXIST for an operation on a checkpoint that does not exist,
 * CL_CKPT_ERR_INVALID_PARAMETER for a name of length 0 or above CL_MAX_NAME_LENGTH,
 * CL_CKPT_ERR_IO when the database cannot be used, CL_CKPT_ERR_NO_MEMORY when the library runs
 * out of memory (nothing is changed), CL_CKPT_ERR_CORRUPTED as above, and
 * CL_CKPT_ERR_VERSION_MISMATCH for a database of a newer schema. A serializer's or
 * deserializer's own error code is returned as it is (nothing is stored then). */
#ifndef CKP_CL_CKPT_LIBRARY_H
#define CKP_CL_CKPT_LIBRARY_H

#include <ckp/cl_common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The handle of an initialization of the service (3.2.1; the same type as ckp/cl_ckpt.h's). */
typedef ClHandleT ClCkptSvcHdlT;

/* 3.1.1: packs dataset (or element) `dsId` for storing. The serializer allocates the buffer
 * with malloc() and returns it in *pBuffer with its length in *pLen; the library frees it.
 * Returning CL_OK with *pLen == 0 stores empty data. */
typedef ClRcT (*ClCkptSerializeT)(ClUInt32T dsId, ClAddrT *pBuffer, ClUInt32T *pLen, ClHandleT cookie);
/* 3.1.2: unpacks stored data: *pBuffer holds *pLen bytes, owned by the library (valid during
 * the call only). */
typedef ClRcT (*ClCkptDeserializeT)(ClUInt32T dsId, ClAddrT *pBuffer, ClUInt32T *pLen, ClHandleT cookie);

ClRcT clCkptLibraryInitialize(CL_INOUT ClCkptSvcHdlT *pCkptHdl);
ClRcT clCkptLibraryFinalize(CL_IN ClCkptSvcHdlT ckptHdl);

/* Creates the checkpoint, or opens the stored one of that name (after a restart). */
ClRcT clCkptLibraryCkptCreate(CL_IN ClCkptSvcHdlT ckptHdl, CL_IN ClNameT *pCkptName);
/* Deletes the checkpoint with its datasets and elements. */
ClRcT clCkptLibraryCkptDelete(CL_IN ClCkptSvcHdlT ckptHdl, CL_IN ClNameT *pCkptName);

/* Creates the dataset (or, when it is stored already, attaches the callbacks to it for this
 * initialization). grpId and order are stored, not interpreted (as in the document). */
ClRcT clCkptLibraryCkptDataSetCreate(CL_IN ClCkptSvcHdlT ckptHdl, CL_IN ClNameT *pCkptName, CL_IN ClUInt32T dsId,
                                     CL_IN ClUInt32T grpId, CL_IN ClUInt32T order,
                                     CL_IN ClCkptSerializeT dsSerialiser, CL_IN ClCkptDeserializeT dsDeserialiser);
ClRcT clCkptLibraryCkptDataSetDelete(CL_IN ClCkptSvcHdlT ckptHdl, CL_IN ClNameT *pCkptName, CL_IN ClUInt32T dsId);
/* Serializes the dataset (its serializer, with `cookie`) and stores it, replacing the previous. */
ClRcT clCkptLibraryCkptDataSetWrite(CL_IN ClCkptSvcHdlT ckptHdl, CL_IN ClNameT *pCkptName, CL_IN ClUInt32T dsId,
                                    CL_IN ClHandleT cookie);
/* Hands the stored dataset to its deserializer, then each stored element (in the order of their
 * identifiers' bytes) to the element deserializer, if one was created in this initialization.
 * CL_CKPT_ERR_NOT_EXIST if the dataset was never written. */
ClRcT clCkptLibraryCkptDataSetRead(CL_IN ClCkptSvcHdlT ckptHdl, CL_IN ClNameT *pCkptName, CL_IN ClUInt32T dsId,
                                   CL_IN ClHandleT cookie);

ClRcT clCkptLibraryDoesCkptExist(CL_IN ClCkptSvcHdlT ckptHdl, CL_IN ClNameT *pCkptName, CL_OUT ClBoolT *pRetVal);
ClRcT clCkptLibraryDoesDatasetExist(CL_IN ClCkptSvcHdlT ckptHdl, CL_IN ClNameT *pCkptName, CL_IN ClUInt32T dsId,
                                    CL_OUT ClBoolT *pRetVal);

/* Attaches the element serializer and deserializer to the dataset (for this initialization). */
ClRcT clCkptLibraryCkptElementCreate(CL_IN ClCkptSvcHdlT ckptHdl, CL_IN ClNameT *pCkptName, CL_IN ClUInt32T dsId,
                                     CL_IN ClCkptSerializeT elemSerialiser,
                                     CL_IN ClCkptDeserializeT elemDeserialiser);
/* Serializes one element (identified by the elemLen bytes at elemId) and stores it. */
ClRcT clCkptLibraryCkptElementWrite(CL_IN ClCkptSvcHdlT ckptHdl, CL_IN ClNameT *pCkptName, CL_IN ClUInt32T dsId,
                                    CL_IN ClPtrT elemId, CL_IN ClUInt32T elemLen, CL_IN ClHandleT cookie);

#ifdef __cplusplus
}
#endif
#endif
