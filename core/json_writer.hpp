// A streaming JSON writer for hot paths (API Gateway events): appends straight into one
// string, no tree, no per-member allocations. Strings are escaped as JSON requires and
// invalid UTF-8 becomes U+FFFD, so the output is always valid JSON (Lambda payloads must
// be). Commas are placed by the writer; keys and values alternate inside objects.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stratus::core {

class JsonWriter {
public:
    explicit JsonWriter(std::size_t reserve = 1024) { out_.reserve(reserve); }

    JsonWriter& begin_object();
    JsonWriter& end_object();
    JsonWriter& begin_array();
    JsonWriter& end_array();
    JsonWriter& key(std::string_view name);

    JsonWriter& value(std::string_view s);
    JsonWriter& value(const char* s) { return value(std::string_view(s)); }
    JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
    JsonWriter& value(std::int64_t n);
    JsonWriter& value(int n) { return value(static_cast<std::int64_t>(n)); }
    JsonWriter& value(bool b);
    JsonWriter& null();
    // A value that is already JSON text (an authorizer's context serialized elsewhere).
    JsonWriter& raw(std::string_view json);

    // key(k).value(v) in one call.
    template <class T>
    JsonWriter& member(std::string_view k, T&& v) {
        key(k);
        return value(std::forward<T>(v));
    }
    JsonWriter& member_null(std::string_view k) { return key(k).null(); }

    const std::string& str() const { return out_; }
    std::string take() { return std::move(out_); }

private:
    void separate();
    void string(std::string_view s);

    std::string out_;
    std::vector<bool> first_;  // per open container: nothing written in it yet
    bool after_key_ = false;
};

// `s` as a JSON string literal (quotes included), invalid UTF-8 replaced.
void append_json_string(std::string& out, std::string_view s);

}  // namespace stratus::core
