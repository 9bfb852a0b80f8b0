// Pieces shared by the key encoding and the item codec (dynamo/model/ only).
#pragma once

#include <string>
#include <string_view>

#include "dynamo/model/value.hpp"

namespace stratus::dynamo::detail {

// Order-preserving, self-delimiting encodings (see key_encoding.cpp). The readers take
// one encoded value off the front of `in` and throw std::runtime_error on corrupt input.
void append_number_key(std::string& out, const Number& n);
Number read_number_key(std::string_view& in);
void append_bytes_key(std::string& out, std::string_view bytes);
std::string read_bytes_key(std::string_view& in);

}  // namespace stratus::dynamo::detail
