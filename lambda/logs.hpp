// Every function's log lines (its handlers' output, START / END / REPORT), kept with a byte
// budget per function: the oldest lines go first. With a directory, each function's lines
// are also appended to <dir>/<function>.log (rewritten from memory when it reaches twice
// the budget) and read back at startup, so `stratus logs` shows what ran before a restart,
// as CloudWatch would. append() writes the line at once (a kill -9 loses none);
// append_buffered() keeps it for the next flush(), so a busy caller (the scheduler, which
// flushes at the end of each batch of events it handles) pays one write per batch.
//
// Each line belongs to a stream (a sandbox's CloudWatch log stream,
// "2026/12/02/[$LATEST]<id>"; empty for lines without one) and carries its event time and
// its ingestion time (the same for lines logged now; PutLogEvents gives its own event
// times). The logs service (logs/) serves these as CloudWatch Logs groups and streams.
// In the files, "S <stream>" sets the stream of the lines after it, and a line's prefix is
// "<time>[,<ingestion time>][,e]" (e: "\n" and "\\" escape a multi-line message); older
// files (bare "<time> <text>" lines) read as lines without a stream.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace stratus::lambda {

struct LogLine {
    std::int64_t time_ms = 0;  // Unix epoch milliseconds
    std::uint64_t seq = 0;     // grows by one per line, across functions
    std::string text;
    std::string stream;
    std::int64_t ingest_ms = 0;
};

// A line as scan() shows it: views valid during the visit only.
struct LogView {
    std::int64_t time_ms;
    std::int64_t ingest_ms;
    std::uint64_t seq;
    std::string_view stream;
    std::string_view text;
};

class LogBook {
public:
    explicit LogBook(std::size_t budget_per_function = 1 << 20, std::string dir = {});
    ~LogBook();
    LogBook(const LogBook&) = delete;
    LogBook& operator=(const LogBook&) = delete;

    // The bytes kept per function from now on (stratus start --log-group-mb).
    void set_budget(std::size_t budget_per_function);

    void append(const std::string& function, std::string line);
    void append_buffered(const std::string& function, std::string line);
    void append(const std::string& function, const std::string& stream, std::string line);
    void append_buffered(const std::string& function, const std::string& stream, std::string line);
    // Lines with their own event times (PutLogEvents), written at once; returns the last seq.
    struct Event {
        std::int64_t time_ms;
        std::string text;
    };
    std::uint64_t append_events(const std::string& function, const std::string& stream, std::vector<Event> events);
    // Writes the buffered lines of every function.
    void flush();
    // Lines of `function` with time >= since_ms and seq > after_seq, at most `limit`.
    std::vector<LogLine> read(const std::string& function, std::int64_t since_ms, std::uint64_t after_seq,
                              std::size_t limit) const;
    // Visits the lines of `function` in order (newest first when `reverse`), starting after
    // `after_seq` (before `before_seq` when reverse, 0: from the end), until `visit` returns false.
    // `needle`, when not empty, is a hint: only lines holding it need be visited. Returns
    // the seq of the function's newest line (0: none), as of the scan.
    std::uint64_t scan(const std::string& function, std::uint64_t after_seq, bool reverse, std::uint64_t before_seq,
              const std::function<bool(const LogView&)>& visit, std::string_view needle = {}) const;
    // The names with lines kept.
    std::vector<std::string> names() const;
    std::uint64_t last_seq() const;
    void erase(const std::string& function);
    void clear();

private:
    // Lines live in chunks of text (a scan of a million lines reads memory in order, and a
    // term can be searched for in a whole chunk at once); the oldest go first.
    struct Entry {
        std::int64_t time_ms;
        std::int64_t ingest_ms;
        std::uint64_t seq;
        std::uint32_t stream;
        std::uint32_t off, len;  // in the chunk's data
    };
    struct Chunk {
        std::string data;
        std::vector<Entry> entries;
        std::size_t head = 0;  // entries before it are trimmed
    };
    struct Stream {
        std::deque<Chunk> chunks;
        std::size_t count = 0;
        void push(std::int64_t time_ms, std::int64_t ingest_ms, std::uint64_t seq, std::uint32_t stream, std::string_view text);
        void pop_front();
        bool empty() const { return count == 0; }
        std::vector<std::string> stream_names;  // index: Entry::stream
        std::unordered_map<std::string, std::uint32_t> stream_ids;
        std::uint32_t tail_stream = 0;  // the stream the file's last record is in (0: "")
        std::uint32_t intern(const std::string& name);
        std::string record(const Entry& e, std::string_view text);
        std::size_t bytes = 0;
        int fd = -1;                  // the open log file, when persisted
        std::uint64_t file_bytes = 0;  // its size
        std::string pending;           // records not written yet
    };
    void load();
    void trim(Stream& s);
    void add(const std::string& function, const std::string& stream, std::string line, bool buffered);
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
