// /proc/PID/maps parsing: every kind of line the kernel writes, malformed lines, the line
// iterator, and the maps of this very process.
#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <sys/prctl.h>

#include <string>

#include "maps_parser.h"
#include "test_util.h"

using namespace ckpt;

namespace {

// A line as show_map_vma() formats it: "%08lx-%08lx %c%c%c%c %08llx %02x:%02x %lu ", then,
// if there is a name, padding to column 73 and the name.
std::string kernel_line(const std::string &fields, const std::string &name)
{
    std::string line = fields + " ";
    if (name.empty()) return line;
    if (line.size() < 73) line.append(73 - line.size(), ' ');
    return line + name;
}

MapsEntry parse_ok(const std::string &line)
{
    MapsEntry e;
    INFO("line: '" << line << "'");
    REQUIRE(parse_maps_line(line.data(), line.size(), e));
    return e;
}

bool parses(const std::string &line)
{
    MapsEntry e;
    return parse_maps_line(line.data(), line.size(), e);
}

std::string name_of(const MapsEntry &e) { return e.name ? std::string(e.name, e.name_len) : std::string(); }

}  // namespace

TEST_CASE("maps: file-backed executable mapping with offset", "[maps]")
{
    const MapsEntry e =
        parse_ok(kernel_line("7f12a3c28000-7f12a3d7e000 r-xp 00026000 fe:01 1837453", "/usr/lib/x86_64-linux-gnu/libc.so.6"));
    CHECK(e.start == 0x7f12a3c28000);
    CHECK(e.end == 0x7f12a3d7e000);
    CHECK(e.prot == (PROT_READ | PROT_EXEC));
    CHECK_FALSE(e.shared);
    CHECK(e.offset == 0x26000);
    CHECK(e.dev_major == 0xfe);
    CHECK(e.dev_minor == 0x01);
    CHECK(e.inode == 1837453);
    CHECK(name_of(e) == "/usr/lib/x86_64-linux-gnu/libc.so.6");
    CHECK_FALSE(e.deleted);
    CHECK_FALSE(is_kernel_special(e));
}

TEST_CASE("maps: anonymous mapping without a name", "[maps]")
{
    const std::string line = kernel_line("7f12a3e00000-7f12a3e0d000 rw-p 00000000 00:00 0", "");
    CHECK(line.back() == ' ');  // the kernel leaves the separator after the inode
    const MapsEntry e = parse_ok(line);
    CHECK(e.prot == (PROT_READ | PROT_WRITE));
    CHECK(e.inode == 0);
    CHECK(e.name == nullptr);
    CHECK(e.name_len == 0);
    CHECK_FALSE(is_kernel_special(e));
    // Without the trailing space too.
    const MapsEntry bare = parse_ok("7f12a3e00000-7f12a3e0d000 rw-p 00000000 00:00 0");
    CHECK(bare.name == nullptr);
    CHECK(bare.end == 0x7f12a3e0d000);
}

TEST_CASE("maps: heap, stack and named anonymous memory are ordinary memory", "[maps]")
{
    const MapsEntry heap = parse_ok(kernel_line("55d0c1a4e000-55d0c1a6f000 rw-p 00000000 00:00 0", "[heap]"));
    CHECK(name_of(heap) == "[heap]");
    CHECK(name_is(heap, "[heap]"));
    CHECK_FALSE(name_is(heap, "[heap"));
    CHECK_FALSE(name_is(heap, "[heap]x"));
    CHECK_FALSE(is_kernel_special(heap));

    const MapsEntry stack = parse_ok(kernel_line("7ffd3a1c4000-7ffd3a1e5000 rw-p 00000000 00:00 0", "[stack]"));
    CHECK(name_is(stack, "[stack]"));
    CHECK_FALSE(is_kernel_special(stack));

    const MapsEntry anon = parse_ok(kernel_line("7f12a3e00000-7f12a3e21000 rw-p 00000000 00:00 0", "[anon:libc_malloc]"));
    CHECK(name_of(anon) == "[anon:libc_malloc]");
    CHECK_FALSE(is_kernel_special(anon));

    const MapsEntry shmem = parse_ok(kernel_line("7f12a3e00000-7f12a3e21000 rw-s 00000000 00:01 4242", "[anon_shmem:ring]"));
    CHECK(shmem.shared);
    CHECK(name_of(shmem) == "[anon_shmem:ring]");
    CHECK_FALSE(is_kernel_special(shmem));
}

TEST_CASE("maps: mappings made by the kernel", "[maps]")
{
    for (const char *name : {"[vdso]", "[vvar]", "[vvar_vclock]", "[uprobes]"}) {
        const MapsEntry e = parse_ok(kernel_line("7ffd3a1f0000-7ffd3a1f4000 r--p 00000000 00:00 0", name));
        INFO(name);
        CHECK(name_of(e) == name);
        CHECK(is_kernel_special(e));
    }
    const MapsEntry vsyscall =
        parse_ok(kernel_line("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0", "[vsyscall]"));
    CHECK(vsyscall.start == 0xffffffffff600000ull);
    CHECK(vsyscall.end == 0xffffffffff601000ull);
    CHECK(vsyscall.prot == PROT_EXEC);
    CHECK(name_is(vsyscall, "[vsyscall]"));
    CHECK(is_kernel_special(vsyscall));
}

TEST_CASE("maps: deleted files and shared mappings", "[maps]")
{
    const MapsEntry zero = parse_ok(kernel_line("7f12a3e00000-7f12a3f00000 rw-s 00000000 00:01 2050", "/dev/zero (deleted)"));
    CHECK(zero.shared);
    CHECK(zero.deleted);
    CHECK(name_of(zero) == "/dev/zero");
    CHECK(zero.dev_major == 0);
    CHECK(zero.dev_minor == 1);

    const MapsEntry gone = parse_ok(kernel_line("7f12a3c00000-7f12a3c28000 r--p 00000000 08:02 99", "/opt/app/lib old.so (deleted)"));
    CHECK(gone.deleted);
    CHECK(name_of(gone) == "/opt/app/lib old.so");

    const MapsEntry shared_file = parse_ok(kernel_line("7f12a3c00000-7f12a3c01000 rw-s 00001000 08:02 77", "/var/db/data.bin"));
    CHECK(shared_file.shared);
    CHECK(shared_file.prot == (PROT_READ | PROT_WRITE));
    CHECK(shared_file.offset == 0x1000);
    CHECK_FALSE(shared_file.deleted);

    // " (deleted)" is only a suffix that counts; "(deleted)" alone or inside a name is a name.
    const MapsEntry inside = parse_ok(kernel_line("7f12a3c00000-7f12a3c01000 r--p 00000000 08:02 77", "/tmp/a (deleted) b"));
    CHECK_FALSE(inside.deleted);
    CHECK(name_of(inside) == "/tmp/a (deleted) b");
}

TEST_CASE("maps: names with spaces", "[maps]")
{
    const MapsEntry e = parse_ok(kernel_line("7f12a3c00000-7f12a3c28000 r--p 00000000 08:02 12", "/home/u/My Files/lib x  y.so"));
    CHECK(name_of(e) == "/home/u/My Files/lib x  y.so");
    CHECK_FALSE(e.deleted);
}

TEST_CASE("maps: guard pages and every permission letter", "[maps]")
{
    const MapsEntry guard = parse_ok(kernel_line("7f12a3c28000-7f12a3c29000 ---p 00000000 00:00 0", ""));
    CHECK(guard.prot == 0);
    CHECK_FALSE(guard.shared);
    CHECK(parse_ok("1000-2000 r--p 0 00:00 0").prot == PROT_READ);
    CHECK(parse_ok("1000-2000 -w-p 0 00:00 0").prot == PROT_WRITE);
    CHECK(parse_ok("1000-2000 --xp 0 00:00 0").prot == PROT_EXEC);
    CHECK(parse_ok("1000-2000 rwxs 0 00:00 0").prot == (PROT_READ | PROT_WRITE | PROT_EXEC));
    CHECK(parse_ok("1000-2000 rwxs 0 00:00 0").shared);
}

TEST_CASE("maps: addresses, offsets and devices as the kernel prints them", "[maps]")
{
    // Short addresses are zero-padded to 8 digits; lowercase hex.
    const MapsEntry low = parse_ok(kernel_line("00400000-00452000 r-xp 00000000 08:01 131", "/usr/bin/static"));
    CHECK(low.start == 0x400000);
    CHECK(low.end == 0x452000);
    // 5-level paging: 56-bit user addresses.
    const MapsEntry high = parse_ok(kernel_line("7ffffffffde000-7ffffffffff000 rw-p 00000000 00:00 0", "[stack]"));
    CHECK(high.start == 0x7ffffffffde000ull);
    CHECK(high.end == 0x7ffffffffff000ull);
    // Large offsets (a file mapped at 4 GiB).
    CHECK(parse_ok("1000-2000 r--s 100000000 08:01 5").offset == 0x100000000ull);
    // Devices: "fe:00" (device mapper), "103:02" (major 259, NVMe partitions).
    const MapsEntry dm = parse_ok(kernel_line("1000-2000 r--p 00000000 fe:00 5", "/a"));
    CHECK(dm.dev_major == 0xfe);
    CHECK(dm.dev_minor == 0);
    const MapsEntry nvme = parse_ok(kernel_line("1000-2000 r--p 00000000 103:02 5", "/a"));
    CHECK(nvme.dev_major == 259);
    CHECK(nvme.dev_minor == 2);
    // Large inode numbers are decimal.
    CHECK(parse_ok("1000-2000 r--p 0 00:2f 18446744073709551615 /x").inode == 18446744073709551615ull);
}

TEST_CASE("maps: malformed lines are rejected", "[maps]")
{
    for (const char *line : {
             "",
             " ",
             "garbage",
             "1000",
             "1000-",
             "1000-2000",
             "1000-2000 ",
             "1000-2000 rwxp",
             "1000-2000 rwxp ",
             "1000-2000 rwxp 00000000",
             "1000-2000 rwxp 00000000 08",
             "1000-2000 rwxp 00000000 08:01",
             "1000-2000 rwxp 00000000 08:01 ",
             "1000-2000 rwxp 00000000 0801 12 /x",
             "1000-2000 rwxp 00000000 08:01:03 12 /x",
             "1000-2000 rwzp 00000000 08:01 12 /x",
             "1000-2000 awxp 00000000 08:01 12 /x",
             "1000-2000 r-wp 00000000 08:01 12 /x",
             "1000-2000 r--x 00000000 08:01 12 /x",
             "1000-2000 r--P 00000000 08:01 12 /x",
             "1000-2000 r-- 00000000 08:01 12 /x",
             "1000-2000  r--p 00000000 08:01 12 /x",
             "1000 2000 r--p 00000000 08:01 12 /x",
             "1000:2000 r--p 00000000 08:01 12 /x",
             "g000-2000 r--p 00000000 08:01 12 /x",
             "-2000 r--p 00000000 08:01 12 /x",
             "1000-2000 r--p zz 08:01 12 /x",
             "1000-2000 r--p 0 08:01 x12 /x",
             "2000-1000 r--p 00000000 08:01 12 /x",  // end before start
             "2000-2000 r--p 00000000 08:01 12 /x",  // empty
         }) {
        INFO("line: '" << line << "'");
        CHECK_FALSE(parses(line));
    }
}

TEST_CASE("maps: a line is only what its length says", "[maps]")
{
    const std::string buf = "1000-2000 r--p 00000000 08:01 12 /usr/lib/libfoo.so.1";
    MapsEntry e;
    // Cut inside the name: the name is cut too.
    REQUIRE(parse_maps_line(buf.data(), buf.size() - 2, e));
    CHECK(name_of(e) == "/usr/lib/libfoo.so");
    // Cut before the inode: not a line.
    CHECK_FALSE(parse_maps_line(buf.data(), 29, e));
}

TEST_CASE("maps: kernel-special classification", "[maps]")
{
    auto special = [](const std::string &name) {
        const std::string line = kernel_line("1000-2000 r--p 00000000 00:00 0", name);
        MapsEntry e;
        REQUIRE(parse_maps_line(line.data(), line.size(), e));
        return is_kernel_special(e);
    };
    CHECK(special("[vdso]"));
    CHECK(special("[vvar]"));
    CHECK(special("[vvar_vclock]"));
    CHECK(special("[vsyscall]"));
    CHECK(special("[uprobes]"));
    CHECK_FALSE(special("[heap]"));
    CHECK_FALSE(special("[stack]"));
    CHECK_FALSE(special("[anon:x]"));
    CHECK_FALSE(special("[anon:thread stack]"));
    CHECK_FALSE(special("[anon_shmem:x]"));
    CHECK_FALSE(special(""));
    CHECK_FALSE(special("/usr/lib/[vdso]"));
    CHECK_FALSE(special("[vdso"));
    CHECK_FALSE(special("[]"));
}

TEST_CASE("maps: line iteration", "[maps]")
{
    auto lines_of = [](const std::string &buf) {
        std::vector<std::string> out;
        MapsLines lines(buf.data(), buf.size());
        const char *line;
        size_t len;
        while (lines.next(line, len)) out.emplace_back(line, len);
        return out;
    };
    CHECK(lines_of("").empty());
    CHECK(lines_of("a\n") == std::vector<std::string>{"a"});
    CHECK(lines_of("a") == std::vector<std::string>{"a"});
    CHECK(lines_of("a\nb\nc") == std::vector<std::string>{"a", "b", "c"});  // last line without newline
    CHECK(lines_of("a\nb\nc\n") == std::vector<std::string>{"a", "b", "c"});
    CHECK(lines_of("a\n\nb\n") == std::vector<std::string>{"a", "", "b"});
    CHECK(lines_of("\n") == std::vector<std::string>{""});

    const std::string maps = kernel_line("1000-2000 r-xp 00000000 08:01 12", "/bin/x") + "\n" +
                             kernel_line("3000-4000 rw-p 00000000 00:00 0", "") + "\n" +
                             kernel_line("7ffd3a1c4000-7ffd3a1e5000 rw-p 00000000 00:00 0", "[stack]");
    MapsLines lines(maps.data(), maps.size());
    const char *line;
    size_t len;
    std::vector<MapsEntry> entries;
    while (lines.next(line, len)) {
        MapsEntry e;
        REQUIRE(parse_maps_line(line, len, e));
        entries.push_back(e);
    }
    REQUIRE(entries.size() == 3);
    CHECK(name_of(entries[0]) == "/bin/x");
    CHECK(entries[1].name == nullptr);
    CHECK(name_of(entries[2]) == "[stack]");
}

TEST_CASE("maps: every line of this process's own maps parses", "[maps]")
{
    // A mapping of our own with a name, so that an [anon:...] line is there too when the
    // kernel supports naming anonymous memory (PR_SET_VMA, 5.17+ with CONFIG_ANON_VMA_NAME).
    void *named = ::mmap(nullptr, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(named != MAP_FAILED);
    const bool naming = ::prctl(0x53564d41 /* PR_SET_VMA */, 0 /* PR_SET_VMA_ANON_NAME */,
                                reinterpret_cast<unsigned long>(named), 2 * 4096,
                                reinterpret_cast<unsigned long>("ckpt unit test")) == 0;
    const std::string maps = test::read_file("/proc/self/maps");
    ::munmap(named, 2 * 4096);
    REQUIRE(!maps.empty());
    MapsLines lines(maps.data(), maps.size());
    const char *line;
    size_t len;
    size_t count = 0;
    uint64_t prev_end = 0;
    bool stack = false, vdso = false, file = false, anon_named = false;
    while (lines.next(line, len)) {
        MapsEntry e;
        INFO("line: '" << std::string(line, len) << "'");
        REQUIRE(parse_maps_line(line, len, e));
        CHECK(e.start % 4096 == 0);
        CHECK(e.end % 4096 == 0);
        CHECK(e.start >= prev_end);
        prev_end = e.end;
        if (name_is(e, "[stack]")) stack = true;
        if (name_is(e, "[vdso]")) vdso = is_kernel_special(e);
        if (e.name_len && e.name[0] == '/' && e.inode) file = true;
        if (name_is(e, "[anon:ckpt unit test]")) anon_named = !is_kernel_special(e);
        ++count;
    }
    CHECK(count > 5);
    CHECK(stack);
    CHECK(vdso);
    CHECK(file);
    if (naming) CHECK(anon_named);
}
