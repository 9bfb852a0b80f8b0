// GetItem's fast path (get_item_fast) must answer exactly what the general path
// (get_item_text on nlohmann's tree) answers, or step aside: for every request below, and
// for random mutations of them, either it answers nullopt or its text equals the general
// path's, and whenever the general path fails it answers nullopt.
#include <doctest/doctest.h>

#include "dynamo_fixture.hpp"

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "dynamo/ops/ops.hpp"

#include <random>

using namespace stratus::dynamo;
namespace lmdb = stratus::core::lmdb;
using json = nlohmann::json;

namespace {

struct Fixture : stratus::test::DynamoStore {
    Context ctx{store, "us-east-1", "000000000000", "localhost:4566", [] { return 1700000000.0; },
                std::make_shared<TransactionTokens>(), [] {}};

    Fixture() {
        create_table(ctx, {{"TableName", "composite"},
                           {"KeySchema", {{{"AttributeName", "pk"}, {"KeyType", "HASH"}}, {{"AttributeName", "sk"}, {"KeyType", "RANGE"}}}},
                           {"AttributeDefinitions", {{{"AttributeName", "pk"}, {"AttributeType", "S"}}, {{"AttributeName", "sk"}, {"AttributeType", "N"}}}},
                           {"BillingMode", "PAY_PER_REQUEST"}});
        create_table(ctx, {{"TableName", "simple.t-1"},
                           {"KeySchema", {{{"AttributeName", "id"}, {"KeyType", "HASH"}}}},
                           {"AttributeDefinitions", {{{"AttributeName", "id"}, {"AttributeType", "S"}}}},
                           {"BillingMode", "PAY_PER_REQUEST"}});
        put_item(ctx, {{"TableName", "composite"},
                       {"Item", json::parse(R"({"pk":{"S":"a"},"sk":{"N":"1.50"},"s":{"S":"q\"\\\n é"},"n":{"N":"-3e2"},
                           "b":{"B":"AP8="},"l":{"L":[{"NULL":true},{"BOOL":false},{"M":{"x":{"SS":["b","a"]}}}]},
                           "ns":{"NS":["2","1"]},"bs":{"BS":["AQ=="]}})")}});
        put_item(ctx, {{"TableName", "simple.t-1"}, {"Item", {{"id", {{"S", "k"}}}, {"v", {{"N", "7"}}}}}});
        // String keys at and past the fast path's 1,024 bytes (the general path takes longer ones).
        put_item(ctx, {{"TableName", "simple.t-1"}, {"Item", {{"id", {{"S", std::string(1024, 'x')}}}, {"v", {{"N", "1"}}}}}});
        put_item(ctx, {{"TableName", "simple.t-1"}, {"Item", {{"id", {{"S", std::string(1500, 'y')}}}, {"v", {{"N", "2"}}}}}});
    }

    // The general path's answer, or nullopt when it fails.
    std::optional<std::string> general(const std::string& body) {
        json in = json::parse(body, nullptr, false);
        if (in.is_discarded()) return std::nullopt;
        try {
            return get_item_text(ctx, in);
        } catch (const stratus::core::AwsError&) {
            return std::nullopt;
        }
    }
};

// One to three characters of `body` replaced, removed or inserted (from `alphabet`).
std::string mutated(std::string body, const std::string& alphabet, std::mt19937_64& rng) {
    for (int m = 1 + rng() % 3; m > 0 && !body.empty(); --m) {
        std::size_t at = rng() % body.size();
        switch (rng() % 3) {
            case 0: body[at] = alphabet[rng() % alphabet.size()]; break;
            case 1: body.erase(at, 1); break;
            default: body.insert(at, 1, alphabet[rng() % alphabet.size()]);
        }
    }
    return body;
}

}  // namespace

TEST_CASE("get_item_fast answers what get_item_text answers, or steps aside") {
    Fixture f;
    std::vector<std::string> bodies = {
        R"({"TableName":"composite","Key":{"pk":{"S":"a"},"sk":{"N":"1.5"}}})",
        R"({"Key":{"sk":{"N":"15e-1"},"pk":{"S":"a"}},"TableName":"composite","ConsistentRead":true})",
        R"({"TableName":"composite","Key":{"pk":{"S":"a"},"sk":{"N":"2"}},"ReturnConsumedCapacity":"NONE"})",
        R"({"TableName":"simple.t-1","Key":{"id":{"S":"k"}},"ConsistentRead":false})",
        R"({"TableName":"simple.t-1","Key":{"id":{"S":"missing"}}})",
        // Each of these must go to the general path (answered or refused there).
        R"({"TableName":"composite","Key":{"pk":{"S":"a"},"sk":{"N":"1.5"}},"ReturnConsumedCapacity":"TOTAL"})",
        R"({"TableName":"composite","Key":{"pk":{"S":"a"},"sk":{"N":"1.5"}},"ProjectionExpression":"s"})",
        R"({"TableName":"composite","Key":{"pk":{"S":"a"},"sk":{"N":"1.5"}},"AttributesToGet":["s"]})",
        R"({"TableName":"composite","Key":{"pk":{"S":"a"},"sk":{"N":"x"}}})",
        R"({"TableName":"composite","Key":{"pk":{"S":"a"}}})",
        R"({"TableName":"composite","Key":{"pk":{"S":""},"sk":{"N":"1"}}})",
        R"({"TableName":"composite","Key":{"pk":{"S":"a"},"sk":{"S":"1"}}})",
        R"({"TableName":"composite","Key":{"pk":{"S":"a"},"sk":{"N":"1"},"x":{"S":"1"}}})",
        R"({"TableName":"composite","Key":{"pk":{"S":"a","N":null},"sk":{"N":"1"}}})",
        R"({"TableName":"composite","Key":{"pk":{"B":"AA=="},"sk":{"N":"1"}}})",
        R"({"TableName":"nope","Key":{"pk":{"S":"a"}}})",
        R"({"TableName":"arn:aws:dynamodb:us-east-1:000000000000:table/composite","Key":{"pk":{"S":"a"},"sk":{"N":"1.5"}}})",
        R"({"TableName":"composite","TableName":"simple.t-1","Key":{"id":{"S":"k"}}})",
        R"({"TableName":"composite","Key":{"pk":{"S":"a"},"sk":{"N":"1.5"}},"ConsistentRead":"yes"})",
        R"({"TableName":"composite","Key":{"pk":{"S":"a"},"sk":{"N":"1.5"}},"ConsistentRead":null})",
        R"({"TableName":null,"Key":{"pk":{"S":"a"}}})",
        R"({"TableName":"ab","Key":{"pk":{"S":"a"}}})",
        R"({"TableName":"composite","Key":[]})",
        R"({"TableName":"composite"})",
        R"([])",
        R"({"TableName":"composite","Key":{"pk":{"S":"a"},"pk":{"S":"b"}}})",
        R"({"TableName":"composite","Key":{"pk":{"N":"1"},"sk":{"N":"1.5"}}})",
        R"({"TableName":"composite","Key":{"pk":{"S":"a"},"sk2":{"N":"1.5"}}})",
        R"({"TableName":"simple.t-1","Key":{"id":{"N":"1"}}})",
        R"({"TableName":"simple.t-1","Key":{"idx":{"S":"k"}}})",
        R"({"TableName":"simple.t-1","Key":{"id":{"S":"k"},"sk":{"N":"1"}}})",
        R"({"TableName":"simple.t-1","Key":{"id":{"S":")" + std::string(1500, 'y') + R"("}}})",
        R"({"TableName":"simple.t-1","Key":{"id":{"S":")" + std::string(3000, 'z') + R"("}}})",
    };
    // A 1,024-byte key: still the fast path's.
    bodies.insert(bodies.begin() + 5, R"({"TableName":"simple.t-1","Key":{"id":{"S":")" + std::string(1024, 'x') + R"("}}})");
    int fast = 0, checked = 0, wrong = 0;
    auto check = [&](const std::string& body) {
        std::optional<std::string> quick;
        try {
            quick = get_item_fast(f.ctx, body);
        } catch (const std::exception&) {
            ++wrong;  // the fast path never throws for a request
            return;
        }
        auto slow = f.general(body);
        ++checked;
        if (quick) {
            ++fast;
            if (quick != slow) {
                ++wrong;
                MESSAGE("differs: ", body, " fast: ", *quick, " general: ", slow.value_or("<error>"));
            }
        }
    };
    for (const auto& body : bodies) check(body);
    CHECK(fast == 6);  // the first six, and only they
    std::mt19937_64 rng(5);
    const std::string alphabet = "{}[]\":,0123456789.eE-+ aSNBpksidxTableNameKy\\";
    for (int k = 0; k < 4000; ++k) {
        check(mutated(bodies[rng() % bodies.size()], alphabet, rng));
    }
    CHECK(checked > 4000);
    CHECK(wrong == 0);
}

// PutItem's fast path: two stores take the same requests, one always through put_item, the
// other through put_item_fast whenever it accepts; answers (or errors) and the tables'
// contents must stay the same.
TEST_CASE("put_item_fast writes and answers what put_item does, or steps aside") {
    Fixture general, quick;
    const std::vector<std::string> bodies = {
        R"({"TableName":"composite","Item":{"pk":{"S":"a"},"sk":{"N":"2"},"s":{"S":"x\n\"é"},"t":{"BOOL":true},"u":{"NULL":true}}})",
        R"({"Item":{"sk":{"N":"3.50"},"pk":{"S":"a"},"n":{"N":"-1e3"}},"TableName":"composite","ReturnValues":"NONE"})",
        R"({"TableName":"simple.t-1","Item":{"id":{"S":"k"},"v":{"N":"8"}},"ReturnConsumedCapacity":"NONE","ReturnItemCollectionMetrics":"NONE"})",
        R"({"TableName":"simple.t-1","Item":{"id":{"S":"new"}}})",
        // Each of these must go to the general path (answered or refused there), except
        // the four marked "write", parsed by the fast path and refused by the shared write.
        R"({"TableName":"simple.t-1","Item":{"id":{"S":"k"},"v":{"N":"9"}},"ReturnValues":"ALL_OLD"})",
        R"J({"TableName":"simple.t-1","Item":{"id":{"S":"k"}},"ConditionExpression":"attribute_not_exists(id)"})J",
        R"({"TableName":"simple.t-1","Item":{"id":{"S":"k"}},"ReturnConsumedCapacity":"TOTAL"})",
        R"({"TableName":"simple.t-1","Item":{"id":{"S":"m"},"l":{"L":[]},"ss":{"SS":["a"]}}})",
        R"({"TableName":"simple.t-1","Item":{"id":{"S":"m"},"n":{"N":"1x"}}})",
        R"({"TableName":"simple.t-1","Item":{"id":{"S":""}}})",  // write
        R"({"TableName":"simple.t-1","Item":{"id":{"N":"1"}}})",  // write
        R"({"TableName":"simple.t-1","Item":{"v":{"S":"no key"}}})",  // write
        R"({"TableName":"simple.t-1","Item":{"id":{"S":"d"},"id":{"S":"e"}}})",
        R"({"TableName":"simple.t-1","Item":{"id":{"S":"z"},"u":{"NULL":false}}})",
        R"({"TableName":"missing","Item":{"id":{"S":"z"}}})",  // write
        R"({"TableName":"simple.t-1","Item":{"id":{"S":"z","N":null}}})",
        R"({"TableName":"simple.t-1","Item":{"id":{"S":"z"}},"Expected":{}})",
        R"({"TableName":"simple.t-1"})",
    };
    auto answer = [](const std::function<json()>& f) -> std::string {
        try {
            return f().dump();
        } catch (const stratus::core::AwsError& e) {
            return "error " + e.code() + ": " + e.what();
        }
    };
    int fast = 0, wrong = 0;
    auto check = [&](const std::string& body) {
        json in = json::parse(body, nullptr, false);
        std::string expected = in.is_discarded() ? "not JSON" : answer([&] { return put_item(general.ctx, in); });
        std::function<json(Context&)> put;
        try {
            put = put_item_fast(body);
        } catch (const std::exception&) {
            ++wrong;
            return;
        }
        std::string got;
        if (put) {
            ++fast;
            got = answer([&] { return put(quick.ctx); });
        } else {
            got = in.is_discarded() ? "not JSON" : answer([&] { return put_item(quick.ctx, in); });
        }
        if (got != expected) {
            ++wrong;
            MESSAGE("differs: ", body, " fast: ", got, " general: ", expected);
        }
    };
    for (const auto& body : bodies) check(body);
    // The first four, and four refused by the write itself, which both paths share: an empty
    // or mistyped or missing key attribute, a missing table.
    CHECK(fast == 8);
    std::mt19937_64 rng(9);
    const std::string alphabet = "{}[]\":,0123456789.eE-+ aSNBOLUpkidvxTableNameItem\\";
    for (int k = 0; k < 3000; ++k) {
        check(mutated(bodies[rng() % bodies.size()], alphabet, rng));
    }
    CHECK(wrong == 0);
    for (const char* table : {"composite", "simple.t-1"}) {
        json a = scan(general.ctx, {{"TableName", table}}), b = scan(quick.ctx, {{"TableName", table}});
        CHECK(a == b);
        CHECK(a["Count"].get<int>() > 1);
    }
}
