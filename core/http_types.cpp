#include "core/http_types.hpp"

#include <unistd.h>

#include <algorithm>

namespace stratus::core {

namespace {

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

FileBody::~FileBody() {
    if (fd >= 0) ::close(fd);
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
    for (const auto& [n, v] : entries_)
        if (iequals(n, name)) return std::string_view(v);
    return std::nullopt;
}

std::string_view Headers::get_or(std::string_view name, std::string_view fallback) const {
    auto v = get(name);
    return v ? *v : fallback;
}

void Headers::set(std::string name, std::string value) {
    erase(name);
    entries_.emplace_back(std::move(name), std::move(value));
}

void Headers::add(std::string name, std::string value) {
    entries_.emplace_back(std::move(name), std::move(value));
}

void Headers::erase(std::string_view name) {
    std::erase_if(entries_, [&](const Entry& e) { return iequals(e.first, name); });
}

std::string percent_decode(std::string_view s, bool plus_as_space) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '%' && i + 2 < s.size()) {
            int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
                continue;
            }
        }
        out.push_back(plus_as_space && c == '+' ? ' ' : c);
    }
    return out;
}

std::string uri_encode(std::string_view s, bool encode_slash) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size() * 3 / 2);
    for (unsigned char c : s) {
        bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                          c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && !encode_slash);
        if (unreserved) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(digits[c >> 4]);
            out.push_back(digits[c & 15]);
        }
    }
    return out;
}

std::string Request::decoded_path() const { return percent_decode(path); }

std::vector<QueryParam> Request::query_params() const {
    std::vector<QueryParam> out;
    std::string_view q = query;
    while (!q.empty()) {
        auto amp = q.find('&');
        std::string_view part = q.substr(0, amp);
        q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
        if (part.empty()) continue;
        auto eq = part.find('=');
        QueryParam p;
        // AWS decodes '+' in query strings as a space (form encoding), as S3 does for
        // presigned URLs and list prefixes.
        p.name = percent_decode(part.substr(0, eq), true);
        if (eq != std::string_view::npos) {
            p.value = percent_decode(part.substr(eq + 1), true);
            p.has_value = true;
        }
        out.push_back(std::move(p));
    }
    return out;
}

std::optional<std::string> Request::query_param(std::string_view name) const {
    for (auto& p : query_params())
        if (p.name == name) return p.value;
    return std::nullopt;
}

std::string_view Request::host() const {
    std::string_view h = headers.get_or("host", "");
    if (!h.empty() && h.front() == '[') {  // [::1]:4566
        auto close = h.find(']');
        return close == std::string_view::npos ? h : h.substr(0, close + 1);
    }
    auto colon = h.rfind(':');
    return colon == std::string_view::npos ? h : h.substr(0, colon);
}

void BodyStream::write(std::string bytes) {
    std::function<void()> wake;
    {
        std::lock_guard lock(mutex_);
        if (closed_ || finished_ || bytes.empty()) return;
        buffer_ += bytes;
        wake = std::move(wake_);
        wake_ = nullptr;
    }
    if (wake) wake();
}

void BodyStream::finish() {
    std::function<void()> wake;
    {
        std::lock_guard lock(mutex_);
        if (finished_) return;
        finished_ = true;
        wake = std::move(wake_);
        wake_ = nullptr;
    }
    if (wake) wake();
}

bool BodyStream::closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
}

bool BodyStream::take(std::string& out, std::function<void()> wake) {
    std::lock_guard lock(mutex_);
    out = std::move(buffer_);
    buffer_.clear();
    if (out.empty() && !finished_) wake_ = std::move(wake);
    return finished_ && buffer_.empty();
}

void BodyStream::close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    buffer_.clear();
    wake_ = nullptr;
}

}  // namespace stratus::core
