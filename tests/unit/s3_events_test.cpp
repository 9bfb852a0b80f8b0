// S3 event records from notification configurations: matching and shape.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "s3/events.hpp"
#include "temp_dir.hpp"

using namespace stratus::s3;
using Pending = EventOutbox::Pending;

TEST_CASE("notification configurations select records by event and key filter") {
    std::string config = R"(<NotificationConfiguration><CloudFunctionConfiguration><Id>img</Id>
        <CloudFunction>arn:aws:lambda:us-east-1:000000000000:function:f</CloudFunction>
        <Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>Prefix</Name><Value>in/</Value></FilterRule>
        <FilterRule><Name>Suffix</Name><Value>.png</Value></FilterRule></S3Key></Filter></CloudFunctionConfiguration>
        <LambdaFunctionConfiguration><Id>del</Id><LambdaFunctionArn>arn:g</LambdaFunctionArn>
        <Event>s3:ObjectRemoved:Delete</Event></LambdaFunctionConfiguration></NotificationConfiguration>)";
    ObjectChange put{"bkt", "in/a b.png", "ObjectCreated:Put", 12, "etag", "", 1700000000123, "RID", "127.0.0.1"};
    auto records = build_records(config, put, 42);
    REQUIRE(records.size() == 1);
    CHECK(records[0].function_arn == "arn:aws:lambda:us-east-1:000000000000:function:f");
    auto j = nlohmann::json::parse(records[0].record_json)["Records"][0];
    CHECK(j["eventName"] == "ObjectCreated:Put");
    CHECK(j["eventTime"] == "2023-11-14T22:13:20.123Z");
    CHECK(j["s3"]["object"]["key"] == "in/a+b.png");
    CHECK(j["s3"]["object"]["size"] == 12);
    CHECK(j["s3"]["object"]["sequencer"] == "000000000000002A");
    CHECK(j["s3"]["configurationId"] == "img");

    put.key = "in/a.jpg";
    CHECK(build_records(config, put, 1).empty());
    ObjectChange del{"bkt", "x", "ObjectRemoved:Delete", 0, "", "", 0, "", ""};
    auto d = build_records(config, del, 2);
    REQUIRE(d.size() == 1);
    CHECK(d[0].configuration_id == "del");
    CHECK_FALSE(nlohmann::json::parse(d[0].record_json)["Records"][0]["s3"]["object"].contains("size"));
    del.event_name = "ObjectRemoved:DeleteMarkerCreated";
    CHECK(build_records(config, del, 3).empty());
}

TEST_CASE("the outbox keeps records staged in committed transactions until acknowledged") {
    stratus::test::TempDir dir;
    auto env = stratus::core::lmdb::Env::open(dir.path);
    EventOutbox outbox(env);
    outbox.enable_tap();
    int wakeups = 0;
    outbox.subscribe([&] { ++wakeups; });
    std::string config = "<NotificationConfiguration><CloudFunctionConfiguration><CloudFunction>a</CloudFunction>"
                         "<Event>s3:ObjectCreated:*</Event></CloudFunctionConfiguration></NotificationConfiguration>";
    env.write([&](stratus::core::lmdb::WriteTxn& txn) {
        outbox.stage(txn, config, ObjectChange{"b", "k1", "ObjectCreated:Put", 1, "e", "", 1000, "", ""});
        outbox.stage(txn, config, ObjectChange{"b", "k2", "ObjectCreated:Copy", 1, "e", "", 1000, "", ""});
        outbox.stage(txn, "", ObjectChange{"b", "k3", "ObjectCreated:Put", 1, "e", "", 1000, "", ""});
    });
    CHECK(wakeups >= 1);
    int before = wakeups;
    // An aborted transaction stages nothing (and wakes nobody).
    CHECK_THROWS(env.write([&](stratus::core::lmdb::WriteTxn& txn) {
        outbox.stage(txn, config, ObjectChange{"b", "k4", "ObjectCreated:Put", 1, "e", "", 1000, "", ""});
        throw std::runtime_error("abort");
    }));
    CHECK(wakeups == before);
    CHECK(outbox.size() == 2);
    auto p = outbox.pending(10);
    REQUIRE(p.size() == 2);
    CHECK(p[0].record.record_json.find("k1") != std::string::npos);
    auto seq = [](const Pending& x) {
        return nlohmann::json::parse(x.record.record_json)["Records"][0]["s3"]["object"]["sequencer"].get<std::string>();
    };
    CHECK(seq(p[0]) < seq(p[1]));
    CHECK(outbox.pending(1).size() == 1);
    CHECK(outbox.drain_tap().size() == 2);
    CHECK(outbox.drain_tap().empty());
    outbox.acknowledge({p[0].id});
    REQUIRE(outbox.size() == 1);
    outbox.acknowledge({p[1].id});
    CHECK(outbox.size() == 0);
    // Sequencers keep growing once the outbox is empty.
    env.write([&](stratus::core::lmdb::WriteTxn& txn) {
        outbox.stage(txn, config, ObjectChange{"b", "k1", "ObjectCreated:Put", 1, "e", "", 1000, "", ""});
    });
    auto again = outbox.pending(10);
    REQUIRE(again.size() == 1);
    CHECK(seq(again[0]) > seq(p[1]));
}
