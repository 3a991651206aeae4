// The clCkptLibrary* API (include/ckp/cl_ckpt_library.h). What is stored lives in the database
// (DatasetDb); what cannot be stored, the callbacks, lives with the initialization's handle.
#include <ckp/cl_ckpt_library.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <string>

#include "dataset_db.h"

namespace {

using ckp::cps::DatasetDb;

struct DatasetCallbacks {
    ClCkptSerializeT ser = nullptr;
    ClCkptDeserializeT deser = nullptr;
    ClCkptSerializeT elem_ser = nullptr;  // set by clCkptLibraryCkptElementCreate
    ClCkptDeserializeT elem_deser = nullptr;
};

struct Instance {
    std::map<std::pair<std::string, ClUInt32T>, DatasetCallbacks> datasets;
};

std::mutex lock;  // the handle table; the database has its own locking
std::map<ClHandleT, Instance> instances;
ClHandleT next_handle = 1;

// A valid name as bytes, or CL_CKPT_ERR_NULL_POINTER / CL_CKPT_ERR_INVALID_PARAMETER.
ClRcT name_of(const ClNameT *n, std::string &out)
{
    if (!n) return CL_CKPT_ERR_NULL_POINTER;
    if (n->length == 0 || n->length > CL_MAX_NAME_LENGTH) return CL_CKPT_ERR_INVALID_PARAMETER;
    out.assign(reinterpret_cast<const char *>(n->value), n->length);
    return CL_OK;
}

// Runs `f(instance, name, db)` for a valid handle and name, with the database open.
template <class F> ClRcT with(ClCkptSvcHdlT h, const ClNameT *n, F &&f)
{
    try {
        std::lock_guard<std::mutex> g(lock);
        auto it = instances.find(h);
        if (it == instances.end()) return CL_CKPT_ERR_INVALID_HANDLE;
        std::string name;
        if (ClRcT rc = name_of(n, name); rc != CL_OK) return rc;
        DatasetDb db;
        if (ClRcT rc = db.open(ckp::cps::default_db_path()); rc != CL_OK) return rc;
        return f(it->second, name, db);
    } catch (const std::bad_alloc &) {
        return CL_CKPT_ERR_NO_MEMORY;
    }
}

// The checkpoint must exist (CL_CKPT_ERR_NOT_EXIST otherwise).
ClRcT need_ckpt(DatasetDb &db, const std::string &name)
{
    bool exists = false;
    if (ClRcT rc = db.ckpt_exists(name, exists); rc != CL_OK) return rc;
    return exists ? CL_OK : CL_CKPT_ERR_NOT_EXIST;
}

// The dataset must be stored and have its callbacks in this initialization.
ClRcT need_dataset(Instance &in, DatasetDb &db, const std::string &name, ClUInt32T ds, DatasetCallbacks **cb)
{
    bool exists = false;
    if (ClRcT rc = db.dataset_exists(name, ds, exists); rc != CL_OK) return rc;
    auto it = in.datasets.find({name, ds});
    if (!exists || it == in.datasets.end()) return CL_CKPT_ERR_NOT_EXIST;
    *cb = &it->second;
    return CL_OK;
}

// Calls a serializer and hands its buffer to `store`; the buffer is the library's to free.
template <class Store> ClRcT serialize(ClCkptSerializeT ser, ClUInt32T ds, ClHandleT cookie, Store &&store)
{
    ClAddrT buf = nullptr;
    ClUInt32T len = 0;
    ClRcT rc = ser(ds, &buf, &len, cookie);
    if (rc == CL_OK && len > 0 && !buf) rc = CL_CKPT_ERR_INVALID_BUFFER;
    if (rc == CL_OK) rc = store(buf, len);
    std::free(buf);
    return rc;
}

ClRcT deserialize(ClCkptDeserializeT deser, ClUInt32T ds, std::string &data, ClHandleT cookie)
{
    ClAddrT buf = reinterpret_cast<ClAddrT>(data.data());
    ClUInt32T len = ClUInt32T(data.size());
    return deser(ds, &buf, &len, cookie);
}

}  // namespace

extern "C" {

ClRcT clCkptLibraryInitialize(ClCkptSvcHdlT *pCkptHdl)
{
    if (!pCkptHdl) return CL_CKPT_ERR_NULL_POINTER;
    try {
        // The database is opened (and created) now, so that an unusable one is reported here.
        DatasetDb db;
        if (ClRcT rc = db.open(ckp::cps::default_db_path()); rc != CL_OK) return rc;
        std::lock_guard<std::mutex> g(lock);
        const ClHandleT h = next_handle++;
        instances[h];
        *pCkptHdl = h;
        return CL_OK;
    } catch (const std::bad_alloc &) {
        return CL_CKPT_ERR_NO_MEMORY;
    }
}

ClRcT clCkptLibraryFinalize(ClCkptSvcHdlT ckptHdl)
{
    std::lock_guard<std::mutex> g(lock);
    return instances.erase(ckptHdl) ? CL_OK : CL_CKPT_ERR_INVALID_HANDLE;
}

ClRcT clCkptLibraryCkptCreate(ClCkptSvcHdlT ckptHdl, ClNameT *pCkptName)
{
    return with(ckptHdl, pCkptName, [](Instance &, const std::string &name, DatasetDb &db) { return db.ckpt_create(name); });
}

ClRcT clCkptLibraryCkptDelete(ClCkptSvcHdlT ckptHdl, ClNameT *pCkptName)
{
    return with(ckptHdl, pCkptName, [](Instance &in, const std::string &name, DatasetDb &db) {
        bool existed = false;
        if (ClRcT rc = db.ckpt_delete(name, existed); rc != CL_OK) return rc;
        for (auto it = in.datasets.begin(); it != in.datasets.end();)
            it = it->first.first == name ? in.datasets.erase(it) : std::next(it);
        return existed ? CL_OK : CL_CKPT_ERR_NOT_EXIST;
    });
}

ClRcT clCkptLibraryCkptDataSetCreate(ClCkptSvcHdlT ckptHdl, ClNameT *pCkptName, ClUInt32T dsId, ClUInt32T grpId,
                                     ClUInt32T order, ClCkptSerializeT dsSerialiser, ClCkptDeserializeT dsDeserialiser)
{
    return with(ckptHdl, pCkptName, [&](Instance &in, const std::string &name, DatasetDb &db) {
        if (!dsSerialiser || !dsDeserialiser) return CL_CKPT_ERR_INVALID_PARAMETER;
        if (ClRcT rc = need_ckpt(db, name); rc != CL_OK) return rc;
        // The callbacks' entry is made first: a lack of memory after the dataset was stored
        // would leave it stored but reported as not created.
        auto [it, added] = in.datasets.try_emplace({name, dsId});
        if (ClRcT rc = db.dataset_create(name, dsId, grpId, order); rc != CL_OK) {
            if (added) in.datasets.erase(it);
            return rc;
        }
        it->second.ser = dsSerialiser;
        it->second.deser = dsDeserialiser;
        return CL_OK;
    });
}

ClRcT clCkptLibraryCkptDataSetDelete(ClCkptSvcHdlT ckptHdl, ClNameT *pCkptName, ClUInt32T dsId)
{
    return with(ckptHdl, pCkptName, [&](Instance &in, const std::string &name, DatasetDb &db) {
        bool existed = false;
        if (ClRcT rc = db.dataset_delete(name, dsId, existed); rc != CL_OK) return rc;
        in.datasets.erase({name, dsId});
        return existed ? CL_OK : CL_CKPT_ERR_NOT_EXIST;
    });
}

ClRcT clCkptLibraryCkptDataSetWrite(ClCkptSvcHdlT ckptHdl, ClNameT *pCkptName, ClUInt32T dsId, ClHandleT cookie)
{
    return with(ckptHdl, pCkptName, [&](Instance &in, const std::string &name, DatasetDb &db) {
        DatasetCallbacks *cb = nullptr;
        if (ClRcT rc = need_dataset(in, db, name, dsId, &cb); rc != CL_OK) return rc;
        return serialize(cb->ser, dsId, cookie,
                         [&](ClAddrT buf, ClUInt32T len) { return db.dataset_write(name, dsId, buf, len); });
    });
}

ClRcT clCkptLibraryCkptDataSetRead(ClCkptSvcHdlT ckptHdl, ClNameT *pCkptName, ClUInt32T dsId, ClHandleT cookie)
{
    return with(ckptHdl, pCkptName, [&](Instance &in, const std::string &name, DatasetDb &db) {
        DatasetCallbacks *cb = nullptr;
        if (ClRcT rc = need_dataset(in, db, name, dsId, &cb); rc != CL_OK) return rc;
        // One read transaction: the dataset and its elements as of one write.
        if (ClRcT rc = db.exec("BEGIN"); rc != CL_OK) return rc;
        std::string data;
        bool found = false;
        ClRcT rc = db.dataset_read(name, dsId, data, found);
        if (rc == CL_OK && !found) rc = CL_CKPT_ERR_NOT_EXIST;
        if (rc == CL_OK) rc = deserialize(cb->deser, dsId, data, cookie);
        if (rc == CL_OK && cb->elem_deser)
            rc = db.elements_read(name, dsId, [&](std::string &d) { return deserialize(cb->elem_deser, dsId, d, cookie); });
        db.exec("COMMIT");
        return rc;
    });
}

ClRcT clCkptLibraryDoesCkptExist(ClCkptSvcHdlT ckptHdl, ClNameT *pCkptName, ClBoolT *pRetVal)
{
    if (!pRetVal) {
        std::lock_guard<std::mutex> g(lock);
        return instances.count(ckptHdl) ? CL_CKPT_ERR_NULL_POINTER : CL_CKPT_ERR_INVALID_HANDLE;
    }
    return with(ckptHdl, pCkptName, [&](Instance &, const std::string &name, DatasetDb &db) {
        bool exists = false;
        ClRcT rc = db.ckpt_exists(name, exists);
        if (rc == CL_OK) *pRetVal = exists ? CL_TRUE : CL_FALSE;
        return rc;
    });
}

ClRcT clCkptLibraryDoesDatasetExist(ClCkptSvcHdlT ckptHdl, ClNameT *pCkptName, ClUInt32T dsId, ClBoolT *pRetVal)
{
    if (!pRetVal) {
        std::lock_guard<std::mutex> g(lock);
        return instances.count(ckptHdl) ? CL_CKPT_ERR_NULL_POINTER : CL_CKPT_ERR_INVALID_HANDLE;
    }
    return with(ckptHdl, pCkptName, [&](Instance &, const std::string &name, DatasetDb &db) {
        bool exists = false;
        ClRcT rc = db.dataset_exists(name, dsId, exists);
        if (rc == CL_OK) *pRetVal = exists ? CL_TRUE : CL_FALSE;
        return rc;
    });
}

ClRcT clCkptLibraryCkptElementCreate(ClCkptSvcHdlT ckptHdl, ClNameT *pCkptName, ClUInt32T dsId,
                                     ClCkptSerializeT elemSerialiser, ClCkptDeserializeT elemDeserialiser)
{
    return with(ckptHdl, pCkptName, [&](Instance &in, const std::string &name, DatasetDb &db) {
        if (!elemSerialiser || !elemDeserialiser) return CL_CKPT_ERR_INVALID_PARAMETER;
        DatasetCallbacks *cb = nullptr;
        if (ClRcT rc = need_dataset(in, db, name, dsId, &cb); rc != CL_OK) return rc;
        cb->elem_ser = elemSerialiser;
        cb->elem_deser = elemDeserialiser;
        return CL_OK;
    });
}

ClRcT clCkptLibraryCkptElementWrite(ClCkptSvcHdlT ckptHdl, ClNameT *pCkptName, ClUInt32T dsId, ClPtrT elemId,
                                    ClUInt32T elemLen, ClHandleT cookie)
{
    return with(ckptHdl, pCkptName, [&](Instance &in, const std::string &name, DatasetDb &db) {
        if (!elemId || elemLen == 0) return CL_CKPT_ERR_INVALID_PARAMETER;
        DatasetCallbacks *cb = nullptr;
        if (ClRcT rc = need_dataset(in, db, name, dsId, &cb); rc != CL_OK) return rc;
        if (!cb->elem_ser) return CL_CKPT_ERR_NOT_EXIST;  // no element created for the dataset
        const std::string key(static_cast<const char *>(elemId), elemLen);
        return serialize(cb->elem_ser, dsId, cookie,
                         [&](ClAddrT buf, ClUInt32T len) { return db.element_write(name, dsId, key, buf, len); });
    });
}

}  // extern "C"
