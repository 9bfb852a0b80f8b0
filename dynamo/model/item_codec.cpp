// The stored form of an item (LMDB values). Compact, exact and versioned:
//
//   item   := format(0x01) count:varint (name:bytes value)*
//   value  := type:u8 (Type's on-disk values) body
//   S, B   := bytes                       bytes := length:varint raw
//   N      := number key encoding (key_encoding.cpp: sign, exponent, base-100 digits)
//   BOOL   := u8 0 or 1                   NULL  := (nothing)
//   M      := count:varint (name:bytes value)*
//   L      := count:varint value*
//   SS, BS := count:varint bytes*         NS    := count:varint number*
//
// varint is unsigned LEB128. Numbers reuse the key encoding: at most 22 bytes, canonical,
// and already validated on decode. Maps and sets are written in their sorted order, and
// decode insists on it, so encode(decode(x)) == x for every accepted x.
#include "core/base64.hpp"
#include "core/json_writer.hpp"
#include "dynamo/model/codec_detail.hpp"
#include "dynamo/model/value.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace stratus::dynamo {

namespace {

// Stored on disk: bump for any incompatible change and keep decoding the old one.
constexpr unsigned char format_v1 = 0x01;
// Input validation caps nesting at max_nesting_depth; decode allows a margin so an item
// a future code path stores slightly deeper stays readable, while corrupt input still
// cannot recurse without bound.
constexpr int decode_depth_limit = 2 * max_nesting_depth;

void put_varint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7F) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

void put_bytes(std::string& out, std::string_view bytes) {
    put_varint(out, bytes.size());
    out.append(bytes);
}

void put_value(std::string& out, const AttributeValue& v);

void put_map(std::string& out, const Map& m) {
    put_varint(out, m.size());
    for (const auto& [name, value] : m) {
        put_bytes(out, name);
        put_value(out, value);
    }
}

void put_value(std::string& out, const AttributeValue& v) {
    out.push_back(static_cast<char>(v.type));
    switch (v.type) {
        case Type::S:
        case Type::B: put_bytes(out, v.s); break;
        case Type::N: detail::append_number_key(out, v.n); break;
        case Type::BOOL: out.push_back(v.boolean ? 1 : 0); break;
        case Type::NUL: break;
        case Type::M: put_map(out, *v.m); break;
        case Type::L:
            put_varint(out, v.l->size());
            for (const auto& e : *v.l) put_value(out, e);
            break;
        case Type::SS:
        case Type::BS:
            put_varint(out, v.strings.size());
            for (const auto& e : v.strings) put_bytes(out, e);
            break;
        case Type::NS:
            put_varint(out, v.numbers.size());
            for (const auto& e : v.numbers) detail::append_number_key(out, e);
            break;
    }
}

[[noreturn]] void corrupt_item(std::string_view what) {
    throw std::runtime_error(fmt::format("corrupt item encoding: {}", what));
}

class Reader {
public:
    explicit Reader(std::string_view in) : in_(in) {}

    bool done() const { return in_.empty(); }

    unsigned char byte() {
        if (in_.empty()) corrupt_item("truncated");
        auto c = static_cast<unsigned char>(in_.front());
        in_.remove_prefix(1);
        return c;
    }

    std::uint64_t varint() {
        std::uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            unsigned char c = byte();
            if (shift == 63 && c > 1) corrupt_item("varint overflows 64 bits");
            v |= std::uint64_t{c & 0x7Fu} << shift;
            if (!(c & 0x80)) return v;
        }
        corrupt_item("varint too long");
    }

    // An element count: every element takes at least one byte, so a count above the
    // remaining length is corrupt (and never drives a huge reserve()).
    std::size_t count() {
        std::uint64_t n = varint();
        if (n > in_.size()) corrupt_item("count exceeds input");
        return static_cast<std::size_t>(n);
    }

    std::string bytes() { return std::string(bytes_view()); }

    std::string_view bytes_view() {
        std::uint64_t n = varint();
        if (n > in_.size()) corrupt_item("length exceeds input");
        std::string_view out = in_.substr(0, static_cast<std::size_t>(n));
        in_.remove_prefix(static_cast<std::size_t>(n));
        return out;
    }

    Number number() { return detail::read_number_key(in_); }

    Map map(int depth) {
        Map m;
        std::size_t n = count();
        for (std::size_t k = 0; k < n; ++k) {
            std::string name = bytes();
            // Sorted and unique, as encode writes std::map.
            if (!m.empty() && !(m.rbegin()->first < name)) corrupt_item("map names out of order");
            m.emplace_hint(m.end(), std::move(name), value(depth));
        }
        return m;
    }

    AttributeValue value(int depth) {
        if (depth > decode_depth_limit) corrupt_item("nesting too deep");
        unsigned char tag = byte();
        AttributeValue v;
        switch (tag) {
            case static_cast<unsigned char>(Type::S): return AttributeValue::string(bytes());
            case static_cast<unsigned char>(Type::B): return AttributeValue::binary(bytes());
            case static_cast<unsigned char>(Type::N): return AttributeValue::number(number());
            case static_cast<unsigned char>(Type::BOOL): {
                unsigned char b = byte();
                if (b > 1) corrupt_item("bad boolean");
                return AttributeValue::boolean_value(b == 1);
            }
            case static_cast<unsigned char>(Type::NUL): return AttributeValue::null();
            case static_cast<unsigned char>(Type::M): return AttributeValue::map(map(depth + 1));
            case static_cast<unsigned char>(Type::L): {
                List l;
                std::size_t n = count();
                l.reserve(n);
                for (std::size_t k = 0; k < n; ++k) l.push_back(value(depth + 1));
                return AttributeValue::list(std::move(l));
            }
            case static_cast<unsigned char>(Type::SS):
            case static_cast<unsigned char>(Type::BS): {
                std::vector<std::string> set;
                std::size_t n = count();
                if (n == 0) corrupt_item("empty set");
                set.reserve(n);
                for (std::size_t k = 0; k < n; ++k) {
                    set.push_back(bytes());
                    if (k > 0 && !(set[k - 1] < set[k])) corrupt_item("set out of order");
                }
                v.type = static_cast<Type>(tag);
                v.strings = std::move(set);
                return v;
            }
            case static_cast<unsigned char>(Type::NS): {
                std::vector<Number> set;
                std::size_t n = count();
                if (n == 0) corrupt_item("empty set");
                set.reserve(n);
                for (std::size_t k = 0; k < n; ++k) {
                    set.push_back(number());
                    if (k > 0 && !(set[k - 1] < set[k])) corrupt_item("set out of order");
                }
                v.type = Type::NS;
                v.numbers = std::move(set);
                return v;
            }
            default: corrupt_item(fmt::format("unknown type tag {}", tag));
        }
    }

private:
    std::string_view in_;
};

// Writes what Reader would build, as append_item_json / append_value_json write it: the
// same checks (order, emptiness, tags, depth), no AttributeValue in between.
class JsonFromEncoded {
public:
    JsonFromEncoded(std::string& out, std::string_view in) : out_(out), r_(in) {}

    void item() {
        if (r_.byte() != format_v1) corrupt_item("unknown format");
        map(0);
        if (!r_.done()) corrupt_item("trailing bytes");
    }

private:
    // A literal appended with its length known (operator+= on a char pointer runs strlen).
    template <std::size_t N>
    void lit(const char (&s)[N]) {
        out_.append(s, N - 1);
    }

    // A number as a JSON string: to_string writes digits, '-' and '.', nothing to escape.
    void number(const Number& n) {
        out_ += '"';
        out_ += n.to_string();
        out_ += '"';
    }

    void map(int depth) {
        out_ += '{';
        std::size_t n = r_.count();
        std::string_view previous;
        for (std::size_t k = 0; k < n; ++k) {
            std::string_view name = r_.bytes_view();
            if (k > 0 && !(previous < name)) corrupt_item("map names out of order");
            previous = name;
            if (k > 0) out_ += ',';
            core::append_json_string(out_, name);
            out_ += ':';
            value(depth);
        }
        out_ += '}';
    }

    template <class Read, class Write>
    void set(Read&& read, Write&& write) {
        std::size_t n = r_.count();
        if (n == 0) corrupt_item("empty set");
        out_ += '[';
        decltype(read()) previous{};
        for (std::size_t k = 0; k < n; ++k) {
            auto e = read();
            if (k > 0 && !(previous < e)) corrupt_item("set out of order");
            if (k > 0) out_ += ',';
            write(e);
            previous = std::move(e);
        }
        out_ += ']';
    }

    void value(int depth) {
        if (depth > decode_depth_limit) corrupt_item("nesting too deep");
        unsigned char tag = r_.byte();
        switch (tag) {
            case static_cast<unsigned char>(Type::S):
                lit("{\"S\":");
                core::append_json_string(out_, r_.bytes_view());
                break;
            case static_cast<unsigned char>(Type::B):
                lit("{\"B\":");
                core::append_json_string(out_, core::base64_encode(r_.bytes_view()));
                break;
            case static_cast<unsigned char>(Type::N):
                lit("{\"N\":");
                number(r_.number());
                break;
            case static_cast<unsigned char>(Type::BOOL): {
                unsigned char b = r_.byte();
                if (b > 1) corrupt_item("bad boolean");
                if (b) lit("{\"BOOL\":true");
                else lit("{\"BOOL\":false");
                break;
            }
            case static_cast<unsigned char>(Type::NUL): lit("{\"NULL\":true"); break;
            case static_cast<unsigned char>(Type::M):
                lit("{\"M\":");
                map(depth + 1);
                break;
            case static_cast<unsigned char>(Type::L): {
                lit("{\"L\":[");
                std::size_t n = r_.count();
                for (std::size_t k = 0; k < n; ++k) {
                    if (k > 0) out_ += ',';
                    value(depth + 1);
                }
                out_ += ']';
                break;
            }
            case static_cast<unsigned char>(Type::SS):
                lit("{\"SS\":");
                set([&] { return r_.bytes_view(); }, [&](std::string_view e) { core::append_json_string(out_, e); });
                break;
            case static_cast<unsigned char>(Type::BS):
                lit("{\"BS\":");
                set([&] { return r_.bytes_view(); },
                    [&](std::string_view e) { core::append_json_string(out_, core::base64_encode(e)); });
                break;
            case static_cast<unsigned char>(Type::NS):
                lit("{\"NS\":");
                set([&] { return r_.number(); }, [&](const Number& e) { number(e); });
                break;
            default: corrupt_item(fmt::format("unknown type tag {}", tag));
        }
        out_ += '}';
    }

    std::string& out_;
    Reader r_;
};

}  // namespace

std::string encode_item(const Item& item) {
    std::string out;
    out.push_back(static_cast<char>(format_v1));
    put_map(out, item);
    return out;
}

Item decode_item(std::string_view bytes) {
    Reader r(bytes);
    if (r.byte() != format_v1) corrupt_item("unknown format");
    Item item = r.map(0);
    if (!r.done()) corrupt_item("trailing bytes");
    return item;
}

void append_encoded_item_json(std::string& out, std::string_view bytes) {
    JsonFromEncoded(out, bytes).item();
}

}  // namespace stratus::dynamo
