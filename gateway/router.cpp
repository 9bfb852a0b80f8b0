#include "gateway/router.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstdint>
#include <set>

#include "core/error.hpp"
#include "core/http_types.hpp"

namespace stratus::gateway {

namespace {

core::AwsError bad_path(std::string_view path, std::string_view why) {
    return core::AwsError("BadRequestException", fmt::format("Invalid resource path {}: {}", path, why), 400);
}

bool param_name_ok(std::string_view name) {
    if (name.empty()) return false;
    for (char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
    return true;
}

}  // namespace

PathTemplate PathTemplate::parse(std::string_view path) {
    if (path.empty() || path.front() != '/') throw bad_path(path, "it must start with /");
    PathTemplate t;
    t.text = std::string(path);
    if (path == "/") return t;
    if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
    std::set<std::string, std::less<>> names;
    std::size_t i = 1;
    while (i <= path.size()) {
        std::size_t j = path.find('/', i);
        if (j == std::string_view::npos) j = path.size();
        std::string_view seg = path.substr(i, j - i);
        if (seg.empty()) throw bad_path(t.text, "empty path segment");
        Segment s;
        if (seg.front() == '{') {
            if (seg.back() != '}') throw bad_path(t.text, "a path parameter must be a whole segment");
            std::string_view name = seg.substr(1, seg.size() - 2);
            if (!name.empty() && name.back() == '+') {
                name.remove_suffix(1);
                s.kind = Segment::Kind::greedy;
                if (j != path.size()) throw bad_path(t.text, "a greedy path parameter must be the last segment");
            } else {
                s.kind = Segment::Kind::param;
            }
            if (!param_name_ok(name)) throw bad_path(t.text, "invalid path parameter name");
            if (!names.insert(std::string(name)).second)
                throw bad_path(t.text, fmt::format("path parameter {} appears twice", name));
            s.text = std::string(name);
        } else {
            if (seg.find_first_of("{}") != std::string_view::npos)
                throw bad_path(t.text, "a path parameter must be a whole segment");
            s.text = std::string(seg);
        }
        t.segments.push_back(std::move(s));
        i = j + 1;
    }
    return t;
}

std::string PathTemplate::shape() const {
    std::string out;
    for (auto& s : segments) {
        out += '/';
        out += s.kind == Segment::Kind::literal ? s.text : s.kind == Segment::Kind::param ? "{}" : "{+}";
    }
    return out.empty() ? "/" : out;
}

bool valid_utf8(std::string_view s) noexcept {
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        int n;
        std::uint32_t cp;
        if ((c & 0xE0) == 0xC0) n = 1, cp = c & 0x1F;
        else if ((c & 0xF0) == 0xE0) n = 2, cp = c & 0x0F;
        else if ((c & 0xF8) == 0xF0) n = 3, cp = c & 0x07;
        else return false;
        for (int k = 1; k <= n; ++k) {
            if (i + static_cast<std::size_t>(k) >= s.size()) return false;
            auto d = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
            if ((d & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (d & 0x3F);
        }
        static constexpr std::uint32_t min_for[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_for[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += static_cast<std::size_t>(n) + 1;
    }
    return true;
}

std::optional<RequestPath> RequestPath::split(std::string_view raw) {
    RequestPath p;
    if (raw.empty() || raw == "/") return p;
    if (raw.front() == '/') raw.remove_prefix(1);
    if (!raw.empty() && raw.back() == '/') raw.remove_suffix(1);
    std::size_t i = 0;
    for (;;) {
        std::size_t j = raw.find('/', i);
        if (j == std::string_view::npos) j = raw.size();
        std::string seg = core::percent_decode(raw.substr(i, j - i));
        // Dot segments would let a greedy parameter climb out of its prefix in a handler
        // that maps it onto files; they are refused rather than passed on.
        if (seg == "." || seg == ".." || !valid_utf8(seg)) return std::nullopt;
        p.segments.push_back(std::move(seg));
        if (j == raw.size()) break;
        i = j + 1;
    }
    return p;
}

void RouteTable::add(std::string method, PathTemplate path, int payload) {
    if (method == "$default") {
        default_ = payload;
        return;
    }
    entries_.push_back(Entry{std::move(method), std::move(path), payload});
}

std::optional<std::vector<int>> RouteTable::ranks(const PathTemplate& t, const RequestPath& p) {
    std::vector<int> r;
    const auto& segs = t.segments;
    std::size_t n = p.segments.size();
    for (std::size_t i = 0; i < segs.size(); ++i) {
        const Segment& s = segs[i];
        if (s.kind == Segment::Kind::greedy) {
            // {proxy+} takes one segment or more (never the parent itself).
            if (i >= n) return std::nullopt;
            r.push_back(2);
            return r;
        }
        if (i >= n) return std::nullopt;
        if (s.kind == Segment::Kind::literal) {
            if (s.text != p.segments[i]) return std::nullopt;
            r.push_back(0);
        } else {
            r.push_back(1);
        }
    }
    if (segs.size() != n) return std::nullopt;
    return r;
}

void RouteTable::bind(const PathTemplate& t, const RequestPath& p, RouteMatch& out) {
    for (std::size_t i = 0; i < t.segments.size(); ++i) {
        const Segment& s = t.segments[i];
        if (s.kind == Segment::Kind::literal) continue;
        std::string value = p.segments[i];
        if (s.kind == Segment::Kind::greedy)
            for (std::size_t k = i + 1; k < p.segments.size(); ++k) value += "/" + p.segments[k];
        out.params.emplace_back(s.text, std::move(value));
    }
}

// Method-aware, for both API types: among the routes whose path matches and whose method
// is the request's or ANY, the most specific path wins, then the exact method. (HTTP APIs
// document this order; for REST APIs AWS resolves the resource first, and we assume the
// same outcome for the usual layouts.)
std::optional<RouteMatch> RouteTable::match(std::string_view method, const RequestPath& path) const {
    const Entry* best = nullptr;
    std::vector<int> best_ranks;
    bool best_exact = false;
    for (const auto& e : entries_) {
        bool exact = e.method == method;
        if (!exact && e.method != "ANY") continue;
        auto r = ranks(e.path, path);
        if (!r) continue;
        if (best) {
            if (*r > best_ranks) continue;
            if (*r == best_ranks && (best_exact || !exact)) continue;
        }
        best = &e;
        best_ranks = std::move(*r);
        best_exact = exact;
    }
    RouteMatch m;
    if (!best) {
        if (default_ < 0) return std::nullopt;
        m.payload = default_;
        return m;
    }
    m.payload = best->payload;
    bind(best->path, path, m);
    return m;
}

std::vector<int> RouteTable::resource_routes(const RequestPath& path) const {
    std::vector<int> best_ranks;
    std::string best_shape;
    std::vector<int> out;
    for (const auto& e : entries_) {
        auto r = ranks(e.path, path);
        if (!r) continue;
        if (!out.empty() && *r > best_ranks) continue;
        if (out.empty() || *r < best_ranks) {
            out.clear();
            best_ranks = std::move(*r);
            best_shape = e.path.shape();
        }
        if (e.path.shape() == best_shape) out.push_back(e.payload);
    }
    return out;
}

}  // namespace stratus::gateway
