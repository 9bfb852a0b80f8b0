#include "core/server.hpp"

#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <csignal>
#include <array>
#include <limits>
#include <atomic>
#include <charconv>
#include <ctime>
#include <iterator>
#include <list>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <thread>

#include "core/http_head.hpp"
#include "core/log.hpp"
#include "core/net.hpp"

namespace stratus::core {

namespace {

constexpr std::size_t body_chunk_size = 64 * 1024;
constexpr std::int64_t no_deadline = std::numeric_limits<std::int64_t>::max();

// Each thread runs its own io_context and every connection lives on one of them, so a
// connection's handlers never race and need no strand; the concrete executor type keeps
// Asio's type-erased executor out of the hot path.
using executor_type = net::io_context::executor_type;
using socket_type = net::basic_stream_socket<tcp, executor_type>;
using acceptor_type = net::basic_socket_acceptor<tcp, executor_type>;
using timer_type = net::basic_waitable_timer<std::chrono::steady_clock, net::wait_traits<std::chrono::steady_clock>,
                                             executor_type>;

std::int64_t steady_now() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

bool is_http_error(const beast::error_code& ec) {
    return ec.category() == http::make_error_code(http::error::bad_target).category();
}

// RFC 7231 date, formatted once per second per thread.
const std::string& http_date() {
    thread_local std::time_t cached_at = 0;
    thread_local std::string cached;
    std::time_t now = std::time(nullptr);
    if (now != cached_at) {
        std::tm tm{};
        gmtime_r(&now, &tm);
        char buf[64];
        std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        cached = buf;
        cached_at = now;
    }
    return cached;
}

class Listener;

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(socket_type&& socket, Listener& listener);
    ~Session();
    void start();
    // Graceful stop: close when idle, or right after the response in flight.
    void shutdown();
    // Called by the listener's sweeper when the deadline may have passed.
    void check_deadline();
    std::int64_t deadline() const { return deadline_.load(std::memory_order_relaxed); }

private:
    void read_header();
    void on_header(beast::error_code ec);
    void read_body();
    void on_body(beast::error_code ec);
    void on_direct(beast::error_code ec, const char* data, std::size_t n);
    bool take_body(const char* data, std::size_t n);
    bool paused(bool drain);
    void sink_failed(const std::exception& e);  // answers 500 and closes
    bool body_pending() const { return direct_ ? body_left_ > 0 : parser_ && !parser_->is_done(); }
    void run();
    void write(Response&& response);
    void on_write(beast::error_code ec, bool keep_alive);
    void write_file_chunk(bool keep_alive);
    void pump_stream(bool keep_alive, bool chunked);
    void log_done(int status, const std::string& operation);
    void reject(int status, std::string_view reason);
    void close();
    void linger();
    void discard();
    void arm_deadline(std::chrono::nanoseconds after);
    void arm_deadline();

    socket_type socket_;
    beast::flat_buffer buffer_;
    Listener& listener_;
    std::optional<http::request_parser<http::buffer_body>> parser_;
    // The response head being written (its capacity kept for the connection's next one),
    // and a string body after it.
    std::string out_head_;
    std::string out_body_;
    // A response whose body comes from a file: the head alone, then the file in chunks.
    std::shared_ptr<FileBody> file_;
    std::uint64_t file_sent_ = 0;
    std::unique_ptr<char[]> out_chunk_;
    bool sendfile_failed_ = false;
    // The response in flight's status and operation, for the access log.
    int out_status_ = 0;
    std::string out_operation_;
    // A streamed response (Response::stream): the head, then pieces as they come.
    std::shared_ptr<BodyStream> stream_;
    std::string stream_out_;
    std::unique_ptr<char[]> chunk_;
    Request request_;
    Plan plan_;
    std::string remote_address_;  // the peer's address, asked once per connection
    bool remote_known_ = false;
    std::uint64_t received_ = 0;
    // A body with a Content-Length is read by us, not the parser: straight from the socket
    // into the sink's buffer when it has one (S3 uploads), in reads as large as it offers.
    bool direct_ = false;
    std::uint64_t body_left_ = 0;
    bool drained_ = false;  // the sink said everything written was processed
    std::size_t linger_left_ = 0;
    unsigned version_ = 11;
    bool keep_alive_ = true;
    bool head_ = false;
    bool busy_ = false;
    bool stopping_ = false;
    bool closed_ = false;
    // steady-clock nanoseconds after which the connection is closed for inactivity;
    // no_deadline while the service works on a request. Read by the sweeper thread.
    std::atomic<std::int64_t> deadline_{no_deadline};
    std::string log_target_;
    std::chrono::steady_clock::time_point started_;
    std::list<std::weak_ptr<Session>>::iterator registry_pos_;
    friend class Listener;
};

class Listener {
public:
    using ContextPicker = std::function<net::io_context&()>;

    Listener(net::io_context& main, ContextPicker pick, const ListenerOptions& options, HttpHandler& handler)
        : acceptor_(std::in_place, main.get_executor()), sweeper_(std::in_place, main.get_executor()),
          pick_(std::move(pick)), options_(options), handler_(handler) {
        beast::error_code ec;
        auto address = net::ip::make_address(options.host, ec);
        if (ec) throw std::runtime_error("invalid listen address '" + options.host + "'");
        tcp::endpoint endpoint{address, options.port};
        acceptor_->open(endpoint.protocol(), ec);
        if (!ec) acceptor_->set_option(net::socket_base::reuse_address(true), ec);
        if (!ec) acceptor_->bind(endpoint, ec);
        if (!ec) acceptor_->listen(net::socket_base::max_listen_connections, ec);
        if (ec)
            throw std::runtime_error(
                fmt::format("cannot listen on {}:{}: {}", options.host, options.port, ec.message()));
        port_ = acceptor_->local_endpoint().port();
        // Idle connections are found by a sweep rather than a timer per read: arming a
        // timer on every operation cost more than the rest of a small request.
        sweep_period_ = std::clamp(options.idle_timeout / 4, std::chrono::milliseconds(20),
                                   std::chrono::milliseconds(1000));
    }

    void start() {
        accept();
        sweep();
    }

    // Runs on the main context.
    void stop() {
        beast::error_code ec;
        if (acceptor_) acceptor_->close(ec);
        if (sweeper_) sweeper_->cancel();
        std::vector<std::shared_ptr<Session>> live;
        {
            std::lock_guard lock(mutex_);
            for (auto& weak : sessions_)
                if (auto s = weak.lock()) live.push_back(std::move(s));
        }
        for (auto& s : live) s->shutdown();
    }

    // Before the io_contexts are destroyed: these handles belong to them.
    void release_handles() {
        acceptor_.reset();
        sweeper_.reset();
    }

    std::size_t active() const { return active_.load(); }
    std::uint16_t port() const { return port_; }
    const ListenerOptions& options() const { return options_; }
    HttpHandler& handler() { return handler_; }

    void remove(Session& s) {
        std::lock_guard lock(mutex_);
        sessions_.erase(s.registry_pos_);
        --active_;
    }

private:
    void accept() {
        acceptor_->async_accept(pick_().get_executor(), [this](beast::error_code ec, socket_type socket) {
            if (ec == net::error::operation_aborted || !acceptor_ || !acceptor_->is_open()) return;
            if (!ec) {
                auto s = std::make_shared<Session>(std::move(socket), *this);
                {
                    std::lock_guard lock(mutex_);
                    s->registry_pos_ = sessions_.insert(sessions_.end(), s);
                    ++active_;
                }
                s->start();
            } else {
                log::warn("accept failed: {}", ec.message());
            }
            accept();
        });
    }

    void sweep() {
        sweeper_->expires_after(sweep_period_);
        sweeper_->async_wait([this](beast::error_code ec) {
            if (ec) return;
            std::int64_t now = steady_now();
            std::vector<std::shared_ptr<Session>> expired;
            {
                std::lock_guard lock(mutex_);
                for (auto& weak : sessions_)
                    if (auto s = weak.lock(); s && s->deadline() < now) expired.push_back(std::move(s));
            }
            for (auto& s : expired) s->check_deadline();
            sweep();
        });
    }

    std::optional<acceptor_type> acceptor_;
    std::optional<timer_type> sweeper_;
    ContextPicker pick_;
    ListenerOptions options_;
    HttpHandler& handler_;
    std::uint16_t port_ = 0;
    std::chrono::milliseconds sweep_period_{250};
    std::mutex mutex_;
    std::list<std::weak_ptr<Session>> sessions_;
    std::atomic<std::size_t> active_{0};
};

Session::Session(socket_type&& socket, Listener& listener) : socket_(std::move(socket)), listener_(listener) {
    beast::error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
}

Session::~Session() {
    if (stream_) stream_->close();
    listener_.remove(*this);
}

void Session::start() {
    net::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->read_header(); });
}

void Session::shutdown() {
    net::dispatch(socket_.get_executor(), [self = shared_from_this()] {
        self->stopping_ = true;
        if (!self->busy_) self->close();
    });
}

void Session::check_deadline() {
    net::dispatch(socket_.get_executor(), [self = shared_from_this()] {
        if (self->deadline() < steady_now()) self->close();  // pending operations end with operation_aborted
    });
}

void Session::arm_deadline(std::chrono::nanoseconds after) {
    deadline_.store(steady_now() + after.count(), std::memory_order_relaxed);
}

void Session::arm_deadline() { arm_deadline(listener_.options().idle_timeout); }

void Session::close() {
    if (closed_) return;
    closed_ = true;
    if (stream_) stream_->close();  // the producer stops writing into the void
    deadline_.store(no_deadline, std::memory_order_relaxed);
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    socket_.close(ec);
}

void Session::read_header() {
    if (stopping_) return close();
    parser_.emplace();
    parser_->header_limit(listener_.options().header_limit);
    // The body limit is the service's, checked by us once the head says which service.
    parser_->body_limit(boost::none);
    arm_deadline();
    http::async_read_header(socket_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
}

void Session::on_header(beast::error_code ec) {
    if (ec) {
        if (closed_ || stopping_ || ec == http::error::end_of_stream || ec == net::error::eof ||
            ec == net::error::operation_aborted || ec == net::error::connection_reset)
            return close();
        if (is_http_error(ec)) {
            // Malformed HTTP: answer 400 and close; never guess at the rest of the stream.
            // A head over the limit: 414 when its request line alone is (the parser got no
            // target), else 431, each with the reason phrase as its text.
            if (ec == http::error::header_limit) {
                bool line_ended = !parser_->get().target().empty();
                return reject(line_ended ? 431 : 414, line_ended ? "Request Header Fields Too Large" : "URI Too Long");
            }
            return reject(400, ec.message());
        }
        return close();
    }
    busy_ = true;
    started_ = std::chrono::steady_clock::now();
    auto& msg = parser_->get();
    request_ = Request{};
    request_.method = std::string(msg.method_string());
    request_.target = std::string(msg.target());
    auto q = request_.target.find('?');
    request_.path = request_.target.substr(0, q);
    if (q != std::string::npos) request_.query = request_.target.substr(q + 1);
    request_.headers.reserve(static_cast<std::size_t>(std::distance(msg.begin(), msg.end())));
    for (const auto& field : msg) request_.headers.add(std::string(field.name_string()), std::string(field.value()));
    if (!remote_known_) {
        beast::error_code ep_ec;
        auto ep = socket_.remote_endpoint(ep_ec);
        if (!ep_ec) remote_address_ = ep.address().to_string();
        remote_known_ = !ep_ec;
    }
    request_.remote_address = remote_address_;
    request_.received_at = std::chrono::system_clock::now();
    version_ = msg.version();
    keep_alive_ = msg.keep_alive();
    head_ = msg.method() == http::verb::head;
    received_ = 0;
    if (listener_.options().access_log && log::enabled(log::Level::info)) {
        // JSON protocols name the operation in X-Amz-Target ("DynamoDB_20120810.PutItem").
        auto target = request_.headers.get("x-amz-target");
        if (target && target->find('.') != std::string_view::npos)
            log_target_ = std::string(target->substr(target->find('.') + 1));
        else
            log_target_ = request_.method + " " + request_.path;
    }

    plan_ = listener_.handler().plan(request_);

    auto length = parser_->content_length();
    drained_ = false;
    direct_ = length && !parser_->is_done() && !parser_->chunked();
    body_left_ = direct_ ? *length : 0;
    if (length && *length > plan_.body.limit) {
        // Refuse before reading a byte; the unread body forces the connection closed.
        Response r = plan_.too_large(request_);
        r.close = true;
        return write(std::move(r));
    }
    if (iequals(msg[http::field::expect], "100-continue")) {
        // boto3 and the AWS CLI wait (up to a second) for this before sending upload bodies.
        // Sent for an empty body too, as S3 does: botocore takes a final status line read
        // while it waits for this one as its response, and then misreads the *next*
        // response on the connection (its AWSConnection keeps the status it read), so an
        // empty PutObject stalled the following request until its read timeout.
        auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, version_);
        return http::async_write(socket_, *cont, [self = shared_from_this(), cont](beast::error_code ec, std::size_t) {
            if (ec) return self->close();
            self->read_body();
        });
    }
    read_body();
}

void Session::read_body() {
    if (closed_) return;
    if (direct_) {
        if (!request_.body_sink && plan_.body.make_sink) {
            try {
                request_.body_sink = plan_.body.make_sink();
            } catch (const std::exception& e) {
                return sink_failed(e);
            }
        }
        // What the head's read already took in.
        while (body_left_ > 0 && buffer_.size() > 0) {
            auto n = static_cast<std::size_t>(std::min<std::uint64_t>(buffer_.size(), body_left_));
            bool ok = take_body(static_cast<const char*>(buffer_.data().data()), n);
            buffer_.consume(n);
            if (!ok || paused(false)) return;
        }
        if (body_left_ == 0) return run();
        std::span<char> into = request_.body_sink ? request_.body_sink->buffer() : std::span<char>{};
        if (into.empty()) {
            if (!chunk_) chunk_ = std::make_unique<char[]>(body_chunk_size);
            into = {chunk_.get(), body_chunk_size};
        }
        auto want = static_cast<std::size_t>(std::min<std::uint64_t>(into.size(), body_left_));
        arm_deadline();
        socket_.async_read_some(net::buffer(into.data(), want),
                                [self = shared_from_this(), data = into.data()](beast::error_code ec, std::size_t n) {
                                    self->on_direct(ec, data, n);
                                });
        return;
    }
    if (parser_->is_done()) return run();
    if (!request_.body_sink && plan_.body.make_sink) request_.body_sink = plan_.body.make_sink();
    if (!chunk_) chunk_ = std::make_unique<char[]>(body_chunk_size);
    auto& body = parser_->get().body();
    body.data = chunk_.get();
    body.size = body_chunk_size;
    // Each read renews the deadline, so a long upload is fine while a stalled one is not.
    arm_deadline();
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
}

void Session::on_direct(beast::error_code ec, const char* data, std::size_t n) {
    if (ec || n == 0) return close();  // client went away or timed out mid-body
    if (!take_body(data, n) || paused(false)) return;
    read_body();
}

void Session::sink_failed(const std::exception& e) {
    log::error("request body sink failed: {}", e.what());
    Response r;
    r.status = 500;
    r.close = true;
    write(std::move(r));
}

// Counts and hands on body bytes; false when it answered instead (too large, sink failed).
bool Session::take_body(const char* data, std::size_t n) {
    received_ += n;
    body_left_ -= std::min<std::uint64_t>(n, body_left_);
    if (received_ > plan_.body.limit) {
        Response r = plan_.too_large(request_);
        r.close = true;
        write(std::move(r));
        return false;
    }
    try {
        if (request_.body_sink)
            request_.body_sink->write(std::string_view(data, n));
        else
            request_.body.append(data, n);
    } catch (const std::exception& e) {
        sink_failed(e);
        return false;
    }
    return true;
}

// Whether the sink holds the reading back; it then resumes it (read on, or run when
// drained) from whatever thread it works on.
bool Session::paused(bool drain) {
    if (!request_.body_sink) return false;
    std::function<void()> resume = [self = shared_from_this(), drain]() mutable {
        auto ex = self->socket_.get_executor();
        // The reference moves into the handler: the sink's thread, which may drop its copy
        // of this function last, must never hold the session's last reference.
        net::post(ex, [self = std::move(self), drain] {
            if (drain)
                self->run();
            else
                self->read_body();
        });
    };
    return request_.body_sink->pause(drain, resume);
}

void Session::on_body(beast::error_code ec) {
    if (ec == http::error::need_buffer) ec = {};
    if (ec) {
        if (!closed_ && is_http_error(ec) && ec != http::error::end_of_stream && ec != http::error::partial_message)
            return reject(400, ec.message());  // bad chunk encoding
        return close();  // client went away or timed out mid-body
    }
    auto& body = parser_->get().body();
    std::size_t got = body_chunk_size - body.size;
    received_ += got;
    if (received_ > plan_.body.limit) {
        Response r = plan_.too_large(request_);
        r.close = true;
        return write(std::move(r));
    }
    if (got > 0) {
        try {
            if (request_.body_sink)
                request_.body_sink->write(std::string_view(chunk_.get(), got));
            else
                request_.body.append(chunk_.get(), got);
        } catch (const std::exception& e) {
            return sink_failed(e);
        }
        if (paused(false)) return;
    }
    if (parser_->is_done()) return run();
    read_body();
}

void Session::run() {
    request_.body_size = received_;
    if (request_.body_sink) {
        if (!drained_) {
            drained_ = true;
            if (paused(true)) return;
        }
        try {
            request_.body_sink->finish();
        } catch (const std::exception& e) {
            return sink_failed(e);
        }
    }
    // A service may take long (a Lambda invocation): no deadline while it runs.
    deadline_.store(no_deadline, std::memory_order_relaxed);
    auto self = shared_from_this();
    // A real move: whatever the service leaves in the request (an unclaimed upload spool
    // file) is released when the call returns, not when the connection ends.
    Request request = std::move(request_);
    plan_.run(std::move(request), [self](Response&& r) {
        net::dispatch(self->socket_.get_executor(),
                      [self, r = std::move(r)]() mutable { self->write(std::move(r)); });
    });
}

void Session::write(Response&& r) {
    if (closed_) {
        if (r.stream) r.stream->close();
        return;
    }
    HeadFraming framing;
    framing.version = version_;
    framing.keep_alive = keep_alive_ && !r.close && !stopping_;
    if (r.stream) {
        // HTTP/1.0 has no chunks: the body ends with the connection.
        framing.chunked = version_ >= 11 && !head_;
        framing.keep_alive = framing.keep_alive && (framing.chunked || head_);
    } else if (r.file) {
        framing.content_length = r.file->length;
    } else if (r.status == 304) {
        // Not Modified has no body and, as S3 and most servers send it, no Content-Length
        // (RFC 9110 15.4.5 allows only the length a 200 would have had).
    } else if (head_) {
        // No body on HEAD; Content-Length describes what GET would send.
        framing.content_length = r.body.size();
        if (auto given = r.headers.get("content-length")) {
            std::uint64_t n = 0;
            auto [end, ec] = std::from_chars(given->data(), given->data() + given->size(), n);
            if (ec == std::errc() && end == given->data() + given->size()) framing.content_length = n;
        }
    } else {
        framing.content_length = r.body.size();
    }
    out_head_.clear();
    if (auto dropped = append_response_head(out_head_, r.status, r.headers, framing, http_date()))
        log::warn("{} response header(s) with a bad name or a CR, LF or NUL in the value not sent", dropped);
    bool keep_alive = framing.keep_alive;
    out_status_ = r.status;
    out_operation_ = std::move(r.operation);
    arm_deadline();  // a client that stops reading is cut off too
    if (r.stream) {
        bool chunked = framing.chunked;
        if (head_) r.stream->close();
        stream_ = head_ ? nullptr : std::move(r.stream);
        net::async_write(socket_, net::buffer(out_head_), [self = shared_from_this(), keep_alive, chunked](beast::error_code ec, std::size_t) {
            if (ec || !self->stream_) {
                if (self->stream_) self->stream_->close();
                self->log_done(self->out_status_, self->out_operation_);
                self->stream_.reset();
                return self->on_write(ec, keep_alive);
            }
            self->pump_stream(keep_alive, chunked);
        });
        return;
    }
    if (r.file) {
        // Head first (with the file's length), then the file bytes; HEAD sends the head only.
        file_ = head_ ? nullptr : std::move(r.file);
        file_sent_ = 0;
        net::async_write(socket_, net::buffer(out_head_), [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
            if (ec || !self->file_) {
                self->log_done(self->out_status_, self->out_operation_);
                self->file_.reset();
                return self->on_write(ec, keep_alive);
            }
            self->write_file_chunk(keep_alive);
        });
        return;
    }
    // One write of head and body (one sendmsg with two pieces while the socket has room).
    if (head_ || r.status == 304) r.body.clear();
    out_body_ = std::move(r.body);
    std::array<net::const_buffer, 2> pieces{net::buffer(out_head_), net::buffer(out_body_)};
    net::async_write(socket_, pieces, [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
        self->log_done(self->out_status_, self->out_operation_);
        std::string().swap(self->out_body_);  // a 1 MB Scan page is not kept per connection
        self->on_write(ec, keep_alive);
    });
}

void Session::log_done(int status, const std::string& operation) {
    if (listener_.options().access_log && log::enabled(log::Level::info)) {
        auto us =
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started_).count();
        log::info("{} {} {} {}us", plan_.service, operation.empty() ? log_target_ : operation, status, us);
    }
}

// The file goes with sendfile(2), as nginx sends static files: from the page cache to the
// socket without passing through our memory. Until the socket buffer is full, then again
// when it is writable. Falls back to pread + write where sendfile refuses the file.
void Session::write_file_chunk(bool keep_alive) {
    constexpr std::size_t out_chunk_size = 256 * 1024;
    constexpr std::size_t sendfile_chunk = 4 * 1024 * 1024;
    if (!sendfile_failed_) {
        beast::error_code nb;
        if (!socket_.native_non_blocking()) socket_.native_non_blocking(true, nb);
        while (!nb && file_sent_ < file_->length) {
            auto offset = static_cast<off_t>(file_->offset + file_sent_);
            std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(sendfile_chunk, file_->length - file_sent_));
            ssize_t n = ::sendfile(socket_.native_handle(), file_->fd, &offset, want);
            if (n > 0) {
                file_sent_ += static_cast<std::uint64_t>(n);
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                arm_deadline();
                socket_.async_wait(tcp::socket::wait_write, [self = shared_from_this(), keep_alive](beast::error_code ec) {
                    if (ec) {
                        self->file_.reset();
                        return self->on_write(ec, keep_alive);
                    }
                    self->write_file_chunk(keep_alive);
                });
                return;
            }
            if (n < 0 && (errno == EINVAL || errno == ENOSYS) && file_sent_ == 0) {
                sendfile_failed_ = true;  // a file sendfile cannot read from
                break;
            }
            if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
                file_.reset();
                return on_write(beast::error_code(errno, beast::system_category()), keep_alive);
            }
            // The file shrank or failed under us: the promised length cannot be sent.
            log::error("response body file send failed after {} bytes", file_sent_);
            file_.reset();
            return close();
        }
        if (nb) sendfile_failed_ = true;
    }
    if (file_sent_ >= file_->length) {
        log_done(out_status_, out_operation_);
        file_.reset();
        return on_write({}, keep_alive);
    }
    if (!out_chunk_) out_chunk_ = std::make_unique<char[]>(out_chunk_size);
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(out_chunk_size, file_->length - file_sent_));
    ssize_t n;
    do {
        n = ::pread(file_->fd, out_chunk_.get(), want, static_cast<off_t>(file_->offset + file_sent_));
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        // The file shrank or failed under us: the promised length cannot be sent.
        log::error("response body file read failed after {} bytes", file_sent_);
        file_.reset();
        return close();
    }
    arm_deadline();
    net::async_write(socket_, net::buffer(out_chunk_.get(), static_cast<std::size_t>(n)),
                     [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t sent) {
                         if (ec) {
                             self->file_.reset();
                             return self->on_write(ec, keep_alive);
                         }
                         self->file_sent_ += sent;
                         self->write_file_chunk(keep_alive);
                     });
}

// Sends what the producer has written, then waits (no deadline: a function may take its
// time between pieces) until it writes more or finishes.
void Session::pump_stream(bool keep_alive, bool chunked) {
    std::string data;
    auto self = shared_from_this();
    bool done = stream_->take(data, [self, keep_alive, chunked] {
        net::dispatch(self->socket_.get_executor(), [self, keep_alive, chunked] {
            if (self->stream_ && !self->closed_) self->pump_stream(keep_alive, chunked);
        });
    });
    if (data.empty() && !done) {
        deadline_.store(no_deadline, std::memory_order_relaxed);
        return;
    }
    std::string out;
    if (chunked) {
        if (!data.empty()) {
            char size[24];
            int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
            out.reserve(data.size() + static_cast<std::size_t>(n) + 7);
            out.append(size, static_cast<std::size_t>(n)).append(data).append("\r\n");
        }
        if (done) out += "0\r\n\r\n";
    } else {
        out = std::move(data);
    }
    stream_out_ = std::move(out);
    arm_deadline();
    net::async_write(socket_, net::buffer(stream_out_), [self, keep_alive, chunked, done](beast::error_code ec, std::size_t) {
        if (ec || done) {
            if (ec) self->stream_->close();
            self->log_done(self->out_status_, self->out_operation_);
            self->stream_.reset();
            self->stream_out_.clear();
            return self->on_write(ec, keep_alive);
        }
        self->pump_stream(keep_alive, chunked);
    });
}

void Session::on_write(beast::error_code ec, bool keep_alive) {
    busy_ = false;
    if (out_head_.capacity() > 4096) std::string().swap(out_head_);  // many S3 metadata headers
    if (ec) return close();
    if (!keep_alive) {
        // A body we refused is still arriving: closing now would make the kernel reset
        // the connection, and the client might lose our answer before reading it.
        if (body_pending()) return linger();
        return close();
    }
    read_header();
}

void Session::linger() {
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (!chunk_) chunk_ = std::make_unique<char[]>(body_chunk_size);
    // Discard what the client still sends, for a couple of seconds and 64 MB at most.
    arm_deadline(std::min<std::chrono::nanoseconds>(listener_.options().idle_timeout, std::chrono::seconds(2)));
    linger_left_ = 64 * 1024 * 1024;
    discard();
}

void Session::discard() {
    socket_.async_read_some(net::buffer(chunk_.get(), body_chunk_size),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                if (ec || self->closed_ || n >= self->linger_left_) return self->close();
                                self->linger_left_ -= n;
                                self->discard();
                            });
}

void Session::reject(int status, std::string_view reason) {
    log::debug("rejecting malformed request: {}", reason);
    if (!busy_) {
        started_ = std::chrono::steady_clock::now();
        plan_ = Plan{};
        log_target_ = "malformed";
    }
    busy_ = true;
    Response r;
    r.status = status;
    r.headers.set("Content-Type", "text/plain");
    r.body = std::string(reason) + "\n";
    r.close = true;
    head_ = false;
    write(std::move(r));
}

}  // namespace

struct Runtime::Impl {
    unsigned threads;
    // contexts[0] is the main one: signals, acceptors, sweepers, services' own work.
    std::vector<std::unique_ptr<net::io_context>> contexts;
    std::vector<net::executor_work_guard<executor_type>> guards;
    std::atomic<std::size_t> next{0};
    std::optional<net::signal_set> signals;
    std::vector<std::unique_ptr<Listener>> listeners;
    // Closed listeners waiting for their last connection (close_listener).
    std::vector<std::unique_ptr<Listener>> retired;
    std::vector<std::function<void()>> shutdown_hooks;
    std::atomic<bool> stopping{false};
    std::optional<timer_type> drain_timer;
    std::chrono::steady_clock::time_point drain_deadline;

    net::io_context& main() { return *contexts[0]; }
    net::io_context& pick() { return *contexts[next.fetch_add(1, std::memory_order_relaxed) % contexts.size()]; }

    std::size_t active() const {
        std::size_t n = 0;
        for (auto& l : listeners)
            if (l->options().hold_shutdown) n += l->active();
        return n;
    }

    void drain_tick() {
        if (active() == 0 || std::chrono::steady_clock::now() >= drain_deadline) {
            if (active() != 0) log::warn("shutdown: {} connection(s) still busy after the grace period", active());
            for (auto& hook : shutdown_hooks) {
                try {
                    hook();
                } catch (const std::exception& e) {
                    log::error("shutdown hook failed: {}", e.what());
                }
            }
            guards.clear();
            for (auto& c : contexts) c->stop();
            return;
        }
        drain_timer->expires_after(std::chrono::milliseconds(10));
        drain_timer->async_wait([this](beast::error_code) { drain_tick(); });
    }
};

Runtime::Runtime(unsigned threads) : impl_(std::make_unique<Impl>()) {
    // sendfile(2) has no MSG_NOSIGNAL: a client gone mid-file must give EPIPE, not kill the
    // daemon. (Lambda's posix_spawn resets every signal to its default for handlers.)
    ::signal(SIGPIPE, SIG_IGN);
    impl_->threads = threads ? threads : std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < impl_->threads; ++i) {
        impl_->contexts.push_back(std::make_unique<net::io_context>(1));
        impl_->guards.push_back(net::make_work_guard(impl_->contexts.back()->get_executor()));
    }
    impl_->signals.emplace(impl_->main(), SIGINT, SIGTERM);
    impl_->signals->async_wait([this](beast::error_code ec, int sig) {
        if (ec) return;
        log::info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
        stop();
    });
}

Runtime::~Runtime() {
    // Acceptors and timers need their io_context; sessions destroyed with the contexts
    // need their listener.
    impl_->signals.reset();
    impl_->drain_timer.reset();
    for (auto& l : impl_->listeners) l->release_handles();
    for (auto& l : impl_->retired) l->release_handles();
    impl_->guards.clear();
    impl_->contexts.clear();
    impl_->listeners.clear();
    impl_->retired.clear();
}

std::uint16_t Runtime::listen(const ListenerOptions& options, HttpHandler& handler) {
    bool main_only = options.main_context_only;
    auto l = std::make_unique<Listener>(
        impl_->main(),
        [impl = impl_.get(), main_only]() -> net::io_context& { return main_only ? impl->main() : impl->pick(); }, options,
        handler);
    auto port = l->port();
    l->start();
    impl_->listeners.push_back(std::move(l));
    return port;
}

void Runtime::close_listener(std::uint16_t port) {
    auto& ls = impl_->listeners;
    auto it = std::find_if(ls.begin(), ls.end(), [port](auto& l) { return l->port() == port; });
    if (it == ls.end()) return;
    std::unique_ptr<Listener> l = std::move(*it);
    ls.erase(it);
    l->stop();
    // The aborted accept and sweep handlers still refer to the listener: free it (and
    // earlier ones whose connections are gone) only after they ran.
    net::post(impl_->main(), [impl = impl_.get(), raw = l.release()] {
        impl->retired.emplace_back(raw);
        std::erase_if(impl->retired, [](auto& r) {
            if (r->active() != 0) return false;
            r->release_handles();
            return true;
        });
    });
}

void Runtime::run() {
    std::vector<std::thread> extra;
    for (unsigned i = 1; i < impl_->threads; ++i) extra.emplace_back([this, i] { impl_->contexts[i]->run(); });
    impl_->main().run();
    for (auto& t : extra) t.join();
}

void Runtime::stop() {
    if (impl_->stopping.exchange(true)) return;
    net::post(impl_->main(), [this] {
        beast::error_code ec;
        if (impl_->signals) impl_->signals->cancel(ec);
        for (auto& l : impl_->listeners) l->stop();
        impl_->drain_deadline = std::chrono::steady_clock::now() + grace;
        impl_->drain_timer.emplace(impl_->main().get_executor());
        impl_->drain_tick();
    });
}

void Runtime::on_shutdown(std::function<void()> hook) { impl_->shutdown_hooks.push_back(std::move(hook)); }

net::io_context& Runtime::io_context() { return impl_->main(); }

}  // namespace stratus::core
