// The digests S3 checks and returns: Content-MD5 / ETag (MD5) and the flexible checksums
// (x-amz-checksum-crc32 / crc32c / crc64nvme / sha1 / sha256), computed incrementally as
// a body streams in. Domain header: standard library only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/base64.hpp"

namespace stratus::s3 {

enum class ChecksumAlgorithm { crc32, crc32c, crc64nvme, sha1, sha256 };

// "CRC32" / "crc32" ... ; nullopt for anything else.
std::optional<ChecksumAlgorithm> parse_algorithm(std::string_view name);
// "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256" (the wire form of ChecksumAlgorithm).
std::string_view algorithm_name(ChecksumAlgorithm a);
// "x-amz-checksum-crc32" ...
std::string checksum_header(ChecksumAlgorithm a);

// An incremental digest; final() returns the raw digest bytes (big-endian for CRCs).
class Digest {
public:
    virtual ~Digest() = default;
    virtual void update(std::string_view bytes) = 0;
    virtual std::string final() = 0;
};

std::unique_ptr<Digest> make_digest(ChecksumAlgorithm a);
std::unique_ptr<Digest> make_md5();

using core::base64_decode;  // core/base64.hpp
using core::base64_encode;
std::string hex_encode(std::string_view raw);

// One-shot helpers.
std::string md5_raw(std::string_view data);
std::uint32_t crc32c(std::uint32_t crc, std::string_view data);
std::uint64_t crc64nvme(std::uint64_t crc, std::string_view data);

}  // namespace stratus::s3
