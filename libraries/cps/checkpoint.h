// An open checkpoint (a ClCkptHdlT): its instance in etcd, its sections and, for an
// asynchronous checkpoint whose active replica this handle holds, the local copy (the active
// replica) and its replicator. Synchronous checkpoints read and write etcd directly; every
// write is one conditional transaction (all its sections or none).
#pragma once

#include <ckp/cl_ckpt.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "etcd_client.h"
#include "etcd_watch.h"
#include "replicator.h"
#include "section_record.h"

namespace cps {

class Service;

// The checkpoint's record in etcd (meta key), JSON encoded.
struct CheckpointMeta {
    std::string name;
    ClCkptCheckpointCreationAttributesT attrs{};
    int64_t lease = 0;  // the retention lease; 0: kept forever
    bool unlinked = false;
    std::string to_json() const;
    static bool from_json(const std::string &s, CheckpointMeta *out);
};

struct Section {
    SectionRecord rec;
    int64_t lease = 0;
    int64_t mod_revision = 0;
};

class Checkpoint {
public:
    Checkpoint(Service &svc, ClCkptHdlT handle, std::string name, ClCkptOpenFlagsT flags);
    ~Checkpoint();

    // clCkptCheckpointOpen: finds or creates the instance and registers this opener.
    ClRcT open(const ClCkptCheckpointCreationAttributesT *create, Clock::time_point deadline);
    ClRcT close(Clock::time_point deadline);
    // clCkptCheckpointDelete by name (no handle needed).
    static ClRcT unlink(Service &svc, const std::string &name, Clock::time_point deadline);

    ClRcT set_retention(ClTimeT retention, Clock::time_point deadline);
    ClRcT set_active_replica(Clock::time_point deadline);
    ClRcT status(ClCkptCheckpointDescriptorT *out, Clock::time_point deadline);
    ClRcT section_create(const std::string &id, ClTimeT expiration, const std::string &data, Clock::time_point deadline);
    ClRcT section_delete(const std::string &id, Clock::time_point deadline);
    ClRcT section_expiration(const std::string &id, ClTimeT expiration, Clock::time_point deadline);
    // The sections (id -> record), for iteration and status.
    ClRcT sections(std::map<std::string, Section> *out, Clock::time_point deadline);
    ClRcT write(const ClCkptIOVectorElementT *iov, ClUInt32T n, ClUInt32T *bad, Clock::time_point deadline);
    ClRcT overwrite(const std::string &id, const std::string &data, Clock::time_point deadline);
    ClRcT read(ClCkptIOVectorElementT *iov, ClUInt32T n, ClUInt32T *bad, Clock::time_point deadline);
    ClRcT synchronize(Clock::time_point deadline);
    ClRcT register_consumer(ClCkptNotificationCallbackT cb);
    ClRcT replication_status(ClUInt32T *pending, ClTimeT *lag);
    ClCkptNotificationCallbackT consumer();

    // For the keep-alive thread: the retention lease now in force (re-read from meta).
    int64_t retention_lease_for_keepalive(EtcdClient &etcd);
    // For the keep-alive thread after a lost session: puts the opener key again.
    void reregister(EtcdClient &etcd, int64_t session_lease);

    ClCkptHdlT handle() const { return handle_; }
    const std::string &name() const { return name_; }
    ClCkptOpenFlagsT flags() const { return flags_; }
    const ClCkptCheckpointCreationAttributesT &attrs() const { return meta_.attrs; }
    bool asynchronous() const { return !(meta_.attrs.creationFlags & CL_CKPT_WR_ALL_REPLICAS); }
    bool collocated() const { return meta_.attrs.creationFlags & CL_CKPT_CHECKPOINT_COLLOCATED; }
    const std::string &last_error() const { return why_; }

    // During a notification callback, reads of this handle see the notified revision.
    static thread_local int64_t read_revision;
    static thread_local ClCkptHdlT read_revision_handle;

private:
    ClRcT fail(ClRcT rc, std::string why);
    ClRcT store_error(const EtcdResult &r);
    ClRcT load_meta(Clock::time_point deadline);
    // The sections as this handle sees them: the local copy when it holds the active replica,
    // else etcd (at `revision` if > 0).
    ClRcT load(std::map<std::string, Section> *out, Clock::time_point deadline, int64_t revision = 0);
    // Applies a change of sections: synchronous checkpoints commit it to etcd, conditional on
    // the revisions in `before`; the active replica applies it locally and queues it.
    // kConflict: a synchronous write raced with another writer (reload and try again).
    enum class Commit { kOk, kConflict, kFailed };
    Commit commit(const std::map<std::string, Section> &before, const std::vector<std::pair<std::string, std::optional<Section>>> &after,
                  Clock::time_point deadline, ClRcT *rc);
    // Asynchronous checkpoints: may this handle write? Takes the active replica when it is
    // free and the checkpoint is not collocated.
    ClRcT need_active(Clock::time_point deadline);
    ClRcT take_active(Clock::time_point deadline, bool move);
    void drop_active();
    SectionRecord new_record(const std::string &data, ClTimeT expiration);
    ClRcT lease_for_expiration(ClTimeT expiration, int64_t *lease, Clock::time_point deadline);

    Service &svc_;
    ClCkptHdlT handle_;
    std::string name_;
    ClCkptOpenFlagsT flags_;
    std::string instance_;
    std::string opener_;
    CheckpointMeta meta_;
    std::string why_;
    std::recursive_mutex mu_;
    EtcdClient etcd_;
    uint64_t write_seq_ = 0;
    bool active_ = false;
    std::map<std::string, Section> local_;  // the active replica (key -> section)
    std::unique_ptr<Replicator> replicator_;
    std::unique_ptr<EtcdWatch> watch_;
    ClCkptNotificationCallbackT consumer_ = nullptr;
    std::mutex lease_mu_;
    int64_t keepalive_lease_ = 0;
};

ClTimeT now_ns();

}  // namespace cps
