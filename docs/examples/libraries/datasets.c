/* clCkptLibrary* example: an application keeps its configuration in a dataset, packed by its
 * serializer and unpacked by its deserializer; started again (or on a standby), it reads the
 * stored dataset and goes on from there.
 *
 *   datasets         (CL_CKPT_LIBRARY_DB: the database; CRASH_AT=N: SIGKILL after update N) */
#include <ckp/cl_ckpt_library.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct config {
    ClUInt32T updates;
    char owner[16];
};
static struct config cfg;

static ClRcT pack(ClUInt32T dsId, ClAddrT *pBuffer, ClUInt32T *pLen, ClHandleT cookie)
{
    (void)dsId, (void)cookie;
    *pBuffer = malloc(sizeof cfg); /* the library frees it */
    if (!*pBuffer) return CL_CKPT_ERR_NO_MEMORY;
    memcpy(*pBuffer, &cfg, sizeof cfg);
    *pLen = sizeof cfg;
    return CL_OK;
}

static ClRcT unpack(ClUInt32T dsId, ClAddrT *pBuffer, ClUInt32T *pLen, ClHandleT cookie)
{
    (void)dsId, (void)cookie;
    if (*pLen != sizeof cfg) return CL_CKPT_ERR_INVALID_BUFFER;
    memcpy(&cfg, *pBuffer, sizeof cfg);
    return CL_OK;
}

int main(void)
{
    const unsigned crash_at = getenv("CRASH_AT") ? (unsigned)atoi(getenv("CRASH_AT")) : 0;
    ClCkptSvcHdlT svc;
    ClNameT name = {.length = 7, .value = "example"};
    const ClUInt32T CONFIG = 1;
    if (clCkptLibraryInitialize(&svc) != CL_OK) return 1;
    if (clCkptLibraryCkptCreate(svc, &name) != CL_OK) return 1; /* or opens the stored one */
    if (clCkptLibraryCkptDataSetCreate(svc, &name, CONFIG, 0, 0, pack, unpack) != CL_OK) return 1;

    ClRcT rc = clCkptLibraryCkptDataSetRead(svc, &name, CONFIG, 0);
    if (rc == CL_OK)
        printf("resumed after update %u by %s\n", cfg.updates, cfg.owner);
    else if (CL_GET_ERROR_CODE(rc) == CL_ERR_NOT_EXIST)
        strcpy(cfg.owner, "example"); /* never written: a first start */
    else
        return 1;

    while (cfg.updates < 5) {
        cfg.updates++;
        if (clCkptLibraryCkptDataSetWrite(svc, &name, CONFIG, 0) != CL_OK) return 1;
        if (cfg.updates == crash_at) raise(SIGKILL);
    }
    printf("%u updates stored\n", cfg.updates);
    clCkptLibraryCkptDelete(svc, &name);
    clCkptLibraryFinalize(svc);
    return 0;
}
