#include "s3/upload.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace stratus::s3 {

namespace {

constexpr std::size_t max_line = 4096;
constexpr std::size_t write_batch = 256 * 1024;

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return std::string(s);
}

std::string lowercase(std::string s) {
    for (auto& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

void write_all(int fd, std::string_view bytes, const std::string& path) {
    while (!bytes.empty()) {
        ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "cannot write " + path);
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

}  // namespace

UploadSink::UploadSink(const std::string& spool_dir, UploadOptions options) : options_(options) {
    std::string tmpl = spool_dir + "/upload-XXXXXX";
    fd_ = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot create " + tmpl);
    path_ = std::move(tmpl);
    md5_digest_ = make_md5();
    if (options_.checksum) checksum_digest_ = make_digest(*options_.checksum);
}

UploadSink::~UploadSink() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
}

std::string UploadSink::release() {
    std::string p = std::move(path_);
    path_.clear();
    return p;
}

void UploadSink::fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    state_ = State::done;
}

void UploadSink::payload(std::string_view bytes) {
    if (bytes.empty()) return;
    md5_digest_->update(bytes);
    if (checksum_digest_) checksum_digest_->update(bytes);
    if (chunk_digest_) chunk_digest_->update(bytes);
    size_ += bytes.size();
    // Small network reads are batched into fewer write calls.
    if (write_buffer_.empty() && bytes.size() >= write_batch) return write_all(fd_, bytes, path_);
    write_buffer_.append(bytes);
    if (write_buffer_.size() >= write_batch) {
        write_all(fd_, write_buffer_, path_);
        write_buffer_.clear();
    }
}

void UploadSink::header_line(std::string_view line) {
    // "<hex size>[;chunk-signature=<sig>]"
    auto semi = line.find(';');
    std::string size_text = trim(line.substr(0, semi));
    if (size_text.empty() || size_text.size() > 16) return fail("bad chunk size");
    std::uint64_t n = 0;
    for (char c : size_text) {
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (d < 0) return fail("bad chunk size");
        n = n * 16 + static_cast<unsigned>(d);
    }
    if (options_.signed_chunks) {
        Chunk chunk;
        if (semi != std::string_view::npos) {
            std::string_view ext = line.substr(semi + 1);
            if (ext.starts_with("chunk-signature=")) chunk.signature = trim(ext.substr(16));
        }
        chunks_.push_back(std::move(chunk));
        chunk_digest_ = make_digest(ChecksumAlgorithm::sha256);
    }
    remaining_ = n;
    if (n == 0) {
        if (chunk_digest_) {
            chunks_.back().sha256 = hex_encode(chunk_digest_->final());
            chunk_digest_.reset();
        }
        state_ = State::trailer;
    } else {
        state_ = State::data;
    }
}

void UploadSink::trailer_line(std::string_view line) {
    if (line.empty()) {
        state_ = State::done;
        return;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return fail("bad trailer");
    std::string name = lowercase(trim(line.substr(0, colon)));
    std::string value = trim(line.substr(colon + 1));
    if (name != "x-amz-trailer-signature") trailer_canonical_ += name + ":" + value + "\n";
    trailers_[name] = std::move(value);
}

std::optional<std::pair<std::string, std::string>> UploadSink::signed_trailer() const {
    auto sig = trailer_signature();
    if (!options_.signed_chunks || !sig) return std::nullopt;
    return std::make_pair(trailer_canonical_, *sig);
}

std::optional<std::string> UploadSink::trailer_signature() const {
    auto it = trailers_.find("x-amz-trailer-signature");
    if (it == trailers_.end()) return std::nullopt;
    return it->second;
}

void UploadSink::write(std::string_view bytes) {
    if (!options_.aws_chunked) return payload(bytes);
    while (!bytes.empty()) {
        switch (state_) {
            case State::done:
                // Bytes after the final chunk (a client that ends without a trailer CRLF
                // may still send one): ignored, as S3 does.
                return;
            case State::header:
            case State::trailer: {
                auto nl = bytes.find('\n');
                std::string_view part = bytes.substr(0, nl);
                line_.append(part);
                if (line_.size() > max_line) return fail("chunk header too long");
                if (nl == std::string_view::npos) return;
                bytes.remove_prefix(nl + 1);
                if (!line_.empty() && line_.back() == '\r') line_.pop_back();
                std::string line = std::move(line_);
                line_.clear();
                if (state_ == State::header) header_line(line);
                else trailer_line(line);
                break;
            }
            case State::data: {
                auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, bytes.size()));
                payload(bytes.substr(0, take));
                bytes.remove_prefix(take);
                remaining_ -= take;
                if (remaining_ == 0) {
                    if (chunk_digest_) {
                        chunks_.back().sha256 = hex_encode(chunk_digest_->final());
                        chunk_digest_.reset();
                    }
                    state_ = State::data_end;
                    line_.clear();
                }
                break;
            }
            case State::data_end: {
                // The CRLF after a chunk's data.
                auto nl = bytes.find('\n');
                line_.append(bytes.substr(0, nl));
                if (nl == std::string_view::npos) {
                    if (line_.size() > 2) return fail("missing CRLF after chunk");
                    return;
                }
                bytes.remove_prefix(nl + 1);
                if (!(line_.empty() || line_ == "\r")) return fail("missing CRLF after chunk");
                line_.clear();
                state_ = State::header;
                break;
            }
        }
    }
}

void UploadSink::finish() {
    if (!write_buffer_.empty()) {
        write_all(fd_, write_buffer_, path_);
        write_buffer_.clear();
        write_buffer_.shrink_to_fit();
    }
    // A body that ended inside the framing. "trailer" with no bytes yet is a client that
    // stopped right after the zero chunk, which S3 accepts.
    if (options_.aws_chunked && error_.empty() && state_ != State::done &&
        !(state_ == State::trailer && line_.empty()))
        fail("incomplete aws-chunked body");
    md5_ = md5_digest_->final();
    if (checksum_digest_) checksum_ = checksum_digest_->final();
    if (options_.fsync && ::fsync(fd_) != 0) throw std::system_error(errno, std::generic_category(), "fsync " + path_);
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) throw std::system_error(errno, std::generic_category(), "cannot close " + path_);
}

}  // namespace stratus::s3

#include "core/error.hpp"

namespace stratus::s3 {

std::optional<ChecksumAlgorithm> requested_checksum(const core::Request& req) {
    for (auto& [name, value] : req.headers.entries()) {
        std::string n = lowercase(name);
        if (n.starts_with("x-amz-checksum-") && n != "x-amz-checksum-algorithm" && n != "x-amz-checksum-type" &&
            n != "x-amz-checksum-mode") {
            auto a = parse_algorithm(n.substr(15));
            if (!a) throw core::AwsError("InvalidRequest", "The algorithm type you specified in " + n + " header is invalid.", 400);
            return a;
        }
    }
    if (auto t = req.headers.get("x-amz-trailer")) {
        std::string n = lowercase(trim(*t));
        if (n.starts_with("x-amz-checksum-")) {
            auto a = parse_algorithm(n.substr(15));
            if (!a) throw core::AwsError("InvalidRequest", "The value specified in the x-amz-trailer header is not supported", 400);
            return a;
        }
    }
    for (auto h : {"x-amz-sdk-checksum-algorithm", "x-amz-checksum-algorithm"}) {
        if (auto v = req.headers.get(h)) {
            auto a = parse_algorithm(*v);
            if (!a) throw core::AwsError("InvalidRequest", "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]", 400);
            return a;
        }
    }
    return std::nullopt;
}

UploadOptions upload_options(const core::Request& req, bool fsync) {
    UploadOptions o;
    std::string_view sha = req.headers.get_or("x-amz-content-sha256", "");
    std::string enc = lowercase(std::string(req.headers.get_or("content-encoding", "")));
    o.aws_chunked = sha.starts_with("STREAMING-") || enc.find("aws-chunked") != std::string::npos;
    o.signed_chunks = sha.starts_with("STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
    try {
        o.checksum = requested_checksum(req);
    } catch (const core::AwsError&) {
        o.checksum.reset();  // reported by the operation
    }
    o.fsync = fsync;
    return o;
}

}  // namespace stratus::s3
