// ckptctl's helpers: the JSON writer, the text table, naming images on the command line.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include "ckptctl_commands.h"
#include "ckptctl_json.h"
#include "exit_codes.h"
#include "job_dir.h"
#include "test_util.h"

using namespace ckptctl;

namespace {

// ckptctl reports errors on stderr; keep them out of the test output.
class QuietStderr {
public:
    QuietStderr() : saved_(::dup(2))
    {
        const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
        ::dup2(null, 2);
        ::close(null);
    }
    ~QuietStderr()
    {
        ::dup2(saved_, 2);
        ::close(saved_);
    }

private:
    int saved_;
};

}  // namespace

TEST_CASE("JSON string escaping", "[ckptctl][json]")
{
    CHECK(JsonWriter::escape("") == "\"\"");
    CHECK(JsonWriter::escape("plain /path/x.so") == "\"plain /path/x.so\"");
    CHECK(JsonWriter::escape("a\"b\\c") == "\"a\\\"b\\\\c\"");
    CHECK(JsonWriter::escape("\n\r\t\b\f") == "\"\\n\\r\\t\\b\\f\"");
    CHECK(JsonWriter::escape(std::string("\x01\x1f\x7f", 3)) == "\"\\u0001\\u001f\\u007f\"");
    CHECK(JsonWriter::escape(std::string("a\0b", 3)) == "\"a\\u0000b\"");
    // Valid UTF-8 passes through; anything else becomes U+FFFD, byte by byte.
    CHECK(JsonWriter::escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") == "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    CHECK(JsonWriter::escape("\xff") == "\"\\ufffd\"");
    CHECK(JsonWriter::escape("a\xc3") == "\"a\\ufffd\"");                // cut sequence
    CHECK(JsonWriter::escape("\xc0\xaf") == "\"\\ufffd\\ufffd\"");       // overlong '/'
    CHECK(JsonWriter::escape("\xed\xa0\x80") == "\"\\ufffd\\ufffd\\ufffd\"");  // surrogate
    CHECK(JsonWriter::escape("\xf4\x90\x80\x80") == "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  // > U+10FFFF
    CHECK(JsonWriter::escape("\xe2\x28\xa1") == "\"\\ufffd(\\ufffd\"");
}

TEST_CASE("JSON document structure", "[ckptctl][json]")
{
    JsonWriter j;
    j.begin_object();
    j.field("name", "job \"x\"").field("count", uint64_t(18446744073709551615ull)).field("delta", int64_t(-5));
    j.field("ok", true).field("small", int32_t(-1)).field("u32", uint32_t(7));
    j.key("none").null();
    j.key("empty_list").begin_array().end_array();
    j.key("empty_object").begin_object().end_object();
    j.key("list").begin_array();
    j.value("a").value(uint64_t(1));
    j.begin_object().field("k", false).end_object();
    j.end_array();
    j.end_object();
    CHECK(j.str() == "{\n"
                     "  \"name\": \"job \\\"x\\\"\",\n"
                     "  \"count\": 18446744073709551615,\n"
                     "  \"delta\": -5,\n"
                     "  \"ok\": true,\n"
                     "  \"small\": -1,\n"
                     "  \"u32\": 7,\n"
                     "  \"none\": null,\n"
                     "  \"empty_list\": [],\n"
                     "  \"empty_object\": {},\n"
                     "  \"list\": [\n"
                     "    \"a\",\n"
                     "    1,\n"
                     "    {\n"
                     "      \"k\": false\n"
                     "    }\n"
                     "  ]\n"
                     "}\n");
}

TEST_CASE("text table alignment", "[ckptctl][table]")
{
    Table t({"NAME", "N", "PATH"});
    t.align_right(1);
    t.add({"a", "1", "/x y"});
    t.add({"longer", "100", ""});
    CHECK(t.size() == 2);
    CHECK(t.str() == "NAME      N  PATH\n"
                     "a         1  /x y\n"
                     "longer  100\n");
}

TEST_CASE("formatting helpers", "[ckptctl]")
{
    CHECK(format_size(0) == "0 B");
    CHECK(format_size(1023) == "1023 B");
    CHECK(format_size(139264) == "136.0 KiB");
    CHECK(format_size(3u << 20) == "3.0 MiB");
    CHECK(format_size(uint64_t(5) << 30) == "5.00 GiB");
    CHECK(format_ns(999) == "999 ns");
    CHECK(format_ns(2772179) == "2.8 ms");
    CHECK(format_ns(1500000000) == "1.50 s");
    CHECK(format_hex(0) == "0x0");
    CHECK(format_hex(0x7fb8437fbc70) == "0x7fb8437fbc70");
    CHECK(format_local_time(0) == "-");
    CHECK(format_local_time(1700000000123456789).size() == std::string("2023-11-14 22:13:20").size());
}

TEST_CASE("printable text for tables", "[ckptctl]")
{
    CHECK(printable("./counter 30 100000") == "./counter 30 100000");
    CHECK(printable("python3 -c import a\nprint(1)") == "python3 -c import a\\nprint(1)");
    CHECK(printable("a\tb\rc\\d") == "a\\tb\\rc\\\\d");
    CHECK(printable("\x1b[31mred\x7f") == "\\x1b[31mred\\x7f");
    CHECK(printable("caf\xc3\xa9") == "caf\xc3\xa9");
}

TEST_CASE("job names and version file names", "[ckptctl]")
{
    CHECK(valid_job_name("counter-1a2b3c4d"));
    CHECK(valid_job_name("a:b"));
    CHECK_FALSE(valid_job_name(""));
    CHECK_FALSE(valid_job_name("."));
    CHECK_FALSE(valid_job_name(".."));
    CHECK_FALSE(valid_job_name("a/b"));
    CHECK_FALSE(valid_job_name("/"));

    CHECK(version_from_path("ckpt-000042.img") == 42);
    CHECK(version_from_path("/root/job/ckpt-000007.img") == 7);
    CHECK(version_from_path("/root/job/ckpt-1234567.img") == 1234567);
    CHECK(version_from_path("/root/job/ckpt-00004x.img") == 0);
    CHECK(version_from_path("/root/job/other.img") == 0);
    CHECK(version_from_path("/root/ckpt-000042.img/x") == 0);
}

TEST_CASE("naming an image: path, NAME, NAME:VERSION", "[ckptctl]")
{
    test::TempDir root;
    ckpt::JobDir job(root.path(), "job");
    REQUIRE_FALSE(job.create());
    for (uint64_t v : {3, 5}) test::write_file(job.image_path(v), "x");
    ckpt::JobDir empty(root.path(), "empty");
    REQUIRE_FALSE(empty.create());
    ckpt::JobDir colon(root.path(), "odd:1");
    REQUIRE_FALSE(colon.create());
    test::write_file(colon.image_path(1), "x");
    int code = 0;

    auto newest = resolve_image(root.path(), "job", code);
    REQUIRE(newest);
    CHECK(newest->path == job.image_path(5));
    CHECK(newest->version == 5);
    CHECK(newest->job == "job");

    auto third = resolve_image(root.path(), "job:3", code);
    REQUIRE(third);
    CHECK(third->path == job.image_path(3));
    CHECK(third->version == 3);

    auto by_path = resolve_image(root.path(), job.image_path(3), code);
    REQUIRE(by_path);
    CHECK(by_path->path == job.image_path(3));
    CHECK(by_path->version == 3);
    CHECK(by_path->job.empty());

    auto odd = resolve_image(root.path(), "odd:1", code);  // a job named with a ':'
    REQUIRE(odd);
    CHECK(odd->path == colon.image_path(1));

    QuietStderr quiet;
    CHECK_FALSE(resolve_image(root.path(), "job:4", code));
    CHECK(code == ckpt::exit_code::kNoInput);
    CHECK_FALSE(resolve_image(root.path(), "nope", code));
    CHECK(code == ckpt::exit_code::kNoInput);
    CHECK_FALSE(resolve_image(root.path(), "empty", code));
    CHECK(code == ckpt::exit_code::kNoInput);
    CHECK_FALSE(resolve_image(root.path(), root / "job/ckpt-000009.img", code));
    CHECK(code == ckpt::exit_code::kNoInput);
    CHECK_FALSE(resolve_image(root.path(), "job:x", code));
    CHECK(code == ckpt::exit_code::kUsage);
    CHECK_FALSE(resolve_image(root.path(), "job:0", code));
    CHECK(code == ckpt::exit_code::kUsage);
    CHECK_FALSE(resolve_image(root.path(), "..", code));
    CHECK(code == ckpt::exit_code::kUsage);
}

TEST_CASE("image errors map to the restorer's exit codes", "[ckptctl]")
{
    using ckpt::ImageError;
    namespace ec = ckpt::exit_code;
    CHECK(exit_code_for(ImageError::None) == ec::kOk);
    CHECK(exit_code_for(ImageError::Missing) == ec::kNoInput);
    CHECK(exit_code_for(ImageError::FileMissing) == ec::kNoInput);
    CHECK(exit_code_for(ImageError::FileChanged) == ec::kStaleImage);
    for (ImageError e : {ImageError::Io, ImageError::Truncated, ImageError::BadMagic, ImageError::BadVersion,
                         ImageError::HeaderChecksum, ImageError::MetaChecksum, ImageError::BadLayout,
                         ImageError::DataChecksum})
        CHECK(exit_code_for(e) == ec::kBadImage);
}
