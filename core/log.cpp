#include "core/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace stratus::core::log {

namespace {
std::atomic<int> current{static_cast<int>(Level::info)};
}

void set_level(Level level) { current.store(static_cast<int>(level), std::memory_order_relaxed); }
Level level() { return static_cast<Level>(current.load(std::memory_order_relaxed)); }
bool enabled(Level l) { return static_cast<int>(l) >= current.load(std::memory_order_relaxed); }

std::optional<Level> parse_level(std::string_view name) {
    if (name == "debug") return Level::debug;
    if (name == "info") return Level::info;
    if (name == "warn" || name == "warning") return Level::warn;
    if (name == "error") return Level::error;
    if (name == "off" || name == "none") return Level::off;
    return std::nullopt;
}

void write(Level l, std::string_view message) {
    static constexpr const char* names[] = {"DEBUG", "INFO ", "WARN ", "ERROR", "OFF  "};
    auto now = std::chrono::system_clock::now();
    auto secs = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    // One fwrite per line: stdio's lock keeps lines from different threads whole.
    std::string line = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z {} {}\n", tm.tm_year + 1900,
                                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms,
                                   names[static_cast<int>(l)], message);
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace stratus::core::log
