// Contract of ckp/cl_ckpt_library.h: every clCkptLibrary* call, the serializer/deserializer
// protocol, persistence across initializations, and every error code.
#include <catch2/catch.hpp>

#include <ckp/cl_ckpt_library.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "temp_dir.h"

namespace {

ClNameT name(const char *s)
{
    ClNameT n{};
    n.length = ClUInt16T(std::strlen(s));
    std::memcpy(n.value, s, n.length);
    return n;
}

// What the callbacks see: the application's state.
std::string ds_state, elem_next;
std::vector<std::string> read_back;
ClHandleT last_cookie = 0;
ClUInt32T last_ds = 0;

ClAddrT copy_out(const std::string &s)
{
    auto *p = static_cast<ClAddrT>(std::malloc(s.size() ? s.size() : 1));
    std::memcpy(p, s.data(), s.size());
    return p;
}

ClRcT ser(ClUInt32T ds, ClAddrT *buf, ClUInt32T *len, ClHandleT cookie)
{
    last_ds = ds;
    last_cookie = cookie;
    *buf = copy_out(ds_state);
    *len = ClUInt32T(ds_state.size());
    return CL_OK;
}
ClRcT deser(ClUInt32T ds, ClAddrT *buf, ClUInt32T *len, ClHandleT cookie)
{
    last_ds = ds;
    last_cookie = cookie;
    read_back.emplace_back(reinterpret_cast<char *>(*buf), *len);
    return CL_OK;
}
ClRcT elem_ser(ClUInt32T, ClAddrT *buf, ClUInt32T *len, ClHandleT)
{
    *buf = copy_out(elem_next);
    *len = ClUInt32T(elem_next.size());
    return CL_OK;
}
ClRcT elem_deser(ClUInt32T, ClAddrT *buf, ClUInt32T *len, ClHandleT)
{
    read_back.push_back("elem:" + std::string(reinterpret_cast<char *>(*buf), *len));
    return CL_OK;
}
ClRcT ser_fails(ClUInt32T, ClAddrT *, ClUInt32T *, ClHandleT) { return CL_CKPT_ERR_NO_RESOURCE; }
ClRcT ser_no_buffer(ClUInt32T, ClAddrT *buf, ClUInt32T *len, ClHandleT)
{
    *buf = nullptr;
    *len = 10;
    return CL_OK;
}

struct Db {
    TempDir dir;
    Db() { setenv("CL_CKPT_LIBRARY_DB", (dir / "cps.db").c_str(), 1); }
    ~Db() { unsetenv("CL_CKPT_LIBRARY_DB"); }
};

}  // namespace

TEST_CASE("clCkptLibraryInitialize and Finalize", "[cps]")
{
    Db db;
    ClCkptSvcHdlT h = 0, h2 = 0;
    CHECK(clCkptLibraryInitialize(nullptr) == CL_CKPT_ERR_NULL_POINTER);
    REQUIRE(clCkptLibraryInitialize(&h) == CL_OK);
    REQUIRE(clCkptLibraryInitialize(&h2) == CL_OK);
    CHECK(h != h2);
    CHECK(h != CL_HANDLE_INVALID_VALUE);
    CHECK(clCkptLibraryFinalize(h) == CL_OK);
    CHECK(clCkptLibraryFinalize(h) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(clCkptLibraryFinalize(12345678) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(CL_GET_ERROR_CODE(clCkptLibraryFinalize(0)) == CL_ERR_INVALID_HANDLE);
    CHECK(clCkptLibraryFinalize(h2) == CL_OK);

    setenv("CL_CKPT_LIBRARY_DB", "/proc/ckp-cannot-be-here/cps.db", 1);
    CHECK(clCkptLibraryInitialize(&h) == CL_CKPT_ERR_IO);
}

TEST_CASE("checkpoints: create, exist, delete", "[cps]")
{
    Db db;
    ClCkptSvcHdlT h = 0;
    REQUIRE(clCkptLibraryInitialize(&h) == CL_OK);
    ClNameT n = name("ckpt-a");
    ClBoolT there = CL_TRUE;
    REQUIRE(clCkptLibraryDoesCkptExist(h, &n, &there) == CL_OK);
    CHECK(there == CL_FALSE);
    REQUIRE(clCkptLibraryCkptCreate(h, &n) == CL_OK);
    REQUIRE(clCkptLibraryDoesCkptExist(h, &n, &there) == CL_OK);
    CHECK(there == CL_TRUE);
    CHECK(clCkptLibraryCkptCreate(h, &n) == CL_OK);  // opens the stored one
    REQUIRE(clCkptLibraryCkptDelete(h, &n) == CL_OK);
    REQUIRE(clCkptLibraryDoesCkptExist(h, &n, &there) == CL_OK);
    CHECK(there == CL_FALSE);
    CHECK(clCkptLibraryCkptDelete(h, &n) == CL_CKPT_ERR_NOT_EXIST);

    CHECK(clCkptLibraryCkptCreate(h, nullptr) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptLibraryCkptCreate(999, &n) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(clCkptLibraryCkptDelete(h, nullptr) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptLibraryCkptDelete(999, &n) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(clCkptLibraryDoesCkptExist(h, nullptr, &there) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptLibraryDoesCkptExist(h, &n, nullptr) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptLibraryDoesCkptExist(999, &n, &there) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(clCkptLibraryDoesCkptExist(999, &n, nullptr) == CL_CKPT_ERR_INVALID_HANDLE);
    ClNameT empty{};
    CHECK(clCkptLibraryCkptCreate(h, &empty) == CL_CKPT_ERR_INVALID_PARAMETER);
    ClNameT too_long = name("x");
    too_long.length = CL_MAX_NAME_LENGTH + 1;
    CHECK(clCkptLibraryCkptCreate(h, &too_long) == CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK(clCkptLibraryFinalize(h) == CL_OK);
}

TEST_CASE("datasets: create, write, read, exist, delete, with the serializer protocol", "[cps]")
{
    Db db;
    ClCkptSvcHdlT h = 0;
    REQUIRE(clCkptLibraryInitialize(&h) == CL_OK);
    ClNameT n = name("ckpt-b");
    ClBoolT there = CL_TRUE;
    CHECK(clCkptLibraryCkptDataSetCreate(h, &n, 1, 0, 0, ser, deser) == CL_CKPT_ERR_NOT_EXIST);  // no checkpoint
    REQUIRE(clCkptLibraryCkptCreate(h, &n) == CL_OK);
    CHECK(clCkptLibraryCkptDataSetCreate(h, &n, 1, 0, 0, nullptr, deser) == CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK(clCkptLibraryCkptDataSetCreate(h, &n, 1, 0, 0, ser, nullptr) == CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK(clCkptLibraryCkptDataSetCreate(h, nullptr, 1, 0, 0, ser, deser) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptLibraryCkptDataSetCreate(999, &n, 1, 0, 0, ser, deser) == CL_CKPT_ERR_INVALID_HANDLE);
    REQUIRE(clCkptLibraryDoesDatasetExist(h, &n, 1, &there) == CL_OK);
    CHECK(there == CL_FALSE);
    REQUIRE(clCkptLibraryCkptDataSetCreate(h, &n, 1, 7, 3, ser, deser) == CL_OK);
    REQUIRE(clCkptLibraryDoesDatasetExist(h, &n, 1, &there) == CL_OK);
    CHECK(there == CL_TRUE);

    read_back.clear();
    CHECK(clCkptLibraryCkptDataSetRead(h, &n, 1, 0) == CL_CKPT_ERR_NOT_EXIST);  // never written
    CHECK(read_back.empty());
    ds_state = "state one";
    REQUIRE(clCkptLibraryCkptDataSetWrite(h, &n, 1, 0xc00c1e) == CL_OK);
    CHECK(last_ds == 1);
    CHECK(last_cookie == 0xc00c1e);
    ds_state = "state two";
    REQUIRE(clCkptLibraryCkptDataSetWrite(h, &n, 1, 0) == CL_OK);
    REQUIRE(clCkptLibraryCkptDataSetRead(h, &n, 1, 0xbeef) == CL_OK);
    CHECK(read_back == std::vector<std::string>{"state two"});
    CHECK(last_cookie == 0xbeef);

    // A serializer's error is returned and nothing is stored.
    REQUIRE(clCkptLibraryCkptDataSetCreate(h, &n, 2, 0, 0, ser_fails, deser) == CL_OK);
    CHECK(clCkptLibraryCkptDataSetWrite(h, &n, 2, 0) == CL_CKPT_ERR_NO_RESOURCE);
    CHECK(clCkptLibraryCkptDataSetRead(h, &n, 2, 0) == CL_CKPT_ERR_NOT_EXIST);
    REQUIRE(clCkptLibraryCkptDataSetCreate(h, &n, 3, 0, 0, ser_no_buffer, deser) == CL_OK);
    CHECK(clCkptLibraryCkptDataSetWrite(h, &n, 3, 0) == CL_CKPT_ERR_INVALID_BUFFER);

    CHECK(clCkptLibraryCkptDataSetWrite(h, &n, 99, 0) == CL_CKPT_ERR_NOT_EXIST);
    CHECK(clCkptLibraryCkptDataSetRead(h, &n, 99, 0) == CL_CKPT_ERR_NOT_EXIST);
    CHECK(clCkptLibraryCkptDataSetWrite(h, nullptr, 1, 0) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptLibraryCkptDataSetRead(h, nullptr, 1, 0) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptLibraryCkptDataSetWrite(999, &n, 1, 0) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(clCkptLibraryCkptDataSetRead(999, &n, 1, 0) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(clCkptLibraryDoesDatasetExist(h, nullptr, 1, &there) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptLibraryDoesDatasetExist(h, &n, 1, nullptr) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptLibraryDoesDatasetExist(999, &n, 1, &there) == CL_CKPT_ERR_INVALID_HANDLE);

    REQUIRE(clCkptLibraryCkptDataSetDelete(h, &n, 1) == CL_OK);
    REQUIRE(clCkptLibraryDoesDatasetExist(h, &n, 1, &there) == CL_OK);
    CHECK(there == CL_FALSE);
    CHECK(clCkptLibraryCkptDataSetDelete(h, &n, 1) == CL_CKPT_ERR_NOT_EXIST);
    CHECK(clCkptLibraryCkptDataSetWrite(h, &n, 1, 0) == CL_CKPT_ERR_NOT_EXIST);
    CHECK(clCkptLibraryCkptDataSetDelete(h, nullptr, 1) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptLibraryCkptDataSetDelete(999, &n, 1) == CL_CKPT_ERR_INVALID_HANDLE);

    // Deleting the checkpoint deletes its datasets.
    REQUIRE(clCkptLibraryCkptDelete(h, &n) == CL_OK);
    REQUIRE(clCkptLibraryCkptCreate(h, &n) == CL_OK);
    REQUIRE(clCkptLibraryDoesDatasetExist(h, &n, 2, &there) == CL_OK);
    CHECK(there == CL_FALSE);
    CHECK(clCkptLibraryFinalize(h) == CL_OK);
}

TEST_CASE("elements: create, write, read with the dataset", "[cps]")
{
    Db db;
    ClCkptSvcHdlT h = 0;
    REQUIRE(clCkptLibraryInitialize(&h) == CL_OK);
    ClNameT n = name("ckpt-c");
    REQUIRE(clCkptLibraryCkptCreate(h, &n) == CL_OK);
    char key_b[] = "b", key_a[] = "a";
    CHECK(clCkptLibraryCkptElementCreate(h, &n, 5, elem_ser, elem_deser) == CL_CKPT_ERR_NOT_EXIST);
    REQUIRE(clCkptLibraryCkptDataSetCreate(h, &n, 5, 0, 0, ser, deser) == CL_OK);
    CHECK(clCkptLibraryCkptElementWrite(h, &n, 5, key_a, 1, 0) == CL_CKPT_ERR_NOT_EXIST);  // no element created
    CHECK(clCkptLibraryCkptElementCreate(h, &n, 5, nullptr, elem_deser) == CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK(clCkptLibraryCkptElementCreate(h, nullptr, 5, elem_ser, elem_deser) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptLibraryCkptElementCreate(999, &n, 5, elem_ser, elem_deser) == CL_CKPT_ERR_INVALID_HANDLE);
    REQUIRE(clCkptLibraryCkptElementCreate(h, &n, 5, elem_ser, elem_deser) == CL_OK);
    elem_next = "B1";
    REQUIRE(clCkptLibraryCkptElementWrite(h, &n, 5, key_b, 1, 0) == CL_OK);
    elem_next = "A1";
    REQUIRE(clCkptLibraryCkptElementWrite(h, &n, 5, key_a, 1, 0) == CL_OK);
    elem_next = "B2";
    REQUIRE(clCkptLibraryCkptElementWrite(h, &n, 5, key_b, 1, 0) == CL_OK);  // replaces B1
    CHECK(clCkptLibraryCkptElementWrite(h, &n, 5, nullptr, 1, 0) == CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK(clCkptLibraryCkptElementWrite(h, &n, 5, key_a, 0, 0) == CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK(clCkptLibraryCkptElementWrite(h, nullptr, 5, key_a, 1, 0) == CL_CKPT_ERR_NULL_POINTER);
    CHECK(clCkptLibraryCkptElementWrite(999, &n, 5, key_a, 1, 0) == CL_CKPT_ERR_INVALID_HANDLE);
    CHECK(clCkptLibraryCkptElementWrite(h, &n, 6, key_a, 1, 0) == CL_CKPT_ERR_NOT_EXIST);
    ds_state = "head";
    REQUIRE(clCkptLibraryCkptDataSetWrite(h, &n, 5, 0) == CL_OK);
    read_back.clear();
    REQUIRE(clCkptLibraryCkptDataSetRead(h, &n, 5, 0) == CL_OK);
    CHECK(read_back == std::vector<std::string>{"head", "elem:A1", "elem:B2"});
    CHECK(clCkptLibraryFinalize(h) == CL_OK);
}

TEST_CASE("stored data survives finalization; callbacks are attached again by DataSetCreate", "[cps]")
{
    Db db;
    ClNameT n = name("persisted");
    {
        ClCkptSvcHdlT h = 0;
        REQUIRE(clCkptLibraryInitialize(&h) == CL_OK);
        REQUIRE(clCkptLibraryCkptCreate(h, &n) == CL_OK);
        REQUIRE(clCkptLibraryCkptDataSetCreate(h, &n, 1, 0, 0, ser, deser) == CL_OK);
        ds_state = "kept";
        REQUIRE(clCkptLibraryCkptDataSetWrite(h, &n, 1, 0) == CL_OK);
        REQUIRE(clCkptLibraryFinalize(h) == CL_OK);
    }
    ClCkptSvcHdlT h = 0;
    REQUIRE(clCkptLibraryInitialize(&h) == CL_OK);
    ClBoolT there = CL_FALSE;
    REQUIRE(clCkptLibraryDoesDatasetExist(h, &n, 1, &there) == CL_OK);
    CHECK(there == CL_TRUE);
    CHECK(clCkptLibraryCkptDataSetRead(h, &n, 1, 0) == CL_CKPT_ERR_NOT_EXIST);  // no deserializer yet
    REQUIRE(clCkptLibraryCkptDataSetCreate(h, &n, 1, 0, 0, ser, deser) == CL_OK);
    read_back.clear();
    REQUIRE(clCkptLibraryCkptDataSetRead(h, &n, 1, 0) == CL_OK);
    CHECK(read_back == std::vector<std::string>{"kept"});
    CHECK(clCkptLibraryFinalize(h) == CL_OK);
}

TEST_CASE("damaged stored data is reported, never deserialized; a newer schema is refused", "[cps]")
{
    Db db;
    ClNameT n = name("damaged");
    ClCkptSvcHdlT h = 0;
    REQUIRE(clCkptLibraryInitialize(&h) == CL_OK);
    REQUIRE(clCkptLibraryCkptCreate(h, &n) == CL_OK);
    REQUIRE(clCkptLibraryCkptDataSetCreate(h, &n, 1, 0, 0, ser, deser) == CL_OK);
    ds_state = "original";
    REQUIRE(clCkptLibraryCkptDataSetWrite(h, &n, 1, 0) == CL_OK);
    sqlite3 *raw = nullptr;
    REQUIRE(sqlite3_open((db.dir / "cps.db").c_str(), &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw, "UPDATE dataset SET data = CAST('0riginal' AS BLOB)", nullptr, nullptr, nullptr) == SQLITE_OK);
    read_back.clear();
    CHECK(clCkptLibraryCkptDataSetRead(h, &n, 1, 0) == CL_CKPT_ERR_CORRUPTED);
    CHECK(read_back.empty());
    REQUIRE(sqlite3_exec(raw, "PRAGMA user_version=2", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(raw);
    CHECK(clCkptLibraryCkptDataSetRead(h, &n, 1, 0) == CL_CKPT_ERR_VERSION_MISMATCH);
    ClCkptSvcHdlT h2 = 0;
    CHECK(clCkptLibraryInitialize(&h2) == CL_CKPT_ERR_VERSION_MISMATCH);
    CHECK(clCkptLibraryFinalize(h) == CL_OK);
}
