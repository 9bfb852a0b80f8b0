// Every function's log lines (its handlers' output, START / END / REPORT), kept with a byte
// budget per function: the oldest lines go first. With a directory, each function's lines
// are also appended to <dir>/<function>.log (rewritten from memory when it reaches twice
// the budget) and read back at startup, so `stratus logs` shows what ran before a restart,
// as CloudWatch would. append() writes the line at once (a kill -9 loses none);
// append_buffered() keeps it for the next flush(), so a busy caller (the scheduler, which
// flushes at the end of each batch of events it handles) pays one write per batch.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace stratus::lambda {

struct LogLine {
    std::int64_t time_ms = 0;  // Unix epoch milliseconds
    std::uint64_t seq = 0;     // grows by one per line, across functions
    std::string text;
};

class LogBook {
public:
    explicit LogBook(std::size_t budget_per_function = 1 << 20, std::string dir = {});
    ~LogBook();
    LogBook(const LogBook&) = delete;
    LogBook& operator=(const LogBook&) = delete;

    void append(const std::string& function, std::string line);
    void append_buffered(const std::string& function, std::string line);
    // Writes the buffered lines of every function.
    void flush();
    // Lines of `function` with time >= since_ms and seq > after_seq, at most `limit`.
    std::vector<LogLine> read(const std::string& function, std::int64_t since_ms, std::uint64_t after_seq,
                              std::size_t limit) const;
    void erase(const std::string& function);
    void clear();

private:
    struct Stream {
        std::deque<LogLine> lines;
        std::size_t bytes = 0;
        int fd = -1;                  // the open log file, when persisted
        std::uint64_t file_bytes = 0;  // its size
        std::string pending;           // records not written yet
    };
    void load();
    void trim(Stream& s);
    void add(const std::string& function, std::string line, bool buffered);
    void write_pending(const std::string& function, Stream& s);
    std::string path_of(const std::string& function) const;

    std::size_t budget_;
    std::string dir_;
    mutable std::mutex mutex_;
    std::map<std::string, Stream> streams_;
    std::uint64_t seq_ = 0;
};

std::int64_t now_ms();

}  // namespace stratus::lambda
