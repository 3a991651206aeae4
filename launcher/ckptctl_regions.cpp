// ckptctl regions FILE: the regions of a ckp_util checkpoint file and their versions, each
// verified against its checksum (docs/ckptctl.md).
#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>

#include "ckp_util/region_file.h"
#include "ckptctl_commands.h"
#include "exit_codes.h"

namespace ckptctl {

using namespace ckpt;
using ckp::regions::RegionFile;

namespace {

int list_regions(const std::string &path)
{
    std::unique_ptr<RegionFile> file;
    std::string why;
    // Read-only and without the writer's lock: a running program may be saving meanwhile.
    if (int e = RegionFile::open(path, RegionFile::Mode::ReadOnly, file, &why); e) {
        if (why.empty()) why = path + ": " + std::strerror(e);
        const int code = e == ENOENT ? exit_code::kNoInput : e == EACCES ? exit_code::kNoPermission
                         : e == EPROTO || e == EBADMSG ? exit_code::kBadImage : exit_code::kOsError;
        return fail(code, why);
    }
    Table table({"REGION", "VERSION", "RELATIVE", "SIZE", "SAVE", "TIME", "STATUS"});
    for (size_t c : {1, 2, 3, 4}) table.align_right(c);
    bool damaged = false;
    for (const auto &[name, versions] : file->versions()) {
        const long n = long(versions.size());
        for (const auto &v : versions) {
            const bool ok = file->verify(v) == 0;
            damaged |= !ok;
            table.add({printable(name), std::to_string(v.number), std::to_string(long(v.number) - n),
                       format_size(v.size), std::to_string(v.seq), format_local_time(v.saved_ns),
                       ok ? "ok" : "damaged (checksum mismatch)"});
        }
    }
    if (table.size() == 0)
        std::cout << path << ": no saved regions\n";
    else
        std::cout << table.str();
    if (file->torn_bytes())
        std::cout << "(" << file->torn_bytes() << " bytes of an unfinished save at the end of the index are ignored)\n";
    if (damaged) return fail(exit_code::kBadImage, path + ": damaged versions (they cannot be restored)");
    return exit_code::kOk;
}

}  // namespace

Runner add_regions(CLI::App &app)
{
    auto path = std::make_shared<std::string>();
    CLI::App *sub = app.add_subcommand("regions", "list the regions and versions of a ckp_util checkpoint file");
    sub->add_option("FILE", *path, "checkpoint file (the data file; FILE.idx is its index)")->required();
    return [path](const Globals &) { return list_regions(*path); };
}

}  // namespace ckptctl
