/* The program of the crash test (test_crash.py): in a loop, iteration i
 *   1. appends line i to DIR/out.txt through cp_* and cp_checks it,
 *   2. fills two regions ("state", 4 KiB, and "bulk", 4 MiB) from i and ckpSaveAll()s them,
 *   3. writes dataset 1 of checkpoint "crash" (1 KiB made from i).
 * Started again after a SIGKILL it first checks what survived, and exits 3 with a message if
 * anything is wrong: the newest region versions must restore and be whole (every byte made
 * from the same i, in both regions: ckpSaveAll is atomic) and not ahead of the checked stream;
 * the resumed stream must sit exactly at its checked end, with whole lines 0..L-1 before it;
 * the dataset must be whole and not ahead of the regions.
 * Then it continues at iteration L, up to ITERATIONS, and prints DONE.
 *
 *   crash_worker DIR ITERATIONS */
#include <ckp/ckp_util.h>
#include <ckp/cl_ckpt_library.h>
#include <ckp/cp_file.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define LINE_LEN 14 /* "line %08d\n" */
#define BULK (4u << 20)

static struct {
    long iteration;
    unsigned char fill[4096 - sizeof(long)];
} state;
static unsigned char bulk[BULK];
static unsigned char ds_data[1024];
static long ds_seen = -2;

static void fail(const char *what, long a, long b)
{
    printf("FAIL %s (%ld, %ld)\n", what, a, b);
    fflush(stdout);
    exit(3);
}

static unsigned char byte_of(long i, size_t k) { return (unsigned char)((i * 131 + (long)k * 7) & 0xff); }

static void fill(long i)
{
    state.iteration = i;
    for (size_t k = 0; k < sizeof state.fill; ++k) state.fill[k] = byte_of(i, k);
    for (size_t k = 0; k < BULK; k += 512) bulk[k] = byte_of(i, k);
}

static ClRcT ser(ClUInt32T ds, ClAddrT *buf, ClUInt32T *len, ClHandleT cookie)
{
    (void)ds;
    *buf = malloc(sizeof ds_data);
    for (size_t k = 0; k < sizeof ds_data; ++k) (*buf)[k] = byte_of((long)cookie, k);
    memcpy(*buf, &cookie, sizeof cookie);
    *len = sizeof ds_data;
    return CL_OK;
}

static ClRcT deser(ClUInt32T ds, ClAddrT *buf, ClUInt32T *len, ClHandleT cookie)
{
    (void)ds, (void)cookie;
    if (*len != sizeof ds_data) fail("dataset has the wrong length", *len, sizeof ds_data);
    long i;
    memcpy(&i, *buf, sizeof i);
    for (size_t k = sizeof i; k < sizeof ds_data; ++k)
        if ((*buf)[k] != byte_of(i, k)) fail("dataset is torn", i, (long)k);
    ds_seen = i;
    return CL_OK;
}

/* Whole lines 0..n-1 and nothing else. */
static long check_stream(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char line[32], want[32];
    long n = 0;
    size_t got;
    while ((got = fread(line, 1, LINE_LEN, f)) == LINE_LEN) {
        snprintf(want, sizeof want, "line %08ld\n", n);
        if (memcmp(line, want, LINE_LEN) != 0) fail("stream line is wrong", n, 0);
        ++n;
    }
    fclose(f);
    if (got != 0) fail("stream ends in a partial line", n, (long)got);
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 3) return 2;
    const long iterations = atol(argv[2]);
    char out[4096], regions[4096];
    snprintf(out, sizeof out, "%s/out.txt", argv[1]);
    snprintf(regions, sizeof regions, "%s/regions", argv[1]);
    setvbuf(stdout, NULL, _IOLBF, 0);

    CheckpointFile file;
    Checkpoint cs, cb;
    int rc = ckpOpen(regions, NULL, &file);
    if (rc) fail("ckpOpen", rc, 0);
    if (ckpRegister(file, "state", &state, sizeof state, &cs) || ckpRegister(file, "bulk", bulk, BULK, &cb))
        fail("ckpRegister", 0, 0);

    ClCkptSvcHdlT h;
    ClNameT name = {.length = 5};
    memcpy(name.value, "crash", 5);
    if (clCkptLibraryInitialize(&h) || clCkptLibraryCkptCreate(h, &name) ||
        clCkptLibraryCkptDataSetCreate(h, &name, 1, 0, 0, ser, deser))
        fail("clCkptLibrary set-up", 0, 0);

    CP_FILE *cp = cp_open(out, "w");
    if (!cp) fail("cp_open", errno, 0);
    /* The resumed stream: exactly at its checked end, whole lines before it. */
    const long lines = check_stream(out);
    struct stat st;
    if (stat(out, &st) != 0 || st.st_size != lines * LINE_LEN) fail("stream not cut at a line", (long)st.st_size, lines);
    if ((long)cp_tell(cp).__pos != lines * LINE_LEN) fail("cp_tell is not the checked end", (long)cp_tell(cp).__pos, lines);

    long region = -1;
    if (ckpVersions(cs) > 0) {
        memset(&state, 0, sizeof state);
        memset(bulk, 0, BULK);
        if ((rc = ckpRestoreAll(file, 0)) != 0) fail("newest version does not restore", rc, 0);
        region = state.iteration;
        for (size_t k = 0; k < sizeof state.fill; ++k)
            if (state.fill[k] != byte_of(region, k)) fail("state region is torn", region, (long)k);
        for (size_t k = 0; k < BULK; k += 512)
            if (bulk[k] != byte_of(region, k)) fail("bulk region is not of the same save", region, (long)k);
    }
    /* Iteration i checks line i before it saves region i (a run killed in its save leaves an
     * older version the newest), so the regions are never ahead of the stream. */
    if (region > lines - 1) fail("regions are ahead of the stream", region, lines);
    rc = clCkptLibraryCkptDataSetRead(h, &name, 1, 0);
    if (rc != CL_OK && rc != CL_CKPT_ERR_NOT_EXIST) fail("dataset read", (long)rc, 0);
    /* Likewise the dataset, written after the regions, is never ahead of them. */
    if (rc == CL_OK && ds_seen > region) fail("dataset is ahead of the regions", ds_seen, region);
    printf("RESUMED lines=%ld region=%ld dataset=%ld\n", lines, region, rc == CL_OK ? ds_seen : -1);

    for (long i = lines; i < iterations; ++i) {
        char line[32];
        snprintf(line, sizeof line, "line %08ld\n", i);
        if (cp_write(cp, line, 1, LINE_LEN) != LINE_LEN || cp_check(cp) != 0) fail("cp_write/cp_check", errno, i);
        fill(i);
        if ((rc = ckpSaveAll(file)) != 0) fail("ckpSaveAll", rc, i);
        if ((rc = clCkptLibraryCkptDataSetWrite(h, &name, 1, (ClHandleT)i)) != CL_OK) fail("dataset write", (long)rc, i);
    }
    if (cp_close(cp) != 0 || ckpClose(file) != 0 || clCkptLibraryFinalize(h) != CL_OK) fail("close", errno, 0);
    puts("DONE");
    return 0;
}
