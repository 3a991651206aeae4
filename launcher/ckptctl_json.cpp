#include "ckptctl_json.h"

#include <cassert>
#include <cstdio>

namespace ckptctl {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not one (overlong
// forms, surrogates and code points above U+10FFFF are invalid).
size_t utf8_sequence(std::string_view s, size_t i)
{
    const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    size_t n;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) { n = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { n = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 4; cp = c & 0x07; }
    else return 0;
    if (i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k) {
        if ((b(i + k) & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (b(i + k) & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

}  // namespace

std::string JsonWriter::escape(std::string_view s)
{
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    for (size_t i = 0; i < s.size();) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        switch (c) {
        case '"': out += "\\\""; ++i; continue;
        case '\\': out += "\\\\"; ++i; continue;
        case '\b': out += "\\b"; ++i; continue;
        case '\f': out += "\\f"; ++i; continue;
        case '\n': out += "\\n"; ++i; continue;
        case '\r': out += "\\r"; ++i; continue;
        case '\t': out += "\\t"; ++i; continue;
        default: break;
        }
        if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
            ++i;
            continue;
        }
        const size_t n = utf8_sequence(s, i);
        if (n == 0) {
            out += "\\ufffd";
            ++i;
            continue;
        }
        out.append(s.data() + i, n);
        i += n;
    }
    out += '"';
    return out;
}

void JsonWriter::before_value()
{
    if (after_key_) {
        after_key_ = false;
        return;
    }
    assert((stack_.empty() && out_.empty()) || (!stack_.empty() && !stack_.back().object));
    if (stack_.empty()) return;
    if (!stack_.back().empty) out_ += ',';
    stack_.back().empty = false;
    out_ += '\n';
    out_.append(2 * stack_.size(), ' ');
}

JsonWriter &JsonWriter::key(std::string_view k)
{
    assert(!stack_.empty() && stack_.back().object && !after_key_);
    if (!stack_.back().empty) out_ += ',';
    stack_.back().empty = false;
    out_ += '\n';
    out_.append(2 * stack_.size(), ' ');
    out_ += escape(k);
    out_ += ": ";
    after_key_ = true;
    return *this;
}

JsonWriter &JsonWriter::begin_object()
{
    before_value();
    out_ += '{';
    stack_.push_back({true});
    return *this;
}

JsonWriter &JsonWriter::begin_array()
{
    before_value();
    out_ += '[';
    stack_.push_back({false});
    return *this;
}

void JsonWriter::close(char c)
{
    assert(!stack_.empty() && !after_key_);
    const bool empty = stack_.back().empty;
    stack_.pop_back();
    if (!empty) {
        out_ += '\n';
        out_.append(2 * stack_.size(), ' ');
    }
    out_ += c;
    if (stack_.empty()) out_ += '\n';
}

JsonWriter &JsonWriter::end_object()
{
    assert(!stack_.empty() && stack_.back().object);
    close('}');
    return *this;
}

JsonWriter &JsonWriter::end_array()
{
    assert(!stack_.empty() && !stack_.back().object);
    close(']');
    return *this;
}

JsonWriter &JsonWriter::value(std::string_view s)
{
    before_value();
    out_ += escape(s);
    return *this;
}

JsonWriter &JsonWriter::value(uint64_t v)
{
    before_value();
    out_ += std::to_string(v);
    return *this;
}

JsonWriter &JsonWriter::value(int64_t v)
{
    before_value();
    out_ += std::to_string(v);
    return *this;
}

JsonWriter &JsonWriter::value(bool v)
{
    before_value();
    out_ += v ? "true" : "false";
    return *this;
}

JsonWriter &JsonWriter::null()
{
    before_value();
    out_ += "null";
    return *this;
}

}  // namespace ckptctl
