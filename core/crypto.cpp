#include "core/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

#include "core/crypto_detail.hpp"

namespace stratus::core::crypto {

namespace {

std::string digest(const EVP_MD* md, std::string_view data, const char* what) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1)
        throw std::runtime_error(std::string("EVP_Digest(") + what + ") failed");
    return std::string(reinterpret_cast<const char*>(out), len);
}

std::string hmac(const EVP_MD* md, std::string_view key, std::string_view data, const char* what) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    // A null key pointer means "reuse the previous key" to HMAC_Init_ex; never pass one.
    static constexpr unsigned char empty = 0;
    const void* key_ptr = key.empty() ? &empty : static_cast<const void*>(key.data());
    const auto* data_ptr = data.empty() ? &empty : reinterpret_cast<const unsigned char*>(data.data());
    if (!HMAC(md, key_ptr, static_cast<int>(key.size()), data_ptr, data.size(), out, &len))
        throw std::runtime_error(std::string("HMAC(") + what + ") failed");
    return std::string(reinterpret_cast<const char*>(out), len);
}

}  // namespace

const EVP_MD* evp_md(Hash hash) {
    switch (hash) {
        case Hash::sha1: return EVP_sha1();
        case Hash::sha256: return EVP_sha256();
        case Hash::sha384: return EVP_sha384();
        case Hash::sha512: return EVP_sha512();
        case Hash::md5: return EVP_md5();
    }
    return EVP_sha256();
}

Hasher::Hasher(Hash hash) : ctx_(EVP_MD_CTX_new()) {
    auto* ctx = static_cast<EVP_MD_CTX*>(ctx_);
    if (!ctx || EVP_DigestInit_ex(ctx, evp_md(hash), nullptr) != 1) {
        EVP_MD_CTX_free(ctx);
        throw std::runtime_error("EVP_DigestInit_ex failed");
    }
}

Hasher::~Hasher() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Hasher::update(std::string_view bytes) {
    if (EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), bytes.data(), bytes.size()) != 1)
        throw std::runtime_error("EVP_DigestUpdate failed");
}

std::string Hasher::final() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), md, &len) != 1)
        throw std::runtime_error("EVP_DigestFinal_ex failed");
    return std::string(reinterpret_cast<const char*>(md), len);
}

std::string sha256(std::string_view data) { return digest(EVP_sha256(), data, "SHA-256"); }
std::string sha1(std::string_view data) { return digest(EVP_sha1(), data, "SHA-1"); }
std::string md5(std::string_view data) { return digest(EVP_md5(), data, "MD5"); }

std::string sha256_hex(std::string_view data) { return hex(sha256(data)); }

std::string hmac_sha256(std::string_view key, std::string_view data) {
    return hmac(EVP_sha256(), key, data, "SHA-256");
}
std::string hmac_sha1(std::string_view key, std::string_view data) { return hmac(EVP_sha1(), key, data, "SHA-1"); }

std::string hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace stratus::core::crypto
