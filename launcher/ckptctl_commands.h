// ckptctl: the verbs and what they share. Each verb lives in its own ckptctl_VERB.cpp and
// registers a CLI11 subcommand; main() (ckptctl.cpp) runs the one that was chosen.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "image_reader.h"

namespace ckptctl {

// Options that apply to every verb.
struct Globals {
    std::string dir;   // --dir / $CKPT_DIR as given
    std::string root;  // resolved checkpoint root
    int verbosity = 0;
    bool quiet = false;
};

// Runs a verb after parsing; returns the process exit status.
using Runner = std::function<int(const Globals &)>;

Runner add_list(CLI::App &app);
Runner add_inspect(CLI::App &app);
Runner add_verify(CLI::App &app);
Runner add_checkpoint(CLI::App &app);
Runner add_rm(CLI::App &app);
Runner add_status(CLI::App &app);
Runner add_regions(CLI::App &app);
Runner add_cps(CLI::App &app);  // ckptctl_cps.cpp

// Prints "ckptctl: error: MESSAGE" on stderr and returns `code`.
int fail(int code, const std::string &message);

// A job name as a directory under the root: not empty, no '/', not "." or "..".
bool valid_job_name(const std::string &name);

// An image named on the command line: a file path, NAME (newest version of the job) or
// NAME:VERSION.
struct ImageRef {
    std::string path;
    std::string job;       // empty when given as a path
    uint64_t version = 0;  // 0 when unknown (a path not named ckpt-N.img)
};
// Resolves `arg`; on failure prints the error and sets `code` (kNoInput, kUsage).
std::optional<ImageRef> resolve_image(const std::string &root, const std::string &arg, int &code);

// The version number in a file name "ckpt-000042.img" (any directory), 0 if it is not one.
uint64_t version_from_path(const std::string &path);

// Exit status for an image problem (the same mapping as ckpt-restore).
int exit_code_for(ckpt::ImageError e);

// Human-readable values.
std::string format_local_time(int64_t realtime_ns);  // "2025-01-31 14:05:09", "-" for 0
std::string format_size(uint64_t bytes);             // "136.0 KiB"
std::string format_ns(uint64_t ns);                  // "2.8 ms"
std::string format_hex(uint64_t v);                  // "0x7f12..."
// Text for a terminal line: newline, tab, other control bytes and backslash escaped ("\n",
// "\x1b", "\\"), so that a command line or file name cannot break a table.
std::string printable(const std::string &s);

// A plain text table: columns separated by two spaces, padded to the widest cell; the last
// column is not padded (it holds free text such as paths).
class Table {
public:
    explicit Table(std::vector<std::string> headers) : rows_{std::move(headers)} {}
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    // Columns aligned to the right (numbers).
    void align_right(size_t column) { right_.push_back(column); }
    std::string str() const;
    size_t size() const { return rows_.size() - 1; }

private:
    std::vector<std::vector<std::string>> rows_;
    std::vector<size_t> right_;
};

}  // namespace ckptctl
