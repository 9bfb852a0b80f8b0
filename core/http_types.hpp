// Plain request / response structs: what crosses from the HTTP layer (Beast) into the
// services. No Beast or Asio types here, so every service and domain header can include it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stratus::core {

bool iequals(std::string_view a, std::string_view b) noexcept;

// Ordered header list with case-insensitive lookup. Order and duplicates are kept, as
// SigV4 canonicalisation needs them.
class Headers {
public:
    using Entry = std::pair<std::string, std::string>;

    // First value of `name`, or nullopt.
    std::optional<std::string_view> get(std::string_view name) const;
    std::string_view get_or(std::string_view name, std::string_view fallback) const;
    bool has(std::string_view name) const { return get(name).has_value(); }
    // Replaces every value of `name` with one.
    void set(std::string name, std::string value);
    // Appends without touching existing values.
    void add(std::string name, std::string value);
    void erase(std::string_view name);
    void reserve(std::size_t n) { entries_.reserve(n); }

    const std::vector<Entry>& entries() const { return entries_; }
    bool empty() const { return entries_.empty(); }

private:
    std::vector<Entry> entries_;
};

// A service that streams a request body (S3 uploads) gets the bytes here as they arrive,
// instead of in Request::body. finish() is called once after the last byte; a request
// that fails before that just drops the sink (its destructor cleans up).
// One chunk of an aws-chunked body signed chunk by chunk (S3's
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD): the chunk-signature sent, and the SHA-256 (hex) of
// the chunk's data.
struct SignedChunk {
    std::string signature;
    std::string sha256;
};

class BodySink {
public:
    virtual ~BodySink() = default;
    // Where the server should read the next body bytes into, so that they reach the sink
    // without a copy (a write() of bytes inside it follows). Empty: the sink has no buffer
    // of its own; the server reads into its own and write() copies what it keeps.
    virtual std::span<char> buffer() { return {}; }
    // The next body bytes, in order; they may or may not lie in buffer().
    virtual void write(std::string_view bytes) = 0;
    // Flow control for sinks that work off the I/O thread (S3 hashes large uploads on a
    // thread of their own). The server asks after each write() (drain = false: may it read
    // on?) and once before finish() (drain = true: is everything written so far processed?).
    // false: go on now (`resume` is dropped). true: the sink calls `resume` exactly once,
    // from any thread, when the answer becomes yes; the server reads nothing meanwhile.
    virtual bool pause(bool /*drain*/, std::function<void()>& /*resume*/) { return false; }
    // After the last byte. Must work without a pause(true) before it (it then waits).
    virtual void finish() = 0;
    // A sink that decodes signed aws-chunked framing reports the chunks, so that the
    // signature chain can be verified (nullptr: it does not decode such bodies).
    virtual const std::vector<SignedChunk>* signed_chunks() const { return nullptr; }
    // ...and, for the -TRAILER variant, the trailing headers as signed ("name:value\n"
    // each, in the order sent, without the signature) and x-amz-trailer-signature.
    virtual std::optional<std::pair<std::string, std::string>> signed_trailer() const { return std::nullopt; }
};

// How the HTTP layer reads a request's body, decided by the service from the head.
struct BodyPolicy {
    // Bodies larger than this are refused (the service's own error, see Service).
    std::uint64_t limit = 16 * 1024 * 1024;
    // When set, the body is streamed into this sink rather than held in Request::body.
    std::function<std::unique_ptr<BodySink>()> make_sink;
};

struct QueryParam {
    std::string name;   // percent-decoded
    std::string value;  // percent-decoded
    bool has_value = false;  // "?uploads" vs "?uploads="
};

struct Request {
    std::string method;    // "GET", "PUT", ...
    std::string target;    // raw request-target as received ("/a%20b?x=1")
    std::string path;      // raw path part of target (still percent-encoded)
    std::string query;     // raw query string without '?'
    Headers headers;
    std::string body;                    // unless streamed
    std::unique_ptr<BodySink> body_sink; // when streamed (already finished)
    std::uint64_t body_size = 0;         // bytes received, either way

    std::string request_id;
    std::string remote_address;
    // Who signed the request, once --verify-signatures checked it; empty when unsigned
    // (a service may let some anonymous requests through) or when nothing is checked.
    std::string access_key;
    std::chrono::system_clock::time_point received_at{};

    // Percent-decoded path ("/a b").
    std::string decoded_path() const;
    // Query parameters decoded, in order.
    std::vector<QueryParam> query_params() const;
    std::optional<std::string> query_param(std::string_view name) const;
    // Host header without the port.
    std::string_view host() const;
};

// A response body read from an open file (S3 objects), sent in chunks by the server so it
// never sits in memory. Owns the descriptor: an object deleted or overwritten while it is
// being sent stays readable through it.
struct FileBody {
    FileBody(int file, std::uint64_t from, std::uint64_t count) : fd(file), offset(from), length(count) {}
    ~FileBody();
    FileBody(const FileBody&) = delete;
    FileBody& operator=(const FileBody&) = delete;
    int fd;
    std::uint64_t offset;
    std::uint64_t length;
};

// A response body produced while it is being sent (Lambda's response streaming): the
// server sends the head at once, then each piece as it comes (chunked transfer encoding on
// HTTP/1.1; to the connection's end on HTTP/1.0). The producer calls write() and, once,
// finish(), from any thread.
class BodyStream {
public:
    void write(std::string bytes);
    void finish();
    // The connection ended before finish(): further writes are dropped.
    bool closed() const;

    // The server's side. Moves what is buffered into `out`; true once finished and all is
    // taken. When nothing is buffered and it is not finished, `wake` runs once (on the
    // producer's thread) when that changes.
    bool take(std::string& out, std::function<void()> wake);
    void close();

private:
    mutable std::mutex mutex_;
    std::string buffer_;
    bool finished_ = false;
    bool closed_ = false;
    std::function<void()> wake_;
};

struct Response {
    int status = 200;
    Headers headers;
    // For HEAD requests the body is not sent; a Content-Length header set by the service
    // is sent as is (S3 HeadObject).
    std::string body;
    // When set, the body is these file bytes instead (Content-Length = file->length).
    std::shared_ptr<FileBody> file;
    // When set, the body is what this stream produces (no Content-Length).
    std::shared_ptr<BodyStream> stream;
    bool close = false;            // close the connection after this response
    // For the access log: the operation the service ran ("PutItem"), if any.
    std::string operation;
};

// Completion callback handed to a service. May be called from any thread, exactly once.
using Reply = std::function<void(Response&&)>;

std::string percent_decode(std::string_view s, bool plus_as_space = false);
// RFC 3986 unreserved characters kept; everything else %XX (uppercase), as SigV4 wants.
std::string uri_encode(std::string_view s, bool encode_slash = true);

}  // namespace stratus::core
