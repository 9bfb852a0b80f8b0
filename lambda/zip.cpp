#include "lambda/zip.hpp"

#include <sys/stat.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace stratus::lambda {

namespace fs = std::filesystem;

namespace {

std::uint32_t u32(std::string_view z, std::size_t at) {
    if (at + 4 > z.size()) throw ZipError("truncated archive");
    auto b = reinterpret_cast<const unsigned char*>(z.data() + at);
    return b[0] | (b[1] << 8) | (b[2] << 16) | (std::uint32_t(b[3]) << 24);
}
std::uint16_t u16(std::string_view z, std::size_t at) {
    if (at + 2 > z.size()) throw ZipError("truncated archive");
    auto b = reinterpret_cast<const unsigned char*>(z.data() + at);
    return static_cast<std::uint16_t>(b[0] | (b[1] << 8));
}

std::string inflate_raw(std::string_view in, std::uint64_t expected) {
    std::string out(expected, '\0');
    z_stream zs{};
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) throw ZipError("inflateInit failed");
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    int rc = inflate(&zs, Z_FINISH);
    std::uint64_t produced = zs.total_out;
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || produced != expected) throw ZipError("corrupt deflate stream");
    return out;
}

// A relative path with no "..", or nullopt.
bool safe_path(const std::string& name) {
    if (name.empty() || name[0] == '/' || name.find('\\') != std::string::npos) return false;
    fs::path p(name);
    for (auto& part : p)
        if (part == "..") return false;
    return true;
}

}  // namespace

std::uint64_t unzip(std::string_view z, const std::string& dir, std::uint64_t max_size) {
    // End of central directory: the last "PK\5\6" within the trailing 64 KB comment window.
    if (z.size() < 22) throw ZipError("not a zip archive");
    std::size_t eocd = std::string_view::npos;
    std::size_t lowest = z.size() > 22 + 65535 ? z.size() - 22 - 65535 : 0;
    for (std::size_t i = z.size() - 22 + 1; i-- > lowest;) {
        if (u32(z, i) == 0x06054b50) {
            eocd = i;
            break;
        }
    }
    if (eocd == std::string_view::npos) throw ZipError("not a zip archive");
    std::size_t entries = u16(z, eocd + 10);
    std::size_t at = u32(z, eocd + 16);
    fs::create_directories(dir);
    std::uint64_t total = 0;
    for (std::size_t n = 0; n < entries; ++n) {
        if (u32(z, at) != 0x02014b50) throw ZipError("bad central directory");
        std::uint16_t method = u16(z, at + 10);
        std::uint64_t csize = u32(z, at + 20);
        std::uint64_t usize = u32(z, at + 24);
        std::size_t name_len = u16(z, at + 28), extra_len = u16(z, at + 30), comment_len = u16(z, at + 32);
        std::uint16_t made_by = u16(z, at + 4);
        std::uint32_t external = u32(z, at + 38);
        std::size_t local = u32(z, at + 42);
        if (at + 46 + name_len > z.size()) throw ZipError("truncated archive");
        std::string name(z.substr(at + 46, name_len));
        at += 46 + name_len + extra_len + comment_len;
        if (csize == 0xffffffff || usize == 0xffffffff) throw ZipError("zip64 archives are not supported");
        if (!safe_path(name)) throw ZipError("entry outside the archive root: " + name);
        total += usize;
        if (total > max_size) throw ZipError("unzipped size too large");
        fs::path target = fs::path(dir) / name;
        bool unix = (made_by >> 8) == 3;
        mode_t mode = unix ? static_cast<mode_t>(external >> 16) : 0;
        if (name.back() == '/' || (mode && S_ISDIR(mode))) {
            fs::create_directories(target);
            continue;
        }
        if (u32(z, local) != 0x04034b50) throw ZipError("bad local header");
        std::size_t data = local + 30 + u16(z, local + 26) + u16(z, local + 28);
        if (data + csize > z.size()) throw ZipError("truncated archive");
        std::string_view raw = z.substr(data, csize);
        std::string content;
        if (method == 0) {
            if (csize != usize) throw ZipError("bad stored entry");
            content = std::string(raw);
        } else if (method == 8) {
            content = inflate_raw(raw, usize);
        } else {
            throw ZipError("unsupported compression method");
        }
        fs::create_directories(target.parent_path());
        if (mode && S_ISLNK(mode)) {
            // A symlink's target is its content; one leaving the archive is refused.
            if (!safe_path(content)) throw ZipError("symlink outside the archive root: " + name);
            std::error_code ec;
            fs::remove(target, ec);
            fs::create_symlink(content, target);
            continue;
        }
        {
            std::ofstream out(target, std::ios::binary | std::ios::trunc);
            out.write(content.data(), static_cast<std::streamsize>(content.size()));
            if (!out) throw ZipError("cannot write " + target.string());
        }
        // Zips made without Unix attributes get rw-r--r--, as Lambda does.
        mode_t perm = mode ? (mode & 0777) | 0444 : 0644;
        ::chmod(target.c_str(), perm);
    }
    return total;
}

}  // namespace stratus::lambda
