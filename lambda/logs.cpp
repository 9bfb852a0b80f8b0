#include "lambda/logs.hpp"

#include <chrono>

namespace stratus::lambda {

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void LogBook::append(const std::string& function, std::string line) {
    std::lock_guard lock(mutex_);
    auto& s = streams_[function];
    s.bytes += line.size() + 32;
    s.lines.push_back(LogLine{now_ms(), ++seq_, std::move(line)});
    while (s.bytes > budget_ && s.lines.size() > 1) {
        s.bytes -= s.lines.front().text.size() + 32;
        s.lines.pop_front();
    }
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
    streams_.erase(function);
}

void LogBook::clear() {
    std::lock_guard lock(mutex_);
    streams_.clear();
}

}  // namespace stratus::lambda
