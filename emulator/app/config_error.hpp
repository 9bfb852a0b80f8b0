// A config error: the file, line and column it is about, and what is wrong. `stratus start`
// prints what() and exits non-zero; a redeploy prints it and keeps what runs.
#pragma once

#include <stdexcept>
#include <string>

namespace stratus::app {

struct Mark {
    std::string file;
    int line = 0;    // 1-based; 0: unknown
    int column = 0;  // 1-based
    bool operator==(const Mark&) const = default;
};

class ConfigError : public std::runtime_error {
public:
    ConfigError(const Mark& mark, const std::string& message)
        : std::runtime_error(format(mark, message)), mark_(mark), message_(message) {}
    const Mark& mark() const { return mark_; }
    const std::string& message() const { return message_; }

    static std::string format(const Mark& m, const std::string& message) {
        if (m.file.empty()) return message;
        if (m.line == 0) return m.file + ": " + message;
        return m.file + ":" + std::to_string(m.line) + ":" + std::to_string(m.column) + ": " + message;
    }

private:
    Mark mark_;
    std::string message_;
};

}  // namespace stratus::app
