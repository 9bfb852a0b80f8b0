// A fresh directory under /tmp for one test, removed with everything in it at scope end.
#pragma once

#include <doctest/doctest.h>

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace stratus::test {

struct TempDir {
    std::string path;
    TempDir() {
        char pattern[] = "/tmp/stratus-test-XXXXXX";
        REQUIRE(mkdtemp(pattern) != nullptr);
        path = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

}  // namespace stratus::test
