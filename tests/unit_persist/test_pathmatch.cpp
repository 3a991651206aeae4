#include <catch.hpp>

#include <string>

#include "pathmatch.h"

using ckpt::pathmatch::covers;

TEST_CASE("exclusion patterns")
{
    CHECK(covers("/data/log.txt", "/data/log.txt"));
    CHECK(!covers("/data/log.txt", "/data/log.txt2"));
    CHECK(covers("/data", "/data/a/b"));             // a directory covers what is below it
    CHECK(!covers("/data", "/database"));
    CHECK(covers("/data/", "/data/x"));
    CHECK(covers("/tmp/*.log", "/tmp/a.log"));
    CHECK(!covers("/tmp/*.log", "/tmp/sub/a.log"));  // '*' stops at '/'
    CHECK(covers("/tmp/*/cache", "/tmp/x/cache/y"));
    CHECK(covers("*.log", "/a/b/c.log"));            // component pattern
    CHECK(covers("cache", "/a/cache/b"));
    CHECK(!covers("cache", "/a/cached/b"));
    CHECK(covers("file-[0-9].txt", "/x/file-7.txt"));
    CHECK(!covers("file-[!0-9].txt", "/x/file-7.txt"));
    CHECK(covers("?.c", "/src/a.c"));
    CHECK(!covers("", "/a"));
}

TEST_CASE("lexical normalization")
{
    auto norm = [](std::string s) {
        s.push_back('\0');
        ckpt::pathmatch::normalize(s.data());
        return std::string(s.c_str());
    };
    CHECK(norm("/a//b/./c") == "/a/b/c");
    CHECK(norm("/a/b/../c") == "/a/c");
    CHECK(norm("/../a") == "/a");
    CHECK(norm("/") == "/");
    CHECK(norm("/a/b/..") == "/a");
}
