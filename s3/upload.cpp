#include "s3/upload.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>

#include "core/file_sink.hpp"
#include "core/text.hpp"
#include "s3/errors.hpp"

namespace stratus::s3 {

namespace {

constexpr std::size_t max_line = 4096;
constexpr std::size_t write_batch = 256 * 1024;

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return std::string(s);
}

}  // namespace

// A block of a large body as read from the network, and where its payload lies in it
// (all of it, or the data between aws-chunked framing). Page-aligned, for O_DIRECT.
struct UploadSink::Block {
    struct Free {
        void operator()(char* p) const { std::free(p); }
    };
    std::unique_ptr<char, Free> data{static_cast<char*>(std::aligned_alloc(4096, pipeline_block))};
    std::size_t used = 0;
    std::vector<std::pair<std::size_t, std::size_t>> payload;  // offset, length
    std::uint64_t file_offset = 0;  // where its payload goes in the file
    int stages_left = 0;            // hashing and writing: back to the free list at 0
};

// Two threads, each taking the sealed blocks in order: one updates the digests, the
// other writes the payload to the file (with O_DIRECT when the block allows it: a full
// page-aligned block of an unframed body skips the copy into the page cache, which on
// fresh memory costs about as much CPU as the MD5). A block is free again once both are
// done with it.
class UploadSink::Pipeline {
public:
    Pipeline(std::vector<Digest*> digests, int fd, int direct_fd, const std::string& path)
        : digests_(std::move(digests)), fd_(fd), direct_fd_(direct_fd), path_(path),
          hasher_([this] { loop(hash_queue_, [this](Block& b) { hash(b); }); }),
          writer_([this] { loop(write_queue_, [this](Block& b) { write(b); }); }) {}
    ~Pipeline() {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
        }
        cv_.notify_all();
        hasher_.join();
        writer_.join();
        // An abandoned upload: blocks still queued (each in one or both queues).
        for (auto* q : {&hash_queue_, &write_queue_})
            for (Block* b : *q)
                if (--b->stages_left == 0) delete b;
    }
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;

    // A free block, or a new one. Never waits: the caller paused first when all were out.
    std::unique_ptr<Block> get() {
        std::lock_guard lock(mutex_);
        std::unique_ptr<Block> b;
        if (free_.empty()) {
            b = std::make_unique<Block>();
            if (!b->data) throw std::bad_alloc();
        } else {
            b = std::move(free_.back());
            free_.pop_back();
        }
        ++out_;
        b->used = 0;
        b->payload.clear();
        return b;
    }
    void recycle(std::unique_ptr<Block> b) {
        std::lock_guard lock(mutex_);
        --out_;
        free_.push_back(std::move(b));
    }
    void submit(std::unique_ptr<Block> b) {
        {
            std::lock_guard lock(mutex_);
            b->stages_left = 2;
            Block* raw = b.release();  // owned by the two queues until the last stage frees it
            hash_queue_.push_back(raw);
            write_queue_.push_back(raw);
        }
        cv_.notify_all();
    }
    // See BodySink::pause. Not drain: may another block be taken? Drain: all done?
    bool pause(bool drain, std::function<void()>& resume) {
        std::lock_guard lock(mutex_);
        if (ready(drain)) return false;
        resume_ = std::move(resume);
        resume_drain_ = drain;
        return true;
    }
    // Blocks until everything submitted is hashed and written; rethrows a failure.
    void wait() {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return ready(true); });
        if (error_) std::rethrow_exception(error_);
    }

private:
    bool ready(bool drain) const {
        return drain ? busy_ == 0 && hash_queue_.empty() && write_queue_.empty() : out_ < max_blocks;
    }

    void hash(Block& b) {
        for (auto [off, len] : b.payload)
            for (auto* d : digests_) d->update(std::string_view(b.data.get() + off, len));
    }

    void write(Block& b) {
        bool direct = direct_fd_ >= 0 && b.payload.size() == 1 && b.payload[0].first == 0 &&
                      b.payload[0].second == pipeline_block && b.file_offset % 4096 == 0;
        int fd = direct ? direct_fd_ : fd_;
        std::vector<iovec> iov;
        for (auto [off, len] : b.payload) iov.push_back({b.data.get() + off, len});
        std::uint64_t at = b.file_offset;
        std::size_t first = 0;
        while (first < iov.size()) {
            int count = static_cast<int>(std::min<std::size_t>(iov.size() - first, IOV_MAX));
            ssize_t n = ::pwritev(fd, iov.data() + first, count, static_cast<off_t>(at));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && direct && errno == EINVAL) {
                // The file system takes no O_DIRECT after all: buffered from now on.
                direct_fd_ = -1;
                fd = fd_;
                direct = false;
                continue;
            }
            if (n <= 0) throw std::system_error(n < 0 ? errno : EIO, std::generic_category(), "cannot write " + path_);
            at += static_cast<std::uint64_t>(n);
            auto left = static_cast<std::size_t>(n);
            while (first < iov.size() && left >= iov[first].iov_len) left -= iov[first++].iov_len;
            if (left > 0) {
                iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
                iov[first].iov_len -= left;
            }
        }
    }

    template <class Work>
    void loop(std::deque<Block*>& queue, Work work) {
        std::unique_lock lock(mutex_);
        for (;;) {
            cv_.wait(lock, [&] { return stop_ || !queue.empty(); });
            if (stop_) return;
            Block* b = queue.front();
            queue.pop_front();
            ++busy_;
            bool failed = error_ != nullptr;
            lock.unlock();
            std::exception_ptr error;
            if (!failed) {
                try {
                    work(*b);
                } catch (...) {
                    error = std::current_exception();
                }
            }
            lock.lock();
            --busy_;
            if (error && !error_) error_ = error;
            if (--b->stages_left == 0) {
                --out_;
                free_.emplace_back(b);
            }
            cv_.notify_all();  // wait(), the other stage
            if (resume_ && ready(resume_drain_)) {
                std::function<void()> resume = std::move(resume_);
                resume_ = nullptr;
                lock.unlock();
                resume();
                lock.lock();
            }
        }
    }

    std::vector<Digest*> digests_;
    int fd_;
    int direct_fd_;  // -1: none; only the writer thread uses (and may drop) it
    std::string path_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<Block*> hash_queue_, write_queue_;
    std::vector<std::unique_ptr<Block>> free_;
    std::size_t out_ = 0;   // blocks handed out by get() and not back yet
    int busy_ = 0;          // blocks queued or being worked on, per stage
    bool stop_ = false;
    std::exception_ptr error_;
    std::function<void()> resume_;
    bool resume_drain_ = false;
    std::thread hasher_, writer_;  // last: they start once the rest is built
};

UploadSink::UploadSink(const std::string& spool_dir, UploadOptions options)
    : options_(options), spool_dir_(spool_dir) {
    md5_digest_ = make_md5();
    if (options_.checksum) checksum_digest_ = make_digest(*options_.checksum);
    // A small body stays in memory (what aws-chunked framing adds is allowed for; a
    // body that turns out larger spills to a file).
    constexpr std::uint64_t framing_allowance = 8192;
    in_memory_ = options_.inline_max > 0 && options_.expected_size <= options_.inline_max + framing_allowance;
    if (in_memory_) return;
    open_file();
    if (options_.expected_size >= pipeline_min) {
        std::vector<Digest*> digests{md5_digest_.get()};
        if (checksum_digest_) digests.push_back(checksum_digest_.get());
        // Unframed bodies are written in whole pages (but the last block). A file system
        // without O_DIRECT refuses the open (or the first write): buffered writes then.
        if (!options_.aws_chunked) direct_fd_ = ::open(path_.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC);
        try {
            pipeline_ = std::make_unique<Pipeline>(std::move(digests), fd_, direct_fd_, path_);
        } catch (...) {
            // No destructor runs for a constructor that throws.
            if (direct_fd_ >= 0) ::close(direct_fd_);
            ::close(fd_);
            ::unlink(path_.c_str());
            throw;
        }
    }
}

void UploadSink::open_file() {
    std::string tmpl = spool_dir_ + "/upload-XXXXXX";
    fd_ = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot create " + tmpl);
    path_ = std::move(tmpl);
}

void UploadSink::spill() {
    open_file();
    in_memory_ = false;
    write_buffer_ = std::move(memory_);
    memory_.clear();
}

UploadSink::~UploadSink() {
    pipeline_.reset();  // joins its threads before anything they use goes
    if (direct_fd_ >= 0) ::close(direct_fd_);
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
    if (chunk_digest_) chunk_digest_->update(bytes);
    size_ += bytes.size();
    if (pipeline_) {
        // Within cur_ (see take()): noted, written and hashed when the block is sealed.
        auto off = static_cast<std::size_t>(bytes.data() - cur_->data.get());
        auto& p = cur_->payload;
        if (!p.empty() && p.back().first + p.back().second == off)
            p.back().second += bytes.size();
        else
            p.emplace_back(off, bytes.size());
        return;
    }
    md5_digest_->update(bytes);
    if (checksum_digest_) checksum_digest_->update(bytes);
    if (in_memory_) {
        memory_.append(bytes);
        if (memory_.size() > options_.inline_max) spill();
        return;
    }
    // Small network reads are batched into fewer write calls.
    if (write_buffer_.empty() && bytes.size() >= write_batch) return core::write_all(fd_, bytes, path_);
    write_buffer_.append(bytes);
    if (write_buffer_.size() >= write_batch) {
        core::write_all(fd_, write_buffer_, path_);
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
    std::string name = core::ascii_lower(trim(line.substr(0, colon)));
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

std::span<char> UploadSink::buffer() {
    if (!pipeline_) return {};
    if (!cur_) cur_ = pipeline_->get();
    return {cur_->data.get() + cur_->used, pipeline_block - cur_->used};
}

void UploadSink::write(std::string_view bytes) {
    if (!pipeline_) return decode(bytes);
    if (cur_ && bytes.data() == cur_->data.get() + cur_->used) {
        // Read straight into the block (buffer()).
        if (bytes.size() > pipeline_block - cur_->used) throw std::logic_error("upload write past its block");
        return take(bytes.size());
    }
    while (!bytes.empty()) {
        // Bytes from elsewhere (what came with the request head): copied in.
        if (!cur_) cur_ = pipeline_->get();
        std::size_t n = std::min(bytes.size(), pipeline_block - cur_->used);
        std::memcpy(cur_->data.get() + cur_->used, bytes.data(), n);
        bytes.remove_prefix(n);
        take(n);
    }
}

void UploadSink::take(std::size_t n) {
    std::size_t at = cur_->used;
    cur_->used += n;
    decode(std::string_view(cur_->data.get() + at, n));
    if (cur_->used == pipeline_block) seal();
}

void UploadSink::seal() {
    auto b = std::move(cur_);
    if (b->payload.empty()) return pipeline_->recycle(std::move(b));  // framing only
    b->file_offset = sealed_;
    for (auto [off, len] : b->payload) sealed_ += len;
    pipeline_->submit(std::move(b));
}

bool UploadSink::pause(bool drain, std::function<void()>& resume) {
    if (!pipeline_) return false;
    if (drain && cur_) seal();
    // Not draining: only when the block is full (sealed) does the next read need another.
    if (!drain && cur_) return false;
    return pipeline_->pause(drain, resume);
}

void UploadSink::decode(std::string_view bytes) {
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
    if (pipeline_) {
        if (cur_) seal();
        pipeline_->wait();
        if (direct_fd_ >= 0) {
            ::close(direct_fd_);
            direct_fd_ = -1;
        }
    }
    if (!write_buffer_.empty()) {
        core::write_all(fd_, write_buffer_, path_);
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
    if (in_memory_) return;
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
        std::string n = core::ascii_lower(name);
        if (n.starts_with("x-amz-checksum-") && n != "x-amz-checksum-algorithm" && n != "x-amz-checksum-type" &&
            n != "x-amz-checksum-mode") {
            auto a = parse_algorithm(n.substr(15));
            if (!a) throw s3_error("InvalidRequest", "The algorithm type you specified in " + n + " header is invalid.");
            return a;
        }
    }
    if (auto t = req.headers.get("x-amz-trailer")) {
        std::string n = core::ascii_lower(trim(*t));
        if (n.starts_with("x-amz-checksum-")) {
            auto a = parse_algorithm(n.substr(15));
            if (!a) throw s3_error("InvalidRequest", "The value specified in the x-amz-trailer header is not supported");
            return a;
        }
    }
    for (auto h : {"x-amz-sdk-checksum-algorithm", "x-amz-checksum-algorithm"}) {
        if (auto v = req.headers.get(h)) {
            auto a = parse_algorithm(*v);
            if (!a) throw s3_error("InvalidRequest", "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]");
            return a;
        }
    }
    return std::nullopt;
}

UploadOptions upload_options(const core::Request& req, bool fsync) {
    UploadOptions o;
    std::string_view sha = req.headers.get_or("x-amz-content-sha256", "");
    std::string enc = core::ascii_lower(std::string(req.headers.get_or("content-encoding", "")));
    o.aws_chunked = sha.starts_with("STREAMING-") || enc.find("aws-chunked") != std::string::npos;
    o.signed_chunks = sha.starts_with("STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
    try {
        o.checksum = requested_checksum(req);
    } catch (const core::AwsError&) {
        o.checksum.reset();  // reported by the operation
    }
    o.fsync = fsync;
    if (auto len = req.headers.get("content-length")) {
        std::uint64_t n = 0;
        auto [end, ec] = std::from_chars(len->data(), len->data() + len->size(), n);
        if (ec == std::errc() && end == len->data() + len->size()) o.expected_size = n;
    }
    return o;
}

}  // namespace stratus::s3
