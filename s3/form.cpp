#include "s3/form.hpp"

#include <algorithm>

#include "core/text.hpp"

namespace stratus::s3 {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return core::ascii_lower(x) == core::ascii_lower(y); });
}

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Parameters of a header value ("form-data; name=\"a\"; filename=b"): the first token,
// then name=value pairs, values quoted (with backslash escapes) or tokens.
struct HeaderValue {
    std::string token;
    std::vector<std::pair<std::string, std::string>> params;
    const std::string* param(std::string_view name) const {
        for (auto& [n, v] : params)
            if (iequals(n, name)) return &v;
        return nullptr;
    }
};

HeaderValue parse_header_value(std::string_view v) {
    HeaderValue out;
    auto semi = v.find(';');
    out.token = std::string(trim_ows(v.substr(0, semi)));
    std::size_t i = semi == std::string_view::npos ? v.size() : semi + 1;
    while (i < v.size()) {
        while (i < v.size() && (v[i] == ' ' || v[i] == '\t' || v[i] == ';')) ++i;
        std::size_t eq = v.find('=', i);
        if (eq == std::string_view::npos) break;
        std::string name(trim_ows(v.substr(i, eq - i)));
        i = eq + 1;
        while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
        std::string value;
        if (i < v.size() && v[i] == '"') {
            ++i;
            bool closed = false;
            while (i < v.size()) {
                char c = v[i++];
                if (c == '\\' && i < v.size()) {
                    value += v[i++];
                } else if (c == '"') {
                    closed = true;
                    break;
                } else {
                    value += c;
                }
            }
            if (!closed) throw FormError("unterminated quoted string in a part header");
        } else {
            std::size_t end = v.find(';', i);
            if (end == std::string_view::npos) end = v.size();
            value = std::string(trim_ows(v.substr(i, end - i)));
            i = end;
        }
        out.params.emplace_back(std::move(name), std::move(value));
    }
    return out;
}

}  // namespace

std::optional<std::string> form_boundary(std::string_view content_type) {
    HeaderValue h;
    try {
        h = parse_header_value(content_type);
    } catch (const FormError&) {
        return std::nullopt;  // an unterminated quoted parameter
    }
    if (!iequals(h.token, "multipart/form-data")) return std::nullopt;
    const std::string* b = h.param("boundary");
    if (!b || b->empty() || b->size() > 70) return std::nullopt;
    return *b;
}

std::vector<FormPart> parse_form(std::string_view body, std::string_view boundary, std::size_t max_parts) {
    constexpr std::size_t max_header_bytes = 16 * 1024;
    std::string delimiter = "--" + std::string(boundary);
    std::vector<FormPart> parts;
    // The first delimiter: at the very start, or after a preamble and CRLF.
    std::size_t pos;
    if (body.starts_with(delimiter)) {
        pos = delimiter.size();
    } else {
        auto at = body.find("\r\n" + delimiter);
        if (at == std::string_view::npos) throw FormError("no opening boundary");
        pos = at + 2 + delimiter.size();
    }
    std::string next = "\r\n" + delimiter;
    for (;;) {
        // After a delimiter: "--" closes; else transport padding, then CRLF.
        if (body.substr(pos, 2) == "--") return parts;
        while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
        if (body.substr(pos, 2) != "\r\n") throw FormError("a boundary not followed by CRLF");
        pos += 2;
        if (parts.size() >= max_parts) throw FormError("too many parts");
        FormPart part;
        bool disposition = false;
        std::size_t header_start = pos;
        // Header lines until an empty one.
        for (;;) {
            auto eol = body.find("\r\n", pos);
            if (eol == std::string_view::npos) throw FormError("part headers never end");
            if (eol - header_start > max_header_bytes) throw FormError("part headers too large");
            std::string_view line = body.substr(pos, eol - pos);
            pos = eol + 2;
            if (line.empty()) break;
            auto colon = line.find(':');
            if (colon == std::string_view::npos) throw FormError("a part header without ':'");
            std::string_view name = trim_ows(line.substr(0, colon)), value = trim_ows(line.substr(colon + 1));
            if (iequals(name, "content-disposition")) {
                auto h = parse_header_value(value);
                if (!iequals(h.token, "form-data")) throw FormError("a part that is not form-data");
                const std::string* n = h.param("name");
                if (!n) throw FormError("a part without a name");
                part.name = *n;
                if (const std::string* f = h.param("filename")) part.filename = *f;
                disposition = true;
            } else if (iequals(name, "content-type")) {
                part.content_type = std::string(value);
            }
        }
        if (!disposition) throw FormError("a part without Content-Disposition");
        auto end = body.find(next, pos);
        if (end == std::string_view::npos) throw FormError("a part never ended");
        part.offset = pos;
        part.length = end - pos;
        parts.push_back(std::move(part));
        pos = end + next.size();
    }
}

}  // namespace stratus::s3
