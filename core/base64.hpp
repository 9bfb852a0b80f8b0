// Base64 (RFC 4648 standard alphabet, padded), shared by the services. DynamoDB keeps its
// own strict decoder: it reports AWS's distinct messages for each kind of malformed blob.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace stratus::core {

std::string base64_encode(std::string_view raw);
// nullopt for malformed input (length not a multiple of 4, a foreign character, padding
// anywhere but at the end).
std::optional<std::string> base64_decode(std::string_view text);

// Base64url (RFC 4648 section 5) without padding, as JWS / JWK use it.
std::string base64url_encode(std::string_view raw);
// nullopt for a foreign character, '=' padding, or an impossible length (4n + 1).
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace stratus::core
