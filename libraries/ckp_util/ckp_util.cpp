// The ckp_util API (include/ckp/ckp_util.h): registration in memory, storage in RegionFile.
#include <ckp/ckp_util.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "region_file.h"

using ckp::regions::RegionFile;
using ckp::regions::Version;

struct _CheckpointFile {
    std::unique_ptr<RegionFile> store;
    std::vector<_Checkpoint *> regions;  // in registration order
};

struct _Checkpoint {
    _CheckpointFile *file = nullptr;
    std::string name;
    void *address = nullptr;
    size_t size = 0;
};

namespace {

// Index into the region's versions for the document's absolute (1..N) or relative
// (0, -1, ..., -N+1) version, or -1.
long resolve(size_t count, int version)
{
    const long n = long(count);
    const long i = version >= 1 ? long(version) : n + long(version);
    return i >= 1 && i <= n ? i - 1 : -1;
}

// The version to restore into `cp`, checked: 0 or an errno value.
int pick(const _Checkpoint *cp, int version, const Version **out)
{
    const auto *list = cp->file->store->versions_of(cp->name);
    if (!list || list->empty()) return ENOENT;
    const long i = resolve(list->size(), version);
    if (i < 0) return ERANGE;
    const Version &v = (*list)[size_t(i)];
    if (v.size != cp->size) return EMSGSIZE;
    *out = &v;
    return 0;
}

template <class F> int guarded(F &&f)
{
    try {
        return f();
    } catch (const std::bad_alloc &) {
        return ENOMEM;
    }
}

}  // namespace

extern "C" {

int ckpOpen(const char *pathname, const char *options, CheckpointFile *file)
{
    if (!pathname || !*pathname || !file || (options && *options)) return EINVAL;
    return guarded([&] {
        std::unique_ptr<RegionFile> store;
        if (int e = RegionFile::open(pathname, RegionFile::Mode::ReadWrite, store); e) return e;
        auto *f = new _CheckpointFile;
        f->store = std::move(store);
        *file = f;
        return 0;
    });
}

int ckpClose(CheckpointFile file)
{
    if (!file) return EINVAL;
    for (_Checkpoint *cp : file->regions) delete cp;
    delete file;
    return 0;
}

int ckpRegister(CheckpointFile file, const char *name, void *address, size_t size, Checkpoint *checkpoint)
{
    if (!file || !name || !*name || !address || !checkpoint || std::strlen(name) > 65535) return EINVAL;
    return guarded([&] {
        for (const _Checkpoint *cp : file->regions)
            if (cp->name == name) return EEXIST;
        auto *cp = new _Checkpoint;
        cp->file = file;
        cp->name = name;
        cp->address = address;
        cp->size = size;
        file->regions.push_back(cp);
        *checkpoint = cp;
        return 0;
    });
}

int ckpUnregister(Checkpoint checkpoint)
{
    if (!checkpoint) return EINVAL;
    auto &list = checkpoint->file->regions;
    for (auto it = list.begin(); it != list.end(); ++it)
        if (*it == checkpoint) {
            list.erase(it);
            delete checkpoint;
            return 0;
        }
    return EINVAL;
}

Checkpoint ckpLocate(CheckpointFile file, const char *name)
{
    if (!file || !name) {
        errno = EINVAL;
        return nullptr;
    }
    for (_Checkpoint *cp : file->regions)
        if (cp->name == name) return cp;
    errno = ENOENT;
    return nullptr;
}

int ckpSave(Checkpoint checkpoint)
{
    if (!checkpoint) return EINVAL;
    return guarded([&] {
        return checkpoint->file->store->append({{checkpoint->name, checkpoint->address, checkpoint->size}});
    });
}

int ckpSaveAll(CheckpointFile file)
{
    if (!file) return EINVAL;
    return guarded([&] {
        std::vector<ckp::regions::SaveItem> items;
        for (const _Checkpoint *cp : file->regions) items.push_back({cp->name, cp->address, cp->size});
        if (items.empty()) return 0;
        return file->store->append(items);
    });
}

int ckpRestore(Checkpoint checkpoint, int version)
{
    if (!checkpoint) return EINVAL;
    return guarded([&] {
        const Version *v = nullptr;
        if (int e = pick(checkpoint, version, &v); e) return e;
        return checkpoint->file->store->read_into(*v, checkpoint->address);
    });
}

int ckpRestoreAll(CheckpointFile file, int version)
{
    if (!file) return EINVAL;
    return guarded([&] {
        // Every region's version is found and verified before the first one is written, and
        // nothing is allocated once the first is written (no ENOMEM after a partial restore).
        std::vector<const Version *> chosen;
        for (const _Checkpoint *cp : file->regions) {
            const Version *v = nullptr;
            if (int e = pick(cp, version, &v); e) return e;
            if (int e = file->store->verify(*v); e) return e;
            chosen.push_back(v);
        }
        for (size_t i = 0; i < chosen.size(); ++i)
            if (int e = file->store->read_verified(*chosen[i], file->regions[i]->address); e) return e;
        return 0;
    });
}

int ckpVersions(Checkpoint checkpoint)
{
    if (!checkpoint) {
        errno = EINVAL;
        return -1;
    }
    const auto *list = checkpoint->file->store->versions_of(checkpoint->name);
    return list ? int(list->size()) : 0;
}

}  // extern "C"
