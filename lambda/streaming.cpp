#include "lambda/streaming.hpp"

#include <zlib.h>

#include <nlohmann/json.hpp>

namespace stratus::lambda {

namespace {

void put_be32(std::string& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

std::uint32_t crc_of(std::string_view bytes) {
    return static_cast<std::uint32_t>(
        ::crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

void string_header(std::string& out, std::string_view name, std::string_view value) {
    out.push_back(static_cast<char>(name.size()));
    out.append(name);
    out.push_back(7);  // string
    out.push_back(static_cast<char>((value.size() >> 8) & 0xFF));
    out.push_back(static_cast<char>(value.size() & 0xFF));
    out.append(value);
}

}  // namespace

std::string event_message(std::string_view event_type, std::string_view content_type, std::string_view payload) {
    std::string headers;
    string_header(headers, ":event-type", event_type);
    string_header(headers, ":content-type", content_type);
    string_header(headers, ":message-type", "event");
    std::string out;
    auto total = static_cast<std::uint32_t>(12 + headers.size() + payload.size() + 4);
    out.reserve(total);
    put_be32(out, total);
    put_be32(out, static_cast<std::uint32_t>(headers.size()));
    put_be32(out, crc_of(out));
    out += headers;
    out += payload;
    put_be32(out, crc_of(out));
    return out;
}

std::optional<core::Response> split_http_prelude(const std::string& buffered, std::string& rest) {
    static const std::string delimiter(8, '\0');
    auto pos = buffered.find(delimiter);
    if (pos == std::string::npos) return std::nullopt;
    rest = buffered.substr(pos + delimiter.size());
    core::Response r;
    auto j = nlohmann::json::parse(buffered.substr(0, pos), nullptr, false);
    if (!j.is_object()) {
        r.status = 502;
        r.headers.set("Content-Type", "application/json");
        rest = R"({"Message":"Internal Server Error"})";
        return r;
    }
    r.status = 200;
    if (auto s = j.find("statusCode"); s != j.end() && s->is_number_integer()) {
        int v = s->get<int>();
        if (v >= 100 && v <= 599) r.status = v;
    }
    if (auto h = j.find("headers"); h != j.end() && h->is_object())
        for (auto& [k, v] : h->items()) {
            if (core::iequals(k, "content-length") || core::iequals(k, "transfer-encoding")) continue;
            if (v.is_string()) r.headers.set(k, v.get<std::string>());
            else if (v.is_number() || v.is_boolean()) r.headers.set(k, v.dump());
        }
    if (auto c = j.find("cookies"); c != j.end() && c->is_array())
        for (auto& v : *c)
            if (v.is_string()) r.headers.add("Set-Cookie", v.get<std::string>());
    if (!r.headers.has("content-type")) r.headers.set("Content-Type", "application/octet-stream");
    return r;
}

}  // namespace stratus::lambda
