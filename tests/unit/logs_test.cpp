// CloudWatch Logs filter patterns against the examples of AWS's user guide ("Filter pattern
// syntax for metric filters, subscription filters, filter log events, and Live Tail"), and
// the LogBook's streams, event times and multi-line messages across a restart.
#include <doctest/doctest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "lambda/logs.hpp"
#include "logs/filter_pattern.hpp"

using stratus::logs::FilterPattern;

namespace {

bool match(const char* pattern, const std::string& message) { return FilterPattern::parse(pattern).matches(message); }

// The guide's unstructured example events.
const std::vector<std::string> errors = {
    "[ERROR 400] BAD REQUEST",
    "[ERROR 401] UNAUTHORIZED REQUEST",
    "[ERROR 419] MISSING ARGUMENTS",
    "[ERROR 420] INVALID ARGUMENTS",
    "[WARN 1] SOMETHING ODD",
    "[ERROR 500] INTERNAL SERVER ERROR",
};

std::vector<int> which(const char* pattern) {
    auto p = FilterPattern::parse(pattern);
    std::vector<int> out;
    for (std::size_t i = 0; i < errors.size(); ++i)
        if (p.matches(errors[i])) out.push_back(static_cast<int>(i));
    return out;
}

// The guide's JSON example event.
const std::string event = R"({
  "eventType": "UpdateTrail",
  "sourceIPAddress": "123.123.123.123",
  "arrayKey": ["value", "another value"],
  "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
  "SomeObject": null,
  "cluster.name": "c",
  "ThisFlag": true,
  "latency": 63.5,
  "user": {"id": 1, "email": "John.Stiles@example.com"},
  "users": [{"id": 2, "email": "John.Doe@example.com"}],
  "actions": ["GET", "PUT", "DELETE"],
  "coordinates": [[0, 1], [2, 3]]
})";

const std::string apache = R"(127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534)";

}  // namespace

TEST_CASE("filter patterns: terms, phrases, ? alternatives, - exclusions") {
    CHECK(which("") == std::vector<int>{0, 1, 2, 3, 4, 5});
    CHECK(which("\"\"") == std::vector<int>{0, 1, 2, 3, 4, 5});
    CHECK(which("ERROR") == std::vector<int>{0, 1, 2, 3, 5});
    CHECK(which("ERROR ARGUMENTS") == std::vector<int>{2, 3});
    CHECK(which("?ERROR ?ARGUMENTS") == std::vector<int>{0, 1, 2, 3, 5});
    CHECK(which("?WARN ?MISSING") == std::vector<int>{2, 4});
    CHECK(which("\"INTERNAL SERVER ERROR\"") == std::vector<int>{5});
    CHECK(which("ERROR -ARGUMENTS") == std::vector<int>{0, 1, 5});
    CHECK(which("ERROR -\"BAD REQUEST\"") == std::vector<int>{1, 2, 3, 5});
    // Case-sensitive, as AWS's terms are.
    CHECK(which("error").empty());
    // Terms match inside words (AWS's behaviour here is not documented: a substring match
    // is what LocalStack and moto do too).
    CHECK(match("ARGUMENT", "[ERROR 419] MISSING ARGUMENTS"));
    // A phrase with an escaped quote.
    CHECK(match(R"("say \"hi\"")", R"(they say "hi" here)"));
    CHECK_FALSE(match(R"("say \"hi\"")", "they say hi here"));
    // An empty message (the fuzzer's find: memmem was handed a null pointer).
    CHECK_FALSE(FilterPattern::parse("k").matches(std::string_view()));
    CHECK(FilterPattern::parse("-k").matches(std::string_view()));
    // Regular expressions.
    CHECK(which("%ERROR 4[0-9]{2}%") == std::vector<int>{0, 1, 2, 3});
    CHECK(match("%^\\[WARN%", errors[4]));
    // A regular expression with nested quantifiers over a long message answers at once (the
    // fuzzer's find: std::regex backtracked exponentially here; RE2 is linear).
    CHECK_FALSE(match("%(a*)*b%", std::string(5000, 'a')));
    CHECK(match("%^[a-z]+$%", std::string(1 << 20, 'q')));
}

TEST_CASE("filter patterns: JSON selectors and comparisons") {
    struct Row {
        const char* pattern;
        bool matches;
    };
    const Row rows[] = {
        {R"({ $.eventType = "UpdateTrail" })", true},
        {R"({ $.eventType = UpdateTrail })", true},
        {R"({ $.eventType != "UpdateTrail" })", false},
        {R"({ $.eventType = "Update*" })", true},
        {R"({ $.eventType = "*Trail" })", true},
        {R"({ $.eventType = "*" })", true},
        {R"({ $.sourceIPAddress != 123.123.* })", false},
        {R"({ $.sourceIPAddress = 123.123.* })", true},
        {R"({ $.arrayKey[0] = "value" })", true},
        {R"({ $.arrayKey[1] = "value" })", false},
        {R"({ $.arrayKey[5] = "value" })", false},
        {R"({ $.objectList[1].id = 2 })", true},
        {R"({ $.objectList[1].id != 2 })", false},
        {R"({ $.objectList[0].name = "a" })", true},
        {R"({ $.SomeObject IS NULL })", true},
        {R"({ $.eventType IS NULL })", false},
        {R"({ $.SomeOtherObject NOT EXISTS })", true},
        {R"({ $.eventType NOT EXISTS })", false},
        {R"({ $.ThisFlag IS TRUE })", true},
        {R"({ $.ThisFlag IS FALSE })", false},
        {R"({ $.latency > 50 })", true},
        {R"({ $.latency >= 63.5 })", true},
        {R"({ $.latency < 63.5 })", false},
        {R"({ $.latency <= 1e2 })", true},
        {R"({ $.latency = 63.5 })", true},
        {R"({ $.latency > -1 })", true},
        {R"({ $.eventType > 1 })", false},  // a string is never compared as a number
        {R"({ $.missing > 1 })", false},
        {R"({ $.missing != "x" })", false},  // a missing field matches no comparison
        {R"({ $.['cluster.name'] = "c" })", true},
        {R"({ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") })", true},
        {R"({ ($.user.id = 2 && $.users[0].email = "John.Doe@example.com") || $.actions[2] = "GET" })", false},
        {R"({ ($.user.id = 2 && $.users[0].email = "John.Doe@example.com") || $.actions[0] = "GET" })", true},
        // && binds tighter than ||: the guide's pair of examples.
        {R"({ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch })", true},
        {R"({ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch })", false},
        {R"({ $.coordinates[1][0] = 2 })", true},
        {R"({ $.eventType = %Update(Trail|Bucket)% })", true},
        {R"({ $.eventType != %^Delete% })", true},
    };
    for (auto& r : rows) {
        CAPTURE(r.pattern);
        CHECK(match(r.pattern, event) == r.matches);
    }
    // Not JSON: no match. A Lambda line with text before its JSON object: matched from its '{'.
    CHECK_FALSE(match(R"({ $.level = "error" })", "plain text"));
    CHECK(match(R"({ $.level = "error" })", "2026-12-02T17:57:53.048Z\tid\tINFO\t{\"level\":\"error\"}"));
    CHECK_FALSE(match(R"({ $.level = "error" })", "{\"level\":\"info\"}"));
}

TEST_CASE("filter patterns: space-delimited events") {
    struct Row {
        const char* pattern;
        bool matches;
    };
    const Row rows[] = {
        {"[ip, user, username, timestamp, request, status_code, bytes]", true},
        {"[ip, user, username, timestamp, request, status_code = 200, bytes > 1000]", true},
        {"[ip, user, username, timestamp, request, status_code = 4*, bytes]", false},
        {"[ip, user, username, timestamp, request = \"*gif*\", status_code, bytes]", true},
        {"[ip, user, username, timestamp, request = *html*, status_code, bytes]", false},
        {"[..., status_code = 200, bytes]", true},
        {"[..., status_code = 200]", false},
        {"[ip = 127.0.0.*, ...]", true},
        {"[ip = 10.*, ...]", false},
        {"[ip, user, ...]", true},
        {"[ip, ..., bytes < 2000]", true},
        {"[ip, user]", false},  // seven fields, two names
        {"[ip, user, username = frank, ...]", true},
        {"[ip, user, username = frank || username = joe, ...]", true},
        {"[ip, user, username, ..., status_code >= 200 && status_code < 300, bytes]", true},
        {"[ip, user, username, ..., status_code >= 400 && status_code < 500, bytes]", false},
        {"[ip, user, username != frank, ...]", false},
        {"[ip, user, username, timestamp = %Oct/2000%, ...]", true},
    };
    for (auto& r : rows) {
        CAPTURE(r.pattern);
        CHECK(match(r.pattern, apache) == r.matches);
    }
}

TEST_CASE("filter patterns: invalid patterns are refused, saying why") {
    for (const char* bad : {"{ $.a = }", "{ $.a = 1", "{ a = 1 }", "{ $.a > \"x\" }", "{ $.a IS MAYBE }", "{ ($.a = 1 }",
                            "[a,,b]", "[a, b", "[a, a]", "[a, b = 1 && c = 2]", "\"open", "?",
                            "ERROR -", "%unclosed", "{ $.a = %[% }", "{ $ = 1 }", "{ $.a[x] = 1 }"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(FilterPattern::parse(bad), std::invalid_argument);
    }
    CHECK_THROWS_AS(FilterPattern::parse(std::string(1025, 'a')), std::invalid_argument);
    // Deep nesting is refused, not a deep recursion.
    CHECK_THROWS_AS(FilterPattern::parse("{ " + std::string(200, '(') + "$.a = 1" + std::string(200, ')') + " }"),
                    std::invalid_argument);
}

namespace {
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::random_device rd;
        path = std::filesystem::temp_directory_path() / ("stratus-logs-" + std::to_string(rd()));
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};
}  // namespace

TEST_CASE("LogBook: streams, event times and multi-line messages survive a restart") {
    using stratus::lambda::LogBook;
    using stratus::lambda::LogView;
    TempDir dir;
    {
        LogBook book(1 << 20, dir.path.string());
        book.append("fn", "2026/12/02/[$LATEST]aaa", "from sandbox a");
        book.append_buffered("fn", "2026/12/02/[$LATEST]bbb", "from sandbox b");
        book.append("fn", "no stream");
        book.flush();
        book.append_events("g1", "s", {{1000, "line one\nline two"}, {2000, "back\\slash"}});
    }
    LogBook again(1 << 20, dir.path.string());
    auto fn = again.read("fn", 0, 0, 10);
    REQUIRE(fn.size() == 3);
    CHECK(fn[0].stream == "2026/12/02/[$LATEST]aaa");
    CHECK(fn[1].stream == "2026/12/02/[$LATEST]bbb");
    CHECK(fn[2].stream.empty());
    auto g = again.read("g1", 0, 0, 10);
    REQUIRE(g.size() == 2);
    CHECK(g[0].text == "line one\nline two");
    CHECK(g[0].time_ms == 1000);
    CHECK(g[0].ingest_ms > 1000);
    CHECK(g[1].text == "back\\slash");
    // Reverse scans, bounded by a sequence number.
    std::vector<std::string> seen;
    again.scan("fn", 0, true, fn[2].seq, [&](const LogView& l) {
        seen.emplace_back(l.text);
        return true;
    });
    CHECK(seen == std::vector<std::string>{"from sandbox b", "from sandbox a"});
    CHECK(again.names() == std::vector<std::string>{"fn", "g1"});
}
