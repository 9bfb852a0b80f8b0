// The little XML S3 needs: a writer for response bodies and a small, strict parser for
// request bodies (DeleteObjects, CompleteMultipartUpload, configurations). Domain header.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stratus::s3 {

class XmlWriter {
public:
    // Starts with the XML declaration and the root element in S3's namespace.
    explicit XmlWriter(std::string_view root, bool with_namespace = true);
    XmlWriter& open(std::string_view name);
    XmlWriter& close();  // closes the innermost open element
    XmlWriter& leaf(std::string_view name, std::string_view text);
    XmlWriter& leaf_if(std::string_view name, const std::optional<std::string>& text) {
        if (text) leaf(name, *text);
        return *this;
    }
    // Closes everything still open and returns the document.
    std::string finish();

private:
    std::string out_;
    std::vector<std::string> stack_;
};

struct XmlNode {
    std::string name;  // local name (namespace prefix dropped)
    std::string text;  // concatenated character data directly inside
    std::vector<XmlNode> children;

    const XmlNode* child(std::string_view n) const;
    std::vector<const XmlNode*> all(std::string_view n) const;
    // Text of the named child, or nullopt.
    std::optional<std::string> child_text(std::string_view n) const;
};

// nullopt when the document is not well-formed.
std::optional<XmlNode> parse_xml(std::string_view doc);

}  // namespace stratus::s3
