// The on-disk form of a ckp_util checkpoint "file": a data file PATH with the appended region
// contents and an index file PATH.idx whose records commit them (docs/libraries.md, "ckp_util
// format"). Data is written and made durable first, then one checksummed index record naming
// every region of the save, so a save torn by a crash has no complete record and stays
// invisible, and a save of several regions (ckpSaveAll) commits all of them or none.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ckp::regions {

inline constexpr char kDataMagic[8] = {'C', 'K', 'P', 'U', 'D', 'A', 'T', '\0'};
inline constexpr char kIndexMagic[8] = {'C', 'K', 'P', 'U', 'I', 'D', 'X', '\0'};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr uint32_t kRecordMagic = 0x52504b43;  // "CKPR"
inline constexpr uint64_t kHeaderSize = 16;           // magic + format version + reserved

// One saved version of one region.
struct Version {
    uint32_t number = 0;    // 1..N among the versions of its region
    uint64_t seq = 0;       // the save (index record) it belongs to, 1..
    int64_t saved_ns = 0;   // CLOCK_REALTIME of the save
    uint64_t offset = 0;    // in the data file
    uint64_t size = 0;
    uint64_t checksum = 0;  // XXH3-64 of the data
};

// A region's bytes for a save; the data is streamed from `addr` (no copy is made).
struct SaveItem {
    std::string name;
    const void *addr = nullptr;
    uint64_t size = 0;
};

class RegionFile {
public:
    enum class Mode { ReadOnly, ReadWrite };
    // Opens (ReadWrite: creates when missing, locks against a second writer) and reads the
    // index. Returns 0 or an errno value: ENOENT (ReadOnly, missing), EPROTO (not a ckp_util
    // file, or a newer format), EBADMSG (index damaged before its end), EBUSY (locked), ...
    static int open(const std::string &path, Mode mode, std::unique_ptr<RegionFile> &out,
                    std::string *why = nullptr);
    ~RegionFile();

    const std::map<std::string, std::vector<Version>> &versions() const { return versions_; }
    const std::vector<Version> *versions_of(const std::string &name) const;
    // Bytes of torn tail ignored by open (a save cut off by a crash), for ckptctl.
    uint64_t torn_bytes() const { return torn_bytes_; }

    // Appends every item as a new version and commits them with one index record.
    int append(const std::vector<SaveItem> &items);
    // Streams the version's data through its checksum: 0, or EBADMSG if it is damaged.
    int verify(const Version &v) const;
    // Verifies the version, then copies it to dst (v.size bytes); dst is untouched on error.
    int read_into(const Version &v, void *dst) const;
    // The version's data into dst without verifying it again (it was, by verify()); allocates nothing.
    int read_verified(const Version &v, void *dst) const;

private:
    RegionFile() = default;
    int load_index(std::string *why);

    std::string path_;
    int data_fd_ = -1;
    int index_fd_ = -1;
    bool writable_ = false;
    uint64_t data_end_ = kHeaderSize;   // end of the committed data
    uint64_t index_end_ = kHeaderSize;  // end of the last complete index record
    uint64_t index_size_ = 0;           // the index file's size (> index_end_ after a torn save)
    uint64_t torn_bytes_ = 0;
    uint64_t next_seq_ = 1;
    std::map<std::string, std::vector<Version>> versions_;
};

}  // namespace ckp::regions
