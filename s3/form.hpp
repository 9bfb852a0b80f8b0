// multipart/form-data (RFC 7578, RFC 2046 section 5.1) as browsers and the SDKs' presigned
// POST helpers send it: S3's POST Object. The parser works on the whole body in memory or
// mapped from the spool file, and returns where each part's content lies, so that a file
// part is never copied into memory.
// Domain header: standard library only.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace stratus::s3 {

struct FormPart {
    std::string name;                     // Content-Disposition's name
    std::optional<std::string> filename;  // Content-Disposition's filename, when given
    std::string content_type;             // the part's Content-Type, empty when none
    std::size_t offset = 0;               // the content: body.substr(offset, length)
    std::size_t length = 0;
};

// The body is not well-formed multipart/form-data.
class FormError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The boundary parameter of a multipart/form-data Content-Type (quoted or not); nullopt
// for another type or no usable boundary (1 to 70 characters, RFC 2046).
std::optional<std::string> form_boundary(std::string_view content_type);

// Every part up to the closing delimiter. Throws FormError: no opening delimiter, a part
// without Content-Disposition form-data or its name, headers or a part never ended, more
// than `max_parts` parts or a header section over 16 KB.
std::vector<FormPart> parse_form(std::string_view body, std::string_view boundary, std::size_t max_parts = 1000);

}  // namespace stratus::s3
