// Contract tests of ckp/cl_ckpt.h against a real etcd (run through etcd_cluster.py): every call,
// its success and every error code of the document (chapters 3.4, 3.5) that the call can
// produce; the codes it cannot produce are listed in docs/cps.md.
#include <catch2/catch.hpp>
#include <poll.h>

#include <set>
#include <string>

#include "cps_test_util.h"

using namespace cpstest;

namespace {

bool readable(int fd, int timeout_ms = 0)
{
    struct pollfd p = {fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1;
}

// Opens `n` for READ|WRITE|CREATE with `a`.
ClCkptHdlT open_rw(const Svc &s, const std::string &n, const ClCkptCheckpointCreationAttributesT &a,
                   ClCkptOpenFlagsT flags = CL_CKPT_CHECKPOINT_READ | CL_CKPT_CHECKPOINT_WRITE | CL_CKPT_CHECKPOINT_CREATE)
{
    ClNameT nm = name(n);
    ClCkptHdlT h = 0;
    const ClRcT rc = clCkptCheckpointOpen(s.h, &nm, (flags & CL_CKPT_CHECKPOINT_CREATE) ? &a : nullptr, flags, 0, &h);
    INFO(clCkptErrorText());
    REQUIRE(rc == CL_OK);
    return h;
}

void create_section(ClCkptHdlT h, const std::string &id, const std::string &data, ClTimeT exp = CL_TIME_END)
{
    ClCkptSectionIdT s = sid(id);
    ClCkptSectionCreationAttributesT ca{exp, &s};
    const ClRcT rc = clCkptSectionCreate(h, &ca, data.empty() ? nullptr : reinterpret_cast<const ClUInt8T *>(data.data()),
                                         data.size());
    INFO(clCkptErrorText());
    REQUIRE(rc == CL_OK);
}

std::string read_section(ClCkptHdlT h, const std::string &id)
{
    ClCkptIOVectorElementT e{};
    e.sectionId = sid(id);
    ClUInt32T bad = 99;
    const ClRcT rc = clCkptCheckpointRead(h, &e, 1, &bad);
    INFO(clCkptErrorText());
    REQUIRE(rc == CL_OK);
    std::string out(static_cast<char *>(e.dataBuffer), e.readSize);
    free(e.dataBuffer);
    return out;
}

// Absolute time as the API takes it (ns since the epoch).
ClTimeT now()
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ClTimeT(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

TEST_CASE("every call before clCkptInitialize returns CL_CKPT_ERR_NOT_INITIALIZED")
{
    ClSelectionObjectT so;
    ClNameT nm = name("x");
    ClCkptHdlT h;
    ClCkptCheckpointDescriptorT d;
    ClUInt32T bad;
    ClCkptIOVectorElementT e{};
    ClCkptSectionIdT s = sid("a");
    ClCkptSectionCreationAttributesT ca{CL_TIME_END, &s};
    ClHandleT it;
    ClCkptSectionDescriptorT sd;
    CHECK(clCkptSelectionObjectGet(1, &so) == CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK(clCkptDispatch(1, CL_DISPATCH_ALL) == CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK(clCkptFinalize(1) == CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK(clCkptCheckpointOpen(1, &nm, nullptr, CL_CKPT_CHECKPOINT_READ, 0, &h) == CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK(clCkptCheckpointOpenAsync(1, 1, &nm, nullptr, CL_CKPT_CHECKPOINT_READ) == CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK(clCkptCheckpointClose(1) == CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK(clCkptCheckpointDelete(1, &nm) == CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK(clCkptCheckpointRetentionDurationSet(1, 0) == CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK(clCkptActiveReplicaSet(1) == CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK(clCkptCheckpointStatusGet(1, &d) == CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK(clCkptSectionCreate(1, &ca, nullptr, 0) == CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK(clCkptSectionDelete(1, &s) == CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK(clCkptSectionExpirationTimeSet(1, &s, CL_TIME_END) == CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK(clCkptSectionIterationInitialize(1, CL_CKPT_SECTIONS_ANY, 0, &it) == CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK(clCkptSectionIterationNext(1, &sd) == CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK(clCkptSectionIterationFinalize(1) == CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK(clCkptCheckpointWrite(1, &e, 1, &bad) == CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK(clCkptSectionOverwrite(1, &s, "x", 1) == CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK(clCkptCheckpointRead(1, &e, 1, &bad) == CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK(clCkptCheckpointSynchronize(1, 0) == CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK(clCkptCheckpointSynchronizeAsync(1, 1) == CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK(clCkptImmediateConsumptionRegister(1, nullptr) == CL_CKPT_ERR_NOT_INITIALIZED);
}

TEST_CASE("clCkptInitialize: NULL pointers, version mismatch, unreachable and foreign stores")
{
    ClCkptSvcHdlT h;
    ClVersionT v = version();
    CHECK(clCkptInitialize(nullptr, nullptr, &v) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptInitialize(&h, nullptr, nullptr) == CL_CKPT_ERR_NULL_POINTER);
    ClVersionT old{'A', 1, 1};
    CHECK(clCkptInitialize(&h, nullptr, &old) == CL_CKPT_ERR_VERSION_MISMATCH);
    CHECK(old.releaseCode == 'B');  // the supported version comes back
    CHECK(old.majorVersion == 1);

    SECTION("a store with another layout version")
    {
        const std::string prefix = "/" + unique("foreign") + "/";
        REQUIRE(etcd().put(prefix + "format", "99", 0, soon()).ok());
        setenv("CKPT_CPS_PREFIX", prefix.c_str(), 1);
        ClVersionT v2 = version();
        CHECK(clCkptInitialize(&h, nullptr, &v2) == CL_CKPT_ERR_VERSION_MISMATCH);
        CHECK(std::string(clCkptErrorText()).find("layout version 99") != std::string::npos);
        unsetenv("CKPT_CPS_PREFIX");
        etcd().del(prefix, soon(), true);
    }
    SECTION("no etcd at the endpoints")
    {
        const std::string saved = getenv("CKPT_CPS_ENDPOINTS");
        setenv("CKPT_CPS_ENDPOINTS", "http://127.0.0.1:1", 1);
        setenv("CKPT_CPS_TIMEOUT_MS", "300", 1);
        ClVersionT v2 = version();
        CHECK(clCkptInitialize(&h, nullptr, &v2) == CL_CKPT_ERR_TIMEOUT);
        CHECK(std::string(clCkptErrorText()).find("no etcd member reachable") != std::string::npos);
        setenv("CKPT_CPS_ENDPOINTS", saved.c_str(), 1);
        unsetenv("CKPT_CPS_TIMEOUT_MS");
    }
    SECTION("success, then Finalize; a second Finalize is refused")
    {
        ClVersionT v2 = version();
        REQUIRE(clCkptInitialize(&h, nullptr, &v2) == CL_OK);
        CHECK(clCkptFinalize(h) == CL_OK);
        CHECK(clCkptFinalize(h) == CL_CKPT_ERR_NOT_INITIALIZED);
    }
}

TEST_CASE("clCkptSelectionObjectGet and clCkptDispatch: handles, parameters, a pollable descriptor")
{
    Svc s;
    REQUIRE(s.rc == CL_OK);
    ClSelectionObjectT so = -1;
    CHECK(clCkptSelectionObjectGet(s.h + 1000, &so) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(clCkptSelectionObjectGet(s.h, nullptr) == CL_CKPT_ERR_INVALID_PARAMETER);
    REQUIRE(clCkptSelectionObjectGet(s.h, &so) == CL_OK);
    CHECK(so >= 0);
    CHECK_FALSE(readable(so));
    CHECK(clCkptDispatch(s.h + 1000, CL_DISPATCH_ONE) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(clCkptDispatch(s.h, ClDispatchFlagsT(0)) == CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK(clCkptDispatch(s.h, CL_DISPATCH_ONE) == CL_OK);  // nothing pending
    CHECK(clCkptDispatch(s.h, CL_DISPATCH_ALL) == CL_OK);
}

TEST_CASE("clCkptCheckpointOpen: every parameter error, create, reopen, ALREADY_EXIST and NOT_EXIST")
{
    Svc s;
    REQUIRE(s.rc == CL_OK);
    const std::string n = unique("open");
    ClNameT nm = name(n);
    auto a = attrs();
    ClCkptHdlT h = 0;
    const ClCkptOpenFlagsT rwc = CL_CKPT_CHECKPOINT_READ | CL_CKPT_CHECKPOINT_WRITE | CL_CKPT_CHECKPOINT_CREATE;
    CHECK(clCkptCheckpointOpen(s.h + 1000, &nm, &a, rwc, 0, &h) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(clCkptCheckpointOpen(s.h, nullptr, &a, rwc, 0, &h) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptCheckpointOpen(s.h, &nm, &a, rwc, 0, nullptr) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptCheckpointOpen(s.h, &nm, &a, 0, 0, &h) == CL_CKPT_ERR_BAD_FLAG);
    CHECK(clCkptCheckpointOpen(s.h, &nm, &a, rwc | 0x80, 0, &h) == CL_CKPT_ERR_BAD_FLAG);
    CHECK(clCkptCheckpointOpen(s.h, &nm, nullptr, rwc, 0, &h) == CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK(clCkptCheckpointOpen(s.h, &nm, &a, CL_CKPT_CHECKPOINT_READ, 0, &h) == CL_CKPT_ERR_INVALID_PARAMETER);
    auto big = a;
    big.checkpointSize = ClSizeT(a.maxSections) * a.maxSectionSize + 1;
    CHECK(clCkptCheckpointOpen(s.h, &nm, &big, rwc, 0, &h) == CL_CKPT_ERR_INVALID_PARAMETER);
    auto two = a;
    two.creationFlags = CL_CKPT_WR_ALL_REPLICAS | CL_CKPT_WR_ACTIVE_REPLICA;
    CHECK(clCkptCheckpointOpen(s.h, &nm, &two, rwc, 0, &h) == CL_CKPT_ERR_BAD_FLAG);
    auto none = a;
    none.creationFlags = 0;
    CHECK(clCkptCheckpointOpen(s.h, &nm, &none, rwc, 0, &h) == CL_CKPT_ERR_BAD_FLAG);
    ClNameT empty = name("");
    CHECK(clCkptCheckpointOpen(s.h, &empty, &a, rwc, 0, &h) == CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK(clCkptCheckpointOpen(s.h, &nm, nullptr, CL_CKPT_CHECKPOINT_READ, 0, &h) == CL_CKPT_ERR_NOT_EXIST);
    CHECK(instance_of(n).empty());  // nothing was created by the failed calls

    REQUIRE(clCkptCheckpointOpen(s.h, &nm, &a, rwc, 0, &h) == CL_OK);
    CHECK_FALSE(instance_of(n).empty());
    ClCkptHdlT h2 = 0, h3 = 0;
    CHECK(clCkptCheckpointOpen(s.h, &nm, &a, rwc, 0, &h2) == CL_OK);  // same attributes: opens
    CHECK(h2 != h);
    CHECK(clCkptCheckpointOpen(s.h, &nm, nullptr, CL_CKPT_CHECKPOINT_READ, 0, &h3) == CL_OK);
    auto other = a;
    other.maxSections = 8;
    other.checkpointSize = 8 * other.maxSectionSize;
    ClCkptHdlT h4 = 0;
    CHECK(clCkptCheckpointOpen(s.h, &nm, &other, rwc, 0, &h4) == CL_CKPT_ERR_ALREADY_EXIST);

    CHECK(clCkptCheckpointClose(h) == CL_OK);
    CHECK(clCkptCheckpointClose(h) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(clCkptCheckpointClose(h2) == CL_OK);
    CHECK(clCkptCheckpointClose(h3) == CL_OK);
    CHECK(clCkptCheckpointDelete(s.h, &nm) == CL_OK);
}

namespace {
ClInvocationT g_open_inv;
ClCkptHdlT g_open_hdl;
ClRcT g_open_rc;
int g_open_calls;
void on_open(ClInvocationT inv, ClCkptHdlT h, ClRcT rc)
{
    g_open_inv = inv;
    g_open_hdl = h;
    g_open_rc = rc;
    ++g_open_calls;
}
ClInvocationT g_sync_inv;
ClRcT g_sync_rc;
int g_sync_calls;
void on_sync(ClInvocationT inv, ClRcT rc)
{
    g_sync_inv = inv;
    g_sync_rc = rc;
    ++g_sync_calls;
}
}  // namespace

TEST_CASE("clCkptCheckpointOpenAsync: the callback comes through the selection object and clCkptDispatch")
{
    ClCkptCallbacksT cb{on_open, on_sync};
    Svc s(&cb);
    REQUIRE(s.rc == CL_OK);
    ClSelectionObjectT so;
    REQUIRE(clCkptSelectionObjectGet(s.h, &so) == CL_OK);
    const std::string n = unique("openasync");
    ClNameT nm = name(n);
    auto a = attrs();
    const ClCkptOpenFlagsT rwc = CL_CKPT_CHECKPOINT_READ | CL_CKPT_CHECKPOINT_WRITE | CL_CKPT_CHECKPOINT_CREATE;
    CHECK(clCkptCheckpointOpenAsync(s.h, 7, &nm, &a, 0) == CL_CKPT_ERR_BAD_FLAG);
    CHECK(clCkptCheckpointOpenAsync(s.h, 7, &nm, nullptr, rwc) == CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK(clCkptCheckpointOpenAsync(s.h, 7, &nm, &a, CL_CKPT_CHECKPOINT_READ) == CL_CKPT_ERR_INVALID_PARAMETER);
    auto big = a;
    big.checkpointSize += 1;
    CHECK(clCkptCheckpointOpenAsync(s.h, 7, &nm, &big, rwc) == CL_CKPT_ERR_INVALID_PARAMETER);

    g_open_calls = 0;
    REQUIRE(clCkptCheckpointOpenAsync(s.h, 7, &nm, &a, rwc) == CL_OK);
    CHECK(g_open_calls == 0);  // never from another thread, never before Dispatch
    REQUIRE(readable(so, 10000));
    REQUIRE(clCkptDispatch(s.h, CL_DISPATCH_ALL) == CL_OK);
    CHECK(g_open_calls == 1);
    CHECK(g_open_inv == 7);
    CHECK(g_open_rc == CL_OK);
    CHECK_FALSE(readable(so));
    CHECK(clCkptCheckpointClose(g_open_hdl) == CL_OK);

    // A failure is reported through the callback too.
    ClNameT missing = name(unique("missing"));
    REQUIRE(clCkptCheckpointOpenAsync(s.h, 8, &missing, nullptr, CL_CKPT_CHECKPOINT_READ) == CL_OK);
    REQUIRE(readable(so, 10000));
    REQUIRE(clCkptDispatch(s.h, CL_DISPATCH_ONE) == CL_OK);
    CHECK(g_open_calls == 2);
    CHECK(g_open_inv == 8);
    CHECK(g_open_rc == CL_CKPT_ERR_NOT_EXIST);
    CHECK(clCkptCheckpointDelete(s.h, &nm) == CL_OK);
}

TEST_CASE("clCkptCheckpointDelete: the name goes at once, openers keep their data until the last close")
{
    Svc s;
    REQUIRE(s.rc == CL_OK);
    const std::string n = unique("delete");
    ClNameT nm = name(n);
    CHECK(clCkptCheckpointDelete(s.h + 1000, &nm) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(clCkptCheckpointDelete(s.h, nullptr) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptCheckpointDelete(s.h, &nm) == CL_CKPT_ERR_NOT_EXIST);
    ClNameT empty = name("");
    CHECK(clCkptCheckpointDelete(s.h, &empty) == CL_CKPT_ERR_INVALID_PARAMETER);

    ClCkptHdlT h = open_rw(s, n, attrs());
    create_section(h, "a", "old data");
    const std::string inst = instance_of(n);
    REQUIRE(clCkptCheckpointDelete(s.h, &nm) == CL_OK);
    ClCkptHdlT x = 0;
    CHECK(clCkptCheckpointOpen(s.h, &nm, nullptr, CL_CKPT_CHECKPOINT_READ, 0, &x) == CL_CKPT_ERR_NOT_EXIST);
    CHECK(read_section(h, "a") == "old data");  // the opener keeps it
    ClCkptSectionIdT a = sid("a");
    CHECK(clCkptSectionOverwrite(h, &a, "still", 5) == CL_OK);
    CHECK(clCkptCheckpointRetentionDurationSet(h, 1000000000) == CL_CKPT_ERR_BAD_OPERATION);

    // A new checkpoint under the same name is a new instance.
    ClCkptHdlT h2 = open_rw(s, n, attrs());
    CHECK(instance_of(n) != inst);
    ClCkptIOVectorElementT e{};
    e.sectionId = sid("a");
    ClUInt32T bad;
    CHECK(clCkptCheckpointRead(h2, &e, 1, &bad) == CL_CKPT_ERR_NOT_EXIST);
    CHECK(read_section(h, "a") == "still");  // the old instance is untouched by the new one

    CHECK(keys_under(cps::instance_prefix(inst)) > 0);
    REQUIRE(clCkptCheckpointClose(h) == CL_OK);
    CHECK(keys_under(cps::instance_prefix(inst)) == 0);  // the last close removed it
    REQUIRE(clCkptCheckpointClose(h2) == CL_OK);
    CHECK(clCkptCheckpointDelete(s.h, &nm) == CL_OK);
}

TEST_CASE("clCkptCheckpointRetentionDurationSet and clCkptActiveReplicaSet: handles, modes, kinds")
{
    Svc s;
    REQUIRE(s.rc == CL_OK);
    const std::string n = unique("retention");
    ClCkptHdlT h = open_rw(s, n, attrs());
    CHECK(clCkptCheckpointRetentionDurationSet(h + 1000, 0) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(clCkptCheckpointRetentionDurationSet(h, -1) == CL_CKPT_ERR_INVALID_PARAMETER);
    create_section(h, "a", "kept");
    CHECK(clCkptCheckpointRetentionDurationSet(h, 60LL * 1000000000) == CL_OK);
    CHECK(read_section(h, "a") == "kept");  // the keys moved to the new lease intact
    ClCkptCheckpointDescriptorT d;
    REQUIRE(clCkptCheckpointStatusGet(h, &d) == CL_OK);
    CHECK(d.checkpointCreationAttributes.retentionDuration == 60LL * 1000000000);

    CHECK(clCkptActiveReplicaSet(h + 1000) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(clCkptActiveReplicaSet(h) == CL_CKPT_ERR_BAD_OPERATION);  // synchronous
    const std::string c = unique("collocated");
    auto ca = attrs(CL_CKPT_WR_ACTIVE_REPLICA | CL_CKPT_CHECKPOINT_COLLOCATED);
    ClCkptHdlT w = open_rw(s, c, ca);
    ClCkptHdlT r = open_rw(s, c, ca, CL_CKPT_CHECKPOINT_READ);
    CHECK(clCkptActiveReplicaSet(r) == CL_CKPT_ERR_OP_NOT_PERMITTED);
    CHECK(clCkptActiveReplicaSet(w) == CL_OK);
    ClNameT cn = name(c);
    REQUIRE(clCkptCheckpointDelete(s.h, &cn) == CL_OK);
    CHECK(clCkptActiveReplicaSet(w) == CL_CKPT_ERR_BAD_OPERATION);  // unlinked
    CHECK(clCkptCheckpointClose(w) == CL_OK);
    CHECK(clCkptCheckpointClose(r) == CL_OK);
    CHECK(clCkptCheckpointClose(h) == CL_OK);
    ClNameT nm = name(n);
    CHECK(clCkptCheckpointDelete(s.h, &nm) == CL_OK);
}

TEST_CASE("clCkptCheckpointStatusGet: attributes, memory used, sections; NOT_EXIST without an active replica")
{
    Svc s;
    REQUIRE(s.rc == CL_OK);
    const std::string n = unique("status");
    auto a = attrs();
    ClCkptHdlT h = open_rw(s, n, a);
    CHECK(clCkptCheckpointStatusGet(h + 1000, nullptr) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(clCkptCheckpointStatusGet(h, nullptr) == CL_CKPT_ERR_NULL_POINTER);
    create_section(h, "a", "12345");
    create_section(h, "b", "678");
    ClCkptCheckpointDescriptorT d{};
    REQUIRE(clCkptCheckpointStatusGet(h, &d) == CL_OK);
    CHECK(d.numberOfSections == 2);
    CHECK(d.memoryUsed == 8);
    CHECK(d.checkpointCreationAttributes.maxSections == a.maxSections);
    CHECK(d.checkpointCreationAttributes.creationFlags == a.creationFlags);

    const std::string c = unique("status-collocated");
    ClCkptHdlT w = open_rw(s, c, attrs(CL_CKPT_WR_ACTIVE_REPLICA | CL_CKPT_CHECKPOINT_COLLOCATED));
    CHECK(clCkptCheckpointStatusGet(w, &d) == CL_CKPT_ERR_NOT_EXIST);
    REQUIRE(clCkptActiveReplicaSet(w) == CL_OK);
    CHECK(clCkptCheckpointStatusGet(w, &d) == CL_OK);
    clCkptCheckpointClose(w);
    clCkptCheckpointClose(h);
    ClNameT nm = name(n), cn = name(c);
    clCkptCheckpointDelete(s.h, &nm);
    clCkptCheckpointDelete(s.h, &cn);
}

TEST_CASE("clCkptSectionCreate: every error of the document and the limits of the creation attributes")
{
    Svc s;
    REQUIRE(s.rc == CL_OK);
    const std::string n = unique("seccreate");
    auto a = attrs(CL_CKPT_WR_ALL_REPLICAS, 3, 8);
    a.maxSectionIdSize = 4;
    a.checkpointSize = 20;
    ClCkptHdlT h = open_rw(s, n, a);
    ClCkptSectionIdT id = sid("a");
    ClCkptSectionCreationAttributesT ca{CL_TIME_END, &id};
    const ClUInt8T data[16] = {1, 2, 3};
    CHECK(clCkptSectionCreate(h + 1000, &ca, data, 1) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(clCkptSectionCreate(h, nullptr, data, 1) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptSectionCreate(h, &ca, nullptr, 1) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptSectionCreate(h, &ca, data, 0) == CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK(clCkptSectionCreate(h, &ca, data, 9) == CL_CKPT_ERR_INVALID_PARAMETER);  // > maxSectionSize
    ClCkptSectionIdT longid = sid("abcde");
    ClCkptSectionCreationAttributesT cl{CL_TIME_END, &longid};
    CHECK(clCkptSectionCreate(h, &cl, data, 1) == CL_CKPT_ERR_INVALID_PARAMETER);  // > maxSectionIdSize
    ClCkptSectionCreationAttributesT past{now() - 1000000000, &id};
    CHECK(clCkptSectionCreate(h, &past, data, 1) == CL_CKPT_ERR_INVALID_PARAMETER);
    REQUIRE(clCkptSectionCreate(h, &ca, data, 8) == CL_OK);
    CHECK(clCkptSectionCreate(h, &ca, data, 1) == CL_CKPT_ERR_ALREADY_EXIST);
    create_section(h, "b", "12345678");
    ClCkptSectionIdT c = sid("c");
    ClCkptSectionCreationAttributesT cc{CL_TIME_END, &c};
    CHECK(clCkptSectionCreate(h, &cc, data, 8) == CL_CKPT_ERR_NO_SPACE);  // checkpointSize 20
    create_section(h, "c", "1234");
    ClCkptSectionIdT d = sid("d");
    ClCkptSectionCreationAttributesT cd{CL_TIME_END, &d};
    CHECK(clCkptSectionCreate(h, &cd, nullptr, 0) == CL_CKPT_ERR_NO_SPACE);  // maxSections 3

    ClCkptHdlT r = open_rw(s, n, a, CL_CKPT_CHECKPOINT_READ);
    CHECK(clCkptSectionCreate(r, &cd, nullptr, 0) == CL_CKPT_ERR_OP_NOT_PERMITTED);

    const std::string one = unique("onesection");
    ClCkptHdlT h1 = open_rw(s, one, attrs(CL_CKPT_WR_ALL_REPLICAS, 1, 64));
    CHECK(clCkptSectionCreate(h1, &ca, data, 1) == CL_CKPT_ERR_ALREADY_EXIST);  // only the default section
    CHECK(read_section(h1, "").empty());                                     // which exists from the start

    const std::string col = unique("seccreate-col");
    ClCkptHdlT hc = open_rw(s, col, attrs(CL_CKPT_WR_ACTIVE_REPLICA | CL_CKPT_CHECKPOINT_COLLOCATED));
    CHECK(clCkptSectionCreate(hc, &ca, data, 1) == CL_CKPT_ERR_NOT_EXIST);  // no active replica
    for (ClCkptHdlT x : {h, r, h1, hc}) clCkptCheckpointClose(x);
    for (auto &x : {n, one, col}) {
        ClNameT nm = name(x);
        clCkptCheckpointDelete(s.h, &nm);
    }
}

TEST_CASE("clCkptSectionDelete and clCkptSectionExpirationTimeSet: errors, the default section, effects")
{
    Svc s;
    REQUIRE(s.rc == CL_OK);
    const std::string n = unique("secdelete");
    ClCkptHdlT h = open_rw(s, n, attrs());
    ClCkptHdlT r = open_rw(s, n, attrs(), CL_CKPT_CHECKPOINT_READ);
    create_section(h, "a", "x");
    ClCkptSectionIdT a = sid("a"), z = sid("z"), def = CL_CKPT_DEFAULT_SECTION_ID;
    CHECK(clCkptSectionDelete(h + 1000, &a) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(clCkptSectionDelete(h, nullptr) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptSectionDelete(h, &def) == CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK(clCkptSectionDelete(h, &z) == CL_CKPT_ERR_NOT_EXIST);
    CHECK(clCkptSectionDelete(r, &a) == CL_CKPT_ERR_OP_NOT_PERMITTED);

    const ClTimeT later = now() + 3600LL * 1000000000;
    CHECK(clCkptSectionExpirationTimeSet(h + 1000, &a, later) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(clCkptSectionExpirationTimeSet(h, nullptr, later) == CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK(clCkptSectionExpirationTimeSet(h, &def, later) == CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK(clCkptSectionExpirationTimeSet(h, &a, now() - 1) == CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK(clCkptSectionExpirationTimeSet(h, &z, later) == CL_CKPT_ERR_NOT_EXIST);
    CHECK(clCkptSectionExpirationTimeSet(r, &a, later) == CL_CKPT_ERR_OP_NOT_PERMITTED);
    REQUIRE(clCkptSectionExpirationTimeSet(h, &a, later) == CL_OK);
    ClHandleT it;
    REQUIRE(clCkptSectionIterationInitialize(h, CL_CKPT_SECTIONS_ANY, 0, &it) == CL_OK);
    ClCkptSectionDescriptorT d;
    REQUIRE(clCkptSectionIterationNext(it, &d) == CL_OK);
    CHECK(d.expirationTime == later);
    CHECK(read_section(h, "a") == "x");  // data unchanged
    clCkptSectionIterationFinalize(it);

    REQUIRE(clCkptSectionDelete(h, &a) == CL_OK);
    CHECK(clCkptSectionDelete(h, &a) == CL_CKPT_ERR_NOT_EXIST);
    clCkptCheckpointClose(h);
    clCkptCheckpointClose(r);
    ClNameT nm = name(n);
    clCkptCheckpointDelete(s.h, &nm);
}

TEST_CASE("section iteration: the document's selections, the end, handles")
{
    Svc s;
    REQUIRE(s.rc == CL_OK);
    const std::string n = unique("iterate");
    ClCkptHdlT h = open_rw(s, n, attrs(CL_CKPT_WR_ALL_REPLICAS, 8, 64));
    const ClTimeT t1 = now() + 3600LL * 1000000000, t2 = t1 + 3600LL * 1000000000;
    create_section(h, "forever", "f");
    create_section(h, "soon", "s", t1);
    create_section(h, "late", "l", t2);
    create_section(h, "broken", "b");
    // Damage one section behind the library's back: its checksum no longer matches.
    const std::string key = cps::section_key(instance_of(n), "broken");
    auto got = cps::kvs_of(etcd().range(key, soon()).body);
    REQUIRE(got.size() == 1);
    std::string damaged = got[0].value;
    damaged.back() ^= 0x55;
    REQUIRE(etcd().put(key, damaged, got[0].lease, soon()).ok());

    auto select = [&](ClCkptSectionsChosenT how, ClTimeT t) {
        ClHandleT it;
        REQUIRE(clCkptSectionIterationInitialize(h, how, t, &it) == CL_OK);
        std::set<std::string> ids;
        ClCkptSectionDescriptorT d;
        ClRcT rc;
        while ((rc = clCkptSectionIterationNext(it, &d)) == CL_OK) {
            ids.insert(std::string(reinterpret_cast<char *>(d.sectionId.id), d.sectionId.idLen));
            if (ids.count("broken") && d.sectionState == CL_CKPT_SECTION_CORRUPTED) ids.insert("<corrupted>");
        }
        CHECK(rc == CL_CKPT_ERR_NOT_EXIST);  // the end
        CHECK(clCkptSectionIterationFinalize(it) == CL_OK);
        CHECK(clCkptSectionIterationNext(it, &d) == CL_CKPT_ERR_INVALID_HANDLE);
        return ids;
    };
    CHECK(select(CL_CKPT_SECTIONS_FOREVER, 0) == std::set<std::string>{"forever", "broken", "<corrupted>"});
    CHECK(select(CL_CKPT_SECTIONS_LEQ_EXPIRATION_TIME, t1) == std::set<std::string>{"soon"});
    CHECK(select(CL_CKPT_SECTIONS_GEQ_EXPIRATION_TIME, t2) == std::set<std::string>{"late", "forever", "broken", "<corrupted>"});
    CHECK(select(CL_CKPT_SECTIONS_CORRUPTED, 0) == std::set<std::string>{"broken", "<corrupted>"});
    CHECK(select(CL_CKPT_SECTIONS_ANY, 0).size() == 5);

    ClHandleT it;
    CHECK(clCkptSectionIterationInitialize(h + 1000, CL_CKPT_SECTIONS_ANY, 0, &it) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(clCkptSectionIterationInitialize(h, CL_CKPT_SECTIONS_ANY, 0, nullptr) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptSectionIterationInitialize(h, ClCkptSectionsChosenT(42), 0, &it) == CL_CKPT_ERR_INVALID_PARAMETER);
    REQUIRE(clCkptSectionIterationInitialize(h, CL_CKPT_SECTIONS_ANY, 0, &it) == CL_OK);
    CHECK(clCkptSectionIterationNext(it, nullptr) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptSectionIterationFinalize(it) == CL_OK);
    CHECK(clCkptSectionIterationFinalize(it) == CL_CKPT_ERR_INVALID_HANDLE);

    // Reading the damaged section says so instead of handing out the bytes.
    ClCkptIOVectorElementT e{};
    e.sectionId = sid("broken");
    ClUInt32T bad = 99;
    CHECK(clCkptCheckpointRead(h, &e, 1, &bad) == CL_CKPT_ERR_CORRUPTED);
    CHECK(bad == 0);
    clCkptCheckpointClose(h);
    ClNameT nm = name(n);
    clCkptCheckpointDelete(s.h, &nm);
}

TEST_CASE("clCkptCheckpointWrite and clCkptSectionOverwrite: errors with their index, all or nothing, growth")
{
    Svc s;
    REQUIRE(s.rc == CL_OK);
    const std::string n = unique("write");
    auto a = attrs(CL_CKPT_WR_ALL_REPLICAS, 4, 16);
    a.checkpointSize = 40;
    ClCkptHdlT h = open_rw(s, n, a);
    ClCkptHdlT r = open_rw(s, n, a, CL_CKPT_CHECKPOINT_READ);
    create_section(h, "a", "aaaa");
    create_section(h, "b", "bbbb");
    ClCkptIOVectorElementT v[3] = {};
    v[0].sectionId = sid("a");
    v[0].dataBuffer = (void *)"XY";
    v[0].dataSize = 2;
    v[0].dataOffset = 3;  // grows "a" to 5 bytes
    v[1].sectionId = sid("b");
    v[1].dataBuffer = (void *)"Z";
    v[1].dataSize = 1;
    v[2].sectionId = sid("nope");
    v[2].dataBuffer = (void *)"Q";
    v[2].dataSize = 1;
    ClUInt32T bad = 99;
    CHECK(clCkptCheckpointWrite(h + 1000, v, 2, &bad) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(clCkptCheckpointWrite(h, nullptr, 2, &bad) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptCheckpointWrite(h, v, 2, nullptr) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptCheckpointWrite(r, v, 2, &bad) == CL_CKPT_ERR_OP_NOT_PERMITTED);
    CHECK(clCkptCheckpointWrite(h, v, 3, &bad) == CL_CKPT_ERR_NOT_EXIST);
    CHECK(bad == 2);
    CHECK(read_section(h, "a") == "aaaa");  // nothing of the failed call was written
    CHECK(read_section(h, "b") == "bbbb");
    v[2].sectionId = sid("a");
    v[2].dataOffset = 15;
    v[2].dataSize = 2;  // beyond maxSectionSize 16
    CHECK(clCkptCheckpointWrite(h, v, 3, &bad) == CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK(bad == 2);
    REQUIRE(clCkptCheckpointWrite(h, v, 2, &bad) == CL_OK);
    CHECK(read_section(r, "a") == "aaaXY");
    CHECK(read_section(r, "b") == "Zbbb");

    ClCkptSectionIdT sa = sid("a"), sz = sid("z");
    CHECK(clCkptSectionOverwrite(h + 1000, &sa, "1", 1) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(clCkptSectionOverwrite(h, nullptr, "1", 1) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptSectionOverwrite(h, &sa, nullptr, 1) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptSectionOverwrite(h, &sz, "1", 1) == CL_CKPT_ERR_NOT_EXIST);
    CHECK(clCkptSectionOverwrite(r, &sa, "1", 1) == CL_CKPT_ERR_OP_NOT_PERMITTED);
    CHECK(clCkptSectionOverwrite(h, &sa, "0123456789abcdefg", 17) == CL_CKPT_ERR_INVALID_PARAMETER);
    REQUIRE(clCkptSectionOverwrite(h, &sa, "1", 1) == CL_OK);
    CHECK(read_section(r, "a") == "1");  // the new size
    create_section(h, "c", "0123456789abcdef");
    create_section(h, "d", "0123456789abcdef");
    CHECK(clCkptSectionOverwrite(h, &sa, "0123456789abcdef", 16) == CL_CKPT_ERR_NO_SPACE);  // checkpointSize 40
    clCkptCheckpointClose(h);
    clCkptCheckpointClose(r);
    ClNameT nm = name(n);
    clCkptCheckpointDelete(s.h, &nm);
}

TEST_CASE("clCkptCheckpointRead: errors, offsets, buffers supplied by the library")
{
    Svc s;
    REQUIRE(s.rc == CL_OK);
    const std::string n = unique("read");
    auto a = attrs(CL_CKPT_WR_ALL_REPLICAS, 4, 16);
    ClCkptHdlT h = open_rw(s, n, a);
    ClCkptHdlT w = open_rw(s, n, a, CL_CKPT_CHECKPOINT_WRITE);
    create_section(h, "a", "0123456789");
    ClCkptIOVectorElementT e{};
    e.sectionId = sid("a");
    ClUInt32T bad = 99;
    CHECK(clCkptCheckpointRead(h + 1000, &e, 1, &bad) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(clCkptCheckpointRead(h, nullptr, 1, &bad) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptCheckpointRead(h, &e, 1, nullptr) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptCheckpointRead(w, &e, 1, &bad) == CL_CKPT_ERR_OP_NOT_PERMITTED);
    ClCkptIOVectorElementT two[2] = {};
    two[0].sectionId = sid("a");
    two[1].sectionId = sid("missing");
    CHECK(clCkptCheckpointRead(h, two, 2, &bad) == CL_CKPT_ERR_NOT_EXIST);
    CHECK(bad == 1);
    CHECK(two[0].dataBuffer == nullptr);  // what the failed call allocated is freed again
    e.dataOffset = 11;  // beyond the section's 10 bytes
    CHECK(clCkptCheckpointRead(h, &e, 1, &bad) == CL_CKPT_ERR_INVALID_PARAMETER);
    e.dataOffset = 17;  // beyond maxSectionSize
    CHECK(clCkptCheckpointRead(h, &e, 1, &bad) == CL_CKPT_ERR_INVALID_PARAMETER);
    char buf[4];
    e.dataOffset = 8;
    e.dataBuffer = buf;
    e.dataSize = sizeof buf;
    REQUIRE(clCkptCheckpointRead(h, &e, 1, &bad) == CL_OK);
    CHECK(e.readSize == 2);
    CHECK(std::string(buf, 2) == "89");
    e.dataOffset = 2;
    REQUIRE(clCkptCheckpointRead(h, &e, 1, &bad) == CL_OK);
    CHECK(e.readSize == 4);
    CHECK(std::string(buf, 4) == "2345");
    clCkptCheckpointClose(h);
    clCkptCheckpointClose(w);
    ClNameT nm = name(n);
    clCkptCheckpointDelete(s.h, &nm);
}

TEST_CASE("asynchronous checkpoints: acknowledged locally, in etcd after clCkptCheckpointSynchronize")
{
    ClCkptCallbacksT cb{on_open, on_sync};
    Svc s(&cb);
    REQUIRE(s.rc == CL_OK);
    const std::string n = unique("async");
    auto a = attrs(CL_CKPT_WR_ACTIVE_REPLICA, 4, 64);
    ClCkptHdlT h = open_rw(s, n, a);  // not collocated: the writer holds the active replica
    ClCkptHdlT r = open_rw(s, n, a, CL_CKPT_CHECKPOINT_READ);
    CHECK(clCkptCheckpointSynchronize(h + 1000, 0) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(clCkptCheckpointSynchronize(r, 0) == CL_CKPT_ERR_OP_NOT_PERMITTED);
    create_section(h, "a", "v0");
    ClCkptSectionIdT sa = sid("a");
    for (int i = 1; i <= 20; ++i) {
        const std::string v = "v" + std::to_string(i);
        REQUIRE(clCkptSectionOverwrite(h, &sa, v.data(), v.size()) == CL_OK);
    }
    CHECK(read_section(h, "a") == "v20");  // the active replica has it at once
    REQUIRE(clCkptCheckpointSynchronize(h, 0) == CL_OK);
    CHECK(read_section(r, "a") == "v20");  // and etcd after Synchronize
    ClUInt32T pending = 99;
    ClTimeT lag = -1;
    REQUIRE(clCkptReplicationStatusGet(h, &pending, &lag) == CL_OK);
    CHECK(pending == 0);
    CHECK(lag > 0);

    ClSelectionObjectT so;
    REQUIRE(clCkptSelectionObjectGet(s.h, &so) == CL_OK);
    CHECK(clCkptCheckpointSynchronizeAsync(h + 1000, 1) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(clCkptCheckpointSynchronizeAsync(r, 1) == CL_CKPT_ERR_OP_NOT_PERMITTED);
    REQUIRE(clCkptSectionOverwrite(h, &sa, "last", 4) == CL_OK);
    g_sync_calls = 0;
    REQUIRE(clCkptCheckpointSynchronizeAsync(h, 31) == CL_OK);
    REQUIRE(readable(so, 10000));
    REQUIRE(clCkptDispatch(s.h, CL_DISPATCH_ONE) == CL_OK);
    CHECK(g_sync_calls == 1);
    CHECK(g_sync_inv == 31);
    CHECK(g_sync_rc == CL_OK);
    CHECK(read_section(r, "a") == "last");

    // A synchronous checkpoint has nothing to synchronize.
    const std::string sn = unique("async-sync");
    ClCkptHdlT hs = open_rw(s, sn, attrs());
    CHECK(clCkptCheckpointSynchronize(hs, 0) == CL_CKPT_ERR_BAD_OPERATION);
    CHECK(clCkptCheckpointSynchronizeAsync(hs, 1) == CL_CKPT_ERR_BAD_OPERATION);

    // Collocated: only after ActiveReplicaSet; a second writer that takes it over fences the first.
    const std::string cn = unique("async-col");
    auto ca = attrs(CL_CKPT_WR_ACTIVE_REPLICA | CL_CKPT_CHECKPOINT_COLLOCATED, 4, 64);
    ClCkptHdlT c1 = open_rw(s, cn, ca);
    ClCkptHdlT c2 = open_rw(s, cn, ca);
    CHECK(clCkptCheckpointSynchronize(c1, 0) == CL_CKPT_ERR_NOT_EXIST);
    REQUIRE(clCkptActiveReplicaSet(c1) == CL_OK);
    create_section(c1, "x", "from c1");
    REQUIRE(clCkptCheckpointSynchronize(c1, 0) == CL_OK);
    REQUIRE(clCkptActiveReplicaSet(c2) == CL_OK);
    CHECK(read_section(c2, "x") == "from c1");  // the new active replica starts from etcd
    ClCkptSectionIdT sx = sid("x");
    REQUIRE(clCkptSectionOverwrite(c1, &sx, "stale", 5) == CL_OK);  // acknowledged locally...
    CHECK(clCkptCheckpointSynchronize(c1, 0) == CL_CKPT_ERR_NOT_EXIST);  // ...but never replicated
    REQUIRE(clCkptSectionOverwrite(c2, &sx, "from c2", 7) == CL_OK);
    REQUIRE(clCkptCheckpointSynchronize(c2, 0) == CL_OK);
    ClCkptHdlT cr = open_rw(s, cn, ca, CL_CKPT_CHECKPOINT_READ);
    CHECK(read_section(cr, "x") == "from c2");  // etcd has c2's write, not c1's stale one
    for (ClCkptHdlT x : {h, r, hs, c1, c2, cr}) clCkptCheckpointClose(x);
    for (auto &x : {n, sn, cn}) {
        ClNameT nm = name(x);
        clCkptCheckpointDelete(s.h, &nm);
    }
}

namespace {
std::vector<std::string> g_seen;
ClRcT on_change(ClNameT *, ClCkptHdlT h)
{
    ClCkptIOVectorElementT e{};
    e.sectionId = sid("n");
    ClUInt32T bad;
    if (clCkptCheckpointRead(h, &e, 1, &bad) == CL_OK) {
        g_seen.emplace_back(static_cast<char *>(e.dataBuffer), e.readSize);
        free(e.dataBuffer);
    } else {
        g_seen.push_back("<" + std::string(clCkptErrorText()) + ">");
    }
    return CL_OK;
}
}  // namespace

TEST_CASE("clCkptImmediateConsumptionRegister: one callback per committed change, in order, each seeing its change")
{
    Svc writer, reader;
    REQUIRE(writer.rc == CL_OK);
    REQUIRE(reader.rc == CL_OK);
    const std::string n = unique("consume");
    ClCkptHdlT w = open_rw(writer, n, attrs());
    ClCkptHdlT r = open_rw(reader, n, attrs(), CL_CKPT_CHECKPOINT_READ);
    CHECK(clCkptImmediateConsumptionRegister(r + 1000, on_change) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(clCkptImmediateConsumptionRegister(r, nullptr) == CL_CKPT_ERR_NULL_POINTER);
    REQUIRE(clCkptImmediateConsumptionRegister(r, on_change) == CL_OK);
    g_seen.clear();
    create_section(w, "n", "0");
    ClCkptSectionIdT sn = sid("n");
    for (int i = 1; i <= 30; ++i) {
        const std::string v = std::to_string(i);
        REQUIRE(clCkptSectionOverwrite(w, &sn, v.data(), v.size()) == CL_OK);
    }
    ClSelectionObjectT so;
    REQUIRE(clCkptSelectionObjectGet(reader.h, &so) == CL_OK);
    // All 31 changes were committed before the first callback runs, yet each callback reads
    // the value of its own change.
    REQUIRE(eventually([&] {
        if (readable(so)) clCkptDispatch(reader.h, CL_DISPATCH_ALL);
        return g_seen.size() >= 31;
    }, 10));
    std::vector<std::string> want;
    for (int i = 0; i <= 30; ++i) want.push_back(std::to_string(i));
    CHECK(g_seen == want);
    CHECK_FALSE(readable(so));
    clCkptCheckpointClose(w);
    clCkptCheckpointClose(r);
    ClNameT nm = name(n);
    clCkptCheckpointDelete(writer.h, &nm);
}

TEST_CASE("clCkptFinalize closes the handles of its initialization")
{
    ClVersionT v = version();
    ClCkptSvcHdlT a, b;
    REQUIRE(clCkptInitialize(&a, nullptr, &v) == CL_OK);
    REQUIRE(clCkptInitialize(&b, nullptr, &v) == CL_OK);
    const std::string n = unique("finalize");
    ClNameT nm = name(n);
    auto at = attrs();
    ClCkptHdlT h;
    REQUIRE(clCkptCheckpointOpen(a, &nm, &at, CL_CKPT_CHECKPOINT_READ | CL_CKPT_CHECKPOINT_WRITE | CL_CKPT_CHECKPOINT_CREATE,
                                 0, &h) == CL_OK);
    const std::string inst = instance_of(n);
    CHECK(keys_under(cps::openers_prefix(inst)) == 1);
    REQUIRE(clCkptFinalize(a) == CL_OK);
    CHECK(clCkptCheckpointClose(h) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(keys_under(cps::openers_prefix(inst)) == 0);
    CHECK(clCkptCheckpointDelete(b, &nm) == CL_OK);
    CHECK(clCkptFinalize(b) == CL_OK);
}
