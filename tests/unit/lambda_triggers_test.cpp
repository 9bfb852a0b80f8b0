// What Lambda's triggers evaluate: AWS's event filter patterns (the examples of Lambda's
// "Lambda event filtering" and EventBridge's "Content filtering in event patterns"
// documentation), EventBridge schedule expressions (rate and cron, with the documented
// examples) and the input a schedule's target receives.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "lambda/event_filter.hpp"
#include "lambda/schedule_expr.hpp"
#include "lambda/schedule_input.hpp"

using namespace stratus::lambda;
using json = nlohmann::json;

namespace {

bool match(const char* pattern, const char* event) { return EventPattern::parse(pattern).matches(json::parse(event)); }

std::int64_t at(int y, int mo, int d, int h = 0, int mi = 0) { return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60; }

std::int64_t next(const char* expr, std::int64_t after) {
    auto n = ScheduleExpression::parse(expr).next(after, 0);
    REQUIRE(n);
    return *n;
}

}  // namespace

TEST_CASE("filter rule syntax: Lambda's table of comparison operators") {
    // Null, empty, equals
    CHECK(match(R"({"UserID": [null]})", R"({"UserID": null})"));
    CHECK_FALSE(match(R"({"UserID": [null]})", R"({"UserID": "x"})"));
    CHECK_FALSE(match(R"({"UserID": [null]})", R"({})"));
    CHECK(match(R"({"LastName": [""]})", R"({"LastName": ""})"));
    CHECK(match(R"({"Name": ["Alice"]})", R"({"Name": "Alice"})"));
    CHECK_FALSE(match(R"({"Name": ["Alice"]})", R"({"Name": "alice"})"));
    CHECK(match(R"({"Name": [{"equals-ignore-case": "alice"}]})", R"({"Name": "ALICE"})"));
    // And, or
    const char* both = R"({"Location": ["New York"], "Day": ["Monday"]})";
    CHECK(match(both, R"({"Location": "New York", "Day": "Monday"})"));
    CHECK_FALSE(match(both, R"({"Location": "New York", "Day": "Tuesday"})"));
    CHECK(match(R"({"PaymentType": ["Credit", "Debit"]})", R"({"PaymentType": "Debit"})"));
    CHECK_FALSE(match(R"({"PaymentType": ["Credit", "Debit"]})", R"({"PaymentType": "Cash"})"));
    const char* either = R"({"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]})";
    CHECK(match(either, R"({"Location": "Boston", "Day": "Monday"})"));
    CHECK(match(either, R"({"Location": "New York", "Day": "Sunday"})"));
    CHECK_FALSE(match(either, R"({"Location": "Boston", "Day": "Sunday"})"));
    // Not
    CHECK(match(R"({"Weather": [{"anything-but": ["Raining"]}]})", R"({"Weather": "Sunny"})"));
    CHECK_FALSE(match(R"({"Weather": [{"anything-but": ["Raining"]}]})", R"({"Weather": "Raining"})"));
    CHECK_FALSE(match(R"({"Weather": [{"anything-but": ["Raining"]}]})", R"({})"));
    // Numeric
    CHECK(match(R"({"Price": [{"numeric": ["=", 100]}]})", R"({"Price": 100})"));
    CHECK(match(R"({"Price": [{"numeric": ["=", 100]}]})", R"({"Price": 100.0})"));
    CHECK_FALSE(match(R"({"Price": [{"numeric": ["=", 100]}]})", R"({"Price": "100"})"));
    const char* range = R"({"Price": [{"numeric": [">", 10, "<=", 20]}]})";
    CHECK(match(range, R"({"Price": 20})"));
    CHECK(match(range, R"({"Price": 10.5})"));
    CHECK_FALSE(match(range, R"({"Price": 10})"));
    CHECK_FALSE(match(range, R"({"Price": 20.01})"));
    // Exists
    CHECK(match(R"({"ProductName": [{"exists": true}]})", R"({"ProductName": "x"})"));
    CHECK_FALSE(match(R"({"ProductName": [{"exists": true}]})", R"({})"));
    CHECK(match(R"({"ProductName": [{"exists": false}]})", R"({})"));
    CHECK_FALSE(match(R"({"ProductName": [{"exists": false}]})", R"({"ProductName": "x"})"));
    // Begins with, ends with
    CHECK(match(R"({"Region": [{"prefix": "us-"}]})", R"({"Region": "us-east-1"})"));
    CHECK_FALSE(match(R"({"Region": [{"prefix": "us-"}]})", R"({"Region": "eu-west-1"})"));
    CHECK(match(R"({"FileName": [{"suffix": ".png"}]})", R"({"FileName": "cat.png"})"));
    CHECK_FALSE(match(R"({"FileName": [{"suffix": ".png"}]})", R"({"FileName": "cat.PNG"})"));
    CHECK(match(R"({"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]})", R"({"FileName": "cat.PNG"})"));
    CHECK(match(R"({"Region": [{"prefix": {"equals-ignore-case": "US-"}}]})", R"({"Region": "us-east-1"})"));
}

TEST_CASE("filtering DynamoDB stream records (Lambda's DynamoDB examples)") {
    const char* record = R"({"eventName": "INSERT", "dynamodb": {
        "Keys": {"CustomerName": {"S": "AnyCompany Industries"}},
        "NewImage": {"CustomerName": {"S": "AnyCompany Industries"}, "Quantity": {"N": "50"},
                     "Tags": {"L": [{"S": "a"}, {"S": "b"}]}}}})";
    CHECK(match(R"({"dynamodb": {"Keys": {"CustomerName": {"S": ["AnyCompany Industries"]}}}})", record));
    CHECK_FALSE(match(R"({"dynamodb": {"Keys": {"CustomerName": {"S": ["Other Co"]}}}})", record));
    CHECK(match(R"({"eventName": ["INSERT", "MODIFY"]})", record));
    CHECK_FALSE(match(R"({"eventName": ["REMOVE"]})", record));
    CHECK(match(R"({"dynamodb": {"NewImage": {"CustomerName": {"S": [{"prefix": "Any"}]}}}})", record));
    // DynamoDB numbers are strings in the record: exact matching works, numeric does not.
    CHECK(match(R"({"dynamodb": {"NewImage": {"Quantity": {"N": ["50"]}}}})", record));
    CHECK_FALSE(match(R"({"dynamodb": {"NewImage": {"Quantity": {"N": [{"numeric": [">", 0]}]}}}})", record));
    // Nested absent fields: only exists:false matches.
    CHECK(match(R"({"dynamodb": {"OldImage": {"Quantity": {"N": [{"exists": false}]}}}})", record));
    CHECK_FALSE(match(R"({"dynamodb": {"OldImage": {"Quantity": {"N": ["50"]}}}})", record));
    // Arrays of objects match when any element does.
    CHECK(match(R"({"dynamodb": {"NewImage": {"Tags": {"L": {"S": ["b"]}}}}})", record));
}

TEST_CASE("content filtering: EventBridge's examples") {
    CHECK(match(R"({"state": [{"anything-but": {"prefix": "init"}}]})", R"({"state": "running"})"));
    CHECK_FALSE(match(R"({"state": [{"anything-but": {"prefix": "init"}}]})", R"({"state": "initializing"})"));
    CHECK_FALSE(match(R"({"FileName": [{"anything-but": {"suffix": ".txt"}}]})", R"({"FileName": "notes.txt"})"));
    CHECK(match(R"({"FileName": [{"anything-but": {"suffix": ".txt"}}]})", R"({"FileName": "notes.md"})"));
    const char* eic = R"({"state": [{"anything-but": {"equals-ignore-case": ["Stopped", "OverLoaded"]}}]})";
    CHECK(match(eic, R"({"state": "running"})"));
    CHECK_FALSE(match(eic, R"({"state": "overloaded"})"));
    CHECK(match(R"({"x": [{"anything-but": 100}]})", R"({"x": 101})"));
    CHECK_FALSE(match(R"({"x": [{"anything-but": [100, 200]}]})", R"({"x": 200})"));
    // wildcard
    const char* wc = R"({"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]})";
    CHECK(match(wc, R"({"EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/default"})"));
    CHECK_FALSE(match(wc, R"({"EventBusArn": "arn:aws:events:us-west-2:123456789012:event-bus/default"})"));
    CHECK(match(R"({"k": [{"wildcard": "dir/*.png"}]})", R"({"k": "dir/a/b.png"})"));
    CHECK(match(R"({"k": [{"wildcard": "a\\*b"}]})", R"({"k": "a*b"})"));
    CHECK_FALSE(match(R"({"k": [{"wildcard": "a\\*b"}]})", R"({"k": "axxb"})"));
    // cidr
    const char* ip = R"({"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}})";
    CHECK(match(ip, R"({"detail": {"source-ip": "10.0.0.255"}})"));
    CHECK_FALSE(match(ip, R"({"detail": {"source-ip": "10.0.1.1"}})"));
    CHECK(match(R"({"ip": [{"cidr": "2001:db8::/32"}]})", R"({"ip": "2001:db8:1::1"})"));
    // numeric over several fields
    const char* nums = R"({"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}], "d-count": [{"numeric": ["<", 10]}],
                          "x-limit": [{"numeric": ["=", 3.018e2]}]}})";
    CHECK(match(nums, R"({"detail": {"c-count": 5, "d-count": 4, "x-limit": 301.8}})"));
    CHECK_FALSE(match(nums, R"({"detail": {"c-count": 6, "d-count": 4, "x-limit": 301.8}})"));
    // Event arrays: any element
    const char* res = R"({"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f", "arn:x"]})";
    CHECK(match(res, R"({"resources": ["arn:y", "arn:x"]})"));
    CHECK_FALSE(match(res, R"({"resources": ["arn:y", "arn:z"]})"));
    // $or nested with other keys
    const char* nested = R"({"source": ["aws.ec2"], "$or": [{"detail": {"state": ["running"]}}, {"detail": {"c": [{"numeric": [">", 1]}]}}]})";
    CHECK(match(nested, R"({"source": "aws.ec2", "detail": {"c": 2}})"));
    CHECK_FALSE(match(nested, R"({"source": "aws.s3", "detail": {"c": 2}})"));
    CHECK(match("{}", R"({"anything": 1})"));
}

TEST_CASE("invalid filter patterns are refused with a reason") {
    for (const char* bad : {R"([1])", R"({"a": "x"})", R"({"a": []})", R"({"a": [{"prefix": 1}]})",
                            R"({"a": [{"numeric": [">", "x"]}]})", R"({"a": [{"numeric": [">", 1, ">", 2]}]})",
                            R"({"a": [{"numeric": [">", 5, "<", 1]}]})", R"({"a": [{"exists": "yes"}]})",
                            R"({"a": [{"nope": 1}]})", R"({"a": [{"prefix": "x", "suffix": "y"}]})",
                            R"({"a": [{"cidr": "10.0.0.0/33"}]})", R"({"a": [{"wildcard": "a**b"}]})",
                            R"({"$or": [{"a": ["x"]}]})", R"({"a": [{"anything-but": {"numeric": [">", 1]}}]})", "not json"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(EventPattern::parse(bad), std::invalid_argument);
    }
}

TEST_CASE("rate expressions") {
    auto r = ScheduleExpression::parse("rate(5 minutes)");
    CHECK(r.is_rate());
    CHECK(*r.next(1000, 1000) == 1300);
    CHECK(*r.next(1299, 1000) == 1300);
    CHECK(*r.next(1300, 1000) == 1600);
    CHECK(*ScheduleExpression::parse("rate(1 hour)").next(0, 0) == 3600);
    CHECK(*ScheduleExpression::parse("rate(2 days)").next(10, 0) == 2 * 86400);
    for (const char* bad : {"rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(-1 minutes)", "rate(5 weeks)",
                            "rate(5)", "rate 5 minutes", "rate(x minutes)", "every 5 minutes"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(ScheduleExpression::parse(bad), std::invalid_argument);
    }
}

TEST_CASE("cron expressions: EventBridge's documented examples") {
    CHECK(at(1970, 1, 1) == 0);
    // 10:15 AM (UTC) every day
    CHECK(next("cron(15 10 * * ? *)", at(2024, 1, 1, 9)) == at(2024, 1, 1, 10, 15));
    CHECK(next("cron(15 10 * * ? *)", at(2024, 1, 1, 10, 15)) == at(2024, 1, 2, 10, 15));
    // 6:00 PM Monday through Friday (2024-01-06 is a Saturday)
    CHECK(next("cron(0 18 ? * MON-FRI *)", at(2024, 1, 6, 12)) == at(2024, 1, 8, 18));
    // 8:00 AM on the first day of the month
    CHECK(next("cron(0 8 1 * ? *)", at(2024, 1, 1, 9)) == at(2024, 2, 1, 8));
    // Every 10 minutes on weekdays
    CHECK(next("cron(0/10 * ? * MON-FRI *)", at(2024, 1, 5, 23, 55)) == at(2024, 1, 8, 0, 0));
    CHECK(next("cron(0/10 * ? * MON-FRI *)", at(2024, 1, 8, 0, 1)) == at(2024, 1, 8, 0, 10));
    // Every 5 minutes between 8:00 AM and 5:55 PM weekdays
    CHECK(next("cron(0/5 8-17 ? * MON-FRI *)", at(2024, 1, 8, 17, 55)) == at(2024, 1, 9, 8, 0));
    // 9:00 AM on the first Monday of each month (2024-01-01 was a Monday)
    CHECK(next("cron(0 9 ? * 2#1 *)", at(2023, 12, 31)) == at(2024, 1, 1, 9));
    CHECK(next("cron(0 9 ? * 2#1 *)", at(2024, 1, 1, 10)) == at(2024, 2, 5, 9));
    // Every 15 minutes
    CHECK(next("cron(0/15 * * * ? *)", at(2024, 1, 1, 0, 14)) == at(2024, 1, 1, 0, 15));
    // The last day of the month (2024 is a leap year)
    CHECK(next("cron(0 0 L * ? *)", at(2024, 2, 1)) == at(2024, 2, 29));
    // The weekday nearest the 15th (2024-06-15 is a Saturday: Friday the 14th)
    CHECK(next("cron(0 0 15W * ? *)", at(2024, 6, 1)) == at(2024, 6, 14));
    // ... and nearest the 1st when that is a Saturday (2024-06-01): Monday the 3rd
    CHECK(next("cron(0 0 1W * ? *)", at(2024, 5, 31, 1)) == at(2024, 6, 3));
    // The last weekday (2024-03-31 is a Sunday: Friday the 29th)
    CHECK(next("cron(0 0 LW * ? *)", at(2024, 3, 1)) == at(2024, 3, 29));
    // The last Friday of the month
    CHECK(next("cron(0 0 ? * 6L *)", at(2024, 1, 1)) == at(2024, 1, 26));
    // Named months, lists, wrapped ranges, years
    CHECK(next("cron(30 6 1 JAN,JUL ? *)", at(2024, 1, 2)) == at(2024, 7, 1, 6, 30));
    CHECK(next("cron(0 0 ? * FRI-MON *)", at(2024, 1, 2)) == at(2024, 1, 5));  // Tuesday -> Friday
    CHECK(next("cron(0 0 1 1 ? 2030)", at(2024, 1, 1)) == at(2030, 1, 1));
    CHECK_FALSE(ScheduleExpression::parse("cron(0 0 1 1 ? 2020)").next(at(2024, 1, 1), 0));
    for (const char* bad : {"cron(0 10 * * ?)", "cron(0 10 * * * *)", "cron(0 10 ? * ? *)", "cron(60 10 * * ? *)",
                            "cron(0 24 * * ? *)", "cron(0 0 32 * ? *)", "cron(0 0 ? * 8 *)", "cron(0 0 ? * 2#6 *)",
                            "cron(0 0 * 13 ? *)", "cron(0 0 * * ? 1969)", "cron(0/0 * * * ? *)", "cron(a b c d e f)",
                            "cron(0 0 L? * ? *)"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(ScheduleExpression::parse(bad), std::invalid_argument);
    }
}

TEST_CASE("a schedule's target input: the event, Input, InputPath, InputTransformer") {
    std::string event = scheduled_event("nightly", at(2019, 10, 8, 16, 53) + 6, "id-1");
    json e = json::parse(event);
    CHECK(e["detail-type"] == "Scheduled Event");
    CHECK(e["source"] == "aws.events");
    CHECK(e["time"] == "2019-10-08T16:53:06Z");
    CHECK(e["resources"][0] == "arn:aws:events:us-east-1:000000000000:rule/nightly");
    CHECK(e["detail"] == json::object());

    ScheduleSpec s;
    s.name = "nightly";
    CHECK(target_input(s, event) == event);
    s.input = R"({"job": "cleanup"})";
    CHECK(json::parse(target_input(s, event)) == json{{"job", "cleanup"}});
    s.input.reset();
    s.input_path = "$.resources[0]";
    CHECK(json::parse(target_input(s, event)) == "arn:aws:events:us-east-1:000000000000:rule/nightly");
    s.input_path = "$.detail";
    CHECK(json::parse(target_input(s, event)) == json::object());
    s.input_path.reset();
    s.input_paths_map = R"({"t": "$.time", "src": "$['source']", "missing": "$.nope"})";
    s.input_template = R"({"when": "<t>", "from": <src>, "rule": "<aws.events.rule-name>", "none": <missing>})";
    CHECK(json::parse(target_input(s, event)) ==
          json{{"when", "2019-10-08T16:53:06Z"}, {"from", "aws.events"}, {"rule", "nightly"}, {"none", nullptr}});
    s.input_template = "rule <aws.events.rule-name> at <t>";
    CHECK(json::parse(target_input(s, event)) == "rule nightly at 2019-10-08T16:53:06Z");

    ScheduleSpec both;
    both.input = "{}";
    both.input_path = "$";
    CHECK_THROWS_AS(validate_target_input(both), std::invalid_argument);
    ScheduleSpec bad_json;
    bad_json.input = "{";
    CHECK_THROWS_AS(validate_target_input(bad_json), std::invalid_argument);
    ScheduleSpec bad_path;
    bad_path.input_path = "detail";
    CHECK_THROWS_AS(validate_target_input(bad_path), std::invalid_argument);
    ScheduleSpec no_template;
    no_template.input_paths_map = R"({"a": "$.a"})";
    CHECK_THROWS_AS(validate_target_input(no_template), std::invalid_argument);
}

// ---- the schedule timer, with a fake invoker and clock

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "lambda/trigger_engine.hpp"
#include "temp_dir.hpp"

namespace {

struct FakeInvoker : Invoker {
    std::mutex mutex;
    std::vector<std::pair<std::string, std::string>> events;  // function, payload
    std::optional<FunctionInfo> describe(std::string_view f) override {
        return FunctionInfo{std::string(f), "arn:aws:lambda:us-east-1:000000000000:function:" + std::string(f), 3};
    }
    void invoke(std::string_view, InvokeInput, std::function<void(InvokeResult)> done) override { done({}); }
    std::string invoke_event(std::string_view f, InvokeInput in, std::function<void(const InvokeResult&)>) override {
        std::lock_guard lock(mutex);
        events.emplace_back(std::string(f), in.payload);
        return "id";
    }
    std::size_t count() {
        std::lock_guard lock(mutex);
        return events.size();
    }
};

}  // namespace

TEST_CASE("the schedule timer fires a rule when its time comes, once per period") {
    stratus::test::TempDir dir;
    auto env = stratus::core::lmdb::Env::open(dir.path);
    FakeInvoker invoker;
    std::atomic<std::int64_t> now{at(2024, 1, 1, 0, 0) * 1000};
    TriggerOptions o;
    o.now_ms = [&] { return now.load(); };
    TriggerEngine engine(env, invoker, o);
    engine.start();
    ScheduleSpec s;
    s.name = "every-minute";
    s.expression = "rate(1 minute)";
    s.function = "f";
    s.input = R"({"tick": true})";
    engine.declare_schedule(s);
    ScheduleSpec c = s;
    c.name = "at-noon";
    c.expression = "cron(0 12 * * ? *)";
    c.input.reset();
    engine.declare_schedule(c);
    auto wait_for_count = [&](std::size_t n) {
        for (int i = 0; i < 200 && invoker.count() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return invoker.count();
    };
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(invoker.count() == 0);
    // Declaring another (disabled) rule wakes the timer, which finds what is due.
    ScheduleSpec nudge = s;
    nudge.enabled = false;
    auto wake = [&](const char* name) {
        nudge.name = name;
        engine.declare_schedule(nudge);
    };
    now += 61 * 1000;
    wake("nudge1");
    REQUIRE(wait_for_count(1) == 1);
    CHECK(invoker.events[0].second == R"({"tick": true})");
    now += 30 * 1000;
    wake("nudge2");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(invoker.count() == 1);  // not due again before a minute has passed
    now = at(2024, 1, 1, 12, 0) * 1000 + 500;
    wake("nudge3");
    CHECK(wait_for_count(3) == 3);  // the rate rule (once, not every minute it missed) and the cron one
    bool noon = false;
    for (auto& [f, payload] : invoker.events)
        noon |= payload.find("rule/at-noon\"") != std::string::npos && payload.find("2024-01-01T12:00:00Z") != std::string::npos;
    CHECK(noon);
    engine.stop();
}

// ---- event source mappings over a fake stream: lineage order, record age, bisect

#include <nlohmann/json.hpp>

namespace {

struct FakeStream : StreamEventSource {
    std::mutex mutex;
    struct Shard {
        StreamShardInfo info;
        std::vector<StreamRecordData> records;
    };
    std::vector<Shard> shards_;
    std::function<void()> wake;

    bool exists(const std::string&) override { return true; }
    std::vector<StreamShardInfo> shards(const std::string&) override {
        std::lock_guard lock(mutex);
        std::vector<StreamShardInfo> out;
        for (auto& s : shards_) out.push_back(s.info);
        return out;
    }
    StreamBatch read(const std::string&, const std::string& shard, const std::string& after, std::size_t limit) override {
        std::lock_guard lock(mutex);
        StreamBatch b;
        for (auto& s : shards_) {
            if (s.info.id != shard) continue;
            std::size_t i = 0;
            while (i < s.records.size() && !after.empty() && s.records[i].sequence_number <= after) ++i;
            for (; i < s.records.size() && b.records.size() < limit; ++i) b.records.push_back(s.records[i]);
            b.shard_end = s.info.closed && i == s.records.size();
        }
        return b;
    }
    std::string latest(const std::string&) override { return "999"; }
    void subscribe(std::function<void()> fn) override { wake = std::move(fn); }

    void add(const std::string& shard, const std::string& seq, std::int64_t created_ms, bool poison = false) {
        std::lock_guard lock(mutex);
        for (auto& s : shards_)
            if (s.info.id == shard)
                s.records.push_back({seq, nlohmann::json{{"seq", seq}, {"poison", poison}}.dump(), created_ms});
    }
};

// Records every batch; fails batches holding a poison record.
struct BatchInvoker : Invoker {
    std::mutex mutex;
    std::vector<std::vector<std::string>> batches;
    std::optional<FunctionInfo> describe(std::string_view f) override {
        return FunctionInfo{std::string(f), "arn:aws:lambda:us-east-1:000000000000:function:" + std::string(f), 3};
    }
    void invoke(std::string_view, InvokeInput in, std::function<void(InvokeResult)> done) override {
        auto j = nlohmann::json::parse(in.payload);
        std::vector<std::string> seqs;
        bool poison = false;
        for (auto& r : j["Records"]) {
            seqs.push_back(r["seq"]);
            poison |= r["poison"].get<bool>();
        }
        {
            std::lock_guard lock(mutex);
            batches.push_back(seqs);
        }
        InvokeResult res;
        res.function_error = poison;
        res.payload = poison ? R"({"errorMessage":"poison"})" : "null";
        done(std::move(res));
    }
    std::string invoke_event(std::string_view, InvokeInput, std::function<void(const InvokeResult&)>) override { return ""; }
    std::vector<std::vector<std::string>> snapshot() {
        std::lock_guard lock(mutex);
        return batches;
    }
};

template <class Pred>
bool eventually(Pred pred) {
    for (int i = 0; i < 300; ++i) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pred();
}

}  // namespace

TEST_CASE("a mapping reads a parent shard to its end before its child, and gives up on old or poison records") {
    stratus::test::TempDir dir;
    auto env = stratus::core::lmdb::Env::open(dir.path);
    auto source = std::make_shared<FakeStream>();
    std::int64_t t0 = 1700000000000;
    std::atomic<std::int64_t> now{t0};
    source->shards_ = {{{"shard-child", "shard-parent", false}, {}}, {{"shard-parent", "", true}, {}}};
    source->add("shard-parent", "001", t0);
    source->add("shard-parent", "002", t0);
    source->add("shard-child", "003", t0);
    BatchInvoker invoker;
    TriggerOptions o;
    o.streams = source;
    o.now_ms = [&] { return now.load(); };
    o.retry_delay = std::chrono::milliseconds(1);
    TriggerEngine engine(env, invoker, o);
    engine.start();
    EventSourceMappingSpec spec;
    spec.function = "f";
    spec.event_source_arn = "arn:aws:dynamodb:us-east-1:000000000000:table/T/stream/2024-01-01T00:00:00.000";
    spec.batch_size = 10;
    spec.bisect_batch_on_function_error = true;
    spec.maximum_retry_attempts = 1;
    spec.maximum_record_age_seconds = 60;
    spec.on_failure_destination = "arn:aws:sqs:us-east-1:000000000000:dlq";
    std::string uuid = engine.declare_mapping(spec);
    // Listed child first: still the parent is read first, to its end.
    REQUIRE(eventually([&] { return invoker.snapshot().size() >= 2; }));
    auto b = invoker.snapshot();
    CHECK(b[0] == std::vector<std::string>{"001", "002"});
    CHECK(b[1] == std::vector<std::string>{"003"});

    SUBCASE("a poison record is bisected out and recorded after its retry") {
        source->add("shard-child", "004", t0);
        source->add("shard-child", "005", t0, true);
        source->add("shard-child", "006", t0);
        source->wake();
        REQUIRE(eventually([&] { return engine.failed_batches(uuid).size() == 1; }));
        auto f = nlohmann::json::parse(engine.failed_batches(uuid)[0]);
        CHECK(f["requestContext"]["condition"] == "RetryAttemptsExhausted");
        CHECK(f["DDBStreamBatchInfo"]["startSequenceNumber"] == "005");
        CHECK(f["DDBStreamBatchInfo"]["batchSize"] == 1);
        REQUIRE(eventually([&] {
            for (auto& x : invoker.snapshot())
                if (x == std::vector<std::string>{"006"}) return true;
            return false;
        }));
        int alone = 0;
        for (auto& x : invoker.snapshot()) alone += x == std::vector<std::string>{"005"};
        CHECK(alone == 2);  // the try and its one retry; splitting used none
    }
    SUBCASE("records past MaximumRecordAgeInSeconds go to the destination without an invocation") {
        now = t0 + 61 * 1000;
        source->add("shard-child", "007", t0 + 500);
        source->wake();
        REQUIRE(eventually([&] { return engine.failed_batches(uuid).size() == 1; }));
        auto f = nlohmann::json::parse(engine.failed_batches(uuid)[0]);
        CHECK(f["requestContext"]["condition"] == "RecordAgeExceeded");
        CHECK(f["DDBStreamBatchInfo"]["startSequenceNumber"] == "007");
        CHECK(invoker.snapshot().size() == 2);
    }
    engine.stop();
}
