// The AWS port's dispatcher (core/dispatcher.hpp) without sockets: which service a request
// goes to, how a service's reply and exceptions come out, the /_stratus/ endpoints, and
// the authentication errors. Valid signatures are the integration tests' job.
#include "core/dispatcher.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/log.hpp"

namespace {

using nlohmann::json;
using stratus::core::AuthFailure;
using stratus::core::AuthProblem;
using stratus::core::AwsError;
using stratus::core::DispatchOptions;
using stratus::core::Dispatcher;
using stratus::core::Plan;
using stratus::core::Protocol;
using stratus::core::Reply;
using stratus::core::Request;
using stratus::core::Response;
using stratus::core::Service;
using stratus::core::ServiceRoute;
using stratus::core::Wire;
namespace slog = stratus::core::log;

// What a fake service saw of one request (Request itself is move-only).
struct Call {
    std::string method;
    std::string path;
    std::string request_id;
    std::string body;
};

class FakeService : public Service {
public:
    using Behaviour = std::function<void(Request&, Reply&)>;

    FakeService(std::string name, Protocol protocol, ServiceRoute route)
        : name_(std::move(name)), protocol_(std::move(protocol)), route_(std::move(route)) {}

    std::string_view name() const override { return name_; }
    const Protocol& protocol() const override { return protocol_; }
    ServiceRoute route() const override { return route_; }

    void handle(Request&& request, Reply reply) override {
        calls.push_back({request.method, request.path, request.request_id, request.body});
        if (behaviour) {
            behaviour(request, reply);
            return;
        }
        Response r;
        r.headers.set("Content-Type", "text/plain");
        r.body = "ok:" + name_;
        reply(std::move(r));
    }

    void reset() override { ++resets; }

    Behaviour behaviour;  // default: 200 "ok:<name>"
    std::vector<Call> calls;
    int resets = 0;

private:
    std::string name_;
    Protocol protocol_;
    ServiceRoute route_;
};

// A service with its own authentication error, as Service::auth_error allows.
class PickyService : public FakeService {
public:
    using FakeService::FakeService;
    AwsError auth_error(const AuthProblem& problem) const override {
        return {"PickyAuthFailure", "failure " + std::to_string(static_cast<int>(problem.failure)), 401};
    }
};

std::shared_ptr<FakeService> dynamodb_service() {
    ServiceRoute route;
    route.target_prefixes = {"DynamoDB_20120810."};
    route.signing_names = {"dynamodb"};
    return std::make_shared<FakeService>(
        "dynamodb", Protocol{Wire::json10, "com.amazonaws.dynamodb.v20120810#", true}, route);
}

std::shared_ptr<FakeService> logs_service() {
    ServiceRoute route;
    route.target_prefixes = {"Logs_20140328."};
    route.signing_names = {"logs"};
    return std::make_shared<FakeService>("logs", Protocol{Wire::json11, "", false}, route);
}

std::shared_ptr<FakeService> lambda_service() {
    ServiceRoute route;
    route.signing_names = {"lambda"};
    route.host_suffixes = {".lambda.localhost"};
    route.path_prefixes = {"/2015-03-31/"};
    return std::make_shared<FakeService>("lambda", Protocol{Wire::rest_json, "", false}, route);
}

std::shared_ptr<FakeService> s3_service() {
    ServiceRoute route;
    route.signing_names = {"s3"};
    route.host_suffixes = {".s3.localhost"};
    route.fallback = true;
    return std::make_shared<FakeService>("s3", Protocol{Wire::rest_xml, "", false}, route);
}

struct Stack {
    std::shared_ptr<FakeService> dynamodb = dynamodb_service();
    std::shared_ptr<FakeService> logs = logs_service();
    std::shared_ptr<FakeService> lambda = lambda_service();
    std::shared_ptr<FakeService> s3 = s3_service();
    Dispatcher dispatcher;

    explicit Stack(DispatchOptions options = {}) : dispatcher(std::move(options)) {
        dispatcher.add(dynamodb);
        dispatcher.add(logs);
        dispatcher.add(lambda);
        dispatcher.add(s3);
    }
};

Request make_request(std::string method, std::string target,
                     std::vector<std::pair<std::string, std::string>> headers = {}, std::string body = "") {
    Request r;
    r.method = std::move(method);
    r.target = std::move(target);
    auto q = r.target.find('?');
    r.path = r.target.substr(0, q);
    if (q != std::string::npos) r.query = r.target.substr(q + 1);
    r.headers.set("Host", "localhost:4566");
    for (auto& [name, value] : headers) r.headers.set(std::move(name), std::move(value));
    r.body = std::move(body);
    r.body_size = r.body.size();
    return r;
}

// Plans and runs the request as the HTTP layer does, collecting every reply.
struct Outcome {
    Plan plan;
    std::string head_request_id;
    std::vector<Response> replies;

    const Response& only() const {
        REQUIRE(replies.size() == 1);
        return replies.front();
    }
    json body_json() const {
        auto j = json::parse(only().body, nullptr, false);
        REQUIRE_FALSE(j.is_discarded());
        return j;
    }
};

Outcome dispatch(Dispatcher& d, Request request) {
    Outcome out;
    out.plan = d.plan(request);
    out.head_request_id = request.request_id;
    REQUIRE(out.plan.run);
    out.plan.run(std::move(request), [&out](Response&& r) { out.replies.push_back(std::move(r)); });
    return out;
}

// The dispatcher logs service failures and resets; keep the test output clean.
struct QuietLog {
    slog::Level saved = slog::level();
    QuietLog() { slog::set_level(slog::Level::off); }
    ~QuietLog() { slog::set_level(saved); }
    QuietLog(const QuietLog&) = delete;
    QuietLog& operator=(const QuietLog&) = delete;
};

constexpr std::string_view lambda_auth =
    "AWS4-HMAC-SHA256 Credential=AK/20261126/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=00";
constexpr std::string_view presigned_s3 =
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20261126%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Date=20261126T165200Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=00";

std::string auth_for(std::string_view service) {
    return "AWS4-HMAC-SHA256 Credential=AK/20261126/us-east-1/" + std::string(service) +
           "/aws4_request, SignedHeaders=host, Signature=00";
}

}  // namespace

// --- select -------------------------------------------------------------------------------

TEST_CASE("Dispatcher::select tries the X-Amz-Target prefix first") {
    Stack s;
    SUBCASE("plain") {
        Request r = make_request("POST", "/", {{"X-Amz-Target", "DynamoDB_20120810.PutItem"}});
        CHECK(s.dispatcher.select(r) == s.dynamodb.get());
        Request l = make_request("POST", "/", {{"X-Amz-Target", "Logs_20140328.PutLogEvents"}});
        CHECK(s.dispatcher.select(l) == s.logs.get());
    }
    SUBCASE("over a SigV4 scope, host and path that name other services") {
        Request r = make_request("POST", "/2015-03-31/functions",
                                 {{"Host", "b.s3.localhost:4566"},
                                  {"x-amz-target", "DynamoDB_20120810.GetItem"},
                                  {"Authorization", std::string(lambda_auth)}});
        CHECK(s.dispatcher.select(r) == s.dynamodb.get());
    }
    SUBCASE("an unknown prefix claims nothing, not even the fallback") {
        Request r = make_request("POST", "/2015-03-31/functions",
                                 {{"X-Amz-Target", "AmazonSQS.SendMessage"}, {"Authorization", std::string(lambda_auth)}});
        CHECK(s.dispatcher.select(r) == nullptr);
        Request no_dot = make_request("POST", "/", {{"X-Amz-Target", "DynamoDB_20120810"}});
        CHECK(s.dispatcher.select(no_dot) == nullptr);
        Request prefix_case = make_request("POST", "/", {{"X-Amz-Target", "dynamodb_20120810.PutItem"}});
        CHECK(s.dispatcher.select(prefix_case) == nullptr);
    }
}

TEST_CASE("Dispatcher::select uses the SigV4 scope service next") {
    Stack s;
    SUBCASE("from the Authorization header, over host and path") {
        Request r = make_request("GET", "/bucket/key",
                                 {{"Host", "b.s3.localhost:4566"}, {"Authorization", std::string(lambda_auth)}});
        CHECK(s.dispatcher.select(r) == s.lambda.get());
        Request d = make_request("POST", "/2015-03-31/functions", {{"Authorization", auth_for("dynamodb")}});
        CHECK(s.dispatcher.select(d) == s.dynamodb.get());
    }
    SUBCASE("from a presigned query, over the path") {
        Request r = make_request("GET", "/2015-03-31/functions?" + std::string(presigned_s3));
        CHECK(s.dispatcher.select(r) == s.s3.get());
    }
    SUBCASE("an unknown scope claims nothing, not even the fallback") {
        Request r = make_request("GET", "/bucket/key", {{"Authorization", auth_for("sqs")}});
        CHECK(s.dispatcher.select(r) == nullptr);
        Request q = make_request("GET", "/bucket/key?X-Amz-Credential=AK%2F20261126%2Fus-east-1%2Fsqs%2Faws4_request");
        CHECK(s.dispatcher.select(q) == nullptr);
    }
    SUBCASE("a scope that does not parse is ignored") {
        Request r = make_request("GET", "/2015-03-31/functions", {{"Authorization", "AWS4-HMAC-SHA256 Credential=junk"}});
        CHECK(s.dispatcher.select(r) == s.lambda.get());
        Request v2 = make_request("GET", "/2015-03-31/functions", {{"Authorization", "AWS AKID:c2ln"}});
        CHECK(s.dispatcher.select(v2) == s.lambda.get());
    }
}

TEST_CASE("Dispatcher::select matches a host suffix before the path") {
    Stack s;
    SUBCASE("virtual-hosted bucket with port") {
        Request r = make_request("GET", "/2015-03-31/functions", {{"Host", "b.s3.localhost:4566"}});
        CHECK(s.dispatcher.select(r) == s.s3.get());
    }
    SUBCASE("the bare suffix without its leading dot") {
        Request r = make_request("GET", "/", {{"Host", "lambda.localhost"}});
        CHECK(s.dispatcher.select(r) == s.lambda.get());
        Request s3 = make_request("GET", "/2015-03-31/functions", {{"Host", "s3.localhost"}});
        CHECK(s.dispatcher.select(s3) == s.s3.get());
    }
    SUBCASE("case-insensitive") {
        Request r = make_request("GET", "/", {{"Host", "Fn.LAMBDA.Localhost:4566"}});
        CHECK(s.dispatcher.select(r) == s.lambda.get());
    }
    SUBCASE("a host that only ends with the same letters does not match") {
        Request r = make_request("GET", "/", {{"Host", "notlambda.localhost:4566"}});
        CHECK(s.dispatcher.select(r) == s.s3.get());  // the fallback
    }
}

TEST_CASE("Dispatcher::select matches a path prefix, then the fallback") {
    Stack s;
    SUBCASE("path prefix") {
        CHECK(s.dispatcher.select(make_request("GET", "/2015-03-31/functions/f")) == s.lambda.get());
        CHECK(s.dispatcher.select(make_request("GET", "/2015-03-31/functions?Marker=x")) == s.lambda.get());
    }
    SUBCASE("fallback for plain paths") {
        CHECK(s.dispatcher.select(make_request("GET", "/")) == s.s3.get());
        CHECK(s.dispatcher.select(make_request("PUT", "/bucket/2015-03-31/key")) == s.s3.get());
        CHECK(s.dispatcher.select(make_request("GET", "/2015-03-31")) == s.s3.get());
    }
    SUBCASE("no fallback service: nothing") {
        Dispatcher d({});
        auto lambda = lambda_service();
        d.add(lambda);
        CHECK(d.select(make_request("GET", "/bucket")) == nullptr);
        CHECK(d.select(make_request("GET", "/2015-03-31/functions")) == lambda.get());
    }
}

// --- plan and run ---------------------------------------------------------------------------

TEST_CASE("A request reaches its service with a request id") {
    Stack s;
    SUBCASE("JSON 1.0") {
        Outcome o = dispatch(s.dispatcher, make_request("POST", "/", {{"X-Amz-Target", "DynamoDB_20120810.PutItem"}},
                                                        R"({"TableName":"t"})"));
        CHECK(o.plan.service == "dynamodb");
        REQUIRE(s.dynamodb->calls.size() == 1);
        const Call& call = s.dynamodb->calls.front();
        CHECK(call.method == "POST");
        CHECK(call.body == R"({"TableName":"t"})");
        CHECK(call.request_id.size() == 52);  // DynamoDB's shape
        CHECK(call.request_id == o.head_request_id);
        const Response& r = o.only();
        CHECK(r.status == 200);
        CHECK(r.body == "ok:dynamodb");
        // The dispatcher stamps what the service left out.
        CHECK(r.headers.get("x-amzn-RequestId") == call.request_id);
        CHECK(r.headers.get("x-amz-crc32") == std::to_string(stratus::core::crc32("ok:dynamodb")));
    }
    SUBCASE("REST-XML") {
        Outcome o = dispatch(s.dispatcher, make_request("GET", "/bucket/key"));
        CHECK(o.plan.service == "s3");
        REQUIRE(s.s3->calls.size() == 1);
        CHECK(s.s3->calls.front().path == "/bucket/key");
        CHECK(s.s3->calls.front().request_id.size() == 16);
        CHECK(o.only().headers.get("x-amz-request-id") == s.s3->calls.front().request_id);
        CHECK(o.only().headers.has("x-amz-id-2"));
        CHECK(s.dynamodb->calls.empty());
        CHECK(s.lambda->calls.empty());
    }
    SUBCASE("REST-JSON") {
        Outcome o = dispatch(s.dispatcher, make_request("GET", "/2015-03-31/functions"));
        REQUIRE(s.lambda->calls.size() == 1);
        CHECK(s.lambda->calls.front().request_id.size() == 36);
        CHECK(o.only().headers.get("x-amzn-RequestId") == s.lambda->calls.front().request_id);
    }
    SUBCASE("request id headers the service set itself are kept") {
        s.s3->behaviour = [](Request&, Reply& reply) {
            Response r;
            r.headers.set("x-amz-request-id", "MINE");
            reply(std::move(r));
        };
        Outcome o = dispatch(s.dispatcher, make_request("GET", "/bucket"));
        CHECK(o.only().headers.get("x-amz-request-id") == "MINE");
    }
}

TEST_CASE("A service's AwsError is rendered in its protocol") {
    Stack s;
    SUBCASE("JSON 1.0") {
        s.dynamodb->behaviour = [](Request&, Reply&) {
            throw AwsError::resource_not_found("Requested resource not found");
        };
        Outcome o = dispatch(s.dispatcher, make_request("POST", "/", {{"X-Amz-Target", "DynamoDB_20120810.GetItem"}}));
        const Response& r = o.only();
        CHECK(r.status == 400);
        CHECK(r.headers.get("Content-Type") == "application/x-amz-json-1.0");
        CHECK(r.headers.get("x-amzn-RequestId") == o.head_request_id);
        CHECK(r.headers.get("x-amz-crc32") == std::to_string(stratus::core::crc32(r.body)));
        CHECK(o.body_json() == json{{"__type", "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"},
                                    {"message", "Requested resource not found"}});
    }
    SUBCASE("REST-XML") {
        s.s3->behaviour = [](Request&, Reply&) {
            throw AwsError("NoSuchBucket", "The specified bucket does not exist", 404).with("BucketName", "b");
        };
        Outcome o = dispatch(s.dispatcher, make_request("GET", "/b"));
        const Response& r = o.only();
        CHECK(r.status == 404);
        CHECK(r.headers.get("Content-Type") == "application/xml");
        CHECK(r.headers.get("x-amz-request-id") == o.head_request_id);
        CHECK(r.body.find("<Code>NoSuchBucket</Code>") != std::string::npos);
        CHECK(r.body.find("<BucketName>b</BucketName>") != std::string::npos);
        CHECK(r.body.find("<RequestId>" + o.head_request_id + "</RequestId>") != std::string::npos);
    }
    SUBCASE("REST-JSON") {
        s.lambda->behaviour = [](Request&, Reply&) {
            throw AwsError("ResourceNotFoundException", "Function not found", 404);
        };
        Outcome o = dispatch(s.dispatcher, make_request("GET", "/2015-03-31/functions/f"));
        CHECK(o.only().status == 404);
        CHECK(o.only().headers.get("x-amzn-ErrorType") == "ResourceNotFoundException");
        CHECK(o.body_json() == json{{"Type", "User"}, {"Message", "Function not found"}});
    }
    SUBCASE("HEAD gets no body") {
        s.s3->behaviour = [](Request&, Reply&) { throw AwsError("NoSuchKey", "The specified key does not exist.", 404); };
        Outcome o = dispatch(s.dispatcher, make_request("HEAD", "/b/k"));
        CHECK(o.only().status == 404);
        CHECK(o.only().body.empty());
        CHECK(o.only().headers.get("x-amz-request-id") == o.head_request_id);
    }
}

TEST_CASE("Any other exception from a service becomes InternalServerError 500") {
    QuietLog quiet;
    Stack s;
    SUBCASE("JSON 1.0") {
        s.dynamodb->behaviour = [](Request&, Reply&) { throw std::runtime_error("secret details"); };
        Outcome o = dispatch(s.dispatcher, make_request("POST", "/", {{"X-Amz-Target", "DynamoDB_20120810.Scan"}}));
        CHECK(o.only().status == 500);
        json j = o.body_json();
        CHECK(j["__type"] == "com.amazonaws.dynamodb.v20120810#InternalServerError");
        CHECK(j["message"] == "Internal server error");
        CHECK(o.only().body.find("secret details") == std::string::npos);
    }
    SUBCASE("REST-XML") {
        s.s3->behaviour = [](Request&, Reply&) { throw std::out_of_range("oops"); };
        Outcome o = dispatch(s.dispatcher, make_request("GET", "/b"));
        CHECK(o.only().status == 500);
        CHECK(o.only().body.find("<Code>InternalServerError</Code>") != std::string::npos);
    }
}

TEST_CASE("A service that replies and then throws replies only once") {
    QuietLog quiet;
    Stack s;
    SUBCASE("AwsError") {
        s.dynamodb->behaviour = [](Request&, Reply& reply) {
            Response r;
            r.body = "{}";
            reply(std::move(r));
            throw AwsError::validation("too late");
        };
    }
    SUBCASE("std::runtime_error") {
        s.dynamodb->behaviour = [](Request&, Reply& reply) {
            Response r;
            r.body = "{}";
            reply(std::move(r));
            throw std::runtime_error("too late");
        };
    }
    Outcome o = dispatch(s.dispatcher, make_request("POST", "/", {{"X-Amz-Target", "DynamoDB_20120810.PutItem"}}));
    CHECK(o.only().status == 200);
    CHECK(o.only().body == "{}");
}

TEST_CASE("A service replying later, after handle returned, still gets its reply through once") {
    Stack s;
    Reply saved;
    s.lambda->behaviour = [&saved](Request&, Reply& reply) { saved = std::move(reply); };
    Outcome o = dispatch(s.dispatcher, make_request("GET", "/2015-03-31/functions"));
    CHECK(o.replies.empty());
    REQUIRE(saved);
    Response r;
    r.status = 202;
    saved(std::move(r));
    saved(Response{});  // a second call is dropped
    CHECK(o.only().status == 202);
    CHECK(o.only().headers.get("x-amzn-RequestId") == o.head_request_id);
}

TEST_CASE("The plan carries the service's body policy and too-large answer") {
    Stack s;
    Request head = make_request("PUT", "/bucket/key");
    Plan p = s.dispatcher.plan(head);
    CHECK(p.service == "s3");
    CHECK(p.body.limit == stratus::core::BodyPolicy{}.limit);
    REQUIRE(p.too_large);
    Response r = p.too_large(head);
    CHECK(r.status == 400);
    CHECK(r.body.find("<Code>EntityTooLarge</Code>") != std::string::npos);
    CHECK(r.headers.get("x-amz-request-id") == head.request_id);
}

// --- internal endpoints ------------------------------------------------------------------

TEST_CASE("GET /_stratus/health lists the services") {
    DispatchOptions options;
    options.version = "1.2.3";
    Stack s(options);
    Outcome o = dispatch(s.dispatcher, make_request("GET", "/_stratus/health"));
    CHECK(o.plan.service == "stratus");
    CHECK(o.only().status == 200);
    CHECK(o.only().headers.get("Content-Type") == "application/json");
    CHECK(o.only().headers.has("x-amzn-RequestId"));
    json j = o.body_json();
    CHECK(j["services"] == json{{"dynamodb", "running"}, {"logs", "running"}, {"lambda", "running"}, {"s3", "running"}});
    CHECK(j["version"] == "1.2.3");
    REQUIRE(j["uptime_seconds"].is_number());
    CHECK(j["uptime_seconds"].get<double>() >= 0.0);
    // Written by hand (no formatter): seconds with exactly three decimals, as before.
    auto body = o.only().body;
    auto at = body.find("\"uptime_seconds\":");
    REQUIRE(at != std::string::npos);
    auto number = body.substr(at + 17, body.find(',', at) - at - 17);
    auto dot = number.find('.');
    REQUIRE(dot != std::string::npos);
    CHECK(dot > 0);
    CHECK(number.size() - dot == 4);
    CHECK(number.find_first_not_of("0123456789.") == std::string::npos);
    CHECK(s.dynamodb->calls.empty());
    CHECK(s.s3->calls.empty());
}

TEST_CASE("POST /_stratus/reset resets every service and runs the on_reset hooks") {
    QuietLog quiet;
    Stack s;
    int hook_a = 0, hook_b = 0;
    s.dispatcher.on_reset([&] { ++hook_a; });
    s.dispatcher.on_reset([&] { ++hook_b; });

    Outcome o = dispatch(s.dispatcher, make_request("POST", "/_stratus/reset"));
    CHECK(o.only().status == 200);
    CHECK(o.body_json() == json{{"reset", true}});
    CHECK(s.dynamodb->resets == 1);
    CHECK(s.logs->resets == 1);
    CHECK(s.lambda->resets == 1);
    CHECK(s.s3->resets == 1);
    CHECK(hook_a == 1);
    CHECK(hook_b == 1);
    CHECK(s.s3->calls.empty());
}

TEST_CASE("Unknown internal endpoints are 404, a known path with another method 405") {
    Stack s;
    SUBCASE("unknown path") {
        Outcome o = dispatch(s.dispatcher, make_request("GET", "/_stratus/x"));
        CHECK(o.only().status == 404);
        CHECK(o.body_json()["error"] == "NotFound");
        CHECK(s.s3->calls.empty());  // not handed to the fallback
    }
    SUBCASE("GET /_stratus/reset") {
        Outcome o = dispatch(s.dispatcher, make_request("GET", "/_stratus/reset"));
        CHECK(o.only().status == 405);
        CHECK(o.body_json()["error"] == "MethodNotAllowed");
        CHECK(s.s3->resets == 0);
    }
    SUBCASE("POST /_stratus/health") {
        Outcome o = dispatch(s.dispatcher, make_request("POST", "/_stratus/health"));
        CHECK(o.only().status == 405);
    }
}

TEST_CASE("add_internal registers exact paths and '/'-terminated prefixes") {
    QuietLog quiet;
    Stack s;
    s.dispatcher.add_internal("GET", "/_stratus/things/", [](const Request& r) {
        Response resp;
        resp.body = "thing " + r.path;
        return resp;
    });
    s.dispatcher.add_internal("GET", "/_stratus/fail", [](const Request&) -> Response {
        throw AwsError("Conflict", "busy", 409);
    });
    s.dispatcher.add_internal("GET", "/_stratus/crash", [](const Request&) -> Response {
        throw std::runtime_error("x");
    });
    CHECK(dispatch(s.dispatcher, make_request("GET", "/_stratus/things/a/b")).only().body == "thing /_stratus/things/a/b");
    CHECK(dispatch(s.dispatcher, make_request("GET", "/_stratus/fail")).only().status == 409);
    CHECK(dispatch(s.dispatcher, make_request("GET", "/_stratus/crash")).only().status == 500);
}

// --- requests nothing claims --------------------------------------------------------------

TEST_CASE("An unknown X-Amz-Target gets JSON UnknownOperationException") {
    Stack s;
    Outcome o = dispatch(s.dispatcher, make_request("POST", "/", {{"X-Amz-Target", "AmazonSQS.SendMessage"}}));
    CHECK(o.plan.service == "unknown");
    const Response& r = o.only();
    CHECK(r.status == 400);
    CHECK(r.headers.get("Content-Type") == "application/x-amz-json-1.0");
    CHECK(r.headers.get("x-amzn-RequestId") == o.head_request_id);
    CHECK(o.head_request_id.size() == 52);
    CHECK(o.body_json() == json{{"__type", "com.amazon.coral.service#UnknownOperationException"}});
    CHECK(s.s3->calls.empty());
}

TEST_CASE("An unknown non-JSON request gets XML InvalidAction naming the service") {
    Stack s;
    Outcome o = dispatch(s.dispatcher, make_request("GET", "/queue", {{"Authorization", auth_for("sqs")}}));
    CHECK(o.plan.service == "unknown");
    const Response& r = o.only();
    CHECK(r.status == 400);
    CHECK(r.headers.get("Content-Type") == "application/xml");
    CHECK(r.headers.get("x-amz-request-id") == o.head_request_id);
    CHECK(r.body.find("<Code>InvalidAction</Code>") != std::string::npos);
    CHECK(r.body.find("&apos;sqs&apos;") != std::string::npos);
    CHECK(s.s3->calls.empty());

    SUBCASE("but JSON when the content type is JSON") {
        Outcome j = dispatch(s.dispatcher, make_request("POST", "/", {{"Authorization", auth_for("sqs")},
                                                                      {"Content-Type", "application/x-amz-json-1.0"}}));
        CHECK(j.body_json()["__type"] == "com.amazon.coral.service#UnknownOperationException");
    }
}

// --- signature checks ---------------------------------------------------------------------

TEST_CASE("With verify_signatures, an unsigned request gets the service's missing-auth error") {
    DispatchOptions options;
    options.verify_signatures = true;
    options.access_key_id = "AKIDEXAMPLE";
    options.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    Stack s(options);
    SUBCASE("JSON 1.0: 400") {
        Outcome o = dispatch(s.dispatcher, make_request("POST", "/", {{"X-Amz-Target", "DynamoDB_20120810.PutItem"}}));
        CHECK(o.only().status == 400);
        CHECK(o.body_json() == json{{"__type", "com.amazon.coral.service#MissingAuthenticationTokenException"},
                                    {"message", "Request is missing Authentication Token"}});
        CHECK(o.only().headers.get("x-amzn-RequestId") == o.head_request_id);
        CHECK(s.dynamodb->calls.empty());
    }
    SUBCASE("REST-JSON: 403") {
        Outcome o = dispatch(s.dispatcher, make_request("GET", "/2015-03-31/functions"));
        CHECK(o.only().status == 403);
        CHECK(o.only().headers.get("x-amzn-ErrorType") == "MissingAuthenticationTokenException");
        CHECK(s.lambda->calls.empty());
    }
    SUBCASE("REST-XML: AccessDenied 403") {
        Outcome o = dispatch(s.dispatcher, make_request("GET", "/bucket"));
        CHECK(o.only().status == 403);
        CHECK(o.only().body.find("<Code>AccessDenied</Code>") != std::string::npos);
        CHECK(s.s3->calls.empty());
    }
    SUBCASE("a service's own auth_error") {
        Dispatcher d(options);
        ServiceRoute route;
        route.path_prefixes = {"/picky/"};
        auto picky = std::make_shared<PickyService>("picky", Protocol{Wire::json11, "", false}, route);
        d.add(picky);
        Outcome o = dispatch(d, make_request("GET", "/picky/x"));
        CHECK(o.only().status == 401);
        CHECK(o.body_json() == json{{"__type", "PickyAuthFailure"},
                                    {"message", "failure " + std::to_string(static_cast<int>(AuthFailure::missing))}});
        CHECK(picky->calls.empty());
    }
    SUBCASE("internal endpoints need no signature") {
        CHECK(dispatch(s.dispatcher, make_request("GET", "/_stratus/health")).only().status == 200);
    }
}

TEST_CASE("With verify_signatures, a wrong access key gets UnrecognizedClientException") {
    DispatchOptions options;
    options.verify_signatures = true;
    options.access_key_id = "AKIDEXAMPLE";
    options.secret_access_key = "secret";
    Stack s(options);
    SUBCASE("JSON 1.0: 400") {
        Outcome o = dispatch(s.dispatcher, make_request("POST", "/",
                                                        {{"X-Amz-Target", "DynamoDB_20120810.PutItem"},
                                                         {"X-Amz-Date", "20261126T165200Z"},
                                                         {"Authorization", auth_for("dynamodb")}}));
        CHECK(o.only().status == 400);
        CHECK(o.body_json()["__type"] == "com.amazon.coral.service#UnrecognizedClientException");
        CHECK(s.dynamodb->calls.empty());
    }
    SUBCASE("REST-JSON: 403") {
        Outcome o = dispatch(s.dispatcher, make_request("GET", "/2015-03-31/functions",
                                                        {{"X-Amz-Date", "20261126T165200Z"},
                                                         {"Authorization", std::string(lambda_auth)}}));
        CHECK(o.only().status == 403);
        CHECK(o.only().headers.get("x-amzn-ErrorType") == "UnrecognizedClientException");
        CHECK(s.lambda->calls.empty());
    }
    SUBCASE("REST-XML presigned: InvalidAccessKeyId 403") {
        Outcome o = dispatch(s.dispatcher, make_request("GET", "/bucket/key?" + std::string(presigned_s3)));
        CHECK(o.only().status == 403);
        CHECK(o.only().body.find("<Code>InvalidAccessKeyId</Code>") != std::string::npos);
        CHECK(s.s3->calls.empty());
    }
}

TEST_CASE("With verify_signatures, a malformed Authorization header gets the malformed error") {
    DispatchOptions options;
    options.verify_signatures = true;
    options.access_key_id = "AK";
    options.secret_access_key = "secret";
    Stack s(options);
    SUBCASE("JSON 1.0: IncompleteSignatureException 400 with the parser's message") {
        Outcome o = dispatch(s.dispatcher, make_request("POST", "/",
                                                        {{"X-Amz-Target", "DynamoDB_20120810.PutItem"},
                                                         {"X-Amz-Date", "20261126T165200Z"},
                                                         {"Authorization", "AWS4-HMAC-SHA256 Credential=junk"}}));
        CHECK(o.only().status == 400);
        json j = o.body_json();
        CHECK(j["__type"] == "com.amazon.coral.service#IncompleteSignatureException");
        CHECK(j["message"].get<std::string>().find("SignedHeaders") != std::string::npos);
        CHECK(s.dynamodb->calls.empty());
    }
    SUBCASE("REST-JSON: no X-Amz-Date, IncompleteSignatureException 403") {
        // The right access key, so only the missing date is wrong.
        Outcome o = dispatch(s.dispatcher, make_request("GET", "/2015-03-31/functions",
                                                        {{"Authorization", std::string(lambda_auth)}}));
        CHECK(o.only().status == 403);
        CHECK(o.only().headers.get("x-amzn-ErrorType") == "IncompleteSignatureException");
        CHECK(o.body_json()["Message"] ==
              "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
        CHECK(s.lambda->calls.empty());
    }
    SUBCASE("REST-XML: AuthorizationHeaderMalformed 400") {
        Outcome o = dispatch(s.dispatcher, make_request("GET", "/bucket",
                                                        {{"X-Amz-Date", "20261126T165200Z"},
                                                         {"Authorization", "AWS4-HMAC-SHA256 Credential=AK/2026/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00"}}));
        CHECK(o.only().status == 400);
        CHECK(o.only().body.find("<Code>AuthorizationHeaderMalformed</Code>") != std::string::npos);
        CHECK(s.s3->calls.empty());
    }
}
