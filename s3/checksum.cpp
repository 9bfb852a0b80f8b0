#include "s3/checksum.hpp"

#include <array>
#include <stdexcept>

#include "core/crypto.hpp"
#include "core/protocol.hpp"
#include "core/text.hpp"

namespace stratus::s3 {

namespace {

// Reflected CRC tables, built once: table k advances a byte through k further zero bytes,
// so eight input bytes are folded per step ("slicing-by-8", several times faster than a
// byte at a time: CRC64NVME is computed over every PutObject body without a checksum).
template <class T, T poly>
const std::array<std::array<T, 256>, 8>& crc_tables() {
    static const std::array<std::array<T, 256>, 8> tables = [] {
        std::array<std::array<T, 256>, 8> t{};
        for (unsigned i = 0; i < 256; ++i) {
            T c = static_cast<T>(i);
            for (int k = 0; k < 8; ++k) c = (c & 1) ? static_cast<T>((c >> 1) ^ poly) : static_cast<T>(c >> 1);
            t[0][i] = c;
        }
        for (unsigned i = 0; i < 256; ++i)
            for (std::size_t k = 1; k < 8; ++k) t[k][i] = static_cast<T>((t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF]);
        return t;
    }();
    return tables;
}

inline std::uint64_t load_le64(const unsigned char* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

template <class T, T poly>
T crc_update(T crc, std::string_view data) {
    const auto& t = crc_tables<T, poly>();
    crc = ~crc;
    auto p = reinterpret_cast<const unsigned char*>(data.data());
    std::size_t n = data.size();
    while (n >= 8) {
        std::uint64_t w = load_le64(p);
        if constexpr (sizeof(T) == 8) {
            w ^= crc;
            crc = t[7][w & 0xFF] ^ t[6][(w >> 8) & 0xFF] ^ t[5][(w >> 16) & 0xFF] ^ t[4][(w >> 24) & 0xFF] ^
                  t[3][(w >> 32) & 0xFF] ^ t[2][(w >> 40) & 0xFF] ^ t[1][(w >> 48) & 0xFF] ^ t[0][w >> 56];
        } else {
            auto lo = static_cast<std::uint32_t>(w) ^ crc;
            auto hi = static_cast<std::uint32_t>(w >> 32);
            crc = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^
                  t[3][hi & 0xFF] ^ t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
        }
        p += 8;
        n -= 8;
    }
    for (; n > 0; --n, ++p) crc = static_cast<T>(t[0][(crc ^ *p) & 0xFF] ^ (crc >> 8));
    return ~crc;
}

constexpr std::uint32_t crc32c_poly = 0x82F63B78u;
constexpr std::uint64_t crc64nvme_poly = 0x9A6C9329AC4BC9B5ull;

template <class T>
std::string big_endian(T v) {
    std::string out(sizeof(T), '\0');
    for (std::size_t i = 0; i < sizeof(T); ++i) out[sizeof(T) - 1 - i] = static_cast<char>((v >> (8 * i)) & 0xFF);
    return out;
}

// CRC-32 (the AWS CLI's and boto3's default checksum) is core's (zlib's): the same
// polynomial and conventions, several times faster than the table loop above.
class Crc32Digest final : public Digest {
public:
    void update(std::string_view bytes) override { crc_ = core::crc32(crc_, bytes); }
    std::string final() override { return big_endian(crc_); }

private:
    std::uint32_t crc_ = 0;
};

template <class T, T poly>
class CrcDigest final : public Digest {
public:
    void update(std::string_view bytes) override { crc_ = crc_update<T, poly>(crc_, bytes); }
    std::string final() override { return big_endian(crc_); }

private:
    T crc_ = 0;
};

// SHA-1, SHA-256 and MD5 through core's hasher.
class HashDigest final : public Digest {
public:
    explicit HashDigest(core::crypto::Hash hash) : hasher_(hash) {}
    void update(std::string_view bytes) override { hasher_.update(bytes); }
    std::string final() override { return hasher_.final(); }

private:
    core::crypto::Hasher hasher_;
};

bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (core::ascii_lower(a[i]) != core::ascii_lower(b[i])) return false;
    return true;
}

}  // namespace

std::optional<ChecksumAlgorithm> parse_algorithm(std::string_view name) {
    if (iequal(name, "crc32")) return ChecksumAlgorithm::crc32;
    if (iequal(name, "crc32c")) return ChecksumAlgorithm::crc32c;
    if (iequal(name, "crc64nvme")) return ChecksumAlgorithm::crc64nvme;
    if (iequal(name, "sha1")) return ChecksumAlgorithm::sha1;
    if (iequal(name, "sha256")) return ChecksumAlgorithm::sha256;
    return std::nullopt;
}

std::string_view algorithm_name(ChecksumAlgorithm a) {
    switch (a) {
        case ChecksumAlgorithm::crc32: return "CRC32";
        case ChecksumAlgorithm::crc32c: return "CRC32C";
        case ChecksumAlgorithm::crc64nvme: return "CRC64NVME";
        case ChecksumAlgorithm::sha1: return "SHA1";
        case ChecksumAlgorithm::sha256: return "SHA256";
    }
    return "";
}

std::string checksum_header(ChecksumAlgorithm a) {
    std::string h = "x-amz-checksum-";
    for (char c : algorithm_name(a)) h.push_back(core::ascii_lower(c));
    return h;
}

std::unique_ptr<Digest> make_digest(ChecksumAlgorithm a) {
    switch (a) {
        case ChecksumAlgorithm::crc32: return std::make_unique<Crc32Digest>();
        case ChecksumAlgorithm::crc32c: return std::make_unique<CrcDigest<std::uint32_t, crc32c_poly>>();
        case ChecksumAlgorithm::crc64nvme: return std::make_unique<CrcDigest<std::uint64_t, crc64nvme_poly>>();
        case ChecksumAlgorithm::sha1: return std::make_unique<HashDigest>(core::crypto::Hash::sha1);
        case ChecksumAlgorithm::sha256: return std::make_unique<HashDigest>(core::crypto::Hash::sha256);
    }
    throw std::logic_error("unknown checksum algorithm");
}

std::unique_ptr<Digest> make_md5() { return std::make_unique<HashDigest>(core::crypto::Hash::md5); }

std::string md5_raw(std::string_view data) {
    auto d = make_md5();
    d->update(data);
    return d->final();
}

std::uint32_t crc32c(std::uint32_t crc, std::string_view data) { return crc_update<std::uint32_t, crc32c_poly>(crc, data); }
std::uint64_t crc64nvme(std::uint64_t crc, std::string_view data) {
    return crc_update<std::uint64_t, crc64nvme_poly>(crc, data);
}

std::string hex_encode(std::string_view raw) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(raw.size() * 2);
    for (unsigned char c : raw) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

}  // namespace stratus::s3
