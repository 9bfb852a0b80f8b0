// Unpacks a .zip archive (a function's deployment package) into a directory.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace stratus::lambda {

struct ZipError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Extracts every entry of `zip` under `dir` (created), keeping Unix permissions (a
// provided runtime's `bootstrap` must stay executable). Refuses entries that would land
// outside `dir`, and archives unpacking to more than `max_size` bytes. Returns the
// unpacked size. Throws ZipError.
std::uint64_t unzip(std::string_view zip, const std::string& dir, std::uint64_t max_size);

}  // namespace stratus::lambda
