// A bump allocator over one private mapping, for the checkpoint handler and the interposed
// wrappers, which may not call malloc. The mapping is reserved with MAP_NORESERVE, so only the pages actually used cost
// memory, and it is unmapped when the checkpoint is done (its range is left out of the image).
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#include "sys/raw_syscall.h"

namespace ckpt {

class Arena {
public:
    static constexpr size_t kReserve = size_t(256) << 20;

    // Returns false if the reservation failed (the caller reports ENOMEM).
    bool open()
    {
        void *p = sys_mmap(nullptr, kReserve, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if ((long)p < 0 && (long)p > -4096) return false;
        base_ = static_cast<char *>(p);
        used_ = 0;
        return true;
    }
    void close()
    {
        if (base_) sys_munmap(base_, kReserve);
        base_ = nullptr;
    }
    ~Arena() { close(); }

    template <typename T>
    T *alloc(size_t n = 1)
    {
        size_t align = alignof(T) < 16 ? 16 : alignof(T);
        size_t at = (used_ + align - 1) & ~(align - 1);
        size_t bytes = n * sizeof(T);
        if (at + bytes > kReserve) return nullptr;
        used_ = at + bytes;
        return reinterpret_cast<T *>(base_ + at);
    }
    // Bytes, reserving the mapping on first use (for an arena that lives as long as the
    // process: the persistent layer's per-epoch tracker).
    void *alloc_bytes(size_t n)
    {
        if (!base_ && !open()) return nullptr;
        return alloc<char>(n);
    }
    // Forgets everything allocated and gives the used pages back (the reservation stays).
    void reset()
    {
        if (base_ && used_) sys_madvise(base_, (used_ + 4095) & ~size_t(4095), MADV_DONTNEED);
        used_ = 0;
    }
    uintptr_t begin() const { return reinterpret_cast<uintptr_t>(base_); }
    uintptr_t end() const { return reinterpret_cast<uintptr_t>(base_) + kReserve; }

private:
    char *base_ = nullptr;
    size_t used_ = 0;
};

// A fixed-capacity array carved from an arena. The capacity is virtual: untouched pages of
// the reservation cost nothing, so capacities are generous.
template <typename T>
class ArenaVector {
public:
    bool init(Arena &a, size_t capacity)
    {
        data_ = a.alloc<T>(capacity);
        capacity_ = data_ ? capacity : 0;
        size_ = 0;
        return data_ != nullptr;
    }
    T *push()
    {
        if (size_ == capacity_) return nullptr;
        return &data_[size_++];
    }
    // Drops the elements from n on (n <= size()).
    void truncate(size_t n) { if (n < size_) size_ = n; }
    T *data() const { return data_; }
    size_t size() const { return size_; }
    T &operator[](size_t i) const { return data_[i]; }

private:
    T *data_ = nullptr;
    size_t size_ = 0, capacity_ = 0;
};

}  // namespace ckpt
