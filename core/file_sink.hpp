// A BodySink that spools a request body to a temporary file in a given directory, so an
// upload of any size never sits in memory. The file is removed when the sink is destroyed
// unless a service took it over with release().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/http_types.hpp"

namespace stratus::core {

// Writes all of bytes to fd (retrying short and interrupted writes). Throws
// std::system_error naming `what` (a path).
void write_all(int fd, std::string_view bytes, const std::string& what);

class FileSink : public BodySink {
public:
    // Creates the file (mkstemp) in `dir`, which must exist. Throws std::system_error.
    explicit FileSink(const std::string& dir);
    ~FileSink() override;
    FileSink(const FileSink&) = delete;
    FileSink& operator=(const FileSink&) = delete;

    void write(std::string_view bytes) override;
    void finish() override;

    const std::string& path() const { return path_; }
    std::uint64_t size() const { return size_; }
    // The caller now owns the file (renamed it, say); the sink will not remove it.
    std::string release();

private:
    std::string path_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
};

}  // namespace stratus::core
