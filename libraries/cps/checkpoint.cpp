// An open checkpoint and its sections (see checkpoint.h; the mapping onto etcd: docs/cps.md).
#include "checkpoint.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <random>

#include "config.h"
#include "keys.h"
#include "service.h"

namespace cps {

// Delivers a notification through the handle table (api.cpp); the watch thread only queues it.
void deliver_notification(ClCkptHdlT handle, int64_t revision);

thread_local int64_t Checkpoint::read_revision = 0;
thread_local ClCkptHdlT Checkpoint::read_revision_handle = 0;

namespace {

std::atomic<uint64_t> g_write_seq{1};

int64_t ttl_seconds(ClTimeT ns) { return std::max<int64_t>(1, (ns + 999999999) / 1000000000); }

json cmp_exists(const std::string &key)
{
    return json{{"key", b64_encode(key)}, {"target", "CREATE"}, {"result", "GREATER"}, {"create_revision", "0"}};
}

std::string random_id()
{
    std::random_device rd;
    char buf[20];
    snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
    return buf;
}

bool same_attrs(const ClCkptCheckpointCreationAttributesT &a, const ClCkptCheckpointCreationAttributesT &b)
{
    return a.checkpointSize == b.checkpointSize && a.creationFlags == b.creationFlags &&
           a.maxSectionIdSize == b.maxSectionIdSize && a.maxSections == b.maxSections &&
           a.maxSectionSize == b.maxSectionSize && a.retentionDuration == b.retentionDuration;
}

size_t used_bytes(const std::map<std::string, Section> &secs)
{
    size_t n = 0;
    for (const auto &[k, s] : secs) n += s.rec.data.size();
    return n;
}

std::string id_text(const std::string &id)
{
    if (id.empty()) return "the default section";
    bool printable = true;
    for (unsigned char c : id) printable = printable && c >= 32 && c < 127;
    return "section \"" + (printable ? id : "<binary>") + "\"";
}

}  // namespace

ClTimeT now_ns()
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ClTimeT(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string CheckpointMeta::to_json() const
{
    json j = {{"name", name},
              {"checkpointSize", attrs.checkpointSize},
              {"creationFlags", attrs.creationFlags},
              {"maxSectionIdSize", attrs.maxSectionIdSize},
              {"maxSections", attrs.maxSections},
              {"maxSectionSize", attrs.maxSectionSize},
              {"retentionDuration", attrs.retentionDuration},
              {"lease", lease},
              {"unlinked", unlinked}};
    return j.dump();
}

bool CheckpointMeta::from_json(const std::string &s, CheckpointMeta *m)
{
    json j = json::parse(s, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return false;
    try {
        m->name = j.at("name").get<std::string>();
        m->attrs.checkpointSize = j.at("checkpointSize").get<ClSizeT>();
        m->attrs.creationFlags = j.at("creationFlags").get<ClUInt32T>();
        m->attrs.maxSectionIdSize = j.at("maxSectionIdSize").get<ClSizeT>();
        m->attrs.maxSections = j.at("maxSections").get<ClUInt32T>();
        m->attrs.maxSectionSize = j.at("maxSectionSize").get<ClUInt32T>();
        m->attrs.retentionDuration = j.at("retentionDuration").get<ClTimeT>();
        m->lease = j.at("lease").get<int64_t>();
        m->unlinked = j.at("unlinked").get<bool>();
    } catch (const json::exception &) {
        return false;
    }
    return true;
}

Checkpoint::Checkpoint(Service &svc, ClCkptHdlT handle, std::string name, ClCkptOpenFlagsT flags)
    : svc_(svc), handle_(handle), name_(std::move(name)), flags_(flags), etcd_(svc.endpoints())
{
}

Checkpoint::~Checkpoint()
{
    watch_.reset();
    replicator_.reset();
    svc_.detach(this);
}

ClRcT Checkpoint::fail(ClRcT rc, std::string why)
{
    why_ = std::move(why);
    return rc;
}

ClRcT Checkpoint::store_error(const EtcdResult &r)
{
    switch (r.error) {
    case EtcdError::kTimeout: return fail(CL_CKPT_ERR_TIMEOUT, r.message);
    case EtcdError::kUnavailable: return fail(CL_CKPT_ERR_TRY_AGAIN, r.message);
    default: return fail(CL_CKPT_ERR_IO, "etcd: " + r.message);
    }
}

ClRcT Checkpoint::load_meta(Clock::time_point deadline)
{
    EtcdResult r = etcd_.range(meta_key(instance_), deadline);
    if (!r.ok()) return store_error(r);
    const auto kv = kvs_of(r.body);
    if (kv.empty()) return fail(CL_CKPT_ERR_NOT_EXIST, "checkpoint \"" + name_ + "\" no longer exists in etcd");
    if (!CheckpointMeta::from_json(kv[0].value, &meta_))
        return fail(CL_CKPT_ERR_CORRUPTED, "the record of checkpoint \"" + name_ + "\" in etcd is damaged");
    return CL_OK;
}

ClRcT Checkpoint::open(const ClCkptCheckpointCreationAttributesT *create, Clock::time_point deadline)
{
    std::lock_guard<std::recursive_mutex> lock(mu_);
    for (int attempt = 0; attempt < 20; ++attempt) {
        EtcdResult r = etcd_.range(name_key(name_), deadline);
        if (!r.ok()) return store_error(r);
        const auto kv = kvs_of(r.body);
        if (kv.empty()) {
            if (!(flags_ & CL_CKPT_CHECKPOINT_CREATE))
                return fail(CL_CKPT_ERR_NOT_EXIST, "no checkpoint named \"" + name_ + "\"");
            CheckpointMeta meta;
            meta.name = name_;
            meta.attrs = *create;
            if (create->retentionDuration != CL_TIME_END) {
                EtcdResult g = etcd_.grant(ttl_seconds(create->retentionDuration), &meta.lease, deadline);
                if (!g.ok()) return store_error(g);
            }
            const std::string inst = random_id();
            json ops = json::array({op_put(name_key(name_), inst, meta.lease), op_put(meta_key(inst), meta.to_json(), meta.lease)});
            if (create->maxSections == 1) {
                SectionRecord rec = new_record("", CL_TIME_END);
                ops.push_back(op_put(section_key(inst, ""), encode_section(rec), meta.lease));
            }
            EtcdResult t = etcd_.txn(json::array({cmp_create(name_key(name_), 0)}), ops, json(), deadline);
            if (!t.ok()) return store_error(t);
            if (!t.body.value("succeeded", false)) {
                // Created by someone else in between (or our own lost answer): look again.
                if (meta.lease) etcd_.revoke(meta.lease, deadline);
                continue;
            }
            instance_ = inst;
            meta_ = meta;
        } else {
            instance_ = kv[0].value;
            ClRcT rc = load_meta(deadline);
            if (rc == CL_CKPT_ERR_NOT_EXIST) continue;  // expiring right now: look again
            if (rc != CL_OK) return rc;
            if ((flags_ & CL_CKPT_CHECKPOINT_CREATE) && create && !same_attrs(*create, meta_.attrs))
                return fail(CL_CKPT_ERR_ALREADY_EXIST,
                            "checkpoint \"" + name_ + "\" exists with other creation attributes");
        }
        opener_ = svc_.new_opener_id();
        EtcdResult t = etcd_.txn(json::array({cmp_exists(meta_key(instance_))}),
                                 json::array({op_put(openers_prefix(instance_) + opener_, "", svc_.session_lease())}),
                                 json(), deadline);
        if (!t.ok()) return store_error(t);
        if (!t.body.value("succeeded", false)) continue;
        if (meta_.lease) {
            bool alive = false;
            etcd_.keepalive(meta_.lease, &alive, deadline);  // opening restarts the retention time
        }
        svc_.attach(this);
        if (asynchronous() && !collocated() && (flags_ & CL_CKPT_CHECKPOINT_WRITE)) take_active(deadline, false);
        why_.clear();
        return CL_OK;
    }
    return fail(CL_CKPT_ERR_TRY_AGAIN, "checkpoint \"" + name_ + "\" kept changing while being opened");
}

void Checkpoint::drop_active()
{
    replicator_.reset();
    if (active_) {
        etcd_.txn(json::array({cmp_value(active_key(instance_), opener_)}), json::array({op_del(active_key(instance_))}),
                  json(), Clock::now() + std::chrono::seconds(2));
    }
    active_ = false;
    local_.clear();
}

ClRcT Checkpoint::close(Clock::time_point deadline)
{
    std::lock_guard<std::recursive_mutex> lock(mu_);
    watch_.reset();
    ClRcT rc = CL_OK;
    if (active_ && replicator_) {
        // A close is orderly: what was acknowledged reaches etcd first.
        const std::string why = replicator_->wait_committed(replicator_->last_ticket(), deadline);
        if (!why.empty()) rc = fail(CL_CKPT_ERR_TIMEOUT, "closed with unreplicated writes: " + why);
    }
    drop_active();
    svc_.detach(this);
    EtcdResult r = etcd_.del(openers_prefix(instance_) + opener_, deadline);
    if (!r.ok()) return store_error(r);
    r = etcd_.range(openers_prefix(instance_), deadline, true, 0, true);
    if (!r.ok()) return store_error(r);
    if (as_int(r.body.value("count", json("0"))) == 0) {
        // The last opener: an unlinked checkpoint goes now; otherwise its retention time starts.
        CheckpointMeta meta;
        EtcdResult m = etcd_.range(meta_key(instance_), deadline);
        const auto kv = m.ok() ? kvs_of(m.body) : std::vector<KeyValue>{};
        if (!kv.empty() && CheckpointMeta::from_json(kv[0].value, &meta)) {
            if (meta.unlinked || meta.attrs.retentionDuration <= 0) {
                etcd_.txn(json::array({cmp_value(name_key(name_), instance_)}), json::array({op_del(name_key(name_))}),
                          json(), deadline);
                etcd_.del(instance_prefix(instance_), deadline, true);
                if (meta.lease) etcd_.revoke(meta.lease, deadline);
            } else if (meta.lease) {
                bool alive = false;
                etcd_.keepalive(meta.lease, &alive, deadline);
            }
        }
    }
    return rc;
}

ClRcT Checkpoint::unlink(Service &svc, const std::string &name, Clock::time_point deadline)
{
    EtcdClient etcd(svc.endpoints());
    for (int attempt = 0; attempt < 20; ++attempt) {
        EtcdResult r = etcd.range(name_key(name), deadline);
        if (!r.ok()) return r.error == EtcdError::kTimeout ? CL_CKPT_ERR_TIMEOUT : CL_CKPT_ERR_TRY_AGAIN;
        const auto kv = kvs_of(r.body);
        if (kv.empty()) return CL_CKPT_ERR_NOT_EXIST;
        const std::string inst = kv[0].value;
        CheckpointMeta meta;
        EtcdResult m = etcd.range(meta_key(inst), deadline);
        const auto mkv = m.ok() ? kvs_of(m.body) : std::vector<KeyValue>{};
        json ops = json::array({op_del(name_key(name))});
        if (!mkv.empty() && CheckpointMeta::from_json(mkv[0].value, &meta)) {
            meta.unlinked = true;
            ops.push_back(op_put(meta_key(inst), meta.to_json(), meta.lease));
        }
        EtcdResult t = etcd.txn(json::array({cmp_value(name_key(name), inst)}), ops, json(), deadline);
        if (!t.ok()) return t.error == EtcdError::kTimeout ? CL_CKPT_ERR_TIMEOUT : CL_CKPT_ERR_IO;
        if (!t.body.value("succeeded", false)) continue;
        // Nobody has it open: it goes at once; otherwise the last close removes it.
        EtcdResult c = etcd.range(openers_prefix(inst), deadline, true, 0, true);
        if (c.ok() && as_int(c.body.value("count", json("0"))) == 0) {
            etcd.del(instance_prefix(inst), deadline, true);
            if (meta.lease) etcd.revoke(meta.lease, deadline);
        }
        return CL_OK;
    }
    return CL_CKPT_ERR_TRY_AGAIN;
}

int64_t Checkpoint::retention_lease_for_keepalive(EtcdClient &etcd)
{
    EtcdResult r = etcd.range(meta_key(instance_), Clock::now() + std::chrono::seconds(1));
    std::lock_guard<std::mutex> lock(lease_mu_);
    if (r.ok()) {
        const auto kv = kvs_of(r.body);
        CheckpointMeta m;
        if (!kv.empty() && CheckpointMeta::from_json(kv[0].value, &m)) keepalive_lease_ = m.lease;
    }
    return keepalive_lease_;
}

void Checkpoint::reregister(EtcdClient &etcd, int64_t session_lease)
{
    const auto deadline = Clock::now() + std::chrono::seconds(2);
    etcd.put(openers_prefix(instance_) + opener_, "", session_lease, deadline);
}

SectionRecord Checkpoint::new_record(const std::string &data, ClTimeT expiration)
{
    SectionRecord rec;
    rec.expiration = expiration;
    rec.last_update = now_ns();
    rec.writer = svc_.token();
    rec.write_seq = g_write_seq++;
    rec.data = data;
    return rec;
}

ClRcT Checkpoint::lease_for_expiration(ClTimeT expiration, int64_t *lease, Clock::time_point deadline)
{
    if (expiration == CL_TIME_END) {
        *lease = meta_.lease;
        return CL_OK;
    }
    EtcdResult g = etcd_.grant(ttl_seconds(expiration - now_ns()), lease, deadline);
    return g.ok() ? CL_OK : store_error(g);
}

ClRcT Checkpoint::take_active(Clock::time_point deadline, bool move)
{
    json compare = move ? json::array() : json::array({cmp_create(active_key(instance_), 0)});
    EtcdResult t = etcd_.txn(compare, json::array({op_put(active_key(instance_), opener_, svc_.session_lease())}), json(),
                             deadline);
    if (!t.ok()) return store_error(t);
    if (!t.body.value("succeeded", false))
        return fail(CL_CKPT_ERR_NOT_EXIST, "the active replica of \"" + name_ + "\" is held by another opener");
    replicator_.reset();
    // Loaded after the active key moved to us: any write of the previous holder either
    // committed before (and is in what we load) or fails its fence.
    EtcdResult r = etcd_.range(sections_prefix(instance_), deadline, true);
    if (!r.ok()) return store_error(r);
    local_.clear();
    std::map<std::string, int64_t> revisions;
    for (const KeyValue &kv : kvs_of(r.body)) {
        local_[kv.key] = Section{decode_section(kv.value), kv.lease, kv.mod_revision};
        revisions[kv.key] = kv.mod_revision;
    }
    replicator_ = std::make_unique<Replicator>(svc_.endpoints(), active_key(instance_), opener_, std::move(revisions));
    active_ = true;
    return CL_OK;
}

ClRcT Checkpoint::need_active(Clock::time_point deadline)
{
    if (active_ && replicator_ && !replicator_->fenced()) return CL_OK;
    if (active_) {
        replicator_.reset();
        active_ = false;
        local_.clear();
    }
    if (collocated())
        return fail(CL_CKPT_ERR_NOT_EXIST,
                    "no active replica of \"" + name_ + "\" here: call clCkptActiveReplicaSet first");
    return take_active(deadline, false);
}

ClRcT Checkpoint::load(std::map<std::string, Section> *out, Clock::time_point deadline, int64_t revision)
{
    if (active_ && revision == 0) {
        *out = local_;
        return CL_OK;
    }
    EtcdResult r = etcd_.range(sections_prefix(instance_), deadline, true, revision);
    if (!r.ok()) return store_error(r);
    out->clear();
    for (const KeyValue &kv : kvs_of(r.body)) (*out)[kv.key] = Section{decode_section(kv.value), kv.lease, kv.mod_revision};
    return CL_OK;
}

Checkpoint::Commit Checkpoint::commit(const std::map<std::string, Section> &before,
                                      const std::vector<std::pair<std::string, std::optional<Section>>> &after,
                                      Clock::time_point deadline, ClRcT *rc)
{
    if (asynchronous()) {
        std::vector<Change> changes;
        for (const auto &[key, s] : after) {
            if (s) {
                local_[key] = *s;
                changes.push_back(Change{key, encode_section(s->rec), s->lease, s->rec.write_seq});
            } else {
                local_.erase(key);
                changes.push_back(Change{key, std::nullopt, 0, 0});
            }
        }
        replicator_->enqueue(std::move(changes));
        return Commit::kOk;
    }
    json compare = json::array(), ops = json::array();
    for (const auto &[key, s] : after) {
        auto it = before.find(key);
        compare.push_back(cmp_mod(key, it == before.end() ? 0 : it->second.mod_revision));
        ops.push_back(s ? op_put(key, encode_section(s->rec), s->lease) : op_del(key));
    }
    EtcdResult t = etcd_.txn(compare, ops, json(), deadline);
    if (!t.ok()) {
        *rc = store_error(t);
        return Commit::kFailed;
    }
    if (t.body.value("succeeded", false)) return Commit::kOk;
    // The condition failed: another writer came first, or an earlier attempt of this very
    // transaction committed and its answer was lost (then the writer tag is ours).
    const auto &[key, s] = after.front();
    EtcdResult r = etcd_.range(key, deadline);
    if (r.ok()) {
        const auto kv = kvs_of(r.body);
        if (s && !kv.empty()) {
            const SectionRecord got = decode_section(kv[0].value);
            if (got.writer == s->rec.writer && got.write_seq == s->rec.write_seq) return Commit::kOk;
        }
    }
    return Commit::kConflict;
}

ClRcT Checkpoint::set_retention(ClTimeT retention, Clock::time_point deadline)
{
    std::lock_guard<std::recursive_mutex> lock(mu_);
    ClRcT rc = load_meta(deadline);
    if (rc != CL_OK) return rc;
    if (meta_.unlinked) return fail(CL_CKPT_ERR_BAD_OPERATION, "checkpoint \"" + name_ + "\" was deleted");
    if (active_ && replicator_) {
        const std::string why = replicator_->wait_committed(replicator_->last_ticket(), deadline);
        if (!why.empty()) return fail(CL_CKPT_ERR_TIMEOUT, why);
    }
    // A lease's TTL cannot change: the keys on the old lease move to a new one.
    const int64_t old_lease = meta_.lease;
    int64_t lease = 0;
    if (retention != CL_TIME_END) {
        EtcdResult g = etcd_.grant(ttl_seconds(retention), &lease, deadline);
        if (!g.ok()) return store_error(g);
    }
    CheckpointMeta meta = meta_;
    meta.lease = lease;
    meta.attrs.retentionDuration = retention;
    EtcdResult r = etcd_.range(sections_prefix(instance_), deadline, true);
    if (!r.ok()) return store_error(r);
    json compare = json::array({cmp_value(name_key(name_), instance_)});
    json ops = json::array({op_put(name_key(name_), instance_, lease), op_put(meta_key(instance_), meta.to_json(), lease)});
    size_t bytes = 0;
    auto flush = [&]() -> ClRcT {
        EtcdResult t = etcd_.txn(compare, ops, json(), deadline);
        if (!t.ok()) return store_error(t);
        if (!t.body.value("succeeded", false))
            return fail(CL_CKPT_ERR_TRY_AGAIN, "checkpoint \"" + name_ + "\" changed while its retention was set");
        compare = json::array();
        ops = json::array();
        bytes = 0;
        return CL_OK;
    };
    for (const KeyValue &kv : kvs_of(r.body)) {
        if (kv.lease != old_lease) continue;  // sections with an expiration time keep their lease
        compare.push_back(cmp_mod(kv.key, kv.mod_revision));
        ops.push_back(op_put(kv.key, kv.value, lease));
        bytes += kv.value.size();
        // Within etcd's limits for one request (128 operations, 1.5 MiB by default).
        if (ops.size() >= 100 || bytes > 512 * 1024) {
            if ((rc = flush()) != CL_OK) return rc;
        }
    }
    if (!ops.empty() && (rc = flush()) != CL_OK) return rc;
    meta_ = meta;
    if (old_lease) etcd_.revoke(old_lease, deadline);
    if (active_) take_active(deadline, true);  // the replicator's revisions moved with the keys
    return CL_OK;
}

ClRcT Checkpoint::set_active_replica(Clock::time_point deadline)
{
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (!asynchronous() || !collocated())
        return fail(CL_CKPT_ERR_BAD_OPERATION, "checkpoint \"" + name_ + "\" is not an asynchronous collocated checkpoint");
    if (!(flags_ & CL_CKPT_CHECKPOINT_WRITE))
        return fail(CL_CKPT_ERR_OP_NOT_PERMITTED, "checkpoint \"" + name_ + "\" is not open for writing");
    ClRcT rc = load_meta(deadline);
    if (rc != CL_OK) return rc;
    if (meta_.unlinked) return fail(CL_CKPT_ERR_BAD_OPERATION, "checkpoint \"" + name_ + "\" was deleted");
    if (active_ && replicator_ && !replicator_->fenced()) return CL_OK;
    return take_active(deadline, true);
}

ClRcT Checkpoint::sections(std::map<std::string, Section> *out, Clock::time_point deadline)
{
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (asynchronous() && collocated() && !active_) {
        EtcdResult r = etcd_.range(active_key(instance_), deadline);
        if (!r.ok()) return store_error(r);
        if (kvs_of(r.body).empty())
            return fail(CL_CKPT_ERR_NOT_EXIST, "checkpoint \"" + name_ + "\" has no active replica");
    }
    return load(out, deadline, read_revision_handle == handle_ ? read_revision : 0);
}

ClRcT Checkpoint::status(ClCkptCheckpointDescriptorT *out, Clock::time_point deadline)
{
    std::map<std::string, Section> secs;
    ClRcT rc = sections(&secs, deadline);
    if (rc != CL_OK) return rc;
    out->checkpointCreationAttributes = meta_.attrs;
    out->memoryUsed = ClUInt32T(used_bytes(secs));
    out->numberOfSections = ClUInt32T(secs.size());
    return CL_OK;
}

ClRcT Checkpoint::section_create(const std::string &id, ClTimeT expiration, const std::string &data,
                                 Clock::time_point deadline)
{
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (!(flags_ & CL_CKPT_CHECKPOINT_WRITE))
        return fail(CL_CKPT_ERR_OP_NOT_PERMITTED, "checkpoint \"" + name_ + "\" is not open for writing");
    if (meta_.attrs.maxSections == 1)
        return fail(CL_CKPT_ERR_ALREADY_EXIST, "checkpoint \"" + name_ + "\" has only its default section");
    if (id.empty()) return fail(CL_CKPT_ERR_INVALID_PARAMETER, "the default section id cannot be created");
    if (id.size() > meta_.attrs.maxSectionIdSize)
        return fail(CL_CKPT_ERR_INVALID_PARAMETER, "section id of " + std::to_string(id.size()) + " bytes exceeds maxSectionIdSize " +
                                                       std::to_string(meta_.attrs.maxSectionIdSize));
    if (data.size() > meta_.attrs.maxSectionSize)
        return fail(CL_CKPT_ERR_INVALID_PARAMETER, "initial data of " + std::to_string(data.size()) + " bytes exceeds maxSectionSize");
    if (expiration != CL_TIME_END && expiration <= now_ns())
        return fail(CL_CKPT_ERR_INVALID_PARAMETER, "the expiration time is in the past");
    if (asynchronous()) {
        ClRcT rc = need_active(deadline);
        if (rc != CL_OK) return rc;
    }
    const std::string key = section_key(instance_, id);
    for (int attempt = 0; attempt < 50; ++attempt) {
        std::map<std::string, Section> secs;
        ClRcT rc = load(&secs, deadline);
        if (rc != CL_OK) return rc;
        if (secs.count(key)) return fail(CL_CKPT_ERR_ALREADY_EXIST, id_text(id) + " already exists");
        if (secs.size() >= meta_.attrs.maxSections)
            return fail(CL_CKPT_ERR_NO_SPACE, "checkpoint \"" + name_ + "\" has its maxSections (" +
                                                  std::to_string(meta_.attrs.maxSections) + ") sections");
        if (used_bytes(secs) + data.size() > meta_.attrs.checkpointSize)
            return fail(CL_CKPT_ERR_NO_SPACE, "checkpoint \"" + name_ + "\" would exceed its checkpointSize");
        Section s{new_record(data, expiration), 0, 0};
        if ((rc = lease_for_expiration(expiration, &s.lease, deadline)) != CL_OK) return rc;
        const Commit c = commit(secs, {{key, s}}, deadline, &rc);
        if (c == Commit::kOk) return CL_OK;
        if (s.lease && s.lease != meta_.lease) etcd_.revoke(s.lease, deadline);
        if (c == Commit::kFailed) return rc;
    }
    return fail(CL_CKPT_ERR_TRY_AGAIN, "too many concurrent writers of \"" + name_ + "\"");
}

ClRcT Checkpoint::section_delete(const std::string &id, Clock::time_point deadline)
{
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (!(flags_ & CL_CKPT_CHECKPOINT_WRITE))
        return fail(CL_CKPT_ERR_OP_NOT_PERMITTED, "checkpoint \"" + name_ + "\" is not open for writing");
    if (id.empty()) return fail(CL_CKPT_ERR_INVALID_PARAMETER, "the default section cannot be deleted");
    if (asynchronous()) {
        ClRcT rc = need_active(deadline);
        if (rc != CL_OK) return rc;
    }
    const std::string key = section_key(instance_, id);
    for (int attempt = 0; attempt < 50; ++attempt) {
        std::map<std::string, Section> secs;
        ClRcT rc = load(&secs, deadline);
        if (rc != CL_OK) return rc;
        if (!secs.count(key)) return fail(CL_CKPT_ERR_NOT_EXIST, "no " + id_text(id) + " in \"" + name_ + "\"");
        const Commit c = commit(secs, {{key, std::nullopt}}, deadline, &rc);
        if (c == Commit::kOk) return CL_OK;
        if (c == Commit::kFailed) return rc;
    }
    return fail(CL_CKPT_ERR_TRY_AGAIN, "too many concurrent writers of \"" + name_ + "\"");
}

ClRcT Checkpoint::section_expiration(const std::string &id, ClTimeT expiration, Clock::time_point deadline)
{
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (!(flags_ & CL_CKPT_CHECKPOINT_WRITE))
        return fail(CL_CKPT_ERR_OP_NOT_PERMITTED, "checkpoint \"" + name_ + "\" is not open for writing");
    if (id.empty()) return fail(CL_CKPT_ERR_INVALID_PARAMETER, "the default section never expires");
    if (expiration != CL_TIME_END && expiration <= now_ns())
        return fail(CL_CKPT_ERR_INVALID_PARAMETER, "the expiration time is in the past");
    if (asynchronous()) {
        ClRcT rc = need_active(deadline);
        if (rc != CL_OK) return rc;
    }
    const std::string key = section_key(instance_, id);
    for (int attempt = 0; attempt < 50; ++attempt) {
        std::map<std::string, Section> secs;
        ClRcT rc = load(&secs, deadline);
        if (rc != CL_OK) return rc;
        auto it = secs.find(key);
        if (it == secs.end()) return fail(CL_CKPT_ERR_NOT_EXIST, "no " + id_text(id) + " in \"" + name_ + "\"");
        Section s = it->second;
        const int64_t old_lease = s.lease;
        SectionRecord rec = new_record(s.rec.data, expiration);
        s.rec = rec;
        if ((rc = lease_for_expiration(expiration, &s.lease, deadline)) != CL_OK) return rc;
        const Commit c = commit(secs, {{key, s}}, deadline, &rc);
        if (c == Commit::kOk) {
            if (old_lease && old_lease != meta_.lease && old_lease != s.lease && !asynchronous())
                etcd_.revoke(old_lease, deadline);
            return CL_OK;
        }
        if (s.lease && s.lease != meta_.lease) etcd_.revoke(s.lease, deadline);
        if (c == Commit::kFailed) return rc;
    }
    return fail(CL_CKPT_ERR_TRY_AGAIN, "too many concurrent writers of \"" + name_ + "\"");
}

ClRcT Checkpoint::write(const ClCkptIOVectorElementT *iov, ClUInt32T n, ClUInt32T *bad, Clock::time_point deadline)
{
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (!(flags_ & CL_CKPT_CHECKPOINT_WRITE))
        return fail(CL_CKPT_ERR_OP_NOT_PERMITTED, "checkpoint \"" + name_ + "\" is not open for writing");
    if (asynchronous()) {
        ClRcT rc = need_active(deadline);
        if (rc != CL_OK) return rc;
    }
    for (int attempt = 0; attempt < 50; ++attempt) {
        std::map<std::string, Section> secs;
        ClRcT rc = load(&secs, deadline);
        if (rc != CL_OK) return rc;
        std::map<std::string, Section> changed;
        std::vector<std::string> order;
        for (ClUInt32T i = 0; i < n; ++i) {
            const ClCkptIOVectorElementT &e = iov[i];
            const std::string id(reinterpret_cast<const char *>(e.sectionId.id), e.sectionId.id ? e.sectionId.idLen : 0);
            const std::string key = section_key(instance_, id);
            auto it = changed.find(key);
            if (it == changed.end()) {
                auto s = secs.find(key);
                if (s == secs.end()) {
                    *bad = i;
                    return fail(CL_CKPT_ERR_NOT_EXIST, "no " + id_text(id) + " in \"" + name_ + "\"");
                }
                it = changed.emplace(key, s->second).first;
                order.push_back(key);
            }
            if (!e.dataBuffer && e.dataSize) {
                *bad = i;
                return fail(CL_CKPT_ERR_NULL_POINTER, "ioVector element " + std::to_string(i) + " has no dataBuffer");
            }
            if (e.dataOffset < 0 || ClSizeT(e.dataOffset) + e.dataSize > meta_.attrs.maxSectionSize) {
                *bad = i;
                return fail(CL_CKPT_ERR_INVALID_PARAMETER,
                            "ioVector element " + std::to_string(i) + " goes beyond maxSectionSize");
            }
            std::string &data = it->second.rec.data;
            if (data.size() < ClSizeT(e.dataOffset) + e.dataSize) data.resize(ClSizeT(e.dataOffset) + e.dataSize);
            if (e.dataSize) std::memcpy(&data[ClSizeT(e.dataOffset)], e.dataBuffer, e.dataSize);
        }
        std::map<std::string, Section> total = secs;
        for (auto &[k, s] : changed) total[k] = s;
        if (used_bytes(total) > meta_.attrs.checkpointSize) {
            *bad = n - 1;
            return fail(CL_CKPT_ERR_NO_SPACE, "checkpoint \"" + name_ + "\" would exceed its checkpointSize");
        }
        std::vector<std::pair<std::string, std::optional<Section>>> after;
        for (const std::string &k : order) {
            Section s = changed[k];
            const SectionRecord fresh = new_record(s.rec.data, s.rec.expiration);
            s.rec = fresh;
            after.emplace_back(k, s);
        }
        const Commit c = commit(secs, after, deadline, &rc);
        if (c == Commit::kOk) return CL_OK;
        if (c == Commit::kFailed) return rc;
    }
    return fail(CL_CKPT_ERR_TRY_AGAIN, "too many concurrent writers of \"" + name_ + "\"");
}

ClRcT Checkpoint::overwrite(const std::string &id, const std::string &data, Clock::time_point deadline)
{
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (!(flags_ & CL_CKPT_CHECKPOINT_WRITE))
        return fail(CL_CKPT_ERR_OP_NOT_PERMITTED, "checkpoint \"" + name_ + "\" is not open for writing");
    if (data.size() > meta_.attrs.maxSectionSize)
        return fail(CL_CKPT_ERR_INVALID_PARAMETER, std::to_string(data.size()) + " bytes exceed maxSectionSize");
    if (asynchronous()) {
        ClRcT rc = need_active(deadline);
        if (rc != CL_OK) return rc;
    }
    const std::string key = section_key(instance_, id);
    for (int attempt = 0; attempt < 50; ++attempt) {
        std::map<std::string, Section> secs;
        ClRcT rc = load(&secs, deadline);
        if (rc != CL_OK) return rc;
        auto it = secs.find(key);
        if (it == secs.end()) return fail(CL_CKPT_ERR_NOT_EXIST, "no " + id_text(id) + " in \"" + name_ + "\"");
        if (used_bytes(secs) - it->second.rec.data.size() + data.size() > meta_.attrs.checkpointSize)
            return fail(CL_CKPT_ERR_NO_SPACE, "checkpoint \"" + name_ + "\" would exceed its checkpointSize");
        Section s = it->second;
        s.rec = new_record(data, s.rec.expiration);
        const Commit c = commit(secs, {{key, s}}, deadline, &rc);
        if (c == Commit::kOk) return CL_OK;
        if (c == Commit::kFailed) return rc;
    }
    return fail(CL_CKPT_ERR_TRY_AGAIN, "too many concurrent writers of \"" + name_ + "\"");
}

ClRcT Checkpoint::read(ClCkptIOVectorElementT *iov, ClUInt32T n, ClUInt32T *bad, Clock::time_point deadline)
{
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (!(flags_ & CL_CKPT_CHECKPOINT_READ))
        return fail(CL_CKPT_ERR_OP_NOT_PERMITTED, "checkpoint \"" + name_ + "\" is not open for reading");
    std::map<std::string, Section> secs;
    ClRcT rc = load(&secs, deadline, read_revision_handle == handle_ ? read_revision : 0);
    if (rc != CL_OK) return rc;
    std::vector<ClUInt32T> allocated;
    auto failing = [&](ClUInt32T i, ClRcT code, std::string why) {
        for (ClUInt32T j : allocated) {
            std::free(iov[j].dataBuffer);
            iov[j].dataBuffer = nullptr;
        }
        *bad = i;
        return fail(code, std::move(why));
    };
    for (ClUInt32T i = 0; i < n; ++i) {
        ClCkptIOVectorElementT &e = iov[i];
        const std::string id(reinterpret_cast<const char *>(e.sectionId.id), e.sectionId.id ? e.sectionId.idLen : 0);
        auto it = secs.find(section_key(instance_, id));
        if (it == secs.end()) return failing(i, CL_CKPT_ERR_NOT_EXIST, "no " + id_text(id) + " in \"" + name_ + "\"");
        const std::string &data = it->second.rec.data;
        if (it->second.rec.corrupted) return failing(i, CL_CKPT_ERR_CORRUPTED, id_text(id) + " is corrupted");
        if (e.dataOffset < 0 || ClSizeT(e.dataOffset) > meta_.attrs.maxSectionSize || ClSizeT(e.dataOffset) > data.size())
            return failing(i, CL_CKPT_ERR_INVALID_PARAMETER,
                           "dataOffset " + std::to_string(e.dataOffset) + " is beyond " + id_text(id));
        const size_t avail = data.size() - size_t(e.dataOffset);
        if (!e.dataBuffer) {
            e.dataBuffer = std::malloc(std::max<size_t>(avail, 1));
            if (!e.dataBuffer) return failing(i, CL_CKPT_ERR_NO_MEMORY, "out of memory");
            allocated.push_back(i);
            e.readSize = avail;
        } else {
            e.readSize = std::min<size_t>(avail, e.dataSize);
        }
        if (e.readSize) std::memcpy(e.dataBuffer, data.data() + e.dataOffset, e.readSize);
    }
    return CL_OK;
}

ClRcT Checkpoint::synchronize(Clock::time_point deadline)
{
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (!(flags_ & CL_CKPT_CHECKPOINT_WRITE))
        return fail(CL_CKPT_ERR_OP_NOT_PERMITTED, "checkpoint \"" + name_ + "\" is not open for writing");
    if (!asynchronous())
        return fail(CL_CKPT_ERR_BAD_OPERATION, "checkpoint \"" + name_ + "\" is synchronous: every write is in etcd already");
    if (!active_ || !replicator_)
        return fail(CL_CKPT_ERR_NOT_EXIST, "this handle does not hold the active replica of \"" + name_ + "\"");
    const std::string why = replicator_->wait_committed(replicator_->last_ticket(), deadline);
    if (why.empty()) return CL_OK;
    if (replicator_->fenced()) return fail(CL_CKPT_ERR_NOT_EXIST, why);
    return fail(CL_CKPT_ERR_TIMEOUT, why);
}

ClRcT Checkpoint::register_consumer(ClCkptNotificationCallbackT cb)
{
    std::lock_guard<std::recursive_mutex> lock(mu_);
    consumer_ = cb;
    if (watch_) return CL_OK;
    EtcdResult r = etcd_.range(meta_key(instance_), Clock::now() + default_timeout());
    if (!r.ok()) return store_error(r);
    const ClCkptHdlT h = handle_;
    watch_ = std::make_unique<EtcdWatch>(svc_.endpoints(), sections_prefix(instance_), header_revision(r.body) + 1,
                                         [&svc = svc_, h](WatchEvent ev) {
                                             const int64_t rev = ev.revision;
                                             svc.queue().push([h, rev] { deliver_notification(h, rev); });
                                         });
    return CL_OK;
}

ClCkptNotificationCallbackT Checkpoint::consumer()
{
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return consumer_;
}

ClRcT Checkpoint::replication_status(ClUInt32T *pending, ClTimeT *lag)
{
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (!asynchronous()) return fail(CL_CKPT_ERR_BAD_OPERATION, "checkpoint \"" + name_ + "\" is synchronous");
    if (!replicator_) {
        *pending = 0;
        *lag = 0;
        return CL_OK;
    }
    *pending = ClUInt32T(replicator_->pending());
    *lag = replicator_->last_lag_ns();
    return CL_OK;
}

}  // namespace cps
