// The body sink of S3 uploads (PutObject, UploadPart): decodes aws-chunked framing when
// the request uses it, and writes the payload to a temporary file in the spool directory
// while taking its MD5 (the ETag) and, when asked, one flexible checksum.
// Small bodies are hashed and written as they arrive. A large one (Content-Length of
// pipeline_min or more) is read by the server straight into the sink's blocks; each full
// block is then hashed on one thread of the sink's own and written to the file on another,
// so one upload streams at the speed of its slowest stage instead of their sum, and the
// I/O thread only reads (MD5 alone is ~550 MB/s per core, and bounds one stream). At most max_blocks blocks exist: the server's reading
// pauses (BodySink::pause) while all are waiting for the hasher, so memory stays flat.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/http_types.hpp"
#include "s3/checksum.hpp"

namespace stratus::s3 {

struct UploadOptions {
    bool aws_chunked = false;  // Content-Encoding aws-chunked / x-amz-content-sha256 STREAMING-*
    bool signed_chunks = false;  // STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER): keep chunk hashes
    std::optional<ChecksumAlgorithm> checksum;  // digest to compute besides MD5
    bool fsync = false;  // fsync the file before finish() returns (--durability full)
    std::uint64_t expected_size = 0;  // Content-Length as sent (framing included); 0: unknown
    // PutObject: a body of at most this many bytes is kept in memory (no file), for the
    // store to keep inline (Store::inline_max); 0: always a file (UploadPart).
    std::size_t inline_max = 0;
};

constexpr std::size_t pipeline_block = 1024 * 1024;
constexpr std::uint64_t pipeline_min = 1024 * 1024;
constexpr std::size_t max_blocks = 8;

class UploadSink final : public core::BodySink {
public:
    UploadSink(const std::string& spool_dir, UploadOptions options);
    ~UploadSink() override;
    UploadSink(const UploadSink&) = delete;
    UploadSink& operator=(const UploadSink&) = delete;

    std::span<char> buffer() override;
    void write(std::string_view bytes) override;
    bool pause(bool drain, std::function<void()>& resume) override;
    void finish() override;

    // Set when the aws-chunked framing was broken; the payload is then unusable.
    const std::string& framing_error() const { return error_; }
    std::uint64_t size() const { return size_; }
    const std::string& md5() const { return md5_; }            // raw 16 bytes
    const std::string& checksum() const { return checksum_; }  // raw digest, if computed
    // Trailing headers of an aws-chunked body (lowercased names).
    const std::map<std::string, std::string>& trailers() const { return trailers_; }
    using Chunk = core::SignedChunk;
    const std::vector<Chunk>& chunks() const { return chunks_; }
    const std::vector<core::SignedChunk>* signed_chunks() const override {
        return options_.signed_chunks ? &chunks_ : nullptr;
    }
    std::optional<std::string> trailer_signature() const;
    std::optional<std::pair<std::string, std::string>> signed_trailer() const override;

    // The file the body went to; empty when it stayed in memory (in_memory()).
    const std::string& path() const { return path_; }
    // The caller owns the file now (renamed it into the store).
    std::string release();
    // The body was small enough to stay in memory (UploadOptions::inline_max): no file.
    bool in_memory() const { return in_memory_; }
    const std::string& memory() const { return memory_; }

    struct Block;
    class Pipeline;

private:
    void decode(std::string_view bytes);
    void take(std::size_t n);  // n bytes read into cur_ at its end
    void seal();               // cur_ to the file and the hasher
    void payload(std::string_view bytes);
    void fail(std::string why);
    void open_file();  // creates the spool file
    void spill();      // the body outgrew inline_max: to a file
    void header_line(std::string_view line);
    void trailer_line(std::string_view line);

    UploadOptions options_;
    std::string spool_dir_;
    std::string path_;
    int fd_ = -1;
    bool in_memory_ = false;  // no file: the body is memory_
    std::string memory_;
    std::unique_ptr<Digest> md5_digest_;
    std::unique_ptr<Digest> checksum_digest_;
    std::unique_ptr<Digest> chunk_digest_;
    std::uint64_t size_ = 0;
    std::string md5_;
    std::string checksum_;
    std::string error_;
    // aws-chunked decoder state.
    enum class State { header, data, data_end, trailer, done } state_ = State::header;
    std::string line_;
    std::uint64_t remaining_ = 0;
    std::vector<Chunk> chunks_;
    std::map<std::string, std::string> trailers_;
    std::string trailer_canonical_;  // "name:value\n" per trailer as sent, signature excluded
    std::string write_buffer_;
    // Large bodies: the block being filled, payload bytes handed to the pipeline, a second
    // descriptor of the file opened with O_DIRECT (-1: none), and the hashing and writing
    // threads (declared last: they stop before what they use goes away).
    std::unique_ptr<Block> cur_;
    std::uint64_t sealed_ = 0;
    int direct_fd_ = -1;
    std::unique_ptr<Pipeline> pipeline_;
};

}  // namespace stratus::s3

namespace stratus::s3 {

// The flexible checksum a request asks for: an x-amz-checksum-<alg> header, the
// algorithm named in x-amz-trailer, x-amz-sdk-checksum-algorithm or
// x-amz-checksum-algorithm. Throws InvalidRequest for an unknown algorithm.
std::optional<ChecksumAlgorithm> requested_checksum(const core::Request& req);
// Upload options from the request head (framing, checksum).
UploadOptions upload_options(const core::Request& req, bool fsync);

}  // namespace stratus::s3
