// Helpers shared by the unit tests: a temporary directory removed with everything in it, and
// small file utilities.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace test {

class TempDir {
public:
    TempDir()
    {
        const char *base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base && *base ? base : "/tmp") + "/ckpt-unit-XXXXXX";
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;

    const std::string &path() const { return path_; }
    std::string operator/(const std::string &name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

inline void write_file(const std::string &path, const std::string &content)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + path);
}

inline std::string read_file(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline bool exists(const std::string &path)
{
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

inline uint64_t file_size(const std::string &path)
{
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return 0;
    return uint64_t(st.st_size);
}

// Reads or overwrites `n` bytes at `off` of an existing file.
inline void pread_exact(const std::string &path, void *buf, size_t n, uint64_t off)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot open " + path);
    ssize_t r = ::pread(fd, buf, n, off_t(off));
    ::close(fd);
    if (r != ssize_t(n)) throw std::runtime_error("short read of " + path);
}

inline void pwrite_exact(const std::string &path, const void *buf, size_t n, uint64_t off)
{
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot open " + path);
    ssize_t r = ::pwrite(fd, buf, n, off_t(off));
    ::close(fd);
    if (r != ssize_t(n)) throw std::runtime_error("short write of " + path);
}

inline void flip_byte(const std::string &path, uint64_t off)
{
    unsigned char c;
    pread_exact(path, &c, 1, off);
    c ^= 0x5a;
    pwrite_exact(path, &c, 1, off);
}

}  // namespace test
