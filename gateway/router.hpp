// Route templates ("/items/{id}", "/{proxy+}") and the route table with AWS's priority:
// at each segment a static segment beats a path parameter, which beats a greedy one; then
// an exact method beats ANY; HTTP APIs' $default route catches what nothing else does.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stratus::gateway {

struct Segment {
    enum class Kind { literal, param, greedy } kind = Kind::literal;
    std::string text;  // the literal, or the parameter's name ("proxy" for {proxy+})
};

struct PathTemplate {
    std::string text;  // as declared ("/items/{id}"); "/" for the root
    std::vector<Segment> segments;

    // Parses a resource path. Throws core::AwsError BadRequestException saying why
    // (no leading slash, an empty segment, a greedy parameter not last, a parameter
    // named twice, a malformed {..}).
    static PathTemplate parse(std::string_view path);
    // The template with parameters unnamed ("/items/{}"): two routes of the same shape
    // and method collide, whatever their parameters are called.
    std::string shape() const;
};

// A request path split into segments, each percent-decoded once. A trailing slash is
// ignored ("/items/" is "/items"); "/" has no segments.
struct RequestPath {
    std::vector<std::string> segments;
    // nullopt when a segment is not valid UTF-8 once decoded, or is "." or "..".
    static std::optional<RequestPath> split(std::string_view raw_path);
};

struct RouteMatch {
    int payload = -1;  // what the route was added with
    std::vector<std::pair<std::string, std::string>> params;  // decoded values, in path order
};

class RouteTable {
public:
    // `method` upper case, "ANY", or "$default" (then `path` is ignored).
    void add(std::string method, PathTemplate path, int payload);

    // The best route for the request, or nullopt.
    std::optional<RouteMatch> match(std::string_view method, const RequestPath& path) const;
    // Routes whose path is the most specific template matching `path`, whatever their
    // method (REST CORS preflights: the methods of that resource).
    std::vector<int> resource_routes(const RequestPath& path) const;

    bool empty() const { return entries_.empty() && default_ < 0; }

private:
    struct Entry {
        std::string method;
        PathTemplate path;
        int payload;
    };
    // Ranks of the segments matched (0 literal, 1 param, 2 greedy), or nullopt.
    static std::optional<std::vector<int>> ranks(const PathTemplate& t, const RequestPath& p);
    static void bind(const PathTemplate& t, const RequestPath& p, RouteMatch& out);

    std::vector<Entry> entries_;
    int default_ = -1;
};

// True for a string that is valid UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
bool valid_utf8(std::string_view s) noexcept;

}  // namespace stratus::gateway
