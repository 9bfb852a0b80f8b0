#include "s3/xml.hpp"

#include "core/protocol.hpp"

namespace stratus::s3 {

XmlWriter::XmlWriter(std::string_view root, bool with_namespace) {
    out_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<";
    out_ += root;
    if (with_namespace) out_ += " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"";
    out_ += ">";
    stack_.emplace_back(root);
}

XmlWriter& XmlWriter::open(std::string_view name) {
    out_ += '<';
    out_ += name;
    out_ += '>';
    stack_.emplace_back(name);
    return *this;
}

XmlWriter& XmlWriter::close() {
    out_ += "</";
    out_ += stack_.back();
    out_ += '>';
    stack_.pop_back();
    return *this;
}

XmlWriter& XmlWriter::leaf(std::string_view name, std::string_view text) {
    out_ += '<';
    out_ += name;
    out_ += '>';
    out_ += core::xml_escape(text);
    out_ += "</";
    out_ += name;
    out_ += '>';
    return *this;
}

std::string XmlWriter::finish() {
    while (!stack_.empty()) close();
    return std::move(out_);
}

const XmlNode* XmlNode::child(std::string_view n) const {
    for (auto& c : children)
        if (c.name == n) return &c;
    return nullptr;
}

std::vector<const XmlNode*> XmlNode::all(std::string_view n) const {
    std::vector<const XmlNode*> out;
    for (auto& c : children)
        if (c.name == n) out.push_back(&c);
    return out;
}

std::optional<std::string> XmlNode::child_text(std::string_view n) const {
    auto* c = child(n);
    if (!c) return std::nullopt;
    return c->text;
}

namespace {

class Parser {
public:
    explicit Parser(std::string_view s) : s_(s) {}

    std::optional<XmlNode> document() {
        skip_misc();
        if (!at('<')) return std::nullopt;
        XmlNode root;
        if (!element(root, 0)) return std::nullopt;
        skip_misc();
        if (pos_ != s_.size()) return std::nullopt;
        return root;
    }

private:
    bool at(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
    bool starts(std::string_view p) const { return s_.substr(pos_).starts_with(p); }
    void skip_ws() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\r' || s_[pos_] == '\n')) ++pos_;
    }
    // Whitespace, the declaration, comments, processing instructions.
    void skip_misc() {
        for (;;) {
            skip_ws();
            if (starts("<?")) {
                auto e = s_.find("?>", pos_);
                pos_ = e == std::string_view::npos ? s_.size() : e + 2;
            } else if (starts("<!--")) {
                auto e = s_.find("-->", pos_);
                pos_ = e == std::string_view::npos ? s_.size() : e + 3;
            } else {
                return;
            }
        }
    }
    static bool name_char(char c) {
        return c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '>' && c != '/' && c != '=' && c != '<';
    }
    std::string name() {
        std::size_t start = pos_;
        while (pos_ < s_.size() && name_char(s_[pos_])) ++pos_;
        return std::string(s_.substr(start, pos_ - start));
    }
    static std::string local(const std::string& qname) {
        auto colon = qname.find(':');
        return colon == std::string::npos ? qname : qname.substr(colon + 1);
    }
    bool entity(std::string& out) {
        auto semi = s_.find(';', pos_);
        if (semi == std::string_view::npos || semi - pos_ > 12) return false;
        std::string_view e = s_.substr(pos_ + 1, semi - pos_ - 1);
        pos_ = semi + 1;
        if (e == "lt") out += '<';
        else if (e == "gt") out += '>';
        else if (e == "amp") out += '&';
        else if (e == "quot") out += '"';
        else if (e == "apos") out += '\'';
        else if (e.size() > 1 && e[0] == '#') {
            unsigned long cp = 0;
            try {
                cp = e[1] == 'x' ? std::stoul(std::string(e.substr(2)), nullptr, 16) : std::stoul(std::string(e.substr(1)));
            } catch (...) {
                return false;
            }
            if (cp < 0x80) out += static_cast<char>(cp);
            else if (cp < 0x800) {
                out += static_cast<char>(0xC0 | (cp >> 6));
                out += static_cast<char>(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                out += static_cast<char>(0xE0 | (cp >> 12));
                out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
                out += static_cast<char>(0x80 | (cp & 0x3F));
            } else if (cp < 0x110000) {
                out += static_cast<char>(0xF0 | (cp >> 18));
                out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
                out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
                out += static_cast<char>(0x80 | (cp & 0x3F));
            } else
                return false;
        } else
            return false;
        return true;
    }
    bool element(XmlNode& node, int depth) {
        if (depth > 32 || !at('<')) return false;
        ++pos_;
        std::string qname = name();
        if (qname.empty()) return false;
        node.name = local(qname);
        // Attributes (xmlns and friends) are read and dropped.
        for (;;) {
            skip_ws();
            if (pos_ >= s_.size()) return false;
            if (starts("/>")) {
                pos_ += 2;
                return true;
            }
            if (at('>')) {
                ++pos_;
                break;
            }
            if (name().empty()) return false;
            skip_ws();
            if (!at('=')) return false;
            ++pos_;
            skip_ws();
            if (!at('"') && !at('\'')) return false;
            char q = s_[pos_++];
            auto e = s_.find(q, pos_);
            if (e == std::string_view::npos) return false;
            pos_ = e + 1;
        }
        for (;;) {
            if (pos_ >= s_.size()) return false;
            char c = s_[pos_];
            if (c == '<') {
                if (starts("</")) {
                    pos_ += 2;
                    std::string end = name();
                    skip_ws();
                    if (end != qname || !at('>')) return false;
                    ++pos_;
                    return true;
                }
                if (starts("<!--")) {
                    auto e = s_.find("-->", pos_);
                    if (e == std::string_view::npos) return false;
                    pos_ = e + 3;
                    continue;
                }
                if (starts("<![CDATA[")) {
                    auto e = s_.find("]]>", pos_);
                    if (e == std::string_view::npos) return false;
                    node.text += s_.substr(pos_ + 9, e - pos_ - 9);
                    pos_ = e + 3;
                    continue;
                }
                XmlNode child;
                if (!element(child, depth + 1)) return false;
                node.children.push_back(std::move(child));
            } else if (c == '&') {
                if (!entity(node.text)) return false;
            } else {
                node.text += c;
                ++pos_;
            }
        }
    }

    std::string_view s_;
    std::size_t pos_ = 0;
};

}  // namespace

std::optional<XmlNode> parse_xml(std::string_view doc) { return Parser(doc).document(); }

}  // namespace stratus::s3
