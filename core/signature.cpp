// JWS signatures over OpenSSL 3's EVP APIs (core/crypto.hpp): JWK -> EVP_PKEY, verify
// and sign for RS* / PS* / ES*, PEM in and out, JWK thumbprints.
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/base64.hpp"
#include "core/crypto.hpp"
#include "core/crypto_detail.hpp"

namespace stratus::core::crypto {

struct PublicKey::Key {
    explicit Key(EVP_PKEY* p) : pkey(p) {}
    ~Key() { EVP_PKEY_free(pkey); }
    Key(const Key&) = delete;
    Key& operator=(const Key&) = delete;
    EVP_PKEY* pkey;
};

namespace {

using json = nlohmann::json;

template <class T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const { Free(p); }
};
using Bn = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using ParamBld = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using Params = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using EcSig = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;

struct AlgInfo {
    SignatureAlg alg;
    std::string_view name;
    Hash hash;
    enum Family { rsa, pss, ec } family;
    int ec_bits;  // the curve an ES algorithm requires
};

constexpr AlgInfo algs[] = {
    {SignatureAlg::rs256, "RS256", Hash::sha256, AlgInfo::rsa, 0},
    {SignatureAlg::rs384, "RS384", Hash::sha384, AlgInfo::rsa, 0},
    {SignatureAlg::rs512, "RS512", Hash::sha512, AlgInfo::rsa, 0},
    {SignatureAlg::ps256, "PS256", Hash::sha256, AlgInfo::pss, 0},
    {SignatureAlg::ps384, "PS384", Hash::sha384, AlgInfo::pss, 0},
    {SignatureAlg::ps512, "PS512", Hash::sha512, AlgInfo::pss, 0},
    {SignatureAlg::es256, "ES256", Hash::sha256, AlgInfo::ec, 256},
    {SignatureAlg::es384, "ES384", Hash::sha384, AlgInfo::ec, 384},
    {SignatureAlg::es512, "ES512", Hash::sha512, AlgInfo::ec, 521},
};

const AlgInfo& info(SignatureAlg alg) {
    for (auto& a : algs)
        if (a.alg == alg) return a;
    return algs[0];
}

// Bytes of one coordinate (and of r and s) on a curve of `bits`.
std::size_t coord_size(int bits) { return static_cast<std::size_t>((bits + 7) / 8); }

bool suits(EVP_PKEY* pkey, const AlgInfo& a) {
    int id = EVP_PKEY_get_base_id(pkey);
    if (a.family == AlgInfo::ec) return id == EVP_PKEY_EC && EVP_PKEY_get_bits(pkey) == a.ec_bits;
    return id == EVP_PKEY_RSA;
}

Bn bn_from(std::string_view bytes) {
    Bn bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()), nullptr));
    if (!bn) throw std::runtime_error("BN_bin2bn failed");
    return bn;
}

std::string bn_bytes(const BIGNUM* bn, std::size_t pad = 0) {
    std::size_t n = std::max<std::size_t>(pad, static_cast<std::size_t>(BN_num_bytes(bn)));
    std::string out(n, '\0');
    if (BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) < 0)
        throw std::runtime_error("BN_bn2binpad failed");
    return out;
}

std::string member(const json& jwk, const char* name) {
    auto it = jwk.find(name);
    if (it == jwk.end() || !it->is_string()) throw std::invalid_argument(std::string("JWK has no \"") + name + "\"");
    auto bytes = base64url_decode(it->get_ref<const std::string&>());
    if (!bytes || bytes->empty()) throw std::invalid_argument(std::string("JWK \"") + name + "\" is not base64url");
    return std::move(*bytes);
}

EVP_PKEY* from_params(const char* type, OSSL_PARAM_BLD* bld) {
    Params params(OSSL_PARAM_BLD_to_param(bld));
    PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY* pkey = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
        throw std::invalid_argument(std::string("not a valid ") + type + " public key");
    return pkey;
}

std::string_view curve_name(int bits) {
    return bits == 256 ? "P-256" : bits == 384 ? "P-384" : bits == 521 ? "P-521" : "";
}

// JWS carries ECDSA signatures as r || s, each as wide as the curve's order; OpenSSL wants
// and gives DER.
std::string raw_to_der(std::string_view raw) {
    EcSig sig(ECDSA_SIG_new());
    Bn r = bn_from(raw.substr(0, raw.size() / 2));
    Bn s = bn_from(raw.substr(raw.size() / 2));
    if (!sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) throw std::runtime_error("ECDSA_SIG_set0 failed");
    (void)r.release();
    (void)s.release();
    int n = i2d_ECDSA_SIG(sig.get(), nullptr);
    if (n <= 0) throw std::runtime_error("i2d_ECDSA_SIG failed");
    std::string der(static_cast<std::size_t>(n), '\0');
    auto* p = reinterpret_cast<unsigned char*>(der.data());
    i2d_ECDSA_SIG(sig.get(), &p);
    return der;
}

std::string der_to_raw(std::string_view der, std::size_t coord) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    EcSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
    if (!sig) throw std::runtime_error("d2i_ECDSA_SIG failed");
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(sig.get(), &r, &s);
    return bn_bytes(r, coord) + bn_bytes(s, coord);
}

// Sets up PSS padding (salt as long as the digest, as RFC 7518 requires) on a digest
// context's key context.
bool setup_padding(EVP_PKEY_CTX* pctx, const AlgInfo& a) {
    if (a.family != AlgInfo::pss) return true;
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
}

}  // namespace

std::optional<SignatureAlg> jws_alg(std::string_view name) {
    for (auto& a : algs)
        if (a.name == name) return a.alg;
    return std::nullopt;
}

std::string_view jws_alg_name(SignatureAlg alg) { return info(alg).name; }

PublicKey PublicKey::from_jwk(const json& jwk) {
    if (!jwk.is_object()) throw std::invalid_argument("JWK is not an object");
    auto kty = jwk.find("kty");
    if (kty == jwk.end() || !kty->is_string()) throw std::invalid_argument("JWK has no \"kty\"");
    ParamBld bld(OSSL_PARAM_BLD_new());
    if (!bld) throw std::runtime_error("OSSL_PARAM_BLD_new failed");
    if (*kty == "RSA") {
        Bn n = bn_from(member(jwk, "n"));
        Bn e = bn_from(member(jwk, "e"));
        if (BN_num_bits(n.get()) < 1024) throw std::invalid_argument("RSA key shorter than 1024 bits");
        if (OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
            OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1)
            throw std::runtime_error("OSSL_PARAM_BLD_push_BN failed");
        return PublicKey(std::make_shared<Key>(from_params("RSA", bld.get())));
    }
    if (*kty == "EC") {
        auto crv = jwk.find("crv");
        int bits = 0;
        if (crv != jwk.end() && crv->is_string()) {
            const auto& c = crv->get_ref<const std::string&>();
            bits = c == "P-256" ? 256 : c == "P-384" ? 384 : c == "P-521" ? 521 : 0;
        }
        if (bits == 0) throw std::invalid_argument("JWK \"crv\" is not P-256, P-384 or P-521");
        std::string x = member(jwk, "x"), y = member(jwk, "y");
        if (x.size() != coord_size(bits) || y.size() != coord_size(bits))
            throw std::invalid_argument("JWK \"x\" / \"y\" do not fit the curve");
        std::string point = "\x04" + x + y;  // uncompressed SEC1 point
        std::string group(curve_name(bits));
        if (OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group.c_str(), 0) != 1 ||
            OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1)
            throw std::runtime_error("OSSL_PARAM_BLD_push failed");
        auto key = std::make_shared<Key>(from_params("EC", bld.get()));
        // fromdata does not check that the point lies on the curve.
        PkeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, key->pkey, nullptr));
        if (!check || EVP_PKEY_public_check(check.get()) != 1)
            throw std::invalid_argument("JWK point is not on the curve");
        return PublicKey(std::move(key));
    }
    throw std::invalid_argument("JWK \"kty\" is not RSA or EC");
}

PublicKey PublicKey::from_pem(std::string_view pem) {
    Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    EVP_PKEY* pkey = bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr;
    if (!pkey) throw std::invalid_argument("not a PEM public key");
    return PublicKey(std::make_shared<Key>(pkey));
}

bool PublicKey::verify(SignatureAlg alg, std::string_view data, std::string_view signature) const {
    const AlgInfo& a = info(alg);
    if (!key_ || !suits(key_->pkey, a)) return false;
    std::string der;
    if (a.family == AlgInfo::ec) {
        if (signature.size() != 2 * coord_size(a.ec_bits)) return false;
        der = raw_to_der(signature);
        signature = der;
    }
    MdCtx md(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;  // owned by md
    if (!md || EVP_DigestVerifyInit(md.get(), &pctx, evp_md(a.hash), nullptr, key_->pkey) != 1 ||
        !setup_padding(pctx, a))
        return false;
    return EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                            reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
}

json PublicKey::jwk() const {
    EVP_PKEY* pkey = key_->pkey;
    auto bn_param = [pkey](const char* name) {
        BIGNUM* raw = nullptr;
        if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) throw std::runtime_error("EVP_PKEY_get_bn_param failed");
        return Bn(raw);
    };
    if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA) {
        return json{{"kty", "RSA"},
                    {"n", base64url_encode(bn_bytes(bn_param(OSSL_PKEY_PARAM_RSA_N).get()))},
                    {"e", base64url_encode(bn_bytes(bn_param(OSSL_PKEY_PARAM_RSA_E).get()))}};
    }
    int bits = EVP_PKEY_get_bits(pkey);
    std::size_t coord = coord_size(bits);
    return json{{"kty", "EC"},
                {"crv", std::string(curve_name(bits))},
                {"x", base64url_encode(bn_bytes(bn_param(OSSL_PKEY_PARAM_EC_PUB_X).get(), coord))},
                {"y", base64url_encode(bn_bytes(bn_param(OSSL_PKEY_PARAM_EC_PUB_Y).get(), coord))}};
}

PrivateKey PrivateKey::generate_rsa(int bits) {
    EVP_PKEY* pkey = EVP_RSA_gen(static_cast<unsigned>(bits));
    if (!pkey) throw std::runtime_error("RSA key generation failed");
    return PrivateKey(std::make_shared<PublicKey::Key>(pkey));
}

PrivateKey PrivateKey::generate_ec(std::string_view curve) {
    std::string c(curve);
    EVP_PKEY* pkey = EVP_EC_gen(c.c_str());
    if (!pkey) throw std::invalid_argument("EC key generation failed for " + c);
    return PrivateKey(std::make_shared<PublicKey::Key>(pkey));
}

PrivateKey PrivateKey::from_pem(std::string_view pem) {
    Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    EVP_PKEY* pkey = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
    if (!pkey) throw std::invalid_argument("not a PEM private key");
    return PrivateKey(std::make_shared<PublicKey::Key>(pkey));
}

std::string PrivateKey::to_pem() const {
    Bio bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), key_->pkey, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        throw std::runtime_error("PEM_write_bio_PKCS8PrivateKey failed");
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

std::string PrivateKey::sign(SignatureAlg alg, std::string_view data) const {
    const AlgInfo& a = info(alg);
    if (!suits(key_->pkey, a)) throw std::invalid_argument(std::string(a.name) + " does not suit this key");
    MdCtx md(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;
    std::size_t n = 0;
    const auto* in = reinterpret_cast<const unsigned char*>(data.data());
    if (!md || EVP_DigestSignInit(md.get(), &pctx, evp_md(a.hash), nullptr, key_->pkey) != 1 ||
        !setup_padding(pctx, a) || EVP_DigestSign(md.get(), nullptr, &n, in, data.size()) != 1)
        throw std::runtime_error("EVP_DigestSignInit failed");
    std::string sig(n, '\0');
    if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &n, in, data.size()) != 1)
        throw std::runtime_error("EVP_DigestSign failed");
    sig.resize(n);
    if (a.family == AlgInfo::ec) return der_to_raw(sig, coord_size(a.ec_bits));
    return sig;
}

PublicKey PrivateKey::public_key() const {
    // The public half shares the EVP_PKEY: verification never touches the private part.
    return PublicKey(key_);
}

std::string jwk_thumbprint(const json& jwk) {
    json required;
    const std::string kty = jwk.value("kty", "");
    auto copy = [&](const char* name) {
        if (!jwk.contains(name)) throw std::invalid_argument(std::string("JWK has no \"") + name + "\"");
        required[name] = jwk[name];
    };
    if (kty == "RSA") {
        for (const char* m : {"e", "kty", "n"}) copy(m);
    } else if (kty == "EC") {
        for (const char* m : {"crv", "kty", "x", "y"}) copy(m);
    } else {
        throw std::invalid_argument("JWK \"kty\" is not RSA or EC");
    }
    // nlohmann's objects are ordered maps and dump() is compact: RFC 7638's canonical form.
    return base64url_encode(sha256(required.dump()));
}

}  // namespace stratus::core::crypto
