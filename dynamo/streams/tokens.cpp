#include "dynamo/streams/tokens.hpp"

#include <fmt/format.h>

#include <charconv>

#include "core/base64.hpp"
#include "core/protocol.hpp"

namespace stratus::dynamo::streams {

namespace {

constexpr std::size_t seq_digits = 21;

std::optional<std::uint64_t> parse_u64(std::string_view s) {
    if (s.empty() || s.size() > 20) return std::nullopt;
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

std::optional<std::int64_t> parse_i64(std::string_view s) {
    if (s.empty()) return std::nullopt;
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

bool valid_label(std::string_view l) {
    // 2015-05-11T21:21:33.291
    if (l.size() != 23) return false;
    for (std::size_t i = 0; i < l.size(); ++i) {
        char c = l[i];
        bool digit = c >= '0' && c <= '9';
        switch (i) {
            case 4:
            case 7: if (c != '-') return false; break;
            case 10: if (c != 'T') return false; break;
            case 13:
            case 16: if (c != ':') return false; break;
            case 19: if (c != '.') return false; break;
            default: if (!digit) return false;
        }
    }
    return true;
}

}  // namespace

std::optional<SequenceNumber> SequenceNumber::parse(std::string_view text) {
    if (text.size() != seq_digits || text[0] != '1') return std::nullopt;
    for (char c : text)
        if (c < '0' || c > '9') return std::nullopt;
    auto v = parse_u64(text.substr(1));
    if (!v) return std::nullopt;
    return SequenceNumber(*v);
}

std::string SequenceNumber::str() const { return fmt::format("1{:020}", value_); }

std::string make_shard_id(std::int64_t created_ms, std::uint32_t salt) {
    return fmt::format("shardId-{:020}-{:08x}", created_ms, salt);
}

std::optional<StreamArn> StreamArn::parse(std::string_view text) {
    // arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE/stream/LABEL
    constexpr std::string_view head = "arn:aws:dynamodb:";
    if (!text.starts_with(head)) return std::nullopt;
    std::string_view rest = text.substr(head.size());
    auto c1 = rest.find(':');
    if (c1 == std::string_view::npos) return std::nullopt;
    auto c2 = rest.find(':', c1 + 1);
    if (c2 == std::string_view::npos) return std::nullopt;
    StreamArn a;
    a.region = std::string(rest.substr(0, c1));
    a.account = std::string(rest.substr(c1 + 1, c2 - c1 - 1));
    std::string_view resource = rest.substr(c2 + 1);
    if (!resource.starts_with("table/")) return std::nullopt;
    resource.remove_prefix(6);
    auto s = resource.find("/stream/");
    if (s == std::string_view::npos || s == 0) return std::nullopt;
    a.table = std::string(resource.substr(0, s));
    a.label = std::string(resource.substr(s + 8));
    if (a.region.empty() || a.account.empty() || !valid_label(a.label)) return std::nullopt;
    return a;
}

std::string StreamArn::str() const {
    return fmt::format("arn:aws:dynamodb:{}:{}:table/{}/stream/{}", region, account, table, label);
}

std::string stream_label(std::int64_t created_ms) {
    std::string iso = core::iso8601(created_ms);  // 2015-05-11T21:21:33.291Z
    if (!iso.empty() && iso.back() == 'Z') iso.pop_back();
    return iso;
}

std::optional<ShardIterator> ShardIterator::parse(std::string_view text) {
    auto bar = text.rfind("|1|");
    if (bar == std::string_view::npos || bar == 0) return std::nullopt;
    auto payload = core::base64_decode(text.substr(bar + 3));
    if (!payload) return std::nullopt;
    // shard id | position | issued ms
    std::string_view p = *payload;
    auto b1 = p.find('|');
    if (b1 == std::string_view::npos) return std::nullopt;
    auto b2 = p.find('|', b1 + 1);
    if (b2 == std::string_view::npos) return std::nullopt;
    auto position = parse_u64(p.substr(b1 + 1, b2 - b1 - 1));
    auto issued = parse_i64(p.substr(b2 + 1));
    if (!position || !issued) return std::nullopt;
    ShardIterator it;
    it.stream_arn = std::string(text.substr(0, bar));
    it.shard_id = std::string(p.substr(0, b1));
    it.position = SequenceNumber(*position);
    it.issued_ms = *issued;
    if (!StreamArn::parse(it.stream_arn) || !it.shard_id.starts_with("shardId-")) return std::nullopt;
    return it;
}

std::string ShardIterator::str() const {
    return stream_arn + "|1|" + core::base64_encode(fmt::format("{}|{}|{}", shard_id, position.value(), issued_ms));
}

}  // namespace stratus::dynamo::streams
