#include "core/file_sink.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <system_error>

namespace stratus::core {

FileSink::FileSink(const std::string& dir) {
    std::string tmpl = dir + "/upload-XXXXXX";
    fd_ = ::mkstemp(tmpl.data());
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot create " + tmpl);
    path_ = std::move(tmpl);
}

FileSink::~FileSink() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
}

void FileSink::write(std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::write(fd_, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "cannot write " + path_);
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
        size_ += static_cast<std::uint64_t>(n);
    }
}

void FileSink::finish() {
    if (fd_ >= 0) {
        int rc = ::close(fd_);
        fd_ = -1;
        if (rc != 0) throw std::system_error(errno, std::generic_category(), "cannot close " + path_);
    }
}

std::string FileSink::release() {
    std::string p = std::move(path_);
    path_.clear();
    return p;
}

}  // namespace stratus::core
