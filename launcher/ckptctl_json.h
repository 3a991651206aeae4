// A minimal streaming JSON writer for ckptctl's --json output: objects, arrays, strings,
// integers, booleans, null; indented two spaces. Strings are escaped per RFC 8259 and kept
// valid UTF-8 (bytes that are not UTF-8, possible in file names, become U+FFFD).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ckptctl {

class JsonWriter {
public:
    JsonWriter &begin_object();
    JsonWriter &end_object();
    JsonWriter &begin_array();
    JsonWriter &end_array();
    // The key of the next value inside an object.
    JsonWriter &key(std::string_view k);

    JsonWriter &value(std::string_view s);
    JsonWriter &value(const char *s) { return value(std::string_view(s)); }
    JsonWriter &value(const std::string &s) { return value(std::string_view(s)); }
    JsonWriter &value(uint64_t v);
    JsonWriter &value(int64_t v);
    JsonWriter &value(uint32_t v) { return value(uint64_t(v)); }
    JsonWriter &value(int32_t v) { return value(int64_t(v)); }
    JsonWriter &value(bool v);
    JsonWriter &null();

    template <typename T>
    JsonWriter &field(std::string_view k, const T &v) { return key(k).value(v); }

    // The document so far; complete once every object and array is closed.
    const std::string &str() const { return out_; }

    static std::string escape(std::string_view s);  // with the quotes

private:
    void before_value();
    void close(char c);

    std::string out_;
    struct Level {
        bool object;
        bool empty = true;
    };
    std::vector<Level> stack_;
    bool after_key_ = false;
};

}  // namespace ckptctl
