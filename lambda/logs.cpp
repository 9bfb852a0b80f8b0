#include "lambda/logs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <string.h>

#include <cctype>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/log.hpp"

namespace stratus::lambda {

namespace fs = std::filesystem;

namespace {
constexpr std::size_t line_overhead = 32;

// Function names are [A-Za-z0-9_-]{1,64}; anything else is never made a file name.
bool safe_name(const std::string& name) {
    if (name.empty() || name.size() > 64) return false;
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
    return true;
}

std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 8);
    for (char c : text) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else out.push_back(c);
    }
    return out;
}

std::string unescape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) {
            char n = text[++i];
            out.push_back(n == 'n' ? '\n' : n);
        } else {
            out.push_back(text[i]);
        }
    }
    return out;
}

bool write_all(int fd, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}
}  // namespace

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

LogBook::LogBook(std::size_t budget_per_function, std::string dir) : budget_(budget_per_function), dir_(std::move(dir)) {
    if (dir_.empty()) return;
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) {
        core::log::warn("lambda: logs kept in memory only ({}: {})", dir_, ec.message());
        dir_.clear();
        return;
    }
    load();
}

LogBook::~LogBook() {
    flush();
    for (auto& [name, s] : streams_)
        if (s.fd >= 0) ::close(s.fd);
}

std::string LogBook::path_of(const std::string& function) const { return (fs::path(dir_) / (function + ".log")).string(); }

std::uint32_t LogBook::Stream::intern(const std::string& name) {
    if (stream_names.empty()) stream_names.emplace_back();  // 0: no stream
    if (name.empty()) return 0;
    auto [it, fresh] = stream_ids.emplace(name, static_cast<std::uint32_t>(stream_names.size()));
    if (fresh) stream_names.push_back(name);
    return it->second;
}

// "[S <stream>\n]<time>[,<ingest>][,e] <text>\n"; the bare "<time> <text>" when it says all.
std::string LogBook::Stream::record(const Entry& e, std::string_view text) {
    std::string r;
    if (e.stream != tail_stream) {
        r = "S " + stream_names[e.stream] + "\n";
        tail_stream = e.stream;
    }
    r += std::to_string(e.time_ms);
    if (e.ingest_ms != e.time_ms) r += "," + std::to_string(e.ingest_ms);
    // Two memchr passes: find_first_of with a set calls memchr once per character.
    bool escaped = !text.empty() &&
                   (std::memchr(text.data(), '\n', text.size()) || std::memchr(text.data(), '\\', text.size()));
    if (escaped) r += ",e";
    r.push_back(' ');
    if (escaped) r += escape(text);
    else r.append(text);
    r.push_back('\n');
    return r;
}

constexpr std::size_t chunk_bytes = 256 * 1024;

void LogBook::Stream::push(std::int64_t time_ms, std::int64_t ingest_ms, std::uint64_t seq, std::uint32_t stream,
                           std::string_view text) {
    if (chunks.empty() || chunks.back().data.size() + text.size() > chunk_bytes) {
        chunks.emplace_back();
        chunks.back().data.reserve(std::max(chunk_bytes, text.size()));
    }
    auto& c = chunks.back();
    c.entries.push_back(Entry{time_ms, ingest_ms, seq, stream, static_cast<std::uint32_t>(c.data.size()),
                              static_cast<std::uint32_t>(text.size())});
    c.data.append(text);
    ++count;
}

void LogBook::Stream::pop_front() {
    auto& c = chunks.front();
    ++c.head;
    --count;
    if (c.head == c.entries.size()) chunks.pop_front();
}

void LogBook::load() {
    std::error_code ec;
    for (auto& entry : fs::directory_iterator(dir_, ec)) {
        auto p = entry.path();
        if (p.extension() != ".log") continue;
        std::string name = p.stem().string();
        if (!safe_name(name)) continue;
        std::ifstream in(p, std::ios::binary);
        std::string text;
        auto& s = streams_[name];
        s.intern("");
        std::uint32_t current = 0;
        while (std::getline(in, text)) {
            if (text.starts_with("S ")) {
                current = s.intern(text.substr(2));
                continue;
            }
            auto sp = text.find(' ');
            if (sp == std::string::npos) continue;  // a torn last line
            std::string_view prefix(text.data(), sp);
            Entry l{0, 0, 0, current, 0, 0};
            bool escaped = false;
            std::size_t part = 0;
            bool ok = true;
            while (!prefix.empty()) {
                auto comma = prefix.find(',');
                std::string_view field = prefix.substr(0, comma);
                if (field == "e") {
                    escaped = true;
                } else {
                    std::int64_t v = 0;
                    auto [end, err] = std::from_chars(field.data(), field.data() + field.size(), v);
                    if (err != std::errc() || end != field.data() + field.size() || part > 1) ok = false;
                    (part++ == 0 ? l.time_ms : l.ingest_ms) = v;
                }
                prefix = comma == std::string_view::npos ? std::string_view{} : prefix.substr(comma + 1);
            }
            if (!ok || part == 0) continue;
            if (part == 1) l.ingest_ms = l.time_ms;
            std::string body = escaped ? unescape(std::string_view(text).substr(sp + 1)) : text.substr(sp + 1);
            s.bytes += body.size() + line_overhead;
            s.push(l.time_ms, l.ingest_ms, 0, current, body);
            trim(s);
        }
        s.tail_stream = current;
        s.file_bytes = static_cast<std::uint64_t>(fs::file_size(p, ec));
    }
    // Sequence numbers follow time across functions, as they did when the lines were written,
    // and grow along each function's lines (scan's binary search): keyed by the running
    // maximum of each function's ingestion times.
    std::vector<std::pair<std::int64_t, Entry*>> order;
    for (auto& [name, s] : streams_) {
        std::int64_t key = INT64_MIN;
        for (auto& c : s.chunks)
            for (std::size_t i = c.head; i < c.entries.size(); ++i) {
                key = std::max(key, c.entries[i].ingest_ms);
                order.emplace_back(key, &c.entries[i]);
            }
    }
    std::stable_sort(order.begin(), order.end(), [](auto& a, auto& b) { return a.first < b.first; });
    for (auto& [key, l] : order) l->seq = ++seq_;
}

void LogBook::trim(Stream& s) {
    while (s.bytes > budget_ && s.count > 1) {
        auto& c = s.chunks.front();
        s.bytes -= c.entries[c.head].len + line_overhead;
        s.pop_front();
    }
}

void LogBook::write_pending(const std::string& function, Stream& s) {
    if (s.pending.empty()) return;
    std::string path = path_of(function);
    if (s.file_bytes + s.pending.size() > 2 * budget_) {
        // Retention: rewrite the file with what memory keeps, then append to it.
        std::string tmp = path + ".tmp";
        int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        std::string body;
        s.tail_stream = 0;
        for (auto& c : s.chunks)
            for (std::size_t i = c.head; i < c.entries.size(); ++i) {
                auto& e = c.entries[i];
                body += s.record(e, std::string_view(c.data).substr(e.off, e.len));
            }
        if (fd >= 0 && write_all(fd, body) && ::rename(tmp.c_str(), path.c_str()) == 0) {
            if (s.fd >= 0) ::close(s.fd);
            s.fd = fd;
            s.file_bytes = body.size();
            s.pending.clear();  // the pending lines are the last ones kept: written already
            return;
        }
        if (fd >= 0) ::close(fd);
        ::unlink(tmp.c_str());
    }
    if (s.fd < 0) {
        s.fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (s.fd < 0) {
            s.pending.clear();
            return;
        }
    }
    if (write_all(s.fd, s.pending)) s.file_bytes += s.pending.size();
    s.pending.clear();
}

void LogBook::add(const std::string& function, const std::string& stream, std::string line, bool buffered) {
    std::lock_guard lock(mutex_);
    auto& s = streams_[function];
    s.bytes += line.size() + line_overhead;
    auto t = now_ms();
    auto id = s.intern(stream);
    s.push(t, t, ++seq_, id, line);
    bool persist = !dir_.empty() && safe_name(function);
    if (persist) s.pending += s.record(s.chunks.back().entries.back(), line);
    trim(s);
    if (!persist) return;
    if (!buffered) write_pending(function, s);
}

void LogBook::set_budget(std::size_t budget_per_function) {
    std::lock_guard lock(mutex_);
    budget_ = budget_per_function;
}

void LogBook::append(const std::string& function, std::string line) { add(function, {}, std::move(line), false); }

void LogBook::append_buffered(const std::string& function, std::string line) {
    add(function, {}, std::move(line), true);
}

void LogBook::append(const std::string& function, const std::string& stream, std::string line) {
    add(function, stream, std::move(line), false);
}

void LogBook::append_buffered(const std::string& function, const std::string& stream, std::string line) {
    add(function, stream, std::move(line), true);
}

std::uint64_t LogBook::append_events(const std::string& function, const std::string& stream, std::vector<Event> events) {
    std::lock_guard lock(mutex_);
    auto& s = streams_[function];
    auto id = s.intern(stream);
    auto t = now_ms();
    bool persist = !dir_.empty() && safe_name(function);
    for (auto& e : events) {
        s.bytes += e.text.size() + line_overhead;
        s.push(e.time_ms, t, ++seq_, id, e.text);
        if (persist) s.pending += s.record(s.chunks.back().entries.back(), e.text);
    }
    trim(s);
    if (persist) write_pending(function, s);
    return seq_;
}

void LogBook::flush() {
    std::lock_guard lock(mutex_);
    for (auto& [name, s] : streams_) write_pending(name, s);
}

std::vector<LogLine> LogBook::read(const std::string& function, std::int64_t since_ms, std::uint64_t after_seq,
                                   std::size_t limit) const {
    std::vector<LogLine> out;
    if (limit == 0) return out;
    scan(function, after_seq, false, 0, [&](const LogView& l) {
        if (l.time_ms < since_ms) return true;
        out.push_back(LogLine{l.time_ms, l.seq, std::string(l.text), std::string(l.stream), l.ingest_ms});
        return out.size() < limit;
    });
    return out;
}

std::uint64_t LogBook::scan(const std::string& function, std::uint64_t after_seq, bool reverse, std::uint64_t before_seq,
                            const std::function<bool(const LogView&)>& visit, std::string_view needle) const {
    std::lock_guard lock(mutex_);
    auto it = streams_.find(function);
    if (it == streams_.end() || it->second.empty()) return 0;
    auto& s = it->second;
    const std::uint64_t newest = s.chunks.back().entries.back().seq;
    auto view = [&](const Chunk& c, const Entry& e) {
        return LogView{e.time_ms, e.ingest_ms, e.seq, std::string_view(s.stream_names[e.stream]),
                       std::string_view(c.data).substr(e.off, e.len)};
    };
    auto by_seq = [](const Entry& e, std::uint64_t seq) { return e.seq < seq; };
    if (!reverse) {
        // Sequence numbers grow along the chunks: binary search the start.
        auto ci = std::lower_bound(s.chunks.begin(), s.chunks.end(), after_seq,
                                   [](const Chunk& c, std::uint64_t seq) { return c.entries.back().seq <= seq; });
        for (; ci != s.chunks.end(); ++ci) {
            auto& c = *ci;
            auto ei = std::lower_bound(c.entries.begin() + static_cast<std::ptrdiff_t>(c.head), c.entries.end(), after_seq + 1, by_seq);
            if (needle.empty()) {
                for (; ei != c.entries.end(); ++ei)
                    if (!visit(view(c, *ei))) return newest;
                continue;
            }
            // Only the lines holding the needle: found in the chunk's text at once.
            std::size_t from = ei == c.entries.end() ? c.data.size() : ei->off;
            while (from < c.data.size()) {
                auto* hit = static_cast<const char*>(
                    ::memmem(c.data.data() + from, c.data.size() - from, needle.data(), needle.size()));
                if (!hit) break;
                auto pos = static_cast<std::uint32_t>(hit - c.data.data());
                // The line it starts in (a hit across two lines fails the visitor's own test).
                auto li = std::upper_bound(ei, c.entries.end(), pos, [](std::uint32_t p, const Entry& e) { return p < e.off; });
                --li;
                if (!visit(view(c, *li))) return newest;
                from = li->off + li->len;
                ei = li + 1;
            }
        }
    } else {
        for (auto ci = s.chunks.rbegin(); ci != s.chunks.rend(); ++ci) {
            auto& c = *ci;
            auto begin = c.entries.begin() + static_cast<std::ptrdiff_t>(c.head);
            auto ei = before_seq == 0 ? c.entries.end() : std::lower_bound(begin, c.entries.end(), before_seq, by_seq);
            while (ei != begin) {
                --ei;
                if (ei->seq <= after_seq) return newest;
                if (!visit(view(c, *ei))) return newest;
            }
        }
    }
    return newest;
}

std::vector<std::string> LogBook::names() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (auto& [name, s] : streams_)
        if (!s.empty()) out.push_back(name);
    return out;
}

std::uint64_t LogBook::last_seq() const {
    std::lock_guard lock(mutex_);
    return seq_;
}

void LogBook::erase(const std::string& function) {
    std::lock_guard lock(mutex_);
    auto it = streams_.find(function);
    if (it == streams_.end()) return;
    if (it->second.fd >= 0) ::close(it->second.fd);
    streams_.erase(it);
    if (!dir_.empty() && safe_name(function)) ::unlink(path_of(function).c_str());
}

void LogBook::clear() {
    std::lock_guard lock(mutex_);
    for (auto& [name, s] : streams_) {
        if (s.fd >= 0) ::close(s.fd);
        if (!dir_.empty() && safe_name(name)) ::unlink(path_of(name).c_str());
    }
    streams_.clear();
}

}  // namespace stratus::lambda
