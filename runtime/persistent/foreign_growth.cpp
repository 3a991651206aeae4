#include "foreign_growth.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <utility>

#include "../trusted_file.h"
#include "growth_format.h"
#include "undo.h"

namespace ckpt::persist {

namespace {

using Key = std::pair<uint64_t, uint64_t>;  // dev, inode

struct Count {
    uint64_t grown = 0;
    size_t slots = 0;
    bool unknown = false;
};

// The counts of one epoch's map, if it is the map of that log instance and yours.
std::map<Key, Count> read_counts(const std::string &path, uint64_t epoch, uint64_t log_nonce, bool &valid)
{
    valid = false;
    std::map<Key, Count> out;
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return out;
    std::string why;
    std::vector<char> buf(pct::kGrowthMapSize);
    struct stat st;
    const bool ok = trusted_own_file(fd, path, why) && ::fstat(fd, &st) == 0 &&
                    uint64_t(st.st_size) == pct::kGrowthMapSize &&
                    ::pread(fd, buf.data(), buf.size(), 0) == ssize_t(buf.size());
    ::close(fd);
    if (!ok) return out;
    pct::GrowthHeader h;
    std::memcpy(&h, buf.data(), sizeof h);
    if (std::memcmp(h.magic, pct::kGrowthMagic, sizeof h.magic) != 0 || h.version != pct::kGrowthVersion ||
        h.slot_count != pct::kGrowthSlots || h.epoch != epoch || h.log_nonce != log_nonce)
        return out;
    valid = true;
    const uint64_t used = std::min<uint64_t>(h.used, pct::kGrowthSlots);
    for (uint64_t i = 0; i < used; ++i) {
        pct::GrowthSlot s;
        std::memcpy(&s, buf.data() + sizeof h + i * sizeof s, sizeof s);
        if (s.dev == 0 && s.ino == 0) continue;  // taken, never filled in
        Count &c = out[{s.dev, s.ino}];
        ++c.slots;
        if (s.grown == pct::kUnknownGrowth) c.unknown = true;
        else c.grown = c.grown + s.grown < c.grown ? UINT64_MAX : c.grown + s.grown;
    }
    return out;
}

uint64_t records_done(const std::string &job_dir, uint64_t epoch, uint64_t nonce)
{
    const int fd = ::open(progress_path(job_dir, epoch).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return 0;
    char buf[256];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    ::close(fd);
    return n > 0 ? parse_progress(buf, size_t(n), epoch, nonce) : 0;
}

struct File {
    uint64_t epoch = 0, size_then = 0, own = 0;
    bool compared = true;
    std::vector<std::string> paths;  // newest first
};

}  // namespace

std::string ForeignGrowth::describe() const
{
    return path + " had " + std::to_string(size_then) + " bytes " +
           (epoch ? "at checkpoint version " + std::to_string(epoch) : std::string("at the program's start")) +
           " and has " + std::to_string(size_now) + " now, but the program added at most " + std::to_string(own) +
           ": " + std::to_string(foreign()) + " bytes were added by another process";
}

std::vector<ForeignGrowth> find_foreign_growth(const std::string &job_dir, uint64_t version,
                                               const std::function<bool(const PctLog &, const PctRecord &)> &skip)
{
    std::map<Key, File> files;
    std::vector<Key> order;
    auto epochs = list_epochs(job_dir);
    for (auto it = epochs.rbegin(); it != epochs.rend(); ++it) {  // newest first
        if (it->epoch < version) break;
        if (it->log.empty()) continue;
        const PctLog log = read_pct(it->log);
        if (!log.header_ok) continue;  // check_undo has its say about it
        bool valid = false;
        const std::map<Key, Count> counts = read_counts(growth_path(job_dir, it->epoch), it->epoch, log.header.nonce, valid);
        const uint64_t done = records_done(job_dir, it->epoch, log.header.nonce);
        const size_t n = log.records.size();
        std::map<Key, size_t> metas;  // META records of each file in this epoch
        std::map<Key, const PctRecord *> first;
        for (size_t i = 0; i + done < n; ++i) {
            const PctRecord &r = log.records[i];
            if (r.kind() != pct::Kind::Meta || !S_ISREG(r.header.mode) || skip(log, r)) continue;
            const Key k{r.header.dev, r.header.ino};
            if (!metas[k]++) first[k] = &r;
        }
        for (const auto &[k, m] : metas) {
            auto [f, fresh] = files.try_emplace(k);
            if (fresh) order.push_back(k);
            File &file = f->second;
            const PctRecord &r = *first[k];
            file.paths.push_back(r.path);
            file.epoch = it->epoch;
            file.size_then = r.header.size;  // the oldest epoch's, in the end
            auto c = counts.find(k);
            if (!valid || c == counts.end() || c->second.unknown || c->second.slots < m) {
                file.compared = false;
                continue;
            }
            file.own = file.own + c->second.grown < file.own ? UINT64_MAX : file.own + c->second.grown;
        }
    }
    std::vector<ForeignGrowth> out;
    for (const Key &k : order) {
        const File &f = files[k];
        if (!f.compared) continue;
        for (const std::string &p : f.paths) {
            struct stat st;
            if (::lstat(p.c_str(), &st) != 0 || uint64_t(st.st_dev) != k.first || uint64_t(st.st_ino) != k.second ||
                !S_ISREG(st.st_mode))
                continue;
            const uint64_t now = uint64_t(st.st_size);
            if (now > f.size_then && now - f.size_then > f.own)
                out.push_back({p, k.first, k.second, f.epoch, f.size_then, f.own, now});
            break;
        }
    }
    return out;
}

}  // namespace ckpt::persist
