// The C API of ckp/cl_ckpt.h: the handle tables, the checks of every parameter the document
// names, and the calls into Service and Checkpoint. Every failure sets the thread's error text
// (clCkptErrorText).
#include <ckp/cl_ckpt.h>

#include <cstring>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "checkpoint.h"
#include "config.h"
#include "keys.h"
#include "service.h"

using cps::Checkpoint;
using cps::Clock;
using cps::Service;

namespace {

thread_local std::string t_error;

struct Iteration {
    std::vector<cps::Section> sections;
    std::vector<std::string> ids;
    size_t next = 0;
    std::string current_id;  // what the last descriptor's sectionId.id points into
};

// Handles of the three kinds come from one counter, so a handle of one kind is never valid
// as another.
struct Tables {
    std::mutex mu;
    ClHandleT next = 0x1000;
    std::map<ClHandleT, std::shared_ptr<Service>> services;
    std::map<ClHandleT, std::pair<ClCkptSvcHdlT, std::shared_ptr<Checkpoint>>> checkpoints;
    std::map<ClHandleT, std::shared_ptr<Iteration>> iterations;
};
Tables &tables()
{
    static Tables *t = new Tables;  // never destroyed: handles may be used during exit
    return *t;
}

ClRcT fail(ClRcT rc, std::string why)
{
    t_error = std::move(why);
    return rc;
}

ClRcT ok()
{
    t_error.clear();
    return CL_OK;
}

// A service handle, or the code saying why it is not one.
ClRcT find_service(ClCkptSvcHdlT h, std::shared_ptr<Service> *out)
{
    Tables &t = tables();
    std::lock_guard<std::mutex> lock(t.mu);
    if (t.services.empty()) return fail(CL_CKPT_ERR_NOT_INITIALIZED, "clCkptInitialize has not been called");
    auto it = t.services.find(h);
    if (it == t.services.end()) return fail(CL_CKPT_ERR_INVALID_HANDLE, "not a checkpoint service handle");
    *out = it->second;
    return CL_OK;
}

ClRcT find_checkpoint(ClCkptHdlT h, std::shared_ptr<Checkpoint> *out)
{
    Tables &t = tables();
    std::lock_guard<std::mutex> lock(t.mu);
    if (t.services.empty()) return fail(CL_CKPT_ERR_NOT_INITIALIZED, "clCkptInitialize has not been called");
    auto it = t.checkpoints.find(h);
    if (it == t.checkpoints.end()) return fail(CL_CKPT_ERR_INVALID_HANDLE, "not an open checkpoint handle");
    *out = it->second.second;
    return CL_OK;
}

Clock::time_point deadline_for(ClTimeT timeout)
{
    if (timeout > 0 && timeout != CL_TIME_END) return Clock::now() + std::chrono::nanoseconds(timeout);
    return Clock::now() + cps::default_timeout();
}

ClRcT from(Checkpoint &c, ClRcT rc)
{
    if (rc == CL_OK) return ok();
    t_error = c.last_error();
    return rc;
}

bool valid_name(const ClNameT *n) { return n->length > 0 && n->length <= CL_MAX_NAME_LENGTH; }
std::string name_of(const ClNameT *n) { return std::string(reinterpret_cast<const char *>(n->value), n->length); }
std::string id_of(const ClCkptSectionIdT *id)
{
    return id->id ? std::string(reinterpret_cast<const char *>(id->id), id->idLen) : std::string();
}

// The checks of the creation attributes and open flags (clCkptCheckpointOpen, OpenAsync).
ClRcT check_open(const ClNameT *name, const ClCkptCheckpointCreationAttributesT *attrs, ClCkptOpenFlagsT flags)
{
    if (!name) return fail(CL_CKPT_ERR_NULL_POINTER, "checkpointName is NULL");
    if (!valid_name(name)) return fail(CL_CKPT_ERR_INVALID_PARAMETER, "checkpointName length must be 1..256");
    const ClCkptOpenFlagsT all = CL_CKPT_CHECKPOINT_READ | CL_CKPT_CHECKPOINT_WRITE | CL_CKPT_CHECKPOINT_CREATE;
    if (flags == 0 || (flags & ~all)) return fail(CL_CKPT_ERR_BAD_FLAG, "open flags must be READ, WRITE and/or CREATE");
    const bool create = flags & CL_CKPT_CHECKPOINT_CREATE;
    if (create && !attrs) return fail(CL_CKPT_ERR_INVALID_PARAMETER, "CREATE needs creation attributes");
    if (!create && attrs) return fail(CL_CKPT_ERR_INVALID_PARAMETER, "creation attributes are only for CREATE");
    if (!attrs) return CL_OK;
    const ClUInt32T f = attrs->creationFlags;
    const ClUInt32T kinds = f & (CL_CKPT_WR_ALL_REPLICAS | CL_CKPT_WR_ACTIVE_REPLICA | CL_CKPT_WR_ACTIVE_REPLICA_WEAK);
    if ((f & ~(kinds | CL_CKPT_CHECKPOINT_COLLOCATED)) || (kinds & (kinds - 1)) || kinds == 0)
        return fail(CL_CKPT_ERR_BAD_FLAG, "creationFlags: exactly one of WR_ALL_REPLICAS, WR_ACTIVE_REPLICA, "
                                          "WR_ACTIVE_REPLICA_WEAK, optionally COLLOCATED");
    if ((f & CL_CKPT_CHECKPOINT_COLLOCATED) && (f & CL_CKPT_WR_ALL_REPLICAS))
        return fail(CL_CKPT_ERR_BAD_FLAG, "a synchronous checkpoint cannot be collocated");
    if (attrs->maxSections == 0) return fail(CL_CKPT_ERR_INVALID_PARAMETER, "maxSections must be at least 1");
    if (attrs->checkpointSize > ClSizeT(attrs->maxSections) * attrs->maxSectionSize)
        return fail(CL_CKPT_ERR_INVALID_PARAMETER, "checkpointSize > maxSections * maxSectionSize");
    if (attrs->maxSections > 1 && attrs->maxSectionIdSize == 0)
        return fail(CL_CKPT_ERR_INVALID_PARAMETER, "maxSectionIdSize must be at least 1 with several sections");
    if (attrs->maxSectionIdSize > 65535) return fail(CL_CKPT_ERR_INVALID_PARAMETER, "maxSectionIdSize above 65535");
    if (attrs->retentionDuration < 0) return fail(CL_CKPT_ERR_INVALID_PARAMETER, "negative retentionDuration");
    return CL_OK;
}

// Opens and enters the handle in the table; the handle in *out.
ClRcT do_open(const std::shared_ptr<Service> &svc, const std::string &name, const ClCkptCheckpointCreationAttributesT *attrs,
              ClCkptOpenFlagsT flags, ClTimeT timeout, ClCkptHdlT *out)
{
    Tables &t = tables();
    ClHandleT h;
    {
        std::lock_guard<std::mutex> lock(t.mu);
        h = t.next++;
    }
    auto c = std::make_shared<Checkpoint>(*svc, h, name, flags);
    const ClRcT rc = c->open(attrs, deadline_for(timeout));
    if (rc != CL_OK) return from(*c, rc);
    {
        std::lock_guard<std::mutex> lock(t.mu);
        t.checkpoints[h] = {svc->handle(), c};
    }
    *out = h;
    return ok();
}

}  // namespace

namespace cps {
void deliver_notification(ClCkptHdlT handle, int64_t revision)
{
    std::shared_ptr<Checkpoint> c;
    {
        Tables &t = tables();
        std::lock_guard<std::mutex> lock(t.mu);
        auto it = t.checkpoints.find(handle);
        if (it == t.checkpoints.end()) return;  // closed since: the callback is cancelled
        c = it->second.second;
    }
    ClCkptNotificationCallbackT cb = c->consumer();
    if (!cb) return;
    ClNameT name{};
    name.length = ClUInt16T(c->name().size());
    std::memcpy(name.value, c->name().data(), c->name().size());
    // Reads on this handle inside the callback see the checkpoint as of this change.
    Checkpoint::read_revision = revision;
    Checkpoint::read_revision_handle = handle;
    cb(&name, handle);
    Checkpoint::read_revision = 0;
    Checkpoint::read_revision_handle = 0;
}
}  // namespace cps

extern "C" {

const char *clCkptErrorText(void) { return t_error.c_str(); }

ClRcT clCkptInitialize(ClCkptSvcHdlT *ckptSvcHandle, const ClCkptCallbacksT *callbacks, ClVersionT *version)
{
    if (!ckptSvcHandle || !version) return fail(CL_CKPT_ERR_NULL_POINTER, "ckptSvcHandle or version is NULL");
    if (version->releaseCode != CL_CKPT_RELEASE_CODE || version->majorVersion != CL_CKPT_MAJOR_VERSION) {
        version->releaseCode = CL_CKPT_RELEASE_CODE;
        version->majorVersion = CL_CKPT_MAJOR_VERSION;
        version->minorVersion = CL_CKPT_MINOR_VERSION;
        return fail(CL_CKPT_ERR_VERSION_MISMATCH, "this library implements version B.01.01");
    }
    version->minorVersion = CL_CKPT_MINOR_VERSION;
    Tables &t = tables();
    ClHandleT h;
    {
        std::lock_guard<std::mutex> lock(t.mu);
        h = t.next++;
    }
    auto svc = std::make_shared<Service>(h, callbacks, cps::configured_endpoints());
    if (!svc->queue().valid()) return fail(CL_CKPT_ERR_NO_RESOURCE, "no eventfd for the selection object");
    std::string why;
    const ClRcT rc = svc->start(Clock::now() + cps::default_timeout(), &why);
    if (rc != CL_OK) return fail(rc, "cannot use etcd: " + why);
    {
        std::lock_guard<std::mutex> lock(t.mu);
        t.services[h] = svc;
    }
    *ckptSvcHandle = h;
    return ok();
}

ClRcT clCkptSelectionObjectGet(ClCkptSvcHdlT ckptHandle, ClSelectionObjectT *pSelectionObject)
{
    std::shared_ptr<Service> svc;
    if (ClRcT rc = find_service(ckptHandle, &svc)) return rc;
    if (!pSelectionObject) return fail(CL_CKPT_ERR_INVALID_PARAMETER, "pSelectionObject is NULL");
    *pSelectionObject = svc->queue().fd();
    return ok();
}

ClRcT clCkptDispatch(ClCkptSvcHdlT ckptHandle, ClDispatchFlagsT dispatchFlags)
{
    std::shared_ptr<Service> svc;
    if (ClRcT rc = find_service(ckptHandle, &svc)) return rc;
    switch (dispatchFlags) {
    case CL_DISPATCH_ONE: svc->queue().run_one(false); break;
    case CL_DISPATCH_ALL:
        while (svc->queue().run_one(false)) {
        }
        break;
    case CL_DISPATCH_BLOCKING:
        // Until clCkptFinalize (from a callback or another thread).
        while (!svc->queue().closed()) svc->queue().run_one(true);
        break;
    default: return fail(CL_CKPT_ERR_INVALID_PARAMETER, "dispatchFlags must be ONE, ALL or BLOCKING");
    }
    return ok();
}

ClRcT clCkptFinalize(ClCkptSvcHdlT ckptHandle)
{
    Tables &t = tables();
    std::shared_ptr<Service> svc;
    std::vector<std::shared_ptr<Checkpoint>> open;
    {
        std::lock_guard<std::mutex> lock(t.mu);
        auto it = t.services.find(ckptHandle);
        if (it == t.services.end()) return fail(CL_CKPT_ERR_NOT_INITIALIZED, "not an initialized service handle");
        svc = it->second;
        t.services.erase(it);
        for (auto c = t.checkpoints.begin(); c != t.checkpoints.end();) {
            if (c->second.first == ckptHandle) {
                open.push_back(c->second.second);
                c = t.checkpoints.erase(c);
            } else {
                ++c;
            }
        }
    }
    svc->queue().close();
    for (auto &c : open) c->close(Clock::now() + cps::default_timeout());
    return ok();
}

ClRcT clCkptCheckpointOpen(ClCkptSvcHdlT ckptHandle, const ClNameT *checkpointName,
                           const ClCkptCheckpointCreationAttributesT *attrs, ClCkptOpenFlagsT flags, ClTimeT timeout,
                           ClCkptHdlT *checkpointHandle)
{
    std::shared_ptr<Service> svc;
    if (ClRcT rc = find_service(ckptHandle, &svc)) return rc;
    if (!checkpointHandle) return fail(CL_CKPT_ERR_NULL_POINTER, "checkpointHandle is NULL");
    if (ClRcT rc = check_open(checkpointName, attrs, flags)) return rc;
    return do_open(svc, name_of(checkpointName), attrs, flags, timeout, checkpointHandle);
}

ClRcT clCkptCheckpointOpenAsync(ClCkptSvcHdlT ckptHandle, ClInvocationT invocation, const ClNameT *checkpointName,
                                const ClCkptCheckpointCreationAttributesT *attrs, ClCkptOpenFlagsT flags)
{
    std::shared_ptr<Service> svc;
    if (ClRcT rc = find_service(ckptHandle, &svc)) return rc;
    if (ClRcT rc = check_open(checkpointName, attrs, flags)) return rc;
    if (!svc->callbacks().checkpointOpenCallback)
        return fail(CL_CKPT_ERR_INVALID_PARAMETER, "no checkpointOpenCallback was given to clCkptInitialize");
    const std::string name = name_of(checkpointName);
    std::optional<ClCkptCheckpointCreationAttributesT> a;
    if (attrs) a = *attrs;
    std::weak_ptr<Service> weak = svc;
    svc->run_async([weak, name, a, flags, invocation, raw = svc.get()] {
        auto s = weak.lock();
        if (!s) return;
        ClCkptHdlT h = 0;
        const ClRcT rc = do_open(s, name, a ? &*a : nullptr, flags, 0, &h);
        auto cb = raw->callbacks().checkpointOpenCallback;
        raw->queue().push([cb, invocation, h, rc] { cb(invocation, h, rc); });
    });
    return ok();
}

ClRcT clCkptCheckpointClose(ClCkptHdlT checkpointHandle)
{
    Tables &t = tables();
    std::shared_ptr<Checkpoint> c;
    {
        std::lock_guard<std::mutex> lock(t.mu);
        if (t.services.empty()) return fail(CL_CKPT_ERR_NOT_INITIALIZED, "clCkptInitialize has not been called");
        auto it = t.checkpoints.find(checkpointHandle);
        if (it == t.checkpoints.end()) return fail(CL_CKPT_ERR_INVALID_HANDLE, "not an open checkpoint handle");
        c = it->second.second;
        t.checkpoints.erase(it);
    }
    return from(*c, c->close(Clock::now() + cps::default_timeout()));
}

ClRcT clCkptCheckpointDelete(ClCkptSvcHdlT ckptHandle, const ClNameT *checkpointName)
{
    std::shared_ptr<Service> svc;
    if (ClRcT rc = find_service(ckptHandle, &svc)) return rc;
    if (!checkpointName) return fail(CL_CKPT_ERR_NULL_POINTER, "checkpointName is NULL");
    if (!valid_name(checkpointName)) return fail(CL_CKPT_ERR_INVALID_PARAMETER, "checkpointName length must be 1..256");
    const std::string name = name_of(checkpointName);
    const ClRcT rc = Checkpoint::unlink(*svc, name, Clock::now() + cps::default_timeout());
    if (rc == CL_CKPT_ERR_NOT_EXIST) return fail(rc, "no checkpoint named \"" + name + "\"");
    if (rc != CL_OK) return fail(rc, "etcd did not answer in time");
    return ok();
}

ClRcT clCkptCheckpointRetentionDurationSet(ClCkptHdlT checkpointHandle, ClTimeT retentionDuration)
{
    std::shared_ptr<Checkpoint> c;
    if (ClRcT rc = find_checkpoint(checkpointHandle, &c)) return rc;
    if (retentionDuration < 0) return fail(CL_CKPT_ERR_INVALID_PARAMETER, "negative retentionDuration");
    return from(*c, c->set_retention(retentionDuration, Clock::now() + cps::default_timeout()));
}

ClRcT clCkptActiveReplicaSet(ClCkptHdlT checkpointHandle)
{
    std::shared_ptr<Checkpoint> c;
    if (ClRcT rc = find_checkpoint(checkpointHandle, &c)) return rc;
    return from(*c, c->set_active_replica(Clock::now() + cps::default_timeout()));
}

ClRcT clCkptCheckpointStatusGet(ClCkptHdlT checkpointHandle, ClCkptCheckpointDescriptorT *checkpointStatus)
{
    std::shared_ptr<Checkpoint> c;
    if (ClRcT rc = find_checkpoint(checkpointHandle, &c)) return rc;
    if (!checkpointStatus) return fail(CL_CKPT_ERR_NULL_POINTER, "checkpointStatus is NULL");
    return from(*c, c->status(checkpointStatus, Clock::now() + cps::default_timeout()));
}

ClRcT clCkptSectionCreate(ClCkptHdlT checkpointHandle, ClCkptSectionCreationAttributesT *attrs,
                          const ClUInt8T *initialData, ClSizeT initialDataSize)
{
    std::shared_ptr<Checkpoint> c;
    if (ClRcT rc = find_checkpoint(checkpointHandle, &c)) return rc;
    if (!attrs || !attrs->sectionId) return fail(CL_CKPT_ERR_NULL_POINTER, "sectionCreationAttributes or its sectionId is NULL");
    if (!initialData && initialDataSize) return fail(CL_CKPT_ERR_NULL_POINTER, "initialData is NULL");
    if (initialData && !initialDataSize)
        return fail(CL_CKPT_ERR_INVALID_PARAMETER, "initialDataSize is zero but initialData is not NULL");
    if (!attrs->sectionId->id && attrs->sectionId->idLen)
        return fail(CL_CKPT_ERR_NULL_POINTER, "sectionId->id is NULL");
    const std::string data = initialData ? std::string(reinterpret_cast<const char *>(initialData), initialDataSize) : "";
    return from(*c, c->section_create(id_of(attrs->sectionId), attrs->expirationTime, data,
                                      Clock::now() + cps::default_timeout()));
}

ClRcT clCkptSectionDelete(ClCkptHdlT checkpointHandle, const ClCkptSectionIdT *sectionId)
{
    std::shared_ptr<Checkpoint> c;
    if (ClRcT rc = find_checkpoint(checkpointHandle, &c)) return rc;
    if (!sectionId) return fail(CL_CKPT_ERR_NULL_POINTER, "sectionId is NULL");
    return from(*c, c->section_delete(id_of(sectionId), Clock::now() + cps::default_timeout()));
}

ClRcT clCkptSectionExpirationTimeSet(ClCkptHdlT checkpointHandle, const ClCkptSectionIdT *sectionId, ClTimeT expirationTime)
{
    std::shared_ptr<Checkpoint> c;
    if (ClRcT rc = find_checkpoint(checkpointHandle, &c)) return rc;
    if (!sectionId) return fail(CL_CKPT_ERR_INVALID_PARAMETER, "sectionId is NULL");
    return from(*c, c->section_expiration(id_of(sectionId), expirationTime, Clock::now() + cps::default_timeout()));
}

ClRcT clCkptSectionIterationInitialize(ClCkptHdlT checkpointHandle, ClCkptSectionsChosenT chosen, ClTimeT expirationTime,
                                       ClHandleT *sectionIterationHandle)
{
    std::shared_ptr<Checkpoint> c;
    if (ClRcT rc = find_checkpoint(checkpointHandle, &c)) return rc;
    if (!sectionIterationHandle) return fail(CL_CKPT_ERR_NULL_POINTER, "sectionIterationHandle is NULL");
    if (chosen < CL_CKPT_SECTIONS_FOREVER || chosen > CL_CKPT_SECTIONS_ANY)
        return fail(CL_CKPT_ERR_INVALID_PARAMETER, "sectionsChosen is not one of ClCkptSectionsChosenT");
    std::map<std::string, cps::Section> secs;
    if (ClRcT rc = c->sections(&secs, Clock::now() + cps::default_timeout())) return from(*c, rc);
    auto it = std::make_shared<Iteration>();
    for (auto &[key, s] : secs) {
        const ClTimeT exp = s.rec.expiration;
        bool take = false;
        switch (chosen) {
        case CL_CKPT_SECTIONS_FOREVER: take = exp == CL_TIME_END; break;
        case CL_CKPT_SECTIONS_LEQ_EXPIRATION_TIME: take = exp <= expirationTime; break;
        case CL_CKPT_SECTIONS_GEQ_EXPIRATION_TIME: take = exp >= expirationTime; break;
        case CL_CKPT_SECTIONS_CORRUPTED: take = s.rec.corrupted; break;
        case CL_CKPT_SECTIONS_ANY: take = true; break;
        }
        std::string id;
        if (!take || !cps::section_id_of(key, &id)) continue;
        it->sections.push_back(s);
        it->ids.push_back(id);
    }
    Tables &t = tables();
    std::lock_guard<std::mutex> lock(t.mu);
    const ClHandleT h = t.next++;
    t.iterations[h] = it;
    *sectionIterationHandle = h;
    return ok();
}

ClRcT clCkptSectionIterationNext(ClHandleT sectionIterationHandle, ClCkptSectionDescriptorT *sectionDescriptor)
{
    Tables &t = tables();
    std::shared_ptr<Iteration> it;
    {
        std::lock_guard<std::mutex> lock(t.mu);
        if (t.services.empty()) return fail(CL_CKPT_ERR_NOT_INITIALIZED, "clCkptInitialize has not been called");
        auto i = t.iterations.find(sectionIterationHandle);
        if (i == t.iterations.end()) return fail(CL_CKPT_ERR_INVALID_HANDLE, "not a section iteration handle");
        it = i->second;
    }
    if (!sectionDescriptor) return fail(CL_CKPT_ERR_NULL_POINTER, "sectionDescriptor is NULL");
    if (it->next >= it->sections.size()) return fail(CL_CKPT_ERR_NOT_EXIST, "no more sections");
    const cps::Section &s = it->sections[it->next];
    it->current_id = it->ids[it->next];
    ++it->next;
    sectionDescriptor->sectionId.id =
        it->current_id.empty() ? nullptr : reinterpret_cast<ClUInt8T *>(it->current_id.data());
    sectionDescriptor->sectionId.idLen = ClUInt16T(it->current_id.size());
    sectionDescriptor->expirationTime = s.rec.expiration;
    sectionDescriptor->sectionSize = s.rec.data.size();
    sectionDescriptor->sectionState = s.rec.corrupted ? CL_CKPT_SECTION_CORRUPTED : CL_CKPT_SECTION_VALID;
    sectionDescriptor->lastUpdate = s.rec.last_update;
    return ok();
}

ClRcT clCkptSectionIterationFinalize(ClHandleT sectionIterationHandle)
{
    Tables &t = tables();
    std::lock_guard<std::mutex> lock(t.mu);
    if (t.services.empty()) return fail(CL_CKPT_ERR_NOT_INITIALIZED, "clCkptInitialize has not been called");
    if (!t.iterations.erase(sectionIterationHandle))
        return fail(CL_CKPT_ERR_INVALID_HANDLE, "not a section iteration handle");
    return ok();
}

ClRcT clCkptCheckpointWrite(ClCkptHdlT checkpointHandle, const ClCkptIOVectorElementT *ioVector, ClUInt32T numberOfElements,
                            ClUInt32T *erroneousVectorIndex)
{
    std::shared_ptr<Checkpoint> c;
    if (ClRcT rc = find_checkpoint(checkpointHandle, &c)) return rc;
    if (!ioVector || !erroneousVectorIndex) return fail(CL_CKPT_ERR_NULL_POINTER, "ioVector or erroneousVectorIndex is NULL");
    if (numberOfElements == 0) return fail(CL_CKPT_ERR_INVALID_PARAMETER, "numberOfElements is zero");
    return from(*c, c->write(ioVector, numberOfElements, erroneousVectorIndex, Clock::now() + cps::default_timeout()));
}

ClRcT clCkptSectionOverwrite(ClCkptHdlT checkpointHandle, const ClCkptSectionIdT *sectionId, const void *dataBuffer,
                             ClSizeT dataSize)
{
    std::shared_ptr<Checkpoint> c;
    if (ClRcT rc = find_checkpoint(checkpointHandle, &c)) return rc;
    if (!sectionId || (!dataBuffer && dataSize)) return fail(CL_CKPT_ERR_NULL_POINTER, "sectionId or dataBuffer is NULL");
    const std::string data = dataSize ? std::string(static_cast<const char *>(dataBuffer), dataSize) : "";
    return from(*c, c->overwrite(id_of(sectionId), data, Clock::now() + cps::default_timeout()));
}

ClRcT clCkptCheckpointRead(ClCkptHdlT checkpointHandle, ClCkptIOVectorElementT *ioVector, ClUInt32T numberOfElements,
                           ClUInt32T *erroneousVectorIndex)
{
    std::shared_ptr<Checkpoint> c;
    if (ClRcT rc = find_checkpoint(checkpointHandle, &c)) return rc;
    if (!ioVector || !erroneousVectorIndex) return fail(CL_CKPT_ERR_NULL_POINTER, "ioVector or erroneousVectorIndex is NULL");
    if (numberOfElements == 0) return fail(CL_CKPT_ERR_INVALID_PARAMETER, "numberOfElements is zero");
    return from(*c, c->read(ioVector, numberOfElements, erroneousVectorIndex, Clock::now() + cps::default_timeout()));
}

ClRcT clCkptCheckpointSynchronize(ClCkptHdlT checkpointHandle, ClTimeT timeout)
{
    std::shared_ptr<Checkpoint> c;
    if (ClRcT rc = find_checkpoint(checkpointHandle, &c)) return rc;
    return from(*c, c->synchronize(deadline_for(timeout)));
}

ClRcT clCkptCheckpointSynchronizeAsync(ClCkptHdlT checkpointHandle, ClInvocationT invocation)
{
    std::shared_ptr<Checkpoint> c;
    if (ClRcT rc = find_checkpoint(checkpointHandle, &c)) return rc;
    std::shared_ptr<Service> svc;
    {
        Tables &t = tables();
        std::lock_guard<std::mutex> lock(t.mu);
        auto it = t.services.find(t.checkpoints[checkpointHandle].first);
        if (it != t.services.end()) svc = it->second;
    }
    if (!svc) return fail(CL_CKPT_ERR_INVALID_HANDLE, "the handle's service was finalized");
    // The checks that need no waiting are made now; the wait itself in the background.
    if (!(c->flags() & CL_CKPT_CHECKPOINT_WRITE))
        return fail(CL_CKPT_ERR_OP_NOT_PERMITTED, "checkpoint \"" + c->name() + "\" is not open for writing");
    if (!c->asynchronous())
        return fail(CL_CKPT_ERR_BAD_OPERATION, "checkpoint \"" + c->name() + "\" is synchronous");
    Service *raw = svc.get();
    svc->run_async([c, raw, invocation] {
        const ClRcT rc = c->synchronize(Clock::now() + cps::default_timeout());
        auto cb = raw->callbacks().checkpointSynchronizeCallback;
        if (cb) raw->queue().push([cb, invocation, rc] { cb(invocation, rc); });
    });
    return ok();
}

ClRcT clCkptImmediateConsumptionRegister(ClCkptHdlT checkpointHandle, ClCkptNotificationCallbackT callback)
{
    std::shared_ptr<Checkpoint> c;
    if (ClRcT rc = find_checkpoint(checkpointHandle, &c)) return rc;
    if (!callback) return fail(CL_CKPT_ERR_NULL_POINTER, "callback is NULL");
    return from(*c, c->register_consumer(callback));
}

ClRcT clCkptReplicationStatusGet(ClCkptHdlT checkpointHandle, ClUInt32T *pendingWrites, ClTimeT *lastLag)
{
    std::shared_ptr<Checkpoint> c;
    if (ClRcT rc = find_checkpoint(checkpointHandle, &c)) return rc;
    if (!pendingWrites || !lastLag) return fail(CL_CKPT_ERR_NULL_POINTER, "pendingWrites or lastLag is NULL");
    return from(*c, c->replication_status(pendingWrites, lastLag));
}

}  // extern "C"
