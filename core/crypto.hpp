// Hashes, HMACs and signatures over OpenSSL, in one place: SigV4 / SigV2, S3's chunk
// signatures, Lambda's CodeSha256, DynamoDB's long-key digests, and the API Gateway's JWT /
// JWK verification and built-in token issuer all use these rather than calling OpenSSL
// themselves.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <optional>
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

// ---- Signatures (JWS, RFC 7515 / 7518) ----

// The JWS algorithms stratus verifies: RSASSA-PKCS1-v1_5 (RS*), RSASSA-PSS (PS*) and ECDSA
// (ES*). HMAC (HS*) and "none" are deliberately absent: a JWT authorizer never accepts them.
enum class SignatureAlg { rs256, rs384, rs512, ps256, ps384, ps512, es256, es384, es512 };

// "RS256" -> rs256; nullopt for anything else ("none", "HS256", "rs256").
std::optional<SignatureAlg> jws_alg(std::string_view name);
std::string_view jws_alg_name(SignatureAlg alg);

// A public key (RSA or EC on P-256 / P-384 / P-521). Immutable; copies share the key, and
// any thread may verify with it.
class PublicKey {
public:
    // From a JWK (RFC 7517): kty RSA with n and e, or kty EC with crv, x and y.
    // Throws std::invalid_argument saying what is wrong.
    static PublicKey from_jwk(const nlohmann::json& jwk);
    // PEM SubjectPublicKeyInfo ("-----BEGIN PUBLIC KEY-----"). Throws std::invalid_argument.
    static PublicKey from_pem(std::string_view pem);

    // Whether `signature` (JWS encoding: RSA as is, ECDSA as raw r || s) signs `data` under
    // `alg`. False too when the key does not suit the algorithm (an EC key for RS256, a
    // P-256 key for ES384).
    bool verify(SignatureAlg alg, std::string_view data, std::string_view signature) const;
    // The public JWK: {"kty":"RSA","n":..,"e":..} or {"kty":"EC","crv":..,"x":..,"y":..}.
    nlohmann::json jwk() const;

    struct Key;  // opaque (EVP_PKEY)

private:
    explicit PublicKey(std::shared_ptr<Key> key) : key_(std::move(key)) {}
    std::shared_ptr<Key> key_;
    friend class PrivateKey;
};

// A private key for signing (the built-in token issuer's).
class PrivateKey {
public:
    static PrivateKey generate_rsa(int bits = 2048);
    // "P-256", "P-384" or "P-521" (tests).
    static PrivateKey generate_ec(std::string_view curve);
    // PEM, PKCS#8 or traditional. Throws std::invalid_argument.
    static PrivateKey from_pem(std::string_view pem);
    std::string to_pem() const;  // PKCS#8, unencrypted

    // The JWS signature of `data` (ECDSA as raw r || s). Throws std::invalid_argument when
    // the key does not suit the algorithm.
    std::string sign(SignatureAlg alg, std::string_view data) const;
    PublicKey public_key() const;

private:
    explicit PrivateKey(std::shared_ptr<PublicKey::Key> key) : key_(std::move(key)) {}
    std::shared_ptr<PublicKey::Key> key_;
};

// The JWK thumbprint (RFC 7638): base64url of the SHA-256 of the key's required members
// in lexicographic order. Used as the key id ("kid") of the built-in issuer's key.
std::string jwk_thumbprint(const nlohmann::json& jwk);

}  // namespace stratus::core::crypto
