#include "core/proxy_event.hpp"

#include <algorithm>
#include <ctime>

#include "core/json_writer.hpp"
#include "core/text.hpp"

namespace stratus::core {

std::vector<QueryGroup> group_query(const std::vector<QueryParam>& params) {
    std::vector<QueryGroup> grouped;
    for (auto& p : params) {
        auto it = std::find_if(grouped.begin(), grouped.end(), [&](auto& g) { return g.name == p.name; });
        if (it == grouped.end()) grouped.push_back({p.name, {p.value}});
        else it->values.push_back(p.value);
    }
    return grouped;
}

void write_headers_v2(JsonWriter& w, const Headers& headers) {
    struct Grouped {
        std::string name;
        std::vector<std::string_view> values;
    };
    std::vector<Grouped> grouped;
    std::vector<std::string_view> cookies;
    for (auto& [name, value] : headers.entries()) {
        std::string key = ascii_lower(name);
        if (key == "cookie") {
            std::string_view v = value;
            while (!v.empty()) {
                auto semi = v.find(';');
                std::string_view c = v.substr(0, semi);
                while (!c.empty() && c.front() == ' ') c.remove_prefix(1);
                while (!c.empty() && c.back() == ' ') c.remove_suffix(1);
                if (!c.empty()) cookies.push_back(c);
                if (semi == std::string_view::npos) break;
                v.remove_prefix(semi + 1);
            }
            continue;
        }
        auto it = std::find_if(grouped.begin(), grouped.end(), [&](auto& g) { return g.name == key; });
        if (it == grouped.end()) grouped.push_back({std::move(key), {value}});
        else it->values.push_back(value);
    }
    if (!cookies.empty()) {
        w.key("cookies").begin_array();
        for (auto c : cookies) w.value(c);
        w.end_array();
    }
    w.key("headers").begin_object();
    for (auto& g : grouped) {
        if (g.values.size() == 1) {
            w.member(g.name, g.values[0]);
            continue;
        }
        std::string joined;
        for (auto v : g.values) {
            if (!joined.empty()) joined += ',';
            joined += v;
        }
        w.member(g.name, joined);
    }
    w.end_object();
}

void write_query_v2(JsonWriter& w, const std::vector<QueryParam>& params) {
    if (params.empty()) return;
    w.key("queryStringParameters").begin_object();
    for (auto& g : group_query(params)) {
        std::string joined;
        for (std::size_t i = 0; i < g.values.size(); ++i) {
            if (i) joined += ',';
            joined += g.values[i];
        }
        w.member(g.name, joined);
    }
    w.end_object();
}

std::string clf_time(std::int64_t epoch_ms) {
    // Formatted once per second per thread: every event carries it.
    thread_local std::int64_t cached_second = -1;
    thread_local std::string cached;
    std::int64_t second = epoch_ms / 1000;
    if (second != cached_second) {
        std::time_t t = static_cast<std::time_t>(second);
        std::tm tm{};
        gmtime_r(&t, &tm);
        char buf[40];
        std::strftime(buf, sizeof buf, "%d/%b/%Y:%H:%M:%S +0000", &tm);
        cached = buf;
        cached_second = second;
    }
    return cached;
}

// HTTP APIs pass text as text and anything else base64-encoded (form posts included, as
// AWS does); a body without a Content-Type cannot be known to be text.
bool binary_body_v2(std::string_view content_type) {
    std::string type = ascii_lower(content_type.substr(0, content_type.find(';')));
    while (!type.empty() && type.back() == ' ') type.pop_back();
    if (type.empty()) return true;
    if (type.starts_with("text/")) return false;
    if (type == "application/json" || type == "application/javascript" || type == "application/xml" ||
        type == "application/ecmascript" || type == "application/graphql")
        return false;
    if (type.ends_with("+json") || type.ends_with("+xml")) return false;
    return true;
}

}  // namespace stratus::core
