#include "core/sigv4.hpp"

#include "core/crypto.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace stratus::core::sigv4 {

using crypto::hex;
using crypto::hmac_sha256;
using crypto::sha256_hex;

namespace {

using std::chrono::system_clock;
using sys_seconds = std::chrono::sys_seconds;

constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view terminator = "aws4_request";
constexpr std::string_view unsigned_payload = "UNSIGNED-PAYLOAD";
// AWS's limit on presigned URLs (S3: "X-Amz-Expires must be less than a week").
constexpr std::int64_t max_expires = 7 * 24 * 3600;
constexpr auto max_skew = std::chrono::minutes(15);

// Python's str.split() whitespace, which botocore's header trimming uses, restricted to
// ASCII (header values are bytes on our side).
bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' ||
           (c >= '\x1c' && c <= '\x1f');
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

bool is_hex(char c) noexcept {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

std::string lowercase(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// Splits at `sep`, keeping empty pieces.
std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    for (;;) {
        auto pos = s.find(sep);
        out.push_back(s.substr(0, pos));
        if (pos == std::string_view::npos) return out;
        s.remove_prefix(pos + 1);
    }
}

// Calls f(raw_name, raw_value) for each '&'-separated piece of a raw query string,
// skipping empty pieces; a piece without '=' has an empty value ("?uploads" signs as
// "uploads=", as botocore does).
template <class F>
void for_each_raw_param(std::string_view query, F&& f) {
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view piece = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (piece.empty()) continue;
        auto eq = piece.find('=');
        if (eq == std::string_view::npos)
            f(piece, std::string_view{});
        else
            f(piece.substr(0, eq), piece.substr(eq + 1));
    }
}

std::optional<std::string_view> authorization_header(const Request& req) {
    for (const auto& [name, value] : req.headers.entries())
        if (iequals(name, "authorization")) return std::string_view(value);
    return std::nullopt;
}

// "AWS4-HMAC-SHA256 Credential=..." → the part after the scheme; nullopt for any other
// scheme (SigV2's "AWS AKID:sig", SigV4a's "AWS4-ECDSA-P256-SHA256", Bearer, ...).
std::optional<std::string_view> sigv4_params(std::string_view header) noexcept {
    header = trim(header);
    if (!header.starts_with(algorithm)) return std::nullopt;
    std::string_view rest = header.substr(algorithm.size());
    if (!rest.empty() && !is_space(rest.front())) return std::nullopt;
    return trim(rest);
}

// Position and length of the next '/' in a credential; in the raw query form it arrives
// as %2F (or %2f).
std::pair<std::size_t, std::size_t> next_slash(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '/') return {i, 1};
        if (s[i] == '%' && i + 2 < s.size() && s[i + 1] == '2' && (s[i + 2] == 'F' || s[i + 2] == 'f'))
            return {i, 3};
    }
    return {std::string_view::npos, 0};
}

// The service, 4th of the 5 elements of "AKID/date/region/service/aws4_request"; empty
// unless the credential has that shape.
std::string_view credential_service(std::string_view credential) noexcept {
    std::string_view parts[5];
    std::size_t n = 0;
    for (;;) {
        auto [pos, len] = next_slash(credential);
        if (n == 5) return {};  // a 6th element
        parts[n++] = credential.substr(0, pos);
        if (pos == std::string_view::npos) break;
        credential.remove_prefix(pos + len);
    }
    if (n != 5 || parts[4] != terminator) return {};
    return parts[3];
}

// --- time ---------------------------------------------------------------------------

std::optional<int> parse_int(std::string_view s) noexcept {
    if (s.empty() || s.size() > 9) return std::nullopt;
    int v = 0;
    for (char c : s) {
        if (!is_digit(c)) return std::nullopt;
        v = v * 10 + (c - '0');
    }
    return v;
}

std::optional<sys_seconds> make_time(int y, int mon, int d, int h, int mi, int s) noexcept {
    using namespace std::chrono;
    year_month_day ymd{year(y), month(static_cast<unsigned>(mon)), day(static_cast<unsigned>(d))};
    if (!ymd.ok() || h > 23 || mi > 59 || s > 59) return std::nullopt;
    return sys_days(ymd) + hours(h) + minutes(mi) + seconds(s);
}

// ISO 8601 basic format, the only one SigV4 signs: 20261126T165200Z.
std::optional<sys_seconds> parse_amz_date(std::string_view s) noexcept {
    if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
    auto y = parse_int(s.substr(0, 4)), mon = parse_int(s.substr(4, 2)), d = parse_int(s.substr(6, 2));
    auto h = parse_int(s.substr(9, 2)), mi = parse_int(s.substr(11, 2)), sec = parse_int(s.substr(13, 2));
    if (!y || !mon || !d || !h || !mi || !sec) return std::nullopt;
    return make_time(*y, *mon, *d, *h, *mi, *sec);
}

// RFC 7231 IMF-fixdate ("Thu, 26 Nov 2026 16:52:00 GMT") and the RFC 2822 form botocore
// writes when it signs with a Date header ("Thu, 26 Nov 2026 16:52:00 -0000").
std::optional<sys_seconds> parse_http_date(std::string_view s) noexcept {
    s = trim(s);
    if (auto comma = s.find(','); comma != std::string_view::npos) s = trim(s.substr(comma + 1));
    // "26 Nov 2026 16:52:00 GMT"
    std::string_view parts[5];
    for (int i = 0; i < 5; ++i) {
        auto sp = s.find(' ');
        parts[i] = s.substr(0, sp);
        s = sp == std::string_view::npos ? std::string_view{} : trim(s.substr(sp));
    }
    if (!s.empty()) return std::nullopt;
    static constexpr std::string_view months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int mon = 0;
    for (int i = 0; i < 12; ++i)
        if (iequals(parts[1], months[i])) mon = i + 1;
    auto d = parse_int(parts[0]), y = parse_int(parts[2]);
    std::string_view hms = parts[3];
    if (!mon || !d || !y || parts[2].size() != 4 || hms.size() != 8 || hms[2] != ':' || hms[5] != ':')
        return std::nullopt;
    auto h = parse_int(hms.substr(0, 2)), mi = parse_int(hms.substr(3, 2)), sec = parse_int(hms.substr(6, 2));
    if (!h || !mi || !sec) return std::nullopt;
    auto t = make_time(*y, mon, *d, *h, *mi, *sec);
    if (!t) return std::nullopt;
    std::string_view zone = parts[4];
    if (iequals(zone, "GMT") || iequals(zone, "UTC") || iequals(zone, "UT") || zone == "Z") return t;
    if (zone.size() == 5 && (zone[0] == '+' || zone[0] == '-')) {
        auto zh = parse_int(zone.substr(1, 2)), zm = parse_int(zone.substr(3, 2));
        if (!zh || !zm) return std::nullopt;
        auto offset = std::chrono::hours(*zh) + std::chrono::minutes(*zm);
        return zone[0] == '+' ? *t - offset : *t + offset;
    }
    return std::nullopt;
}

std::string format_amz_date(system_clock::time_point tp) {
    using namespace std::chrono;
    auto secs = floor<seconds>(tp);
    auto days = floor<std::chrono::days>(secs);
    year_month_day ymd{days};
    hh_mm_ss hms{secs - days};
    return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                       hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

// --- parsing --------------------------------------------------------------------------

// "AKID/20261126/us-east-1/dynamodb/aws4_request" into `auth`.
void parse_credential(std::string_view credential, Auth& auth) {
    auto parts = split(credential, '/');
    bool ok = parts.size() == 5 && parts[4] == terminator &&
              std::none_of(parts.begin(), parts.end(), [](std::string_view p) { return p.empty(); });
    if (!ok)
        throw ParseError(fmt::format(
            "Credential must have exactly 5 slash-delimited elements, "
            "e.g. keyid/date/region/service/aws4_request, got '{}'",
            credential));
    if (parts[1].size() != 8 || !std::all_of(parts[1].begin(), parts[1].end(), is_digit))
        throw ParseError(fmt::format("Credential scope date must be yyyyMMdd, got '{}'", parts[1]));
    auth.access_key = parts[0];
    auth.date = parts[1];
    auth.region = parts[2];
    auth.service = parts[3];
}

std::vector<std::string> parse_signed_headers(std::string_view list) {
    std::vector<std::string> out;
    for (auto name : split(list, ';')) {
        name = trim(name);
        if (name.empty())
            throw ParseError(fmt::format("SignedHeaders has an empty header name: '{}'", list));
        out.push_back(lowercase(name));
    }
    return out;
}

Auth parse_header_form(const Request& req, std::string_view header, std::string_view params) {
    std::optional<std::string_view> credential, signed_headers, signature;
    for (auto piece : split(params, ',')) {
        piece = trim(piece);
        auto eq = piece.find('=');
        if (eq == std::string_view::npos) {
            if (piece.empty()) continue;
            throw ParseError(fmt::format(
                "Authorization header has a component without '=': '{}'. Authorization={}", piece,
                header));
        }
        std::string_view key = trim(piece.substr(0, eq)), value = trim(piece.substr(eq + 1));
        if (key == "Credential") credential = value;
        else if (key == "SignedHeaders") signed_headers = value;
        else if (key == "Signature") signature = value;
        // Unknown components are ignored, as AWS does.
    }
    // AWS's IncompleteSignature wording.
    auto require = [&](const std::optional<std::string_view>& v, std::string_view name) {
        if (!v || v->empty())
            throw ParseError(fmt::format("Authorization header requires '{}' parameter. Authorization={}",
                                         name, header));
    };
    require(credential, "Credential");
    require(signed_headers, "SignedHeaders");
    require(signature, "Signature");

    Auth auth;
    auth.kind = Auth::Kind::header;
    parse_credential(*credential, auth);
    auth.signed_headers = parse_signed_headers(*signed_headers);
    auth.signature = *signature;

    if (auto amz_date = req.headers.get("x-amz-date")) {
        if (!parse_amz_date(*amz_date))
            throw ParseError(fmt::format(
                "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
                *amz_date));
        auth.amz_date = *amz_date;
    } else if (auto date = req.headers.get("date")) {
        // The signer put the same instant into the string to sign in basic format.
        auto t = parse_amz_date(*date);
        if (!t) t = parse_http_date(*date);
        if (!t) throw ParseError(fmt::format("Date header could not be parsed: '{}'", *date));
        auth.amz_date = format_amz_date(*t);
    } else {
        throw ParseError("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    }
    if (auto token = req.headers.get("x-amz-security-token")) auth.security_token = *token;
    return auth;
}

std::int64_t parse_expires(std::string_view s) {
    // 18 digits always fit an int64; anything longer is far past the one-week limit anyway.
    if (s.empty() || s.size() > 18 || !std::all_of(s.begin(), s.end(), is_digit))
        throw ParseError(fmt::format("X-Amz-Expires should be a non-negative number of seconds, got '{}'", s));
    std::int64_t v = 0;
    for (char c : s) v = v * 10 + (c - '0');
    return v;
}

Auth parse_query_form(std::vector<std::pair<std::string, std::string>>&& params) {
    auto find = [&](std::string_view name) -> const std::string* {
        for (const auto& [n, v] : params)
            if (n == name) return &v;
        return nullptr;
    };
    const std::string* alg = find("X-Amz-Algorithm");
    if (!alg || *alg != algorithm)
        throw ParseError(fmt::format("X-Amz-Algorithm only supports \"{}\", got '{}'", algorithm,
                                     alg ? std::string_view(*alg) : std::string_view{}));
    const std::string* credential = find("X-Amz-Credential");
    const std::string* date = find("X-Amz-Date");
    const std::string* signed_headers = find("X-Amz-SignedHeaders");
    const std::string* signature = find("X-Amz-Signature");
    if (!credential || !date || !signed_headers || !signature || signature->empty())
        throw ParseError(
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
            "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.");

    Auth auth;
    auth.kind = Auth::Kind::query;
    parse_credential(*credential, auth);
    auth.signed_headers = parse_signed_headers(*signed_headers);
    auth.signature = *signature;
    if (!parse_amz_date(*date))
        throw ParseError(fmt::format(
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\", got '{}'", *date));
    auth.amz_date = *date;
    if (const std::string* expires = find("X-Amz-Expires")) auth.expires = parse_expires(*expires);
    if (const std::string* token = find("X-Amz-Security-Token")) auth.security_token = *token;
    return auth;
}

// --- canonical request ------------------------------------------------------------------

// botocore.utils.remove_dot_segments on the raw path: drops "." and empty segments (AWS
// wants '//' collapsed), ".." pops, keeps a trailing '/' if anything is left.
std::string remove_dot_segments(std::string_view path) {
    if (path.empty()) return "/";
    std::vector<std::string_view> out;
    for (auto seg : split(path, '/')) {
        if (seg.empty() || seg == ".") continue;
        if (seg == "..") {
            if (!out.empty()) out.pop_back();
        } else {
            out.push_back(seg);
        }
    }
    std::string result = path.front() == '/' ? "/" : "";
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (i) result += '/';
        result += out[i];
    }
    if (path.back() == '/' && !out.empty()) result += '/';
    return result;
}

std::string canonical_uri(std::string_view raw_path, bool s3) {
    // S3 signs the path exactly as sent (S3SigV4Auth._normalize_url_path is the identity).
    if (s3) return raw_path.empty() ? "/" : std::string(raw_path);
    // Other services: botocore normalises the already-encoded path, then quotes it again
    // (safe='/~'), so "%3A" in a Lambda ARN signs as "%253A". AWS does the same.
    return uri_encode(remove_dot_segments(raw_path), /*encode_slash=*/false);
}

std::string canonical_query(std::string_view raw_query, bool skip_signature) {
    // Names and values are decoded then re-encoded with the RFC 3986 unreserved set. A raw
    // '+' is a literal '+' (→ %2B), not a space: SDKs write spaces as %20. botocore itself
    // signs the raw pieces as they are in the URL; that is the same string for every
    // query an SDK builds, and differs only for hand-written URLs (raw '+', '/', ':' or
    // lowercase %xx), where we follow the spec's decode-and-re-encode.
    std::vector<std::pair<std::string, std::string>> pairs;
    for_each_raw_param(raw_query, [&](std::string_view name, std::string_view value) {
        std::string decoded_name = percent_decode(name);
        // "The Canonical Query String must include all the query parameters ... except for
        // X-Amz-Signature."
        if (skip_signature && decoded_name == "X-Amz-Signature") return;
        pairs.emplace_back(uri_encode(decoded_name), uri_encode(percent_decode(value)));
    });
    // By encoded name, then encoded value (repeated names).
    std::sort(pairs.begin(), pairs.end());
    std::string out;
    for (const auto& [name, value] : pairs) {
        if (!out.empty()) out += '&';
        out += name;
        out += '=';
        out += value;
    }
    return out;
}

// Trimall: surrounding whitespace removed, inner runs collapsed to one space.
void append_trimmed(std::string& out, std::string_view value) {
    bool pending_space = false, any = false;
    for (char c : value) {
        if (is_space(c)) {
            pending_space = any;
            continue;
        }
        if (pending_space) out += ' ';
        pending_space = false;
        any = true;
        out += c;
    }
}

std::string build_canonical_request(const Request& req, const Auth& auth, bool s3,
                                    std::string_view payload_hash) {
    std::string cr;
    cr.reserve(512);
    cr += req.method;
    cr += '\n';
    cr += canonical_uri(req.path, s3);
    cr += '\n';
    cr += canonical_query(req.query, auth.kind == Auth::Kind::query);
    cr += '\n';
    for (const auto& name : auth.signed_headers) {
        cr += name;
        cr += ':';
        // Repeated headers are joined with ',' in arrival order.
        bool first = true;
        for (const auto& [n, v] : req.headers.entries()) {
            if (!iequals(n, name)) continue;
            if (!first) cr += ',';
            first = false;
            append_trimmed(cr, v);
        }
        cr += '\n';
    }
    cr += '\n';
    for (std::size_t i = 0; i < auth.signed_headers.size(); ++i) {
        if (i) cr += ';';
        cr += auth.signed_headers[i];
    }
    cr += '\n';
    cr += payload_hash;
    return cr;
}

bool is_sha256_hex(std::string_view s) noexcept {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), is_hex);
}

// What the canonical request's last line is: the x-amz-content-sha256 header as sent
// (UNSIGNED-PAYLOAD and STREAMING-* included, for every service, as botocore), else
// UNSIGNED-PAYLOAD for S3 presigned URLs, else the body's hash.
std::string payload_hash(const Request& req, const Auth& auth, bool s3) {
    if (auto sent = req.headers.get("x-amz-content-sha256")) return std::string(*sent);
    if (s3 && auth.kind == Auth::Kind::query) return std::string(unsigned_payload);
    return sha256_hex(req.body);
}

std::string scope(const Auth& auth) {
    return fmt::format("{}/{}/{}/{}", auth.date, auth.region, auth.service, terminator);
}

AuthProblem problem(AuthFailure f, std::string detail) { return AuthProblem{f, std::move(detail)}; }

}  // namespace

// --- public -----------------------------------------------------------------------------

std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service) {
    std::string k = hmac_sha256(fmt::format("AWS4{}", secret), date);
    k = hmac_sha256(k, region);
    k = hmac_sha256(k, service);
    return hmac_sha256(k, terminator);
}

std::optional<Auth> parse(const Request& req) {
    std::optional<std::string_view> params;
    std::string_view header;
    if (auto h = authorization_header(req)) {
        header = *h;
        params = sigv4_params(header);
    }

    bool presigned = false;
    for_each_raw_param(req.query, [&](std::string_view name, std::string_view) {
        if (name == "X-Amz-Algorithm" ||
            (name.find('%') != std::string_view::npos && percent_decode(name) == "X-Amz-Algorithm"))
            presigned = true;
    });
    if (presigned && params)
        throw ParseError(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query "
            "string parameter or the Authorization header should be specified");
    if (params) return parse_header_form(req, header, *params);
    if (!presigned) return std::nullopt;
    // Decoded, '+' kept as '+': a token's base64 '+' sent unencoded means '+', not a space
    // (Request::query_params() reads '+' as a space, for S3 prefixes).
    std::vector<std::pair<std::string, std::string>> query;
    for_each_raw_param(req.query, [&](std::string_view name, std::string_view value) {
        query.emplace_back(percent_decode(name), percent_decode(value));
    });
    return parse_query_form(std::move(query));
}

std::string_view scope_service(const Request& req) {
    if (auto h = authorization_header(req)) {
        if (auto params = sigv4_params(*h)) {
            // "Credential=" at the start of a component, not inside another one's value.
            constexpr std::string_view key = "Credential=";
            std::size_t at = params->find(key);
            while (at != std::string_view::npos && at != 0 && (*params)[at - 1] != ',' &&
                   !is_space((*params)[at - 1]))
                at = params->find(key, at + 1);
            if (at == std::string_view::npos) return {};
            std::string_view cred = params->substr(at + key.size());
            auto end = std::find_if(cred.begin(), cred.end(), [](char c) { return c == ',' || is_space(c); });
            return credential_service(cred.substr(0, static_cast<std::size_t>(end - cred.begin())));
        }
    }
    std::string_view found;
    for_each_raw_param(req.query, [&](std::string_view name, std::string_view value) {
        if (found.empty() && name == "X-Amz-Credential") found = value;
    });
    return credential_service(found);
}

std::string canonical_request(const Request& req, const Auth& auth, bool s3) {
    return build_canonical_request(req, auth, s3, payload_hash(req, auth, s3));
}

std::string string_to_sign(const Auth& auth, std::string_view canonical_request) {
    return fmt::format("{}\n{}\n{}\n{}", algorithm, auth.amz_date, scope(auth),
                       sha256_hex(canonical_request));
}

std::optional<AuthProblem> verify(const Request& req, const Auth& auth, const VerifyOptions& opt) {
    using namespace std::chrono;
    auto signed_at = parse_amz_date(auth.amz_date);
    if (!signed_at)
        return problem(AuthFailure::malformed,
                       fmt::format("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\", got '{}'",
                                   auth.amz_date));
    // AWS's own wording for a scope dated another day than the request.
    if (std::string_view(auth.amz_date).substr(0, 8) != auth.date)
        return problem(AuthFailure::malformed,
                       fmt::format("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                                   "date from HTTP: '{}' != '{}', from '{}'.",
                                   auth.date, auth.amz_date.substr(0, 8), auth.amz_date));

    auto now = floor<seconds>(opt.now);
    if (auth.kind == Auth::Kind::header) {
        if (*signed_at < now - max_skew)
            return problem(AuthFailure::time_skewed,
                           fmt::format("Signature expired: {} is now earlier than {} ({} - 15 min.)", auth.amz_date,
                                       format_amz_date(now - max_skew), format_amz_date(now)));
        if (*signed_at > now + max_skew)
            return problem(AuthFailure::time_skewed,
                           fmt::format("Signature not yet current: {} is still later than {} ({} + 15 min.)",
                                       auth.amz_date, format_amz_date(now + max_skew), format_amz_date(now)));
    } else {
        // Only S3 insists on X-Amz-Expires; other services' presigned URLs (e.g. an RDS
        // auth token) normally carry it, and without it we can't expire them.
        if (!auth.expires && opt.s3)
            return problem(AuthFailure::malformed,
                           "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
                           "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.");
        if (auth.expires) {
            if (*auth.expires > max_expires)
                return problem(AuthFailure::malformed,
                               fmt::format("X-Amz-Expires must be less than a week (in seconds) that is {}", max_expires));
            if (now > *signed_at + seconds(*auth.expires))
                return problem(AuthFailure::expired, "Request has expired");
        }
        // A presigned URL dated in the future is not refused here (S3 says "Request is not
        // valid yet"); unimplemented.
    }

    std::string payload = payload_hash(req, auth, opt.s3);
    if (req.headers.has("x-amz-content-sha256")) {
        if (is_sha256_hex(payload)) {
            // A streamed body was never held here: the dispatcher hashes it as it streams
            // and checks it after verify() (Dispatcher::run, check_streamed_body).
            if (!req.body_sink && !iequals(payload, sha256_hex(req.body)))
                return problem(AuthFailure::content_sha_mismatch,
                               "The provided 'x-amz-content-sha256' header does not match what was computed.");
        } else if (opt.s3 && payload != unsigned_payload && !payload.starts_with("STREAMING-")) {
            return problem(AuthFailure::malformed,
                           "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
                           "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, "
                           "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, "
                           "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.");
        }
    }

    std::string cr = build_canonical_request(req, auth, opt.s3, payload);
    std::string sts = string_to_sign(auth, cr);
    std::string expected =
        hex(hmac_sha256(signing_key(opt.secret_key, auth.date, auth.region, auth.service), sts));
    // Constant time, so the comparison doesn't leak how many leading characters matched.
    if (crypto::constant_time_equal(expected, auth.signature)) return std::nullopt;
    if (opt.s3)
        return problem(AuthFailure::signature_mismatch,
                       "The request signature we calculated does not match the signature you provided. "
                       "Check your key and signing method.");
    // What DynamoDB, Lambda and the other JSON services say, canonical strings included.
    return problem(AuthFailure::signature_mismatch,
                   fmt::format("The request signature we calculated does not match the signature you provided. "
                               "Check your AWS Secret Access Key and signing method. Consult the service "
                               "documentation for details.\n\nThe Canonical String for this request should have "
                               "been\n'{}'\n\nThe String-to-Sign should have been\n'{}'\n",
                               cr, sts));
}

}  // namespace stratus::core::sigv4
