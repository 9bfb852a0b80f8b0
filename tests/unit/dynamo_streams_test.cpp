// DynamoDB Streams: the tokens, the record encoding, and the stream store driven through the
// item operations with an injected clock (records only for real changes, images per view
// type, shard lineage, retention, iterator expiry, the Streams API's errors).
#include <doctest/doctest.h>

#include "aws_error.hpp"
#include "dynamo_fixture.hpp"

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "dynamo/ops/ops.hpp"
#include "dynamo/streams/ops.hpp"
#include "dynamo/streams/stream_store.hpp"

using namespace stratus::dynamo;
using namespace stratus::dynamo::streams;
namespace lmdb = stratus::core::lmdb;
using stratus::test::message_of;
using json = nlohmann::json;

namespace {

// A store on a fresh environment whose clock the test moves.
struct Fixture : stratus::test::DynamoStore {
    std::int64_t now = 1700000000000;  // ms
    Context ctx{store, "us-east-1", "000000000000", "localhost:4566", [this] { return now / 1000.0; }};
    ApiContext api{store.streams(), env};

    Fixture() { store.streams().now_ms = [this] { return now; }; }

    std::string create(const std::string& name, const char* view) {
        json in = {{"TableName", name},
                   {"KeySchema", {{{"AttributeName", "pk"}, {"KeyType", "HASH"}}}},
                   {"AttributeDefinitions", {{{"AttributeName", "pk"}, {"AttributeType", "S"}}}},
                   {"BillingMode", "PAY_PER_REQUEST"}};
        if (view) in["StreamSpecification"] = {{"StreamEnabled", true}, {"StreamViewType", view}};
        json out = create_table(ctx, in);
        return out["TableDescription"].value("LatestStreamArn", "");
    }
    void put(const std::string& table, const std::string& pk, int v) {
        put_item(ctx, {{"TableName", table}, {"Item", {{"pk", {{"S", pk}}}, {"v", {{"N", std::to_string(v)}}}}}});
    }
    void del(const std::string& table, const std::string& pk) {
        delete_item(ctx, {{"TableName", table}, {"Key", {{"pk", {{"S", pk}}}}}});
    }
    json describe(const std::string& arn) { return describe_stream(api, {{"StreamArn", arn}})["StreamDescription"]; }
    std::string iterator(const std::string& arn, const std::string& shard, const char* type = "TRIM_HORIZON",
                         std::optional<std::string> seq = std::nullopt) {
        json in = {{"StreamArn", arn}, {"ShardId", shard}, {"ShardIteratorType", type}};
        if (seq) in["SequenceNumber"] = *seq;
        return get_shard_iterator(api, in)["ShardIterator"].get<std::string>();
    }
    json records(const std::string& it, int limit = 1000) {
        return get_records(api, {{"ShardIterator", it}, {"Limit", limit}});
    }
};

std::string code_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const stratus::core::AwsError& e) {
        return e.code();
    }
    return "none";
}

}  // namespace

TEST_CASE("stream tokens parse what they format, and nothing else") {
    SUBCASE("sequence numbers: 21 digits, numeric order is string order") {
        SequenceNumber a(7), b(1234567);
        CHECK(a.str() == "100000000000000000007");
        CHECK(a.str().size() == 21);
        CHECK(a.str() < b.str());
        CHECK(SequenceNumber::parse(b.str())->value() == 1234567);
        CHECK_FALSE(SequenceNumber::parse("7"));
        CHECK_FALSE(SequenceNumber::parse("200000000000000000007"));
        CHECK_FALSE(SequenceNumber::parse("10000000000000000000x"));
    }
    SUBCASE("shard ids have AWS's layout") {
        std::string id = make_shard_id(1414576573621, 0xf55eea83);
        CHECK(id == "shardId-00000001414576573621-f55eea83");
    }
    SUBCASE("stream ARNs") {
        auto a = StreamArn::parse("arn:aws:dynamodb:us-east-1:000000000000:table/My.Table/stream/2015-05-11T21:21:33.291");
        REQUIRE(a);
        CHECK(a->table == "My.Table");
        CHECK(a->label == "2015-05-11T21:21:33.291");
        CHECK(a->str() == "arn:aws:dynamodb:us-east-1:000000000000:table/My.Table/stream/2015-05-11T21:21:33.291");
        CHECK_FALSE(StreamArn::parse("arn:aws:dynamodb:us-east-1:000000000000:table/T"));
        CHECK_FALSE(StreamArn::parse("arn:aws:dynamodb:us-east-1:000000000000:table/T/stream/yesterday"));
        CHECK(stream_label(1431379293291) == "2015-05-11T21:21:33.291");
    }
    SUBCASE("shard iterators") {
        ShardIterator it{"arn:aws:dynamodb:us-east-1:000000000000:table/T/stream/2015-05-11T21:21:33.291",
                         "shardId-00000001414576573621-f55eea83", SequenceNumber(42), 1700000000000};
        std::string text = it.str();
        CHECK(text.starts_with(it.stream_arn + "|1|"));
        auto back = ShardIterator::parse(text);
        REQUIRE(back);
        CHECK(back->shard_id == it.shard_id);
        CHECK(back->position.value() == 42);
        CHECK(back->issued_ms == 1700000000000);
        CHECK_FALSE(ShardIterator::parse("garbage"));
        CHECK_FALSE(ShardIterator::parse(it.stream_arn + "|1|!!!"));
    }
}

TEST_CASE("stream records encode and decode exactly") {
    Record r;
    r.seq = SequenceNumber(9);
    r.event = EventName::modify;
    r.created_ms = 1700000000999;
    r.by_service = true;
    r.keys = {{"pk", AttributeValue::string("a")}};
    r.new_image = Item{{"pk", AttributeValue::string("a")}, {"n", AttributeValue::number(Number::parse("1.5"))}};
    r.old_image = Item{{"pk", AttributeValue::string("a")}};
    Record back = decode_record(r.seq, encode_record(r));
    CHECK(back.event == EventName::modify);
    CHECK(back.created_ms == r.created_ms);
    CHECK(back.by_service);
    CHECK(back.keys == r.keys);
    CHECK(*back.new_image == *r.new_image);
    CHECK(*back.old_image == *r.old_image);
    CHECK_THROWS(decode_record(r.seq, "\x02garbage"));
    CHECK_THROWS(decode_record(r.seq, encode_record(r).substr(0, 20)));

    json api = record_json(back, ViewType::new_and_old_images, "us-east-1", Form::streams_api, "arn:s");
    CHECK(api["eventName"] == "MODIFY");
    CHECK(api["eventSource"] == "aws:dynamodb");
    CHECK(api["eventVersion"] == "1.1");
    CHECK(api["dynamodb"]["ApproximateCreationDateTime"] == 1700000000);
    CHECK(api["dynamodb"]["SequenceNumber"] == "100000000000000000009");
    CHECK(api["userIdentity"] == json{{"PrincipalId", "dynamodb.amazonaws.com"}, {"Type", "Service"}});
    CHECK_FALSE(api.contains("eventSourceARN"));
    json event = record_json(back, ViewType::new_and_old_images, "us-east-1", Form::event, "arn:s");
    CHECK(event["eventSourceARN"] == "arn:s");
    CHECK(event["userIdentity"] == json{{"type", "Service"}, {"principalId", "dynamodb.amazonaws.com"}});
    CHECK(event["eventID"] == api["eventID"]);
}

TEST_CASE("a record for each real change, with the images of the view type") {
    Fixture f;
    SUBCASE("NEW_AND_OLD_IMAGES") {
        std::string arn = f.create("tb1", "NEW_AND_OLD_IMAGES");
        f.put("tb1", "a", 1);
        f.put("tb1", "a", 1);  // no change: no record
        f.put("tb1", "a", 2);
        f.del("tb1", "a");
        f.del("tb1", "a");  // absent: no record
        json d = f.describe(arn);
        REQUIRE(d["Shards"].size() == 1);
        json r = f.records(f.iterator(arn, d["Shards"][0]["ShardId"]))["Records"];
        REQUIRE(r.size() == 3);
        CHECK(r[0]["eventName"] == "INSERT");
        CHECK_FALSE(r[0]["dynamodb"].contains("OldImage"));
        CHECK(r[0]["dynamodb"]["NewImage"]["v"]["N"] == "1");
        CHECK(r[1]["eventName"] == "MODIFY");
        CHECK(r[1]["dynamodb"]["OldImage"]["v"]["N"] == "1");
        CHECK(r[1]["dynamodb"]["NewImage"]["v"]["N"] == "2");
        CHECK(r[2]["eventName"] == "REMOVE");
        CHECK(r[2]["dynamodb"]["OldImage"]["v"]["N"] == "2");
        CHECK_FALSE(r[2]["dynamodb"].contains("NewImage"));
        CHECK(r[2]["dynamodb"]["Keys"] == json{{"pk", {{"S", "a"}}}});
        CHECK(r[0]["dynamodb"]["SequenceNumber"].get<std::string>() < r[1]["dynamodb"]["SequenceNumber"].get<std::string>());
    }
    SUBCASE("KEYS_ONLY, NEW_IMAGE, OLD_IMAGE keep only what they name") {
        std::string k = f.create("tbk", "KEYS_ONLY"), n = f.create("tbn", "NEW_IMAGE"), o = f.create("tbo", "OLD_IMAGE");
        for (auto t : {"tbk", "tbn", "tbo"}) {
            f.put(t, "a", 1);
            f.put(t, "a", 2);
        }
        auto second = [&](const std::string& arn) {
            return f.records(f.iterator(arn, f.describe(arn)["Shards"][0]["ShardId"]))["Records"][1]["dynamodb"];
        };
        json rk = second(k), rn = second(n), ro = second(o);
        CHECK(rk["StreamViewType"] == "KEYS_ONLY");
        CHECK_FALSE(rk.contains("NewImage"));
        CHECK_FALSE(rk.contains("OldImage"));
        CHECK(rn["NewImage"]["v"]["N"] == "2");
        CHECK_FALSE(rn.contains("OldImage"));
        CHECK(ro["OldImage"]["v"]["N"] == "1");
        CHECK_FALSE(ro.contains("NewImage"));
    }
    SUBCASE("a table without a stream writes none") {
        f.create("plain", nullptr);
        f.put("plain", "a", 1);
        json all = list_streams(f.api, json::object());
        CHECK(all["Streams"].empty());
    }
}

TEST_CASE("TTL deletions carry the service's identity") {
    Fixture f;
    std::string arn = f.create("ttl1", "NEW_AND_OLD_IMAGES");
    update_time_to_live(f.ctx, {{"TableName", "ttl1"}, {"TimeToLiveSpecification", {{"Enabled", true}, {"AttributeName", "exp"}}}});
    put_item(f.ctx, {{"TableName", "ttl1"}, {"Item", {{"pk", {{"S", "x"}}}, {"exp", {{"N", "1699999990"}}}}}});
    CHECK(sweep_expired(f.ctx, f.now / 1000.0) == 1);
    json r = f.records(f.iterator(arn, f.describe(arn)["Shards"][0]["ShardId"]))["Records"];
    REQUIRE(r.size() == 2);
    CHECK_FALSE(r[0].contains("userIdentity"));
    CHECK(r[1]["eventName"] == "REMOVE");
    CHECK(r[1]["userIdentity"]["Type"] == "Service");
    CHECK(r[1]["userIdentity"]["PrincipalId"] == "dynamodb.amazonaws.com");
}

TEST_CASE("iterators: types, positions, expiry") {
    Fixture f;
    std::string arn = f.create("itr", "NEW_IMAGE");
    std::string shard = f.describe(arn)["Shards"][0]["ShardId"];
    f.put("itr", "a", 1);
    f.put("itr", "b", 1);
    json all = f.records(f.iterator(arn, shard))["Records"];
    REQUIRE(all.size() == 2);
    std::string s1 = all[0]["dynamodb"]["SequenceNumber"], s2 = all[1]["dynamodb"]["SequenceNumber"];
    CHECK(f.records(f.iterator(arn, shard, "AT_SEQUENCE_NUMBER", s2))["Records"].size() == 1);
    CHECK(f.records(f.iterator(arn, shard, "AFTER_SEQUENCE_NUMBER", s1))["Records"][0]["dynamodb"]["SequenceNumber"] == s2);
    std::string latest = f.iterator(arn, shard, "LATEST");
    json empty = f.records(latest);
    CHECK(empty["Records"].empty());
    REQUIRE(empty.contains("NextShardIterator"));  // an open shard always has a next iterator
    f.put("itr", "c", 1);
    json after = f.records(empty["NextShardIterator"]);
    REQUIRE(after["Records"].size() == 1);
    CHECK(after["Records"][0]["dynamodb"]["Keys"]["pk"]["S"] == "c");
    json limited = f.records(f.iterator(arn, shard), 1);
    CHECK(limited["Records"].size() == 1);
    CHECK(f.records(limited["NextShardIterator"], 1)["Records"][0]["dynamodb"]["SequenceNumber"] == s2);

    // 15 minutes later the iterator is refused.
    std::string old = f.iterator(arn, shard);
    f.now += 15 * 60 * 1000 + 1;
    CHECK(code_of([&] { f.records(old); }) == "ExpiredIteratorException");
    CHECK(message_of([&] { f.records(old); }).starts_with("Iterator expired."));

    SUBCASE("errors") {
        CHECK(code_of([&] { f.iterator(arn, shard, "AT_SEQUENCE_NUMBER"); }) == "ValidationException");
        CHECK(code_of([&] { f.iterator(arn, shard, "LATEST", s1); }) == "ValidationException");
        CHECK(code_of([&] { f.iterator(arn, shard, "BOGUS"); }) == "ValidationException");
        CHECK(code_of([&] { f.iterator(arn, "shardId-00000001414576573621-00000000"); }) == "ResourceNotFoundException");
        CHECK(code_of([&] { f.iterator(arn + "x", shard); }) == "ValidationException");
        std::string other = "arn:aws:dynamodb:us-east-1:000000000000:table/nope/stream/2015-05-11T21:21:33.291";
        CHECK(code_of([&] { f.describe(other); }) == "ResourceNotFoundException");
        CHECK(message_of([&] { f.describe(other); }) == "Requested resource not found: Stream: " + other + " not found");
        CHECK(code_of([&] { f.records("garbage"); }) == "ValidationException");
        CHECK(code_of([&] { get_records(f.api, {{"ShardIterator", f.iterator(arn, shard)}, {"Limit", 1001}}); }) ==
              "ValidationException");
        CHECK(code_of([&] { get_records(f.api, json::object()); }) == "ValidationException");
        CHECK(code_of([&] { describe_stream(f.api, json::object()); }) == "ValidationException");
        CHECK(code_of([&] { list_streams(f.api, {{"Limit", 101}}); }) == "ValidationException");
    }
}

TEST_CASE("shards: rotation closes the parent, readers move to its child") {
    Fixture f;
    std::string arn = f.create("rot1", "KEYS_ONLY");
    f.put("rot1", "a", 1);
    std::string parent = f.describe(arn)["Shards"][0]["ShardId"];
    std::string it = f.iterator(arn, parent);
    REQUIRE(f.store.streams().rotate(arn));
    f.put("rot1", "b", 1);
    json d = f.describe(arn);
    REQUIRE(d["Shards"].size() == 2);
    CHECK(d["Shards"][0]["SequenceNumberRange"].contains("EndingSequenceNumber"));
    CHECK(d["Shards"][1]["ParentShardId"] == parent);
    CHECK_FALSE(d["Shards"][1]["SequenceNumberRange"].contains("EndingSequenceNumber"));
    // The parent gives its record, then no next iterator: it is closed and read to its end.
    json r = f.records(it);
    REQUIRE(r["Records"].size() == 1);
    CHECK_FALSE(r.contains("NextShardIterator"));
    json child = f.records(f.iterator(arn, d["Shards"][1]["ShardId"]));
    REQUIRE(child["Records"].size() == 1);
    CHECK(child["Records"][0]["dynamodb"]["Keys"]["pk"]["S"] == "b");
    // CHILD_SHARDS
    json kids = describe_stream(f.api, {{"StreamArn", arn}, {"ShardFilter", {{"Type", "CHILD_SHARDS"}, {"ShardId", parent}}}});
    REQUIRE(kids["StreamDescription"]["Shards"].size() == 1);
    // Paging
    json page = describe_stream(f.api, {{"StreamArn", arn}, {"Limit", 1}})["StreamDescription"];
    CHECK(page["Shards"].size() == 1);
    CHECK(page["LastEvaluatedShardId"] == parent);
    json rest = describe_stream(f.api, {{"StreamArn", arn}, {"ExclusiveStartShardId", parent}})["StreamDescription"];
    CHECK(rest["Shards"].size() == 1);
    CHECK_FALSE(rest.contains("LastEvaluatedShardId"));
    // Four hours on, maintain() rotates by itself.
    f.now += 4LL * 3600 * 1000;
    f.store.streams().maintain();
    CHECK(f.describe(arn)["Shards"].size() == 3);
}

TEST_CASE("retention: records older than 24 hours are trimmed") {
    Fixture f;
    std::string arn = f.create("ret1", "KEYS_ONLY");
    f.put("ret1", "old", 1);
    std::string shard = f.describe(arn)["Shards"][0]["ShardId"];
    std::string old_seq = f.records(f.iterator(arn, shard))["Records"][0]["dynamodb"]["SequenceNumber"];
    std::string stale_iterator = f.iterator(arn, shard);
    f.now += 23LL * 3600 * 1000;
    f.put("ret1", "new", 1);
    f.now += 3600LL * 1000 + 1;
    CHECK(f.store.streams().maintain() == 1);
    json r = f.records(f.iterator(arn, shard))["Records"];
    REQUIRE(r.size() == 1);
    CHECK(r[0]["dynamodb"]["Keys"]["pk"]["S"] == "new");
    CHECK(code_of([&] { f.iterator(arn, shard, "AT_SEQUENCE_NUMBER", old_seq); }) == "TrimmedDataAccessException");
    (void)stale_iterator;  // expired by now anyway (15 minutes)
}

TEST_CASE("disabling, re-enabling and deleting keep old streams readable for 24 hours") {
    Fixture f;
    std::string first = f.create("dis1", "NEW_IMAGE");
    f.put("dis1", "a", 1);
    auto update = [&](json spec) { return update_table(f.ctx, {{"TableName", "dis1"}, {"StreamSpecification", spec}}); };
    CHECK(code_of([&] { update({{"StreamEnabled", true}, {"StreamViewType", "KEYS_ONLY"}}); }) == "ValidationException");
    json off = update({{"StreamEnabled", false}});
    CHECK_FALSE(off["TableDescription"].contains("StreamSpecification"));
    CHECK(off["TableDescription"]["LatestStreamArn"] == first);
    CHECK(code_of([&] { update({{"StreamEnabled", false}}); }) == "ValidationException");
    CHECK(code_of([&] { update({{"StreamEnabled", true}}); }) == "ValidationException");
    CHECK(code_of([&] { update({{"StreamEnabled", true}, {"StreamViewType", "SIDEWAYS"}}); }) == "ValidationException");
    f.put("dis1", "b", 1);  // no stream: no record anywhere
    f.now += 1;
    json on = update({{"StreamEnabled", true}, {"StreamViewType", "KEYS_ONLY"}});
    std::string second = on["TableDescription"]["LatestStreamArn"];
    CHECK(second != first);
    json d1 = f.describe(first);
    CHECK(d1["StreamStatus"] == "DISABLED");
    CHECK(d1["Shards"][0]["SequenceNumberRange"].contains("EndingSequenceNumber"));
    CHECK(f.records(f.iterator(first, d1["Shards"][0]["ShardId"]))["Records"].size() == 1);
    CHECK(list_streams(f.api, {{"TableName", "dis1"}})["Streams"].size() == 2);
    delete_table(f.ctx, {{"TableName", "dis1"}});
    CHECK(f.describe(second)["StreamStatus"] == "DISABLED");
    f.now += 24LL * 3600 * 1000 + 2;
    f.store.streams().maintain();
    CHECK(list_streams(f.api, json::object())["Streams"].empty());
    CHECK(code_of([&] { f.describe(first); }) == "ResourceNotFoundException");
}

TEST_CASE("batch writes and transactions write a record per changed item, in one commit") {
    Fixture f;
    std::string arn = f.create("btt", "NEW_AND_OLD_IMAGES");
    int wakeups = 0;
    f.store.streams().subscribe([&] { ++wakeups; });
    batch_write_item(f.ctx, {{"RequestItems",
                              {{"btt",
                                {{{"PutRequest", {{"Item", {{"pk", {{"S", "a"}}}}}}}},
                                 {{"PutRequest", {{"Item", {{"pk", {{"S", "b"}}}}}}}},
                                 {{"DeleteRequest", {{"Key", {{"pk", {{"S", "zz"}}}}}}}}}}}}});
    CHECK(wakeups >= 1);
    transact_write_items(f.ctx, {{"TransactItems",
                                  {{{"Update", {{"TableName", "btt"}, {"Key", {{"pk", {{"S", "a"}}}}}, {"UpdateExpression", "SET n = :one"},
                                                {"ExpressionAttributeValues", {{":one", {{"N", "1"}}}}}}}},
                                   {{"Delete", {{"TableName", "btt"}, {"Key", {{"pk", {{"S", "b"}}}}}}}}}}});
    // A cancelled transaction writes nothing.
    CHECK(code_of([&] {
              transact_write_items(f.ctx, {{"TransactItems",
                                            {{{"Put", {{"TableName", "btt"}, {"Item", {{"pk", {{"S", "c"}}}}}}}},
                                             {{"ConditionCheck", {{"TableName", "btt"}, {"Key", {{"pk", {{"S", "a"}}}}},
                                                                  {"ConditionExpression", "attribute_not_exists(pk)"}}}}}}});
          }) == "TransactionCanceledException");
    json r = f.records(f.iterator(arn, f.describe(arn)["Shards"][0]["ShardId"]))["Records"];
    REQUIRE(r.size() == 4);
    CHECK(r[0]["eventName"] == "INSERT");
    CHECK(r[1]["eventName"] == "INSERT");
    CHECK(r[2]["eventName"] == "MODIFY");
    CHECK(r[3]["eventName"] == "REMOVE");
}
