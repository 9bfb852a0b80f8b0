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
