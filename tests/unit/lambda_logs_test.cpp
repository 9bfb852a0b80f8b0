// LogBook: per-function budgets, reading by time and sequence, and the files that keep the
// lines across restarts (reload, retention rewrite, erase, torn last line).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "lambda/logs.hpp"

using namespace stratus::lambda;
namespace fs = std::filesystem;

namespace {
struct TempDir {
    fs::path path;
    TempDir() {
        std::random_device rd;
        path = fs::temp_directory_path() / ("stratus-logs-" + std::to_string(rd()));
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::vector<std::string> texts(const std::vector<LogLine>& lines) {
    std::vector<std::string> out;
    for (auto& l : lines) out.push_back(l.text);
    return out;
}
}  // namespace

TEST_CASE("memory only: budget per function, oldest first out") {
    LogBook book(200);
    for (int i = 0; i < 10; ++i) book.append("f", "line " + std::to_string(i) + std::string(20, 'x'));
    book.append("g", "other");
    auto f = book.read("f", 0, 0, 100);
    CHECK(f.size() < 10);
    CHECK(f.back().text.starts_with("line 9"));
    CHECK(texts(book.read("g", 0, 0, 100)) == std::vector<std::string>{"other"});
    // after_seq: only newer lines; limit.
    auto after = book.read("f", 0, f[f.size() - 2].seq, 100);
    REQUIRE(after.size() == 1);
    CHECK(after[0].text.starts_with("line 9"));
    CHECK(book.read("f", 0, 0, 1).size() == 1);
    CHECK(book.read("nobody", 0, 0, 10).empty());
}

TEST_CASE("persisted lines come back after a restart, in order, with fresh sequence numbers") {
    TempDir dir;
    {
        LogBook book(1 << 20, dir.path.string());
        book.append("fn-a", "START RequestId: 1");
        book.append("fn-b", "b says\twith a tab");
        book.append("fn-a", "END RequestId: 1");
    }
    LogBook again(1 << 20, dir.path.string());
    CHECK(texts(again.read("fn-a", 0, 0, 10)) == std::vector<std::string>{"START RequestId: 1", "END RequestId: 1"});
    CHECK(texts(again.read("fn-b", 0, 0, 10)) == std::vector<std::string>{"b says\twith a tab"});
    auto a = again.read("fn-a", 0, 0, 10);
    auto b = again.read("fn-b", 0, 0, 10);
    CHECK(a[0].seq < a[1].seq);
    // New lines continue after the loaded ones.
    again.append("fn-a", "later");
    auto later = again.read("fn-a", 0, a[1].seq, 10);
    REQUIRE(later.size() == 1);
    CHECK(later[0].seq > b[0].seq);
}

TEST_CASE("lines with newlines and backslashes survive a restart unchanged") {
    TempDir dir;
    const std::vector<std::string> lines = {"two\nlines", "a \\ backslash", "\\n is not a newline", "", "plain", "end\n"};
    {
        LogBook book(1 << 20, dir.path.string());
        for (auto& l : lines) book.append("fn", l);
    }
    LogBook again(1 << 20, dir.path.string());
    CHECK(texts(again.read("fn", 0, 0, 10)) == lines);
}

TEST_CASE("buffered lines are readable at once and reach the file at flush (or destruction)") {
    TempDir dir;
    std::string path = (dir.path / "f.log").string();
    {
        LogBook book(1000, dir.path.string());
        book.append_buffered("f", "one");
        book.append_buffered("f", "two");
        CHECK(texts(book.read("f", 0, 0, 10)) == std::vector<std::string>{"one", "two"});
        CHECK_FALSE(fs::exists(path));
        book.flush();
        REQUIRE(fs::exists(path));
        auto flushed = fs::file_size(path);
        CHECK(flushed > 0);
        // Past the retention size in one batch: rewritten from memory, nothing twice.
        for (int i = 0; i < 200; ++i) book.append_buffered("f", "line " + std::to_string(i));
        book.flush();
        CHECK(fs::file_size(path) <= 2 * 1000 + 200);
        book.append_buffered("f", "last");
    }
    LogBook again(1000, dir.path.string());
    auto lines = again.read("f", 0, 0, 1000);
    REQUIRE(lines.size() >= 2);
    CHECK(lines.back().text == "last");
    CHECK(lines[lines.size() - 2].text == "line 199");
}

TEST_CASE("a torn last line (crash mid-write) is skipped") {
    TempDir dir;
    {
        std::ofstream out(dir.path / "f.log");
        out << "1700000000000 whole line\n" << "17000";
    }
    LogBook book(1 << 20, dir.path.string());
    CHECK(texts(book.read("f", 0, 0, 10)) == std::vector<std::string>{"whole line"});
}

TEST_CASE("retention: the file is rewritten from memory when it reaches twice the budget") {
    TempDir dir;
    std::string path = (dir.path / "f.log").string();
    {
        LogBook book(1000, dir.path.string());
        for (int i = 0; i < 200; ++i) book.append("f", "line " + std::to_string(i));
        CHECK(fs::file_size(path) <= 2 * 1000 + 200);
    }
    LogBook again(1000, dir.path.string());
    auto lines = again.read("f", 0, 0, 1000);
    REQUIRE_FALSE(lines.empty());
    CHECK(lines.back().text == "line 199");
    CHECK(lines.size() < 200);
}

TEST_CASE("erase and clear remove the files; unsafe names are never files") {
    TempDir dir;
    LogBook book(1 << 20, dir.path.string());
    book.append("keep", "k");
    book.append("gone", "g");
    book.append("../escape", "x");
    CHECK(fs::exists(dir.path / "gone.log"));
    CHECK_FALSE(fs::exists(dir.path.parent_path() / "escape.log"));
    book.erase("gone");
    CHECK_FALSE(fs::exists(dir.path / "gone.log"));
    CHECK(book.read("gone", 0, 0, 10).empty());
    CHECK(texts(book.read("../escape", 0, 0, 10)) == std::vector<std::string>{"x"});  // in memory only
    book.clear();
    CHECK_FALSE(fs::exists(dir.path / "keep.log"));
    LogBook again(1 << 20, dir.path.string());
    CHECK(again.read("keep", 0, 0, 10).empty());
}
