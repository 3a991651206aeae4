#include "region_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/checksum.h"
#include "../common/file_io.h"
#include "../common/kill_point.h"

namespace ckp::regions {
namespace {

// Data is streamed in chunks of this size: a region larger than memory can hold twice is
// saved and verified without a copy of it.
constexpr size_t kChunk = 8u << 20;
// An index record: header, entries, trailing checksum of everything before it.
constexpr size_t kRecordHeader = 4 + 4 + 8 + 8 + 4 + 4;
constexpr size_t kEntryFixed = 8 + 8 + 8 + 2;
constexpr uint32_t kMaxRecord = 64u << 20;

template <class T> void put(std::string &out, T v) { out.append(reinterpret_cast<const char *>(&v), sizeof v); }
template <class T> T get(const unsigned char *p) { T v; std::memcpy(&v, p, sizeof v); return v; }

int64_t now_ns()
{
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int write_header(int fd, const char (&magic)[8])
{
    unsigned char h[kHeaderSize] = {};
    std::memcpy(h, magic, 8);
    std::memcpy(h + 8, &kFormatVersion, 4);
    return io::pwrite_all(fd, h, sizeof h, 0);
}

// 0, ENODATA for an empty file (just created, header not yet written), EPROTO otherwise.
int check_header(int fd, const char (&magic)[8], std::string *why, const char *which)
{
    struct stat st{};
    if (fstat(fd, &st) != 0) return errno;
    if (st.st_size == 0) return ENODATA;
    unsigned char h[kHeaderSize];
    if (st.st_size < off_t(kHeaderSize) || io::pread_all(fd, h, sizeof h, 0) != 0 || std::memcmp(h, magic, 8) != 0) {
        if (why) *why = std::string("the ") + which + " file is not a ckp_util checkpoint file";
        return EPROTO;
    }
    if (get<uint32_t>(h + 8) != kFormatVersion) {
        if (why) *why = std::string("the ") + which + " file has format version " + std::to_string(get<uint32_t>(h + 8)) +
                        ", this library reads version " + std::to_string(kFormatVersion);
        return EPROTO;
    }
    return 0;
}

bool all_zero(const unsigned char *p, size_t n)
{
    return std::all_of(p, p + n, [](unsigned char c) { return c == 0; });
}

}  // namespace

RegionFile::~RegionFile()
{
    if (data_fd_ >= 0) ::close(data_fd_);
    if (index_fd_ >= 0) ::close(index_fd_);  // also drops the lock
}

int RegionFile::open(const std::string &path, Mode mode, std::unique_ptr<RegionFile> &out, std::string *why)
{
    std::unique_ptr<RegionFile> f(new RegionFile);
    f->path_ = path;
    f->writable_ = mode == Mode::ReadWrite;
    const int flags = (f->writable_ ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC;
    const std::string index_path = path + ".idx";
    f->index_fd_ = ::open(index_path.c_str(), flags, 0600);
    if (f->index_fd_ < 0) {
        if (why) *why = index_path + ": " + std::strerror(errno);
        return errno;
    }
    // One writer per checkpoint file: a second ckpOpen (this or another process) would append
    // records at the same offsets.
    if (f->writable_ && ::flock(f->index_fd_, LOCK_EX | LOCK_NB) != 0) {
        const int e = errno == EWOULDBLOCK ? EBUSY : errno;
        if (why) *why = path + ": already open for saving (by this or another process)";
        return e;
    }
    f->data_fd_ = ::open(path.c_str(), flags, 0600);
    if (f->data_fd_ < 0) {
        if (why) *why = path + ": " + std::strerror(errno);
        return errno;
    }
    int rd = check_header(f->data_fd_, kDataMagic, why, "data");
    int ri = check_header(f->index_fd_, kIndexMagic, why, "index");
    if (rd == ENODATA && ri == ENODATA && f->writable_) {
        // A new checkpoint file: data header first, the index (which makes it one) last.
        if (int e = write_header(f->data_fd_, kDataMagic); e) return e;
        if (::fdatasync(f->data_fd_) != 0) return errno;
        if (int e = write_header(f->index_fd_, kIndexMagic); e) return e;
        if (::fdatasync(f->index_fd_) != 0) return errno;
        if (int e = io::fsync_dir_of(path); e) return e;
        rd = ri = 0;
    } else if (rd == ENODATA && ri == 0 && f->writable_) {
        // Torn creation cannot leave this (data first), but an emptied data file must not be
        // written over as if new while the index names data in it.
        if (why) *why = path + ": the data file is empty but its index is not";
        return EBADMSG;
    }
    if (rd == ENODATA || ri == ENODATA) {
        if (why) *why = path + ": not a ckp_util checkpoint file (empty)";
        return EPROTO;
    }
    if (rd) return rd;
    if (ri) return ri;
    if (int e = f->load_index(why); e) return e;
    out = std::move(f);
    return 0;
}

int RegionFile::load_index(std::string *why)
{
    struct stat st{};
    if (fstat(index_fd_, &st) != 0) return errno;
    index_size_ = uint64_t(st.st_size);
    std::string buf(index_size_, '\0');
    if (int e = io::pread_all(index_fd_, buf.data(), buf.size(), 0); e) return e;
    const auto *p = reinterpret_cast<const unsigned char *>(buf.data());
    uint64_t pos = kHeaderSize;
    while (pos < index_size_) {
        const uint64_t left = index_size_ - pos;
        // A record is written with one pwrite after its data is durable; a crash during that
        // write leaves a prefix of it at the very end: that is a torn save, invisible.
        if (left < kRecordHeader) break;
        const uint32_t magic = get<uint32_t>(p + pos), len = get<uint32_t>(p + pos + 4);
        if (magic != kRecordMagic) {
            if (all_zero(p + pos, left)) break;  // a tail of zeros (extended but not written)
            if (why) *why = path_ + ".idx: damaged index record at offset " + std::to_string(pos);
            return EBADMSG;
        }
        if (len < kRecordHeader + 8 || len > kMaxRecord) {
            if (why) *why = path_ + ".idx: damaged index record at offset " + std::to_string(pos);
            return EBADMSG;
        }
        if (len > left) break;  // torn
        const unsigned char *r = p + pos;
        if (get<uint64_t>(r + len - 8) != checksum(r, len - 8)) {
            if (pos + len == index_size_) break;  // the last record, cut off: torn
            if (why) *why = path_ + ".idx: damaged index record at offset " + std::to_string(pos);
            return EBADMSG;
        }
        const uint64_t seq = get<uint64_t>(r + 8);
        const int64_t saved = get<int64_t>(r + 16);
        const uint32_t count = get<uint32_t>(r + 24);
        size_t q = kRecordHeader;
        for (uint32_t i = 0; i < count; ++i) {
            if (q + kEntryFixed > len - 8) return EBADMSG;
            Version v;
            v.seq = seq;
            v.saved_ns = saved;
            v.offset = get<uint64_t>(r + q);
            v.size = get<uint64_t>(r + q + 8);
            v.checksum = get<uint64_t>(r + q + 16);
            const uint16_t nlen = get<uint16_t>(r + q + 24);
            q += kEntryFixed;
            if (q + nlen > len - 8) return EBADMSG;
            std::string name(reinterpret_cast<const char *>(r + q), nlen);
            q += nlen;
            auto &list = versions_[name];
            v.number = uint32_t(list.size() + 1);
            list.push_back(v);
            data_end_ = std::max(data_end_, v.offset + v.size);
        }
        next_seq_ = seq + 1;
        pos += len;
    }
    index_end_ = pos;
    torn_bytes_ = index_size_ - pos;
    return 0;
}

const std::vector<Version> *RegionFile::versions_of(const std::string &name) const
{
    auto it = versions_.find(name);
    return it == versions_.end() ? nullptr : &it->second;
}

int RegionFile::append(const std::vector<SaveItem> &items)
{
    if (!writable_) return EBADF;
    // A torn record left by a crash is cut off before the new one follows it.
    if (index_size_ > index_end_) {
        if (::ftruncate(index_fd_, off_t(index_end_)) != 0) return errno;
        index_size_ = index_end_;
    }
    std::vector<Version> added;
    uint64_t off = data_end_;
    for (const SaveItem &it : items) {
        Checksum sum;
        const char *src = static_cast<const char *>(it.addr);
        for (uint64_t done = 0; done < it.size;) {
            const size_t n = size_t(std::min<uint64_t>(kChunk, it.size - done));
            if (kill_point("regions.data")) {  // torn inside the data
                (void)io::pwrite_all(data_fd_, src + done, n / 2, off + done);
                die_here();
            }
            if (int e = io::pwrite_all(data_fd_, src + done, n, off + done); e) return e;
            sum.update(src + done, n);
            done += n;
        }
        Version v;
        v.offset = off;
        v.size = it.size;
        v.checksum = sum.digest();
        added.push_back(v);
        off += it.size;
    }
    if (::fdatasync(data_fd_) != 0) return errno;  // data durable before the record names it

    std::string rec;
    put<uint32_t>(rec, kRecordMagic);
    put<uint32_t>(rec, 0);  // length, set below
    put<uint64_t>(rec, next_seq_);
    put<int64_t>(rec, now_ns());
    put<uint32_t>(rec, uint32_t(items.size()));
    put<uint32_t>(rec, 0);
    for (size_t i = 0; i < items.size(); ++i) {
        put<uint64_t>(rec, added[i].offset);
        put<uint64_t>(rec, added[i].size);
        put<uint64_t>(rec, added[i].checksum);
        put<uint16_t>(rec, uint16_t(items[i].name.size()));
        rec += items[i].name;
    }
    const uint32_t len = uint32_t(rec.size() + 8);
    if (len > kMaxRecord) return E2BIG;
    std::memcpy(rec.data() + 4, &len, 4);
    put<uint64_t>(rec, checksum(rec.data(), rec.size()));
    // The memory the new versions take is allocated before the record is written: a save that
    // fails for lack of memory (ENOMEM) must not have become durable all the same.
    for (const SaveItem &it : items) {
        auto &list = versions_[it.name];
        if (list.size() == list.capacity()) list.reserve(std::max<size_t>(8, list.size() * 2));
    }
    if (kill_point("regions.index")) {  // torn inside the commit record
        (void)io::pwrite_all(index_fd_, rec.data(), rec.size() / 2, index_end_);
        die_here();
    }
    if (int e = io::pwrite_all(index_fd_, rec.data(), rec.size(), index_end_); e) {
        // Leave no partial record behind to be taken for a damaged one.
        (void)::ftruncate(index_fd_, off_t(index_end_));
        return e;
    }
    if (::fdatasync(index_fd_) != 0) return errno;
    if (kill_point("regions.committed")) die_here();

    const int64_t saved = get<int64_t>(reinterpret_cast<const unsigned char *>(rec.data()) + 16);
    for (size_t i = 0; i < items.size(); ++i) {
        auto &list = versions_[items[i].name];
        Version v = added[i];
        v.seq = next_seq_;
        v.saved_ns = saved;
        v.number = uint32_t(list.size() + 1);
        list.push_back(v);
    }
    ++next_seq_;
    index_end_ += len;
    index_size_ = index_end_;
    data_end_ = off;
    return 0;
}

int RegionFile::verify(const Version &v) const
{
    std::string buf(size_t(std::min<uint64_t>(kChunk, v.size)), '\0');
    Checksum sum;
    for (uint64_t done = 0; done < v.size;) {
        const size_t n = size_t(std::min<uint64_t>(kChunk, v.size - done));
        if (int e = io::pread_all(data_fd_, buf.data(), n, v.offset + done); e) return e == EIO ? EBADMSG : e;
        sum.update(buf.data(), n);
        done += n;
    }
    return sum.digest() == v.checksum ? 0 : EBADMSG;
}

int RegionFile::read_into(const Version &v, void *dst) const
{
    // Verified first in bounded chunks, so a damaged version never reaches the region even
    // when the region is too large for a second copy in memory.
    if (int e = verify(v); e) return e;
    return read_verified(v, dst);
}

int RegionFile::read_verified(const Version &v, void *dst) const
{
    if (int e = io::pread_all(data_fd_, dst, size_t(v.size), v.offset); e) return e == EIO ? EBADMSG : e;
    return 0;
}

}  // namespace ckp::regions
