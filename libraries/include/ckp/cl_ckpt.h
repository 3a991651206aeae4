/* The server-based checkpoint service (CPS) of the OpenClovis checkpoint document
 * (../shared/seeds/004, chapters 2.2.2, 3.2, 3.4, 3.5), kept in etcd.
 *
 * Link with libckp_cps (pkg-config ckp-cps). The store is the etcd cluster named by
 * CKPT_CPS_ENDPOINTS (comma-separated http://host:port), else the endpoints line of the config
 * file ($CKPT_CPS_CONFIG, default ~/.config/ckpt/cps.conf), else the embedded single-member etcd
 * that `ckptctl cps serve` starts. How each call maps onto etcd: docs/cps.md.
 *
 * Return codes are those of ckp/cl_common.h with the checkpoint component (CL_CID_CKPT);
 * compare them with CL_GET_ERROR_CODE() where the document names the unqualified CL_ERR_*.
 * Callbacks run only inside clCkptDispatch(), in the caller's thread. */
#ifndef CKP_CL_CKPT_H
#define CKP_CL_CKPT_H

#include <ckp/cl_common.h>

#ifdef __cplusplus
extern "C" {
#endif
/* The library is built with hidden visibility; these are its interface. */
#pragma GCC visibility push(default)

typedef ClInt64T ClOffsetT;

/* 3.2.1 - 3.2.3: handles */
typedef ClHandleT ClCkptSvcHdlT;
typedef ClHandleT ClCkptSecItrHdlT;
typedef ClHandleT ClCkptHdlT;

/* 3.2.4: creation flags (bitwise OR; exactly one of the first three) */
typedef ClUInt32T ClCkptCreationFlagsT;
#define CL_CKPT_WR_ALL_REPLICAS 0x1u          /* synchronous */
#define CL_CKPT_WR_ACTIVE_REPLICA 0x2u        /* asynchronous */
#define CL_CKPT_WR_ACTIVE_REPLICA_WEAK 0x4u   /* asynchronous, weak */
#define CL_CKPT_CHECKPOINT_COLLOCATED 0x8u    /* asynchronous, active replica chosen by the user */
#define CL_CKPT_WR_CHECKPOINT_COLLOCATED CL_CKPT_CHECKPOINT_COLLOCATED

/* 3.2.5: open flags */
typedef ClUInt32T ClCkptOpenFlagsT;
#define CL_CKPT_CHECKPOINT_READ 0x1u
#define CL_CKPT_CHECKPOINT_WRITE 0x2u
#define CL_CKPT_CHECKPOINT_CREATE 0x4u

/* 3.2.6 */
typedef ClUInt32T ClCkptSelectionObjT;

/* 3.2.17, 3.2.18: callbacks */
typedef void (*ClCkptCheckpointOpenCallbackT)(ClInvocationT invocation, ClCkptHdlT checkpointHandle,
                                              ClRcT error);
typedef void (*ClCkptCheckpointSynchronizeCallbackT)(ClInvocationT invocation, ClRcT error);

/* 3.2.7 */
typedef struct {
    ClCkptCheckpointOpenCallbackT checkpointOpenCallback;
    ClCkptCheckpointSynchronizeCallbackT checkpointSynchronizeCallback;
} ClCkptCallbacksT;

/* 3.2.8 */
typedef struct {
    ClSizeT checkpointSize;
    ClCkptCreationFlagsT creationFlags;
    ClSizeT maxSectionIdSize;
    ClUInt32T maxSections;
    ClUInt32T maxSectionSize;
    ClTimeT retentionDuration; /* ns; CL_TIME_END: kept forever */
} ClCkptCheckpointCreationAttributesT;

/* 3.2.9 */
typedef struct {
    ClCkptCheckpointCreationAttributesT checkpointCreationAttributes;
    ClUInt32T memoryUsed;
    ClUInt32T numberOfSections;
} ClCkptCheckpointDescriptorT;

/* 3.2.11: the default section has idLen 0 (CL_CKPT_DEFAULT_SECTION_ID) */
typedef struct {
    ClUInt8T *id;
    ClUInt16T idLen;
} ClCkptSectionIdT;
#define CL_CKPT_DEFAULT_SECTION_ID {(ClUInt8T *)0, 0}

/* 3.2.10: expirationTime is absolute (ns since the Unix epoch); CL_TIME_END: never */
typedef struct {
    ClTimeT expirationTime;
    ClCkptSectionIdT *sectionId;
} ClCkptSectionCreationAttributesT;

/* 3.2.12 */
typedef enum { CL_CKPT_SECTION_VALID = 1, CL_CKPT_SECTION_CORRUPTED = 2 } ClCkptSectionStateT;

/* 3.2.13: sectionId.id points into the iteration and stays valid until its next call */
typedef struct {
    ClCkptSectionIdT sectionId;
    ClTimeT expirationTime;
    ClSizeT sectionSize;
    ClCkptSectionStateT sectionState;
    ClTimeT lastUpdate;
} ClCkptSectionDescriptorT;

/* 3.2.14 */
typedef enum {
    CL_CKPT_SECTIONS_FOREVER,
    CL_CKPT_SECTIONS_LEQ_EXPIRATION_TIME,
    CL_CKPT_SECTIONS_GEQ_EXPIRATION_TIME,
    CL_CKPT_SECTIONS_CORRUPTED,
    CL_CKPT_SECTIONS_ANY
} ClCkptSectionsChosenT;

/* 3.2.15: a read with dataBuffer NULL gets a buffer from malloc(); the caller free()s it */
typedef struct {
    ClPtrT dataBuffer;
    ClOffsetT dataOffset;
    ClSizeT dataSize;
    ClSizeT readSize;
    ClCkptSectionIdT sectionId;
} ClCkptIOVectorElementT;

/* 3.2.16: called once per committed change of the checkpoint's sections, in commit order; a
 * read on ckptHdl inside the callback sees the checkpoint as of that change. */
typedef ClRcT (*ClCkptNotificationCallbackT)(ClNameT *pName, ClCkptHdlT ckptHdl);

/* The version this library implements: {'B', 1, 1}. */
#define CL_CKPT_RELEASE_CODE 'B'
#define CL_CKPT_MAJOR_VERSION 1
#define CL_CKPT_MINOR_VERSION 1

/* 3.4: life cycle */
ClRcT clCkptInitialize(CL_OUT ClCkptSvcHdlT *ckptSvcHandle, CL_IN const ClCkptCallbacksT *callbacks,
                       CL_INOUT ClVersionT *version);
ClRcT clCkptSelectionObjectGet(CL_IN ClCkptSvcHdlT ckptHandle, CL_OUT ClSelectionObjectT *pSelectionObject);
ClRcT clCkptDispatch(CL_IN ClCkptSvcHdlT ckptHandle, CL_IN ClDispatchFlagsT dispatchFlags);
ClRcT clCkptFinalize(CL_IN ClCkptSvcHdlT ckptHandle);

/* 3.5: functional API; timeout in ns (0: the service's default, CKPT_CPS_TIMEOUT_MS) */
ClRcT clCkptCheckpointOpen(CL_IN ClCkptSvcHdlT ckptHandle, CL_IN const ClNameT *checkpointName,
                           CL_IN const ClCkptCheckpointCreationAttributesT *checkpointCreationAttributes,
                           CL_IN ClCkptOpenFlagsT checkpointOpenFlags, CL_IN ClTimeT timeout,
                           CL_OUT ClCkptHdlT *checkpointHandle);
ClRcT clCkptCheckpointOpenAsync(CL_IN ClCkptSvcHdlT ckptHandle, CL_IN ClInvocationT invocation,
                                CL_IN const ClNameT *checkpointName,
                                CL_IN const ClCkptCheckpointCreationAttributesT *checkpointCreationAttributes,
                                CL_IN ClCkptOpenFlagsT checkpointOpenFlags);
ClRcT clCkptCheckpointClose(CL_IN ClCkptHdlT checkpointHandle);
ClRcT clCkptCheckpointDelete(CL_IN ClCkptSvcHdlT ckptHandle, CL_IN const ClNameT *checkpointName);
ClRcT clCkptCheckpointRetentionDurationSet(CL_IN ClCkptHdlT checkpointHandle, CL_IN ClTimeT retentionDuration);
ClRcT clCkptActiveReplicaSet(CL_IN ClCkptHdlT checkpointHandle);
ClRcT clCkptCheckpointStatusGet(CL_IN ClCkptHdlT checkpointHandle,
                                CL_OUT ClCkptCheckpointDescriptorT *checkpointStatus);
ClRcT clCkptSectionCreate(CL_IN ClCkptHdlT checkpointHandle,
                          CL_IN ClCkptSectionCreationAttributesT *sectionCreationAttributes,
                          CL_IN const ClUInt8T *initialData, CL_IN ClSizeT initialDataSize);
ClRcT clCkptSectionDelete(CL_IN ClCkptHdlT checkpointHandle, CL_IN const ClCkptSectionIdT *sectionId);
ClRcT clCkptSectionExpirationTimeSet(CL_IN ClCkptHdlT checkpointHandle, CL_IN const ClCkptSectionIdT *sectionId,
                                     CL_IN ClTimeT expirationTime);
ClRcT clCkptSectionIterationInitialize(CL_IN ClCkptHdlT checkpointHandle, CL_IN ClCkptSectionsChosenT sectionsChosen,
                                       CL_IN ClTimeT expirationTime, CL_OUT ClHandleT *sectionIterationHandle);
ClRcT clCkptSectionIterationNext(CL_IN ClHandleT sectionIterationHandle,
                                 CL_OUT ClCkptSectionDescriptorT *sectionDescriptor);
ClRcT clCkptSectionIterationFinalize(CL_IN ClHandleT sectionIterationHandle);
ClRcT clCkptCheckpointWrite(CL_IN ClCkptHdlT checkpointHandle, CL_IN const ClCkptIOVectorElementT *ioVector,
                            CL_IN ClUInt32T numberOfElements, CL_OUT ClUInt32T *erroneousVectorIndex);
ClRcT clCkptSectionOverwrite(CL_IN ClCkptHdlT checkpointHandle, CL_IN const ClCkptSectionIdT *sectionId,
                             CL_IN const void *dataBuffer, CL_IN ClSizeT dataSize);
ClRcT clCkptCheckpointRead(CL_IN ClCkptHdlT checkpointHandle, CL_INOUT ClCkptIOVectorElementT *ioVector,
                           CL_IN ClUInt32T numberOfElements, CL_OUT ClUInt32T *erroneousVectorIndex);
ClRcT clCkptCheckpointSynchronize(CL_IN ClCkptHdlT checkpointHandle, CL_IN ClTimeT timeout);
ClRcT clCkptCheckpointSynchronizeAsync(CL_IN ClCkptHdlT checkpointHandle, CL_IN ClInvocationT invocation);
ClRcT clCkptImmediateConsumptionRegister(CL_IN ClCkptHdlT checkpointHandle,
                                         CL_IN ClCkptNotificationCallbackT callback);

/* ckpt extensions (not in the document) */
/* The message of the last failed call of this thread ("" after a success). */
const char *clCkptErrorText(void);
/* Asynchronous checkpoints: writes acknowledged but not yet committed in etcd, and the time
 * the last committed one waited between acknowledgement and commit (ns). */
ClRcT clCkptReplicationStatusGet(CL_IN ClCkptHdlT checkpointHandle, CL_OUT ClUInt32T *pendingWrites,
                                 CL_OUT ClTimeT *lastLag);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
