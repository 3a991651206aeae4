/* Common types and return codes of the OpenClovis-style APIs in ckp/ (the checkpoint
 * service document, ../shared/seeds/004: "as defined in clCommon.h").
 *
 * Shared by the library-based checkpoints (ckp/cl_ckpt_library.h) and the server-based
 * checkpoint service on etcd (ckp/cl_ckpt.h), so a program can use both.
 *
 * The document names the codes but not their values; ours are below and are part of the
 * ABI from now on. Every function returns CL_OK (0) on success. A code is a component in
 * the high byte and an error number in the low bytes, as OpenClovis did, so
 * CL_GET_ERROR_CODE() compares codes independent of the component that raised them. */
#ifndef CKP_CL_COMMON_H
#define CKP_CL_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Parameter direction markers of the document's prototypes (documentation only). */
#define CL_IN
#define CL_OUT
#define CL_INOUT

typedef uint8_t ClUInt8T;
typedef uint16_t ClUInt16T;
typedef uint32_t ClUInt32T;
typedef uint64_t ClUInt64T;
typedef int32_t ClInt32T;
typedef int64_t ClInt64T;
typedef size_t ClSizeT;
typedef ClUInt32T ClRcT;
typedef ClUInt64T ClHandleT;
typedef void *ClPtrT;
typedef ClUInt8T *ClAddrT;
/* Absolute times and durations in nanoseconds, as in the SA Forum APIs the document follows. */
typedef ClInt64T ClTimeT;
typedef ClUInt64T ClInvocationT;
typedef int ClSelectionObjectT;

typedef enum { CL_FALSE = 0, CL_TRUE = 1 } ClBoolT;

#define CL_TIME_END ((ClTimeT)0x7fffffffffffffffLL)
#define CL_HANDLE_INVALID_VALUE ((ClHandleT)0)

#define CL_MAX_NAME_LENGTH 256
typedef struct {
    ClUInt16T length;
    ClUInt8T value[CL_MAX_NAME_LENGTH];
} ClNameT;

typedef struct {
    ClUInt8T releaseCode; /* 'B' for the version the document describes */
    ClUInt8T majorVersion;
    ClUInt8T minorVersion;
} ClVersionT;

typedef enum {
    CL_DISPATCH_ONE = 1,
    CL_DISPATCH_ALL = 2,
    CL_DISPATCH_BLOCKING = 3,
} ClDispatchFlagsT;

/* --- return codes --------------------------------------------------------------------- */
#define CL_OK 0x00u

#define CL_CID_COMMON 0x00u
#define CL_CID_CKPT 0x15u
#define CL_RC(cid, code) ((ClRcT)(((ClRcT)(cid) << 24) | (ClRcT)(code)))
#define CL_GET_ERROR_CODE(rc) ((ClRcT)(rc) & 0x00ffffffu)
#define CL_GET_CID(rc) (((ClRcT)(rc) >> 24) & 0xffu)

/* Common error numbers (the low bytes of a code). */
#define CL_ERR_NO_MEMORY 0x01u
#define CL_ERR_INVALID_PARAMETER 0x02u
#define CL_ERR_NULL_POINTER 0x03u
#define CL_ERR_NOT_EXIST 0x04u
#define CL_ERR_INVALID_HANDLE 0x05u
#define CL_ERR_INVALID_BUFFER 0x06u
#define CL_ERR_NOT_IMPLEMENTED 0x07u
#define CL_ERR_DUPLICATE 0x08u
#define CL_ERR_OUT_OF_RANGE 0x09u
#define CL_ERR_NO_RESOURCE 0x0au
#define CL_ERR_INITIALIZED 0x0bu
#define CL_ERR_BAD_OPERATION 0x0cu
#define CL_ERR_VERSION_MISMATCH 0x0du
#define CL_ERR_NOT_INITIALIZED 0x0eu
#define CL_ERR_TIMEOUT 0x0fu
#define CL_ERR_TRY_AGAIN 0x10u
#define CL_ERR_BAD_FLAG 0x11u
#define CL_ERR_INUSE 0x12u
#define CL_ERR_NO_SPACE 0x13u
#define CL_ERR_OP_NOT_PERMITTED 0x14u
#define CL_ERR_ALREADY_EXIST 0x15u
#define CL_ERR_INTERRUPT 0x16u
#define CL_ERR_UNSPECIFIED 0x17u /* the document's CL_CKPT_INTERNAL_ERROR */
#define CL_ERR_IO 0x18u          /* the store failed (disk, etcd unreachable); not in the document */
#define CL_ERR_CORRUPTED 0x19u   /* stored data failed its checksum; not in the document */

/* The checkpoint service's codes, as the document spells them. */
#define CL_CKPT_ERR_NO_MEMORY CL_RC(CL_CID_CKPT, CL_ERR_NO_MEMORY)
#define CL_CKPT_ERR_INVALID_PARAMETER CL_RC(CL_CID_CKPT, CL_ERR_INVALID_PARAMETER)
#define CL_CKPT_ERR_INVALID_PARAM CL_CKPT_ERR_INVALID_PARAMETER
#define CL_CKPT_ERR_NULL_POINTER CL_RC(CL_CID_CKPT, CL_ERR_NULL_POINTER)
#define CL_CKPT_ERR_NOT_EXIST CL_RC(CL_CID_CKPT, CL_ERR_NOT_EXIST)
#define CL_CKPT_ERR_INVALID_HANDLE CL_RC(CL_CID_CKPT, CL_ERR_INVALID_HANDLE)
#define CL_CKPT_ERR_BAD_HANDLE CL_CKPT_ERR_INVALID_HANDLE
#define CL_CKPT_ERR_INVALID_BUFFER CL_RC(CL_CID_CKPT, CL_ERR_INVALID_BUFFER)
#define CL_CKPT_ERR_NOT_IMPLEMENTED CL_RC(CL_CID_CKPT, CL_ERR_NOT_IMPLEMENTED)
#define CL_CKPT_ERR_ALREADY_EXIST CL_RC(CL_CID_CKPT, CL_ERR_ALREADY_EXIST)
#define CL_CKPT_ERR_NO_RESOURCE CL_RC(CL_CID_CKPT, CL_ERR_NO_RESOURCE)
#define CL_CKPT_ERR_BAD_OPERATION CL_RC(CL_CID_CKPT, CL_ERR_BAD_OPERATION)
#define CL_CKPT_ERR_VERSION_MISMATCH CL_RC(CL_CID_CKPT, CL_ERR_VERSION_MISMATCH)
#define CL_CKPT_ERR_NOT_INITIALIZED CL_RC(CL_CID_CKPT, CL_ERR_NOT_INITIALIZED)
#define CL_CKPT_ERR_INIT_NOT_DONE CL_CKPT_ERR_NOT_INITIALIZED
#define CL_CKPT_ERR_TIMEOUT CL_RC(CL_CID_CKPT, CL_ERR_TIMEOUT)
#define CL_CKPT_ERR_TRY_AGAIN CL_RC(CL_CID_CKPT, CL_ERR_TRY_AGAIN)
#define CL_CKPT_ERR_BAD_FLAG CL_RC(CL_CID_CKPT, CL_ERR_BAD_FLAG)
#define CL_CKPT_ERR_INUSE CL_RC(CL_CID_CKPT, CL_ERR_INUSE)
#define CL_CKPT_ERR_NO_SPACE CL_RC(CL_CID_CKPT, CL_ERR_NO_SPACE)
#define CL_CKPT_ERR_OP_NOT_PERMITTED CL_RC(CL_CID_CKPT, CL_ERR_OP_NOT_PERMITTED)
#define CL_CKPT_ERR_INTERRUPT CL_RC(CL_CID_CKPT, CL_ERR_INTERRUPT)
#define CL_CKPT_INTERNAL_ERROR CL_RC(CL_CID_CKPT, CL_ERR_UNSPECIFIED)
#define CL_CKPT_ERR_IO CL_RC(CL_CID_CKPT, CL_ERR_IO)
#define CL_CKPT_ERR_CORRUPTED CL_RC(CL_CID_CKPT, CL_ERR_CORRUPTED)

#ifdef __cplusplus
}
#endif
#endif
