#include "lambda/logs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
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

// "<epoch ms> <text>\n"; lines never hold '\n' (the scheduler splits on it).
std::string record(const LogLine& l) {
    std::string r = std::to_string(l.time_ms);
    r.push_back(' ');
    r += l.text;
    r.push_back('\n');
    return r;
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

void LogBook::load() {
    std::error_code ec;
    std::vector<std::pair<std::string, LogLine>> all;
    for (auto& entry : fs::directory_iterator(dir_, ec)) {
        auto p = entry.path();
        if (p.extension() != ".log") continue;
        std::string name = p.stem().string();
        if (!safe_name(name)) continue;
        std::ifstream in(p, std::ios::binary);
        std::string text;
        auto& s = streams_[name];
        while (std::getline(in, text)) {
            auto sp = text.find(' ');
            if (sp == std::string::npos) continue;  // a torn last line
            LogLine l;
            try {
                l.time_ms = std::stoll(text.substr(0, sp));
            } catch (const std::exception&) {
                continue;
            }
            l.text = text.substr(sp + 1);
            s.bytes += l.text.size() + line_overhead;
            s.lines.push_back(std::move(l));
            trim(s);
        }
        s.file_bytes = static_cast<std::uint64_t>(fs::file_size(p, ec));
    }
    // Sequence numbers follow time across functions, as they did when the lines were written.
    std::vector<LogLine*> order;
    for (auto& [name, s] : streams_)
        for (auto& l : s.lines) order.push_back(&l);
    std::stable_sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->time_ms < b->time_ms; });
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
        for (auto& l : s.lines) body += record(l);
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

void LogBook::add(const std::string& function, std::string line, bool buffered) {
    std::lock_guard lock(mutex_);
    auto& s = streams_[function];
    s.bytes += line.size() + line_overhead;
    s.lines.push_back(LogLine{now_ms(), ++seq_, std::move(line)});
    trim(s);
    if (dir_.empty() || !safe_name(function)) return;
    s.pending += record(s.lines.back());
    if (!buffered) write_pending(function, s);
}

void LogBook::append(const std::string& function, std::string line) { add(function, std::move(line), false); }

void LogBook::append_buffered(const std::string& function, std::string line) { add(function, std::move(line), true); }

void LogBook::flush() {
    std::lock_guard lock(mutex_);
    for (auto& [name, s] : streams_) write_pending(name, s);
}

std::vector<LogLine> LogBook::read(const std::string& function, std::int64_t since_ms, std::uint64_t after_seq,
                                   std::size_t limit) const {
    std::lock_guard lock(mutex_);
    std::vector<LogLine> out;
    auto it = streams_.find(function);
    if (it == streams_.end()) return out;
    for (auto& l : it->second.lines) {
        if (l.time_ms < since_ms || l.seq <= after_seq) continue;
        out.push_back(l);
        if (out.size() == limit) break;
    }
    return out;
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
