// Reading the persistent checkpoint table with libc and the C++ library: used by the launcher's
// recovery, ckptctl (inspect/verify) and the tests. Never used inside the program.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pct_format.h"

namespace ckpt {
class ByteSource;
}

namespace ckpt::persist {

struct PctRecord {
    pct::RecordHeader header{};
    std::string path, path2;
    uint64_t file_offset = 0;  // where the record starts in the log
    uint64_t data_offset = 0;  // where its old data starts in the log (Data)

    pct::Kind kind() const { return pct::Kind(header.kind); }
};

struct PctLog {
    std::string path;
    bool exists = false;
    bool header_ok = false;
    pct::FileHeader header{};
    std::vector<PctRecord> records;   // valid records, in log order
    uint64_t file_size = 0;
    uint64_t valid_bytes = 0;         // end of the last valid record
    bool torn_tail = false;           // bytes after the last valid record that form no whole record
    bool untrusted = false;           // not owned by the effective user with mode 0600: not read
    std::vector<uint64_t> bad_records;  // offsets of whole records whose checksum failed
    std::string error;                // why the log could not be read at all

    // True if every byte is accounted for by valid records.
    bool clean() const { return header_ok && !torn_tail && bad_records.empty(); }
    // The epoch was closed by the next checkpoint: its last record is the Seal, where it says.
    bool sealed() const
    {
        return !records.empty() && records.back().kind() == pct::Kind::Seal && !torn_tail &&
               uint64_t(records.back().header.offset) == records.back().file_offset;
    }
};

// Reads a whole log. A torn tail (an interrupted append: the file ends inside a record) is
// reported and ignored; a record that is all there but whose checksum fails is reported in
// bad_records and skipped. A log not owned by the effective user with mode 0600 is not read.
PctLog read_pct(const std::string &path);
// The same from an open file or a buffer (byte_source.h); `path` names it.
PctLog read_pct(const ByteSource &src, const std::string &path);

// The old data of a Data record, checked against its checksum. False if unreadable or wrong.
bool read_record_data(const std::string &log_path, const PctRecord &r, std::string &out);
bool read_record_data(const ByteSource &log, const PctRecord &r, std::string &out);

struct EpochFiles {
    uint64_t epoch = 0;
    std::string log;       // pct-K.log ("" if absent)
    std::string undo_dir;  // undo-K ("" if absent)
    std::string progress;  // pct-K.progress ("" if absent)
    std::string growth;    // grow-K.map ("" if absent)
};

// Every epoch with a log, an undo directory or a progress file in the job directory, oldest first.
std::vector<EpochFiles> list_epochs(const std::string &job_dir);
std::string log_path(const std::string &job_dir, uint64_t epoch);
std::string undo_dir_path(const std::string &job_dir, uint64_t epoch);
std::string progress_path(const std::string &job_dir, uint64_t epoch);
std::string growth_path(const std::string &job_dir, uint64_t epoch);

struct VerifyResult {
    bool ok = true;
    uint64_t records = 0, data_bytes = 0, kept_files = 0;
    std::vector<std::string> problems;
};

// Checks an epoch's log (header, every record, the old data of every Data record against its
// checksum) and its undo directory (every Removed record's kept file exists).
VerifyResult verify_epoch(const std::string &job_dir, uint64_t epoch);

// One line per record for humans (ckptctl inspect): "seq kind path [details]".
std::string describe(const PctRecord &r);

}  // namespace ckpt::persist
