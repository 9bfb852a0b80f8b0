#include "lambda/logs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
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
std::string LogBook::Stream::record(const Entry& e) {
    std::string r;
    if (e.stream != tail_stream) {
        r = "S " + stream_names[e.stream] + "\n";
        tail_stream = e.stream;
    }
    r += std::to_string(e.time_ms);
    if (e.ingest_ms != e.time_ms) r += "," + std::to_string(e.ingest_ms);
    bool escaped = e.text.find_first_of("\n\\") != std::string::npos;
    if (escaped) r += ",e";
    r.push_back(' ');
    r += escaped ? escape(e.text) : e.text;
    r.push_back('\n');
    return r;
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
            Entry l{0, 0, 0, current, {}};
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
            l.text = escaped ? unescape(std::string_view(text).substr(sp + 1)) : text.substr(sp + 1);
            s.bytes += l.text.size() + line_overhead;
            s.lines.push_back(std::move(l));
            trim(s);
        }
        s.tail_stream = current;
        s.file_bytes = static_cast<std::uint64_t>(fs::file_size(p, ec));
    }
    // Sequence numbers follow time across functions, as they did when the lines were written.
    std::vector<Entry*> order;
    for (auto& [name, s] : streams_)
        for (auto& l : s.lines) order.push_back(&l);
    std::stable_sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->ingest_ms < b->ingest_ms; });
    for (auto* l : order) l->seq = ++seq_;
}

void LogBook::trim(Stream& s) {
    while (s.bytes > budget_ && s.lines.size() > 1) {
        s.bytes -= s.lines.front().text.size() + line_overhead;
        s.lines.pop_front();
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
        for (auto& l : s.lines) body += s.record(l);
        if (fd >= 0 && write_all(fd, body) && ::rename(tmp.c_str(), path.c_str()) == 0) {
            if (s.fd >= 0) ::close(s.fd);
            s.fd = fd;
            s.file_bytes = body.size();
            s.pending.clear();  // the pending lines are the last of s.lines: written already
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
    s.lines.push_back(Entry{t, t, ++seq_, s.intern(stream), std::move(line)});
    trim(s);
    if (dir_.empty() || !safe_name(function)) return;
    s.pending += s.record(s.lines.back());
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
        s.lines.push_back(Entry{e.time_ms, t, ++seq_, id, std::move(e.text)});
        if (persist) s.pending += s.record(s.lines.back());
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

void LogBook::scan(const std::string& function, std::uint64_t after_seq, bool reverse, std::uint64_t before_seq,
                   const std::function<bool(const LogView&)>& visit) const {
    std::lock_guard lock(mutex_);
    auto it = streams_.find(function);
    if (it == streams_.end()) return;
    auto& s = it->second;
    auto& lines = s.lines;
    // Sequence numbers grow along the deque: binary search the start.
    auto view = [&](const Entry& e) {
        return LogView{e.time_ms, e.ingest_ms, e.seq, std::string_view(s.stream_names[e.stream]), std::string_view(e.text)};
    };
    if (!reverse) {
        auto from = std::upper_bound(lines.begin(), lines.end(), after_seq,
                                     [](std::uint64_t seq, const Entry& e) { return seq < e.seq; });
        for (; from != lines.end(); ++from)
            if (!visit(view(*from))) return;
    } else {
        auto end = before_seq == 0 ? lines.end()
                                   : std::lower_bound(lines.begin(), lines.end(), before_seq,
                                                      [](const Entry& e, std::uint64_t seq) { return e.seq < seq; });
        while (end != lines.begin()) {
            --end;
            if (end->seq <= after_seq) return;
            if (!visit(view(*end))) return;
        }
    }
}

std::vector<std::string> LogBook::names() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (auto& [name, s] : streams_)
        if (!s.lines.empty()) out.push_back(name);
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
