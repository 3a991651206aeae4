// Helpers shared by the ckptctl verbs.
#include <sys/stat.h>
#include <time.h>

#include <cstdio>
#include <cstring>
#include <iostream>

#include "ckptctl_commands.h"
#include "exit_codes.h"
#include "job_dir.h"

namespace ckptctl {

using namespace ckpt;

int fail(int code, const std::string &message)
{
    std::fflush(stdout);
    std::fprintf(stderr, "ckptctl: error: %s\n", message.c_str());
    return code;
}

bool valid_job_name(const std::string &name)
{
    return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

uint64_t version_from_path(const std::string &path)
{
    const size_t slash = path.rfind('/');
    const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    if (base.size() < 10 || base.compare(0, 5, "ckpt-") != 0 || base.compare(base.size() - 4, 4, ".img") != 0)
        return 0;
    uint64_t v = 0;
    for (size_t i = 5; i < base.size() - 4; ++i) {
        if (base[i] < '0' || base[i] > '9') return 0;
        v = v * 10 + uint64_t(base[i] - '0');
    }
    return v;
}

namespace {

bool is_regular_file(const std::string &path)
{
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool parse_version(const std::string &text, uint64_t &v)
{
    if (text.empty() || text.size() > 19) return false;
    v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + uint64_t(c - '0');
    }
    return v > 0;
}

}  // namespace

std::optional<ImageRef> resolve_image(const std::string &root, const std::string &arg, int &code)
{
    ImageRef ref;
    // A path: anything with a '/', or a file that exists under that name.
    if (arg.find('/') != std::string::npos || is_regular_file(arg)) {
        if (!is_regular_file(arg)) {
            code = fail(exit_code::kNoInput, arg + ": no such image file");
            return std::nullopt;
        }
        ref.path = arg;
        ref.version = version_from_path(arg);
        return ref;
    }
    // NAME, or NAME:VERSION (a job whose name itself contains ':' is found by its full name).
    std::string name = arg;
    uint64_t version = 0;
    const size_t colon = arg.rfind(':');
    if (colon != std::string::npos && !JobDir(root, arg).exists()) {
        name = arg.substr(0, colon);
        if (!parse_version(arg.substr(colon + 1), version)) {
            code = fail(exit_code::kUsage, "'" + arg + "': expected an image file, NAME or NAME:VERSION");
            return std::nullopt;
        }
    }
    if (!valid_job_name(name)) {
        code = fail(exit_code::kUsage, "'" + name + "' is not a valid job name");
        return std::nullopt;
    }
    JobDir job(root, name);
    if (auto e = job.open(false)) {
        code = fail(e.exit_code(), e.message);
        return std::nullopt;
    }
    ref.job = name;
    if (version) {
        ref.version = version;
        ref.path = job.image_path(version);
        if (!is_regular_file(ref.path)) {
            code = fail(exit_code::kNoInput, "job '" + name + "' has no version " + std::to_string(version));
            return std::nullopt;
        }
        return ref;
    }
    const auto versions = job.versions();
    if (versions.empty()) {
        code = fail(exit_code::kNoInput, "job '" + name + "' has no checkpoints");
        return std::nullopt;
    }
    ref.version = versions.back().version;
    ref.path = versions.back().path;
    return ref;
}

int exit_code_for(ImageError e)
{
    switch (e) {
    case ImageError::None: return exit_code::kOk;
    case ImageError::Missing: return exit_code::kNoInput;
    case ImageError::FileMissing: return exit_code::kNoInput;
    case ImageError::FileChanged: return exit_code::kStaleImage;
    case ImageError::Untrusted: return exit_code::kUntrusted;
    default: return exit_code::kBadImage;
    }
}

std::string format_local_time(int64_t realtime_ns)
{
    if (realtime_ns <= 0) return "-";
    const time_t secs = time_t(realtime_ns / 1000000000);
    struct tm tm;
    if (!localtime_r(&secs, &tm)) return "-";
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

std::string format_size(uint64_t bytes)
{
    char buf[32];
    if (bytes < 1024) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
    else if (bytes < (1ull << 20)) std::snprintf(buf, sizeof buf, "%.1f KiB", double(bytes) / 1024);
    else if (bytes < (1ull << 30)) std::snprintf(buf, sizeof buf, "%.1f MiB", double(bytes) / (1 << 20));
    else std::snprintf(buf, sizeof buf, "%.2f GiB", double(bytes) / (1ull << 30));
    return buf;
}

std::string format_ns(uint64_t ns)
{
    char buf[32];
    if (ns < 1000) std::snprintf(buf, sizeof buf, "%llu ns", static_cast<unsigned long long>(ns));
    else if (ns < 1000000) std::snprintf(buf, sizeof buf, "%.1f us", double(ns) / 1e3);
    else if (ns < 1000000000) std::snprintf(buf, sizeof buf, "%.1f ms", double(ns) / 1e6);
    else std::snprintf(buf, sizeof buf, "%.2f s", double(ns) / 1e9);
    return buf;
}

std::string format_hex(uint64_t v)
{
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

std::string printable(const std::string &s)
{
    std::string out;
    for (char ch : s) {
        const unsigned char c = static_cast<unsigned char>(ch);
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c == '\r') out += "\\r";
        else if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += ch;
        }
    }
    return out;
}

std::string Table::str() const
{
    std::vector<size_t> width;
    for (const auto &row : rows_)
        for (size_t c = 0; c < row.size(); ++c) {
            if (width.size() <= c) width.resize(c + 1, 0);
            width[c] = std::max(width[c], row[c].size());
        }
    std::string out;
    for (const auto &row : rows_) {
        std::string line;
        for (size_t c = 0; c < row.size(); ++c) {
            if (c) line += "  ";
            const bool right = std::find(right_.begin(), right_.end(), c) != right_.end();
            const size_t pad = width[c] - row[c].size();
            if (right) line.append(pad, ' ');
            line += row[c];
            if (!right && c + 1 < row.size()) line.append(pad, ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line;
        out += '\n';
    }
    return out;
}

}  // namespace ckptctl
