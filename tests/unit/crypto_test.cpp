// core/crypto: digests and HMACs against published test vectors.
#include "core/crypto.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace stratus::core;

TEST_CASE("digests match known values") {
    CHECK(crypto::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(crypto::hex(crypto::sha1("abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d");
    CHECK(crypto::hex(crypto::md5("")) == "d41d8cd98f00b204e9800998ecf8427e");
    CHECK(crypto::hex(std::string("\x00\x7f\xff", 3)) == "007fff");
}

TEST_CASE("HMACs match RFC 4231 and RFC 2202") {
    // RFC 4231 test case 2.
    CHECK(crypto::hex(crypto::hmac_sha256("Jefe", "what do ya want for nothing?")) ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    CHECK(crypto::hex(crypto::hmac_sha256("", "")) ==
          "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    // RFC 2202 test case 2.
    CHECK(crypto::hex(crypto::hmac_sha1("Jefe", "what do ya want for nothing?")) ==
          "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

TEST_CASE("Hasher streams to the same digest as one call") {
    crypto::Hasher h(crypto::Hash::sha256);
    h.update("hello ");
    h.update("");
    h.update("world");
    CHECK(h.final() == crypto::sha256("hello world"));
    crypto::Hasher m(crypto::Hash::md5);
    m.update("a");
    m.update("bc");
    CHECK(crypto::hex(m.final()) == "900150983cd24fb0d6963f7d28e17f72");
}

TEST_CASE("constant_time_equal compares whole contents") {
    CHECK(crypto::constant_time_equal("abc", "abc"));
    CHECK_FALSE(crypto::constant_time_equal("abc", "abd"));
    CHECK_FALSE(crypto::constant_time_equal("abc", "ab"));
    CHECK(crypto::constant_time_equal("", ""));
}

// ---- JWS signatures: vectors made by the openssl command line (gen_jws_vectors.py) ----

#include <nlohmann/json.hpp>

#include "core/base64.hpp"

namespace jws {
#include "jws_vectors.inc"
}

namespace {

std::string unb64u(std::string_view s) { return base64url_decode(s).value(); }

crypto::PublicKey jwk_key(std::string_view text) { return crypto::PublicKey::from_jwk(nlohmann::json::parse(text)); }

}  // namespace

TEST_CASE("base64url round trips without padding") {
    CHECK(base64url_encode("\xfb\xff") == "-_8");
    CHECK(base64url_decode("-_8") == std::string("\xfb\xff"));
    CHECK(base64url_encode("") == "");
    CHECK(base64url_decode("")  == std::string());
    CHECK_FALSE(base64url_decode("ab=").has_value());  // padding is not base64url
    CHECK_FALSE(base64url_decode("a+b").has_value());
    CHECK_FALSE(base64url_decode("abcde").has_value());  // 4n + 1 characters
}

TEST_CASE("RSA signatures made by openssl verify with the key from its JWK and its PEM") {
    auto from_jwk = jwk_key(jws::rsa_jwk);
    auto from_pem = crypto::PublicKey::from_pem(jws::rsa_public_pem);
    struct Case {
        crypto::SignatureAlg alg;
        std::string_view sig;
    };
    for (auto c : {Case{crypto::SignatureAlg::rs256, jws::rs256_signature},
                   Case{crypto::SignatureAlg::rs384, jws::rs384_signature},
                   Case{crypto::SignatureAlg::rs512, jws::rs512_signature},
                   Case{crypto::SignatureAlg::ps256, jws::ps256_signature}}) {
        CAPTURE(crypto::jws_alg_name(c.alg));
        std::string sig = unb64u(c.sig);
        CHECK(from_jwk.verify(c.alg, jws::jws_message, sig));
        CHECK(from_pem.verify(c.alg, jws::jws_message, sig));
        // Any other message, a flipped bit, or the wrong algorithm fails.
        CHECK_FALSE(from_jwk.verify(c.alg, std::string(jws::jws_message) + "x", sig));
        std::string flipped = sig;
        flipped[10] = static_cast<char>(flipped[10] ^ 1);
        CHECK_FALSE(from_jwk.verify(c.alg, jws::jws_message, flipped));
        CHECK_FALSE(from_jwk.verify(c.alg == crypto::SignatureAlg::rs256 ? crypto::SignatureAlg::rs384
                                                                         : crypto::SignatureAlg::rs256,
                                    jws::jws_message, sig));
    }
}

TEST_CASE("RS256 signing is openssl's (PKCS#1 v1.5 is deterministic)") {
    auto key = crypto::PrivateKey::from_pem(jws::rsa_private_pem);
    CHECK(base64url_encode(key.sign(crypto::SignatureAlg::rs256, jws::jws_message)) == jws::rs256_signature);
    CHECK(base64url_encode(key.sign(crypto::SignatureAlg::rs512, jws::jws_message)) == jws::rs512_signature);
    // The public JWK we publish is the one openssl's modulus gives.
    CHECK(key.public_key().jwk() == nlohmann::json::parse(jws::rsa_jwk));
    // PSS is randomised: check that it verifies.
    auto ps = key.sign(crypto::SignatureAlg::ps256, "abc");
    CHECK(key.public_key().verify(crypto::SignatureAlg::ps256, "abc", ps));
    CHECK_THROWS_AS(key.sign(crypto::SignatureAlg::es256, "abc"), std::invalid_argument);
}

TEST_CASE("ECDSA signatures made by openssl verify (JWS r || s form)") {
    auto p256 = jwk_key(jws::ec256_jwk);
    auto p384 = jwk_key(jws::ec384_jwk);
    std::string s256 = unb64u(jws::es256_signature), s384 = unb64u(jws::es384_signature);
    CHECK(s256.size() == 64);
    CHECK(s384.size() == 96);
    CHECK(p256.verify(crypto::SignatureAlg::es256, jws::jws_message, s256));
    CHECK(p384.verify(crypto::SignatureAlg::es384, jws::jws_message, s384));
    CHECK_FALSE(p256.verify(crypto::SignatureAlg::es256, "other", s256));
    // A curve that does not fit the algorithm, or an RSA algorithm on an EC key.
    CHECK_FALSE(p256.verify(crypto::SignatureAlg::es384, jws::jws_message, s384));
    CHECK_FALSE(p384.verify(crypto::SignatureAlg::es256, jws::jws_message, s256));
    CHECK_FALSE(p256.verify(crypto::SignatureAlg::rs256, jws::jws_message, s256));
    CHECK_FALSE(p256.verify(crypto::SignatureAlg::es256, jws::jws_message, s256.substr(1)));
    CHECK(p256.jwk() == nlohmann::json::parse(jws::ec256_jwk));
}

TEST_CASE("keys we generate sign what they verify") {
    auto rsa = crypto::PrivateKey::generate_rsa(2048);
    auto again = crypto::PrivateKey::from_pem(rsa.to_pem());
    auto sig = again.sign(crypto::SignatureAlg::rs256, "data");
    CHECK(jwk_key(rsa.public_key().jwk().dump()).verify(crypto::SignatureAlg::rs256, "data", sig));
    for (auto [curve, alg] : {std::pair{"P-256", crypto::SignatureAlg::es256}, std::pair{"P-384", crypto::SignatureAlg::es384},
                              std::pair{"P-521", crypto::SignatureAlg::es512}}) {
        CAPTURE(curve);
        auto ec = crypto::PrivateKey::generate_ec(curve);
        auto s = ec.sign(alg, "data");
        CHECK(jwk_key(ec.public_key().jwk().dump()).verify(alg, "data", s));
    }
}

TEST_CASE("JWS algorithm names: none and HMAC are not signatures we accept") {
    CHECK(crypto::jws_alg("RS256") == crypto::SignatureAlg::rs256);
    CHECK(crypto::jws_alg("ES384") == crypto::SignatureAlg::es384);
    CHECK_FALSE(crypto::jws_alg("none").has_value());
    CHECK_FALSE(crypto::jws_alg("HS256").has_value());
    CHECK_FALSE(crypto::jws_alg("rs256").has_value());
}

TEST_CASE("malformed JWKs are refused with a reason") {
    auto bad = [](const char* text) {
        CHECK_THROWS_AS(crypto::PublicKey::from_jwk(nlohmann::json::parse(text)), std::invalid_argument);
    };
    bad(R"({"kty":"oct","k":"AAAA"})");
    bad(R"({"kty":"RSA","e":"AQAB"})");
    bad(R"({"kty":"RSA","n":"AQAB","e":"AQAB"})");  // far too short
    bad(R"({"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"})");
    bad(R"({"kty":"EC","crv":"secp256k1","x":"AAAA","y":"AAAA"})");
    bad(R"([1,2])");
    // A point that is not on the curve: the P-256 key with y changed.
    auto j = nlohmann::json::parse(jws::ec256_jwk);
    std::string y = unb64u(j["y"].get<std::string>());
    y[5] = static_cast<char>(y[5] ^ 1);
    j["y"] = base64url_encode(y);
    CHECK_THROWS_AS(crypto::PublicKey::from_jwk(j), std::invalid_argument);
}

TEST_CASE("JWK thumbprint is RFC 7638's") {
    // RFC 7638 section 3.1's example key and thumbprint.
    auto jwk = nlohmann::json::parse(
        R"({"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"})");
    CHECK(crypto::jwk_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}
