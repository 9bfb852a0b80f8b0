// Hashes, HMACs and (later) signature checks over OpenSSL, in one place: SigV4 / SigV2,
// S3's chunk signatures, Lambda's CodeSha256, DynamoDB's long-key digests, and the API
// Gateway's JWT / JWK verification all use these rather than calling OpenSSL themselves.
#pragma once

#include <string>
#include <string_view>

namespace stratus::core::crypto {

enum class Hash { sha1, sha256, sha384, sha512, md5 };

// An incremental digest (streamed bodies: S3 uploads, x-amz-content-sha256 checks).
class Hasher {
public:
    explicit Hasher(Hash hash);
    ~Hasher();
    Hasher(const Hasher&) = delete;
    Hasher& operator=(const Hasher&) = delete;
    void update(std::string_view bytes);
    // The raw digest; the hasher is spent afterwards.
    std::string final();

private:
    void* ctx_;  // EVP_MD_CTX
};

// Raw digests (32 / 20 / 16 bytes).
std::string sha256(std::string_view data);
std::string sha1(std::string_view data);
std::string md5(std::string_view data);

std::string sha256_hex(std::string_view data);

// Raw HMAC bytes.
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string hmac_sha1(std::string_view key, std::string_view data);

// Lowercase hex of raw bytes.
std::string hex(std::string_view bytes);

// Equal contents, in time that does not depend on where they differ (signature checks).
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace stratus::core::crypto
