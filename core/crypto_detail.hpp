// OpenSSL's view of core/crypto's enums, for crypto's own files (and signature code
// beside them); everyone else uses core/crypto.hpp.
#pragma once

#include <openssl/evp.h>

#include "core/crypto.hpp"

namespace stratus::core::crypto {

const EVP_MD* evp_md(Hash hash);

}  // namespace stratus::core::crypto
