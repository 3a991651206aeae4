/* The libraries under ckpt's rollback(): what a rollback does to each library's files
 * (docs/libraries.md, "Under ckpt-run").
 *   - ckp_util and cp_*: their files are part of the persistent state, so a rollback undoes
 *     what was saved and checked after the checkpoint, and the libraries' memory (versions,
 *     positions) and files come back together: saving and writing simply go on.
 *   - clCkptLibrary*: its database is excluded, so data written after the checkpoint stays
 *     (a standby may already have read it).
 *
 *   under_ckpt WORK_DIR     prints LIBRARIES-UNDER-CKPT-OK */
#define _GNU_SOURCE
#include <ckpt/ckpt.h>

#include <ckp/ckp_util.h>
#include <ckp/cl_ckpt_library.h>
#include <ckp/cp_file.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../api/check.h"

static char ds_value[16];
static char ds_read[16];
static ClRcT ser(ClUInt32T ds, ClAddrT *buf, ClUInt32T *len, ClHandleT cookie)
{
    (void)ds, (void)cookie;
    *buf = malloc(sizeof ds_value);
    memcpy(*buf, ds_value, sizeof ds_value);
    *len = sizeof ds_value;
    return CL_OK;
}
static ClRcT deser(ClUInt32T ds, ClAddrT *buf, ClUInt32T *len, ClHandleT cookie)
{
    (void)ds, (void)cookie;
    CHECK(*len == sizeof ds_read);
    memcpy(ds_read, *buf, sizeof ds_read);
    return CL_OK;
}

static long size_of(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static int step; /* protected: survives the rollback */

int main(int argc, char **argv)
{
    CHECK(argc == 2);
    char regions[4096], index[4096], out[4096], db[4096], store[4096];
    snprintf(regions, sizeof regions, "%s/regions", argv[1]);
    snprintf(index, sizeof index, "%s/regions.idx", argv[1]);
    snprintf(out, sizeof out, "%s/stream.txt", argv[1]);
    snprintf(db, sizeof db, "%s/cps.db", argv[1]);
    snprintf(store, sizeof store, "%s/cp_store.db", argv[1]);
    setenv("CL_CKPT_LIBRARY_DB", db, 1);
    CHECK(cp_use_sqlite_store(store) == 0);

    CheckpointFile file;
    Checkpoint cx;
    static long x;
    CHECK(ckpOpen(regions, NULL, &file) == 0);
    CHECK(ckpRegister(file, "x", &x, sizeof x, &cx) == 0);
    x = 1;
    CHECK(ckpSave(cx) == 0);
    const long index_before = size_of(index);

    CP_FILE *cp = cp_open(out, "w");
    CHECK(cp != NULL);
    CHECK(cp_write(cp, "A", 1, 1) == 1 && cp_check(cp) == 0);

    ClCkptSvcHdlT h;
    ClNameT name = {.length = 2, .value = "ds"};
    CHECK(clCkptLibraryInitialize(&h) == CL_OK && clCkptLibraryCkptCreate(h, &name) == CL_OK);
    CHECK(clCkptLibraryCkptDataSetCreate(h, &name, 1, 0, 0, ser, deser) == CL_OK);
    strcpy(ds_value, "before");
    CHECK(clCkptLibraryCkptDataSetWrite(h, &name, 1, 0) == CL_OK);

    CHECK(ckpt_protect(&step, sizeof step) == 0);
    const int r = chkpnt();
    if (r == 0) {
        step = 1;
        x = 2;
        CHECK(ckpSave(cx) == 0);
        CHECK(ckpVersions(cx) == 2 && size_of(index) > index_before);
        CHECK(cp_write(cp, "B", 1, 1) == 1 && cp_check(cp) == 0);
        strcpy(ds_value, "after");
        CHECK(clCkptLibraryCkptDataSetWrite(h, &name, 1, 0) == CL_OK);
        rollback(0, 3);
        CHECK(!"rollback(0, 3) returned");
    }
    CHECK(r == 3 && step == 1);

    /* ckp_util: the save after the checkpoint is undone, in the file and in memory alike. */
    CHECK(size_of(index) == index_before);
    CHECK(ckpVersions(cx) == 1);
    CHECK(x == 1);
    x = 5;
    CHECK(ckpSave(cx) == 0);
    CHECK(ckpClose(file) == 0);
    CHECK(ckpOpen(regions, NULL, &file) == 0);
    CHECK(ckpRegister(file, "x", &x, sizeof x, &cx) == 0);
    CHECK(ckpVersions(cx) == 2);
    CHECK(ckpRestore(cx, 0) == 0 && x == 5);
    CHECK(ckpRestore(cx, 1) == 0 && x == 1);
    CHECK(ckpClose(file) == 0);

    /* cp_*: the stream is back at the position checked before the checkpoint. */
    CHECK(size_of(out) == 1);
    CHECK((long)cp_tell(cp).__pos == 1);
    CHECK(cp_write(cp, "C", 1, 1) == 1 && cp_close(cp) == 0);
    FILE *f = fopen(out, "r");
    char text[8] = {0};
    CHECK(f && fread(text, 1, sizeof text - 1, f) == 2 && strcmp(text, "AC") == 0);
    fclose(f);

    /* clCkptLibrary*: excluded, the write after the checkpoint stays. */
    CHECK(clCkptLibraryCkptDataSetRead(h, &name, 1, 0) == CL_OK);
    CHECK(strcmp(ds_read, "after") == 0);
    CHECK(clCkptLibraryFinalize(h) == CL_OK);
    puts("LIBRARIES-UNDER-CKPT-OK");
    return 0;
}
