// Whole-buffer reads and writes on descriptors, retried on EINTR and short transfers, shared by
// the three libraries. Each returns 0 or an errno value (EIO for an unexpected end of file).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ckp::io {

int pwrite_all(int fd, const void *buf, size_t len, uint64_t offset);
int pread_all(int fd, void *buf, size_t len, uint64_t offset);
// Makes the directory entry of a just created or renamed file durable.
int fsync_dir_of(const std::string &path);
// Creates the directory and its missing parents (mode 0700).
int make_dirs(const std::string &dir);
// The path made absolute against the current directory (the file need not exist).
std::string absolute(const std::string &path);

}  // namespace ckp::io
