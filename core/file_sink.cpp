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

void write_all(int fd, std::string_view bytes, const std::string& what) {
    while (!bytes.empty()) {
        ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "cannot write " + what);
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

void FileSink::write(std::string_view bytes) {
    write_all(fd_, bytes, path_);
    size_ += bytes.size();
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
