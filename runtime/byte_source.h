// Where the readers of images and PCT logs take their bytes from: an open file (pread) or a
// buffer in memory (the fuzz targets in tests/fuzz, tests). Launcher side only (libc).
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace ckpt {

class ByteSource {
public:
    static ByteSource file(int fd, uint64_t size) { return ByteSource(fd, nullptr, size); }
    static ByteSource buffer(const void *data, size_t size) { return ByteSource(-1, data, size); }

    uint64_t size() const { return size_; }

    // All `n` bytes at `off`, or false (out of bounds, a read error, a file that shrank).
    bool read(void *out, size_t n, uint64_t off) const
    {
        if (off > size_ || n > size_ - off) return false;
        if (data_) {
            if (n) std::memcpy(out, static_cast<const char *>(data_) + off, n);
            return true;
        }
        for (size_t done = 0; done < n;) {
            ssize_t r = ::pread(fd_, static_cast<char *>(out) + done, n - done, off_t(off + done));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) return false;
            done += size_t(r);
        }
        return true;
    }

private:
    ByteSource(int fd, const void *data, uint64_t size) : fd_(fd), data_(data), size_(size) {}
    int fd_;
    const void *data_;
    uint64_t size_;
};

}  // namespace ckpt
