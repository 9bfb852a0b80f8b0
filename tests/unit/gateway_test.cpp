// gateway/: routing and its priority, the events and responses of both payload formats,
// Lambda authorizer answers and IAM policy evaluation, JWT validation, CORS, the gateway's
// error answers, and API declarations.
#include <doctest/doctest.h>

#include <filesystem>
#include <set>
#include <nlohmann/json.hpp>

#include "core/base64.hpp"
#include "core/crypto.hpp"
#include "core/error.hpp"
#include "gateway/apis.hpp"
#include "gateway/cors.hpp"
#include "gateway/errors.hpp"
#include "gateway/events.hpp"
#include "gateway/issuer.hpp"
#include "gateway/jwt.hpp"
#include "gateway/lambda_authorizer.hpp"
#include "gateway/responses.hpp"
#include "gateway/router.hpp"
#include "temp_dir.hpp"

using namespace stratus;
using namespace stratus::gateway;
using json = nlohmann::json;

namespace {

RequestPath path(std::string_view p) { return RequestPath::split(p).value(); }

std::string matched(const RouteTable& t, std::string_view method, std::string_view p,
                    const std::vector<std::string>& names) {
    auto m = t.match(method, path(p));
    if (!m) return "none";
    std::string out = names[static_cast<std::size_t>(m->payload)];
    for (auto& [k, v] : m->params) out += " " + k + "=" + v;
    return out;
}

}  // namespace

TEST_CASE("route templates parse and refuse what API Gateway refuses") {
    auto t = PathTemplate::parse("/items/{id}/{proxy+}");
    REQUIRE(t.segments.size() == 3);
    CHECK(t.segments[1].kind == Segment::Kind::param);
    CHECK(t.segments[2].kind == Segment::Kind::greedy);
    CHECK(t.segments[2].text == "proxy");
    CHECK(t.shape() == "/items/{}/{+}");
    CHECK(PathTemplate::parse("/").segments.empty());
    CHECK(PathTemplate::parse("/a/").shape() == "/a");
    for (const char* bad : {"", "items", "/a//b", "/{proxy+}/x", "/{a}/{a}", "/a{b}", "/{}", "/{a b}"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(PathTemplate::parse(bad), core::AwsError);
    }
}

TEST_CASE("request paths: decoded segments, trailing slash, dot segments and invalid UTF-8 refused") {
    CHECK(path("/").segments.empty());
    CHECK(path("/a/b/").segments == std::vector<std::string>{"a", "b"});
    CHECK(path("/a%20b/c%2Fd").segments == std::vector<std::string>{"a b", "c/d"});
    CHECK(path("/caf%C3%A9").segments == std::vector<std::string>{"café"});
    CHECK_FALSE(RequestPath::split("/a/../b").has_value());
    CHECK_FALSE(RequestPath::split("/a/%2e%2e/b").has_value());
    CHECK_FALSE(RequestPath::split("/./b").has_value());
    CHECK_FALSE(RequestPath::split("/%ff%fe").has_value());
    CHECK_FALSE(RequestPath::split("/%C0%AF").has_value());  // overlong '/'
    CHECK(RequestPath::split("/a..b").has_value());
}

TEST_CASE("valid_utf8") {
    CHECK(valid_utf8("plain"));
    CHECK(valid_utf8("\xe2\x82\xac"));      // €
    CHECK(valid_utf8("\xf0\x9f\x98\x80"));  // 😀
    CHECK_FALSE(valid_utf8("\xe2\x82"));
    CHECK_FALSE(valid_utf8("\xed\xa0\x80"));  // a surrogate
    CHECK_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
    CHECK_FALSE(valid_utf8("\x80"));
}

TEST_CASE("route priority: static over parameter over greedy, exact method over ANY") {
    RouteTable t;
    std::vector<std::string> names;
    auto add = [&](const char* method, const char* p) {
        t.add(method, PathTemplate::parse(p), static_cast<int>(names.size()));
        names.push_back(std::string(method) + " " + p);
    };
    add("GET", "/items/{id}");
    add("GET", "/items/special");
    add("ANY", "/{proxy+}");
    add("POST", "/items/{id}");
    add("ANY", "/items/{id}");
    add("GET", "/");
    add("GET", "/items/{id}/tags/{tag}");
    add("GET", "/files/{path+}");

    CHECK(matched(t, "GET", "/items/special", names) == "GET /items/special");
    CHECK(matched(t, "GET", "/items/7", names) == "GET /items/{id} id=7");
    CHECK(matched(t, "POST", "/items/7", names) == "POST /items/{id} id=7");
    CHECK(matched(t, "DELETE", "/items/7", names) == "ANY /items/{id} id=7");
    CHECK(matched(t, "GET", "/items/7/", names) == "GET /items/{id} id=7");  // trailing slash
    CHECK(matched(t, "GET", "/items/a%20b", names) == "GET /items/{id} id=a b");
    CHECK(matched(t, "GET", "/items/7/tags/x", names) == "GET /items/{id}/tags/{tag} id=7 tag=x");
    CHECK(matched(t, "GET", "/items/7/other", names) == "ANY /{proxy+} proxy=items/7/other");
    CHECK(matched(t, "GET", "/files/a/b/c.txt", names) == "GET /files/{path+} path=a/b/c.txt");
    CHECK(matched(t, "GET", "/", names) == "GET /");
    // {proxy+} needs at least one segment: the root is not under it.
    CHECK(matched(t, "POST", "/", names) == "none");
    // The greedy parameter takes one segment or more, never its parent alone.
    CHECK(matched(t, "GET", "/files", names) == "ANY /{proxy+} proxy=files");
    CHECK(matched(t, "GET", "/Items/7", names) == "ANY /{proxy+} proxy=Items/7");  // case-sensitive

    RouteTable http;
    http.add("GET", PathTemplate::parse("/a"), 0);
    http.add("$default", PathTemplate::parse("/"), 1);
    CHECK(http.match("GET", path("/a"))->payload == 0);
    CHECK(http.match("POST", path("/a"))->payload == 1);
    CHECK(http.match("GET", path("/x/y"))->payload == 1);

    auto res = t.resource_routes(path("/items/7"));
    std::vector<std::string> got;
    for (int i : res) got.push_back(names[static_cast<std::size_t>(i)]);
    CHECK(got == std::vector<std::string>{"GET /items/{id}", "POST /items/{id}", "ANY /items/{id}"});
}

// ---- events ----

namespace {

struct Fixture {
    ApiSpec api;
    RouteSpec route;
    core::Request request;
    EventRequest er;
    EventRoute rt;

    explicit Fixture(ApiType type) {
        api.id = "abc1234567";
        api.type = type;
        api.stage = type == ApiType::rest ? "dev" : "$default";
        route.method = "POST";
        route.path = "/items/{id}";
        request.method = "POST";
        request.path = type == ApiType::rest ? "/dev/items/42" : "/items/42";
        request.query = "a=1&a=2&b=&c";
        request.headers.add("Host", "localhost:3000");
        request.headers.add("User-Agent", "curl/8");
        request.headers.add("X-Multi", "one");
        request.headers.add("x-multi", "two");
        request.headers.add("Cookie", "s=1; t=2");
        request.headers.add("Content-Type", "application/json");
        request.body = R"({"x":1})";
        er.request = &request;
        er.path = request.path;
        er.source_ip = "127.0.0.1";
        er.domain_name = "localhost:3000";
        er.domain_prefix = "localhost";
        er.request_id = "rid";
        er.extended_request_id = "ext=";
        er.time_ms = 1583349317135;
        rt.api = &api;
        rt.route = &route;
        rt.stage = api.stage;
        rt.resource_path = "/items/{id}";
        rt.resource_id = "r3s0id";
        rt.route_key = "POST /items/{id}";
        rt.event_path = "/items/42";
        rt.context_path = type == ApiType::rest ? "/dev/items/42" : "/items/42";
        rt.api_path = "/items/42";
        rt.path_params = {{"id", "42"}};
    }
};

json ev1(const EventRequest& r, const EventRoute& t, const json* a) { return json::parse(event_v1(r, t, a)); }
json ev2(const EventRequest& r, const EventRoute& t, const json* a) { return json::parse(event_v2(r, t, a)); }

std::set<std::string> keys(const json& j) {
    std::set<std::string> out;
    for (auto& [k, v] : j.items()) out.insert(k);
    return out;
}

}  // namespace

TEST_CASE("payload 1.0 (REST) carries every field AWS documents") {
    Fixture f(ApiType::rest);
    json e = ev1(f.er, f.rt, nullptr);
    // AWS's documented example's members (set-up-lambda-proxy-integrations.html).
    CHECK(keys(e) == std::set<std::string>{"resource", "path", "httpMethod", "headers", "multiValueHeaders",
                                           "queryStringParameters", "multiValueQueryStringParameters",
                                           "pathParameters", "stageVariables", "requestContext", "body",
                                           "isBase64Encoded"});
    // Without an authorizer REST events have no requestContext.authorizer.
    CHECK(keys(e["requestContext"]) ==
          std::set<std::string>{"accountId", "apiId", "domainName", "domainPrefix", "extendedRequestId",
                                "httpMethod", "identity", "path", "protocol", "requestId", "requestTime",
                                "requestTimeEpoch", "resourceId", "resourcePath", "stage"});
    CHECK(keys(e["requestContext"]["identity"]) ==
          std::set<std::string>{"accessKey", "accountId", "caller", "cognitoAuthenticationProvider",
                                "cognitoAuthenticationType", "cognitoIdentityId", "cognitoIdentityPoolId",
                                "principalOrgId", "sourceIp", "user", "userAgent", "userArn"});
    CHECK(e["resource"] == "/items/{id}");
    CHECK(e["path"] == "/items/42");
    CHECK(e["httpMethod"] == "POST");
    // Original case; the last value in headers, all of them in multiValueHeaders.
    CHECK(e["headers"]["X-Multi"] == "two");
    CHECK(e["multiValueHeaders"]["X-Multi"] == json::array({"one", "two"}));
    CHECK(e["headers"]["Cookie"] == "s=1; t=2");
    CHECK(e["queryStringParameters"] == json{{"a", "2"}, {"b", ""}, {"c", ""}});
    CHECK(e["multiValueQueryStringParameters"] == json{{"a", {"1", "2"}}, {"b", {""}}, {"c", {""}}});
    CHECK(e["pathParameters"] == json{{"id", "42"}});
    CHECK(e["stageVariables"].is_null());
    CHECK(e["body"] == R"({"x":1})");
    CHECK(e["isBase64Encoded"] == false);
    auto& c = e["requestContext"];
    CHECK(c["accountId"] == "000000000000");
    CHECK(c["apiId"] == "abc1234567");
    CHECK(c["path"] == "/dev/items/42");
    CHECK(c["stage"] == "dev");
    CHECK(c["resourceId"] == "r3s0id");
    CHECK(c["resourcePath"] == "/items/{id}");
    CHECK(c["protocol"] == "HTTP/1.1");
    CHECK(c["requestTime"] == "04/Mar/2020:19:15:17 +0000");
    CHECK(c["requestTimeEpoch"] == 1583349317135);
    CHECK(c["identity"]["sourceIp"] == "127.0.0.1");
    CHECK(c["identity"]["userAgent"] == "curl/8");
    CHECK(c["domainName"] == "localhost:3000");
    CHECK(c["domainPrefix"] == "localhost");

    SUBCASE("empty parts are null, binary media types base64-encode") {
        f.request.query.clear();
        f.request.body = std::string("\x89PNG\0", 5);
        f.request.headers.set("Content-Type", "image/png");
        f.rt.path_params.clear();
        f.api.binary_media_types = {"image/*"};
        f.api.stage_variables = {{"v", "1"}};
        json b = ev1(f.er, f.rt, nullptr);
        CHECK(b["queryStringParameters"].is_null());
        CHECK(b["multiValueQueryStringParameters"].is_null());
        CHECK(b["pathParameters"].is_null());
        CHECK(b["stageVariables"] == json{{"v", "1"}});
        CHECK(b["isBase64Encoded"] == true);
        CHECK(core::base64_decode(b["body"].get<std::string>()) == f.request.body);
        f.request.body.clear();
        CHECK(ev1(f.er, f.rt, nullptr)["body"].is_null());
    }
    SUBCASE("the authorizer's output") {
        json auth = {{"principalId", "u"}, {"k", "v"}};
        CHECK(ev1(f.er, f.rt, &auth)["requestContext"]["authorizer"] == auth);
    }
}

TEST_CASE("payload 1.0 from an HTTP API has version and a null JWT authorizer") {
    Fixture f(ApiType::http);
    json e = ev1(f.er, f.rt, nullptr);
    CHECK(e["version"] == "1.0");
    CHECK(e["requestContext"]["authorizer"] == json{{"claims", nullptr}, {"scopes", nullptr}});
    CHECK(e["requestContext"]["stage"] == "$default");
}

TEST_CASE("payload 2.0 carries every field AWS documents") {
    Fixture f(ApiType::http);
    json e = ev2(f.er, f.rt, nullptr);
    CHECK(keys(e) == std::set<std::string>{"version", "routeKey", "rawPath", "rawQueryString", "cookies", "headers",
                                           "queryStringParameters", "requestContext", "body", "pathParameters",
                                           "isBase64Encoded"});
    CHECK(keys(e["requestContext"]) == std::set<std::string>{"accountId", "apiId", "domainName", "domainPrefix",
                                                             "http", "requestId", "routeKey", "stage", "time",
                                                             "timeEpoch"});
    CHECK(e["version"] == "2.0");
    CHECK(e["routeKey"] == "POST /items/{id}");
    CHECK(e["rawPath"] == "/items/42");
    CHECK(e["rawQueryString"] == "a=1&a=2&b=&c");
    CHECK(e["cookies"] == json::array({"s=1", "t=2"}));
    CHECK(e["headers"]["x-multi"] == "one,two");
    CHECK(e["headers"]["host"] == "localhost:3000");
    CHECK_FALSE(e["headers"].contains("cookie"));
    CHECK(e["queryStringParameters"] == json{{"a", "1,2"}, {"b", ""}, {"c", ""}});
    CHECK(e["pathParameters"] == json{{"id", "42"}});
    CHECK(e["body"] == R"({"x":1})");
    CHECK(e["isBase64Encoded"] == false);
    auto& h = e["requestContext"]["http"];
    CHECK(h == json{{"method", "POST"}, {"path", "/items/42"}, {"protocol", "HTTP/1.1"}, {"sourceIp", "127.0.0.1"},
                    {"userAgent", "curl/8"}});
    CHECK(e["requestContext"]["time"] == "04/Mar/2020:19:15:17 +0000");
    CHECK(e["requestContext"]["timeEpoch"] == 1583349317135);
    CHECK(e["requestContext"]["stage"] == "$default");

    SUBCASE("absent parts are left out; non-text bodies base64") {
        f.request.query.clear();
        f.request.headers.erase("Cookie");
        f.rt.path_params.clear();
        f.request.headers.set("Content-Type", "application/x-www-form-urlencoded");
        json b = ev2(f.er, f.rt, nullptr);
        CHECK_FALSE(b.contains("cookies"));
        CHECK_FALSE(b.contains("queryStringParameters"));
        CHECK_FALSE(b.contains("pathParameters"));
        CHECK_FALSE(b.contains("stageVariables"));
        CHECK(b["isBase64Encoded"] == true);
        f.request.body.clear();
        CHECK_FALSE(ev2(f.er, f.rt, nullptr).contains("body"));
    }
}

TEST_CASE("which bodies are binary") {
    CHECK(binary_body_v1("image/png", {"image/png"}));
    CHECK(binary_body_v1("image/png; q=1", {"image/*"}));
    CHECK(binary_body_v1("application/json", {"*/*"}));
    CHECK_FALSE(binary_body_v1("image/png", {}));
    CHECK_FALSE(binary_body_v2("text/plain; charset=utf-8"));
    CHECK_FALSE(binary_body_v2("application/json"));
    CHECK_FALSE(binary_body_v2("application/vnd.api+json"));
    CHECK(binary_body_v2("application/octet-stream"));
    CHECK(binary_body_v2(""));
}

TEST_CASE("authorizer events and ARNs") {
    Fixture f(ApiType::rest);
    std::string arn = execute_api_arn("abc1234567", "dev", "POST", "/items/42");
    CHECK(arn == "arn:aws:execute-api:us-east-1:000000000000:abc1234567/dev/POST/items/42");
    CHECK(execute_api_arn("a", "dev", "GET", "/") == "arn:aws:execute-api:us-east-1:000000000000:a/dev/GET/");
    CHECK(json::parse(token_authorizer_event("tok", arn)) == json{{"type", "TOKEN"}, {"authorizationToken", "tok"}, {"methodArn", arn}});
    json r = json::parse(request_authorizer_event_v1(f.er, f.rt, arn, nullptr));
    CHECK(r["type"] == "REQUEST");
    CHECK(r["methodArn"] == arn);
    CHECK_FALSE(r.contains("body"));
    CHECK(r["headers"]["Host"] == "localhost:3000");
    Fixture h(ApiType::http);
    std::vector<std::string> ids{"tok", "x"};
    json v1 = json::parse(request_authorizer_event_v1(h.er, h.rt, arn, &ids));
    CHECK(v1["version"] == "1.0");
    CHECK(v1["identitySource"] == "tok,x");
    CHECK(v1["authorizationToken"] == "tok,x");
    json v2 = json::parse(request_authorizer_event_v2(h.er, h.rt, arn, ids));
    CHECK(v2["version"] == "2.0");
    CHECK(v2["routeArn"] == arn);
    CHECK(v2["identitySource"] == json::array({"tok", "x"}));
    CHECK_FALSE(v2.contains("body"));
}

// ---- responses ----

TEST_CASE("payload 1.0 responses") {
    std::string why;
    auto r = response_v1(R"({"statusCode":201,"headers":{"X-A":"1","X-N":5},"multiValueHeaders":{"Set-Cookie":["a=1","b=2"],"X-A":["m"]},"body":"hi"})",
                         false, why);
    REQUIRE(r);
    CHECK(r->status == 201);
    CHECK(r->body == "hi");
    CHECK(r->headers.get("x-a") == "m");  // multiValueHeaders wins for a name in both
    CHECK(r->headers.get("x-n") == "5");
    CHECK(r->headers.get("content-type") == "application/json");  // the default
    int cookies = 0;
    for (auto& [k, v] : r->headers.entries()) cookies += core::iequals(k, "set-cookie");
    CHECK(cookies == 2);

    auto b = response_v1(R"({"statusCode":200,"body":"aGk=","isBase64Encoded":true,"headers":{"Content-Type":"image/png"}})",
                         true, why);
    REQUIRE(b);
    CHECK(b->body == "hi");
    CHECK(b->headers.get("content-type") == "image/png");
    // REST without a matching Accept: the base64 text as is.
    CHECK(response_v1(R"({"statusCode":200,"body":"aGk=","isBase64Encoded":true})", false, why)->body == "aGk=");
    CHECK(response_v1(R"({"statusCode":"404"})", false, why)->status == 404);
    CHECK(response_v1(R"({"statusCode":204})", false, why)->body.empty());

    for (const char* bad : {"", "nope", "[]", "\"str\"", R"({"body":"x"})", R"({"statusCode":"abc"})",
                            R"({"statusCode":99})", R"({"statusCode":200,"body":{"a":1}})",
                            R"({"statusCode":200,"headers":[]})", R"({"statusCode":200,"headers":{"a":{}}})",
                            R"({"statusCode":200,"isBase64Encoded":"yes"})",
                            R"({"statusCode":200,"body":"@@","isBase64Encoded":true})"}) {
        CAPTURE(bad);
        CHECK_FALSE(response_v1(bad, true, why).has_value());
    }
}

TEST_CASE("payload 2.0 responses, shorthand and cookies") {
    std::string why;
    auto r = response_v2(R"({"statusCode":200,"cookies":["a=1","b=2"],"headers":{"x":"1,2"},"body":"b"})", why);
    REQUIRE(r);
    int cookies = 0;
    for (auto& [k, v] : r->headers.entries()) cookies += core::iequals(k, "set-cookie");
    CHECK(cookies == 2);
    CHECK(r->headers.get("x") == "1,2");
    // No statusCode: a 200 JSON answer whose body is the result (a string: its text).
    auto s = response_v2(R"({"message":"hi"})", why);
    CHECK(s->status == 200);
    CHECK(s->body == R"({"message":"hi"})");
    CHECK(s->headers.get("content-type") == "application/json");
    CHECK(response_v2(R"("Hello from Lambda!")", why)->body == "Hello from Lambda!");
    CHECK(response_v2("42", why)->body == "42");
    CHECK_FALSE(response_v2("not json", why).has_value());
    CHECK_FALSE(response_v2(R"({"statusCode":"x"})", why).has_value());
    CHECK_FALSE(response_v2(R"({"statusCode":200,"cookies":"a=1"})", why).has_value());
}

// ---- Lambda authorizers ----

TEST_CASE("IAM wildcards") {
    CHECK(wildcard_match("*", "anything/at/all"));
    CHECK(wildcard_match("arn:aws:execute-api:*:*:abc/*/GET/*", "arn:aws:execute-api:us-east-1:0:abc/dev/GET/items/1"));
    CHECK_FALSE(wildcard_match("arn:aws:execute-api:*:*:abc/*/GET/*", "arn:aws:execute-api:us-east-1:0:abc/dev/POST/items"));
    CHECK(wildcard_match("a?c", "abc"));
    CHECK_FALSE(wildcard_match("a?c", "ac"));
    CHECK(wildcard_match("a*b*c", "aXbYbZc"));
    CHECK_FALSE(wildcard_match("abc", "abcd"));
    CHECK(wildcard_match("", ""));
}

TEST_CASE("Lambda authorizer answers: policies evaluated per ARN, Deny wins") {
    std::string why;
    auto a = parse_authorizer_answer(R"({"principalId":"u1","policyDocument":{"Version":"2012-10-17","Statement":[
        {"Action":"execute-api:Invoke","Effect":"Allow","Resource":"arn:aws:execute-api:*:*:api/dev/GET/*"},
        {"Action":["execute-api:Invoke"],"Effect":"Deny","Resource":["arn:aws:execute-api:*:*:api/dev/GET/secret"]}]},
        "context":{"s":"x","n":5,"b":true}})",
                                     false, why);
    REQUIRE(a);
    CHECK(a->principal_id == "u1");
    CHECK(evaluate(a->statements, "arn:aws:execute-api:us-east-1:0:api/dev/GET/items") == PolicyDecision::allow);
    CHECK(evaluate(a->statements, "arn:aws:execute-api:us-east-1:0:api/dev/GET/secret") == PolicyDecision::explicit_deny);
    CHECK(evaluate(a->statements, "arn:aws:execute-api:us-east-1:0:api/dev/POST/items") == PolicyDecision::no_allow);
    CHECK(stringify_context(*a->context) == json{{"s", "x"}, {"n", "5"}, {"b", "true"}});
    CHECK_FALSE(stringify_context(json{{"o", {{"a", 1}}}}).has_value());
    CHECK_FALSE(stringify_context(json{{"l", {1}}}).has_value());

    // A single Statement object and "*" actions are IAM too.
    auto one = parse_authorizer_answer(
        R"({"principalId":"u","policyDocument":{"Statement":{"Action":"*","Effect":"allow","Resource":"*"}}})", false, why);
    REQUIRE(one);
    CHECK(evaluate(one->statements, "arn:x") == PolicyDecision::allow);
    auto other_action = parse_authorizer_answer(
        R"({"principalId":"u","policyDocument":{"Statement":[{"Action":"s3:GetObject","Effect":"Allow","Resource":"*"}]}})",
        false, why);
    CHECK(evaluate(other_action->statements, "arn:x") == PolicyDecision::no_allow);

    for (const char* bad : {"null", "[]", R"({"policyDocument":{"Statement":[]}})",
                            R"({"principalId":"u"})", R"({"principalId":"u","policyDocument":{}})",
                            R"({"principalId":"u","policyDocument":{"Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}})",
                            R"({"principalId":"u","policyDocument":{"Statement":[{"Effect":"Allow","Resource":"*"}]}})",
                            R"({"principalId":"u","policyDocument":{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]},"context":[1]})"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_authorizer_answer(bad, false, why).has_value());
    }
    auto simple = parse_authorizer_answer(R"({"isAuthorized":true,"context":{"o":{"deep":1}}})", true, why);
    REQUIRE(simple);
    CHECK(simple->authorized);
    CHECK((*simple->context)["o"]["deep"] == 1);
    CHECK_FALSE(parse_authorizer_answer(R"({"isAuthorized":"yes"})", true, why).has_value());
}

// ---- JWT ----

namespace {

struct Signer {
    core::crypto::PrivateKey key;
    std::string kid;
    std::string alg;

    std::string jwk_set() const {
        json jwk = key.public_key().jwk();
        jwk["kid"] = kid;
        return json{{"keys", {jwk}}}.dump();
    }
    std::string token(const json& claims, json header = json::object()) const {
        if (!header.contains("alg")) header["alg"] = alg;
        if (!header.contains("kid")) header["kid"] = kid;
        std::string input = core::base64url_encode(header.dump()) + "." + core::base64url_encode(claims.dump());
        return input + "." + core::base64url_encode(key.sign(*core::crypto::jws_alg(alg), input));
    }
};

const Signer& rsa_signer() {
    static Signer s{core::crypto::PrivateKey::generate_rsa(2048), "rsa1", "RS256"};
    return s;
}

}  // namespace

TEST_CASE("JWT validation: every rejection AWS documents") {
    const Signer& rsa = rsa_signer();
    Signer ec{core::crypto::PrivateKey::generate_ec("P-256"), "ec1", "ES256"};
    json both = json::parse(rsa.jwk_set());
    both["keys"].push_back(json::parse(ec.jwk_set())["keys"][0]);
    KeySet keys = KeySet::parse(both.dump());
    REQUIRE(keys.keys.size() == 2);
    AuthorizerSpec a;
    a.kind = AuthorizerSpec::Kind::jwt;
    a.issuer = "https://issuer.example";
    a.audiences = {"app", "other"};
    const std::int64_t now = 1700000000;
    json good = {{"iss", a.issuer}, {"aud", "app"}, {"sub", "u1"}, {"exp", now + 60}, {"iat", now - 5},
                 {"scope", "read write"}, {"groups", {"a", "b"}}, {"n", 7}};
    using O = JwtVerdict::Outcome;

    auto v = validate_jwt(rsa.token(good), keys, a, {}, now);
    REQUIRE(v.outcome == O::ok);
    CHECK((*v.claims)["sub"] == "u1");
    CHECK((*v.claims)["exp"] == std::to_string(now + 60));
    CHECK((*v.claims)["groups"] == "[a b]");
    CHECK((*v.claims)["n"] == "7");
    CHECK(*v.scopes == json::array({"read", "write"}));
    CHECK(validate_jwt(ec.token(good), keys, a, {}, now).outcome == O::ok);
    for (const char* alg : {"RS384", "RS512"}) {
        Signer s{rsa.key, "rsa1", alg};
        CHECK(validate_jwt(s.token(good), keys, a, {}, now).outcome == O::ok);
    }

    auto rejected = [&](const std::string& token, const std::vector<std::string>& scopes = {}) {
        return validate_jwt(token, keys, a, scopes, now);
    };
    CHECK(rejected("not.a.jwt").outcome == O::unauthorized);
    CHECK(rejected("abc").outcome == O::unauthorized);
    // alg none: an unsigned token.
    std::string none = core::base64url_encode(R"({"alg":"none","kid":"rsa1"})") + "." + core::base64url_encode(good.dump()) + ".";
    CHECK(rejected(none).description == "signing method none is invalid");
    // HS256 signed with the public key's bytes (the classic confusion attack).
    std::string hs_input = core::base64url_encode(R"({"alg":"HS256","kid":"rsa1"})") + "." + core::base64url_encode(good.dump());
    CHECK(rejected(hs_input + "." + core::base64url_encode(core::crypto::hmac_sha256(rsa.jwk_set(), hs_input))).outcome ==
          O::unauthorized);
    CHECK(rejected(rsa.token(good, {{"kid", "nope"}})).outcome == O::unknown_kid);
    CHECK(rejected(rsa.token(good, json{{"alg", "RS256"}, {"kid", nullptr}})).outcome == O::unauthorized);
    // Signed by another key under a known kid.
    Signer impostor{core::crypto::PrivateKey::generate_rsa(2048), "rsa1", "RS256"};
    CHECK(rejected(impostor.token(good)).description == "signature is invalid");
    // An ES token under the RSA key's kid.
    CHECK(rejected(ec.token(good, {{"kid", "rsa1"}})).outcome == O::unauthorized);
    auto with = [&](const char* k, json v) {
        json c = good;
        if (v.is_null()) c.erase(k);
        else c[k] = v;
        return rsa.token(c);
    };
    // Times, each within the clock skew tolerance and just past it.
    const std::int64_t skew = jwt_clock_skew_seconds;
    CHECK(validate_jwt(with("exp", now - skew + 1), keys, a, {}, now).outcome == O::ok);
    CHECK(rejected(with("exp", now - skew)).description == "the token has expired");
    CHECK(rejected(with("exp", nullptr)).outcome == O::unauthorized);
    CHECK(rejected(with("exp", "soon")).outcome == O::unauthorized);
    CHECK(validate_jwt(with("nbf", now + skew), keys, a, {}, now).outcome == O::ok);
    CHECK(rejected(with("nbf", now + skew + 1)).description == "the token is not valid yet");
    CHECK(validate_jwt(with("iat", now + skew), keys, a, {}, now).outcome == O::ok);
    CHECK(rejected(with("iat", now + skew + 1)).description == "the token was issued in the future");
    CHECK(rejected(with("iss", "https://evil.example")).description == "the token does not have a valid issuer");
    CHECK(rejected(with("aud", "someone-else")).description == "the token does not have a valid audience");
    CHECK(validate_jwt(with("aud", json::array({"x", "other"})), keys, a, {}, now).outcome == O::ok);
    // client_id counts only without aud.
    json cid = good;
    cid.erase("aud");
    cid["client_id"] = "app";
    CHECK(validate_jwt(rsa.token(cid), keys, a, {}, now).outcome == O::ok);
    cid["aud"] = "nope";
    CHECK(rejected(rsa.token(cid)).outcome == O::unauthorized);
    // A tampered payload.
    std::string t = rsa.token(good);
    auto dot = t.find('.');
    json evil = good;
    evil["sub"] = "admin";
    std::string tampered = t.substr(0, dot + 1) + core::base64url_encode(evil.dump()) + t.substr(t.rfind('.'));
    CHECK(rejected(tampered).outcome == O::unauthorized);

    // Scopes: any one of the route's; scp as a list counts too.
    CHECK(rejected(rsa.token(good), {"admin"}).outcome == O::insufficient_scope);
    CHECK(validate_jwt(rsa.token(good), keys, a, {"admin", "write"}, now).outcome == O::ok);
    json scp = good;
    scp.erase("scope");
    scp["scp"] = {"admin"};
    CHECK(validate_jwt(rsa.token(scp), keys, a, {"admin"}, now).outcome == O::ok);
}

TEST_CASE("bearer tokens and claim printing") {
    CHECK(bearer_token("Bearer abc") == "abc");
    CHECK(bearer_token("bearer  abc ") == "abc");
    CHECK(bearer_token("abc") == "abc");
    CHECK(event_claims(json{{"m", {{"b", 1}, {"a", "x"}}}, {"t", true}, {"f", 1.5}}) ==
          json{{"m", "map[a:x b:1]"}, {"t", "true"}, {"f", "1.5"}});
}

TEST_CASE("JWKS documents: unusable keys are skipped, a non-JWKS refused") {
    json doc = json::parse(rsa_signer().jwk_set());
    doc["keys"].push_back({{"kty", "RSA"}, {"kid", "broken"}, {"n", "AQAB"}, {"e", "AQAB"}});
    doc["keys"].push_back({{"kty", "oct"}, {"kid", "secret"}, {"k", "AAAA"}});
    json enc = doc["keys"][0];
    enc["kid"] = "enc";
    enc["use"] = "enc";
    doc["keys"].push_back(enc);
    KeySet k = KeySet::parse(doc.dump());
    CHECK(k.keys.size() == 1);
    CHECK(k.keys.count("rsa1") == 1);
    CHECK_THROWS_AS(KeySet::parse("{}"), std::invalid_argument);
    CHECK_THROWS_AS(KeySet::parse("nope"), std::invalid_argument);
}

TEST_CASE("the built-in issuer keeps its key and mints tokens its JWKS verifies") {
    test::TempDir dir;
    std::string key = (std::filesystem::path(dir.path) / "gateway" / "issuer-key.pem").string();
    Issuer issuer(key, "http://127.0.0.1:4566/_stratus", {"http://localhost:4566/_stratus"});
    CHECK(issuer.owns("http://127.0.0.1:4566/_stratus"));
    CHECK(issuer.owns("http://localhost:4566/_stratus/.well-known/jwks.json"));
    CHECK_FALSE(issuer.owns("http://127.0.0.1:4567/_stratus"));
    const std::int64_t now = 1700000000;
    std::string token = issuer.mint(json{{"sub", "u"}, {"aud", "app"}, {"scope", "a b"}, {"ttl", "1h"},
                                         {"claims", {{"role", "admin"}}}},
                                    now);
    AuthorizerSpec a;
    a.issuer = "http://127.0.0.1:4566/_stratus";
    a.audiences = {"app"};
    auto v = validate_jwt(token, *issuer.keys(), a, {"b"}, now + 10);
    REQUIRE(v.outcome == JwtVerdict::Outcome::ok);
    CHECK((*v.claims)["role"] == "admin");
    CHECK((*v.claims)["exp"] == std::to_string(now + 3600));
    CHECK((std::filesystem::status(key).permissions() & std::filesystem::perms::all) ==
          (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
    // A second issuer over the same file has the same key.
    Issuer again(key, "http://127.0.0.1:4566/_stratus");
    CHECK(again.jwks_json() == issuer.jwks_json());
    CHECK(json::parse(issuer.discovery_json())["jwks_uri"] == "http://127.0.0.1:4566/_stratus/.well-known/jwks.json");
    CHECK_THROWS_AS(issuer.mint(json{{"ttl", "soon"}}, now), core::AwsError);
    CHECK_THROWS_AS(issuer.mint(json{{"claims", "x"}}, now), core::AwsError);
    CHECK_THROWS_AS(issuer.mint(json{{"aud", 5}}, now), core::AwsError);
    CHECK(parse_duration("90s") == 90);
    CHECK(parse_duration("30m") == 1800);
    CHECK(parse_duration("2d") == 172800);
    CHECK(parse_duration("3600") == 3600);
    CHECK_FALSE(parse_duration("1w").has_value());
    CHECK_FALSE(parse_duration("").has_value());
}

// ---- CORS ----

TEST_CASE("REST preflight: the mock integration's headers") {
    core::Request req;
    req.method = "OPTIONS";
    req.headers.add("Origin", "https://b.example");
    CorsSpec open;  // cors: true
    auto r = rest_preflight({&open}, {"GET", "POST"}, req);
    CHECK(r.status == 200);
    CHECK(r.headers.get("access-control-allow-origin") == "*");
    CHECK(r.headers.get("access-control-allow-methods") == "OPTIONS,GET,POST");
    CHECK(r.headers.get("access-control-allow-headers") ==
          "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token,X-Amz-User-Agent,X-Amzn-Trace-Id");
    CHECK_FALSE(r.headers.has("access-control-allow-credentials"));
    CorsSpec listed;
    listed.allow_origins = {"https://a.example", "https://b.example"};
    listed.allow_credentials = true;
    listed.max_age = 600;
    auto l = rest_preflight({&listed}, {"PUT"}, req);
    CHECK(l.headers.get("access-control-allow-origin") == "https://b.example");
    CHECK(l.headers.get("access-control-allow-credentials") == "true");
    CHECK(l.headers.get("access-control-max-age") == "600");
}

TEST_CASE("HTTP API CORS: preflights answered, headers on every response") {
    CorsSpec c;
    c.allow_origins = {"https://app.example"};
    c.allow_methods = {"GET", "POST"};
    c.allow_headers = {"authorization", "content-type"};
    c.expose_headers = {"x-total"};
    c.max_age = 300;
    core::Request pre;
    pre.method = "OPTIONS";
    pre.headers.add("Origin", "https://app.example");
    pre.headers.add("Access-Control-Request-Method", "POST");
    CHECK(is_preflight(pre));
    auto p = http_preflight(c, pre);
    CHECK(p.status == 204);
    CHECK(p.headers.get("access-control-allow-origin") == "https://app.example");
    CHECK(p.headers.get("access-control-allow-methods") == "GET,POST");
    CHECK(p.headers.get("access-control-allow-headers") == "authorization,content-type");
    CHECK(p.headers.get("access-control-max-age") == "300");
    pre.headers.set("Origin", "https://evil.example");
    CHECK_FALSE(http_preflight(c, pre).headers.has("access-control-allow-origin"));

    core::Request get;
    get.method = "GET";
    get.headers.add("Origin", "https://app.example");
    core::Response r;
    r.headers.set("Access-Control-Allow-Origin", "*");  // the function's own: replaced
    http_cors_headers(c, get, r);
    CHECK(r.headers.get("access-control-allow-origin") == "https://app.example");
    CHECK(r.headers.get("access-control-expose-headers") == "x-total");
    int n = 0;
    for (auto& [k, v] : r.headers.entries()) n += core::iequals(k, "access-control-allow-origin");
    CHECK(n == 1);
    CorsSpec any;
    any.allow_origins = {"*"};
    core::Response r2;
    http_cors_headers(any, get, r2);
    CHECK(r2.headers.get("access-control-allow-origin") == "*");
}

// ---- errors ----

TEST_CASE("gateway errors in each API type's words") {
    ResponseIds ids{"rid", "ext="};
    auto mat = render_failure(ApiType::rest, {Failure::no_route, {}, {}}, ids);
    CHECK(mat.status == 403);
    CHECK(mat.body == R"({"message":"Missing Authentication Token"})");
    CHECK(mat.headers.get("x-amzn-ErrorType") == "MissingAuthenticationTokenException");
    CHECK(mat.headers.get("x-amzn-RequestId") == "rid");
    CHECK(mat.headers.get("x-amz-apigw-id") == "ext=");
    auto nf = render_failure(ApiType::http, {Failure::no_route, {}, {}}, ids);
    CHECK(nf.status == 404);
    CHECK(nf.body == R"({"message":"Not Found"})");
    CHECK(nf.headers.get("apigw-requestid") == "rid");
    CHECK_FALSE(nf.headers.has("x-amzn-ErrorType"));
    CHECK(render_failure(ApiType::rest, {Failure::integration_error, {}, {}}, ids).status == 502);
    CHECK(render_failure(ApiType::rest, {Failure::integration_error, {}, {}}, ids).body ==
          R"({"message": "Internal server error"})");
    CHECK(render_failure(ApiType::http, {Failure::integration_error, {}, {}}, ids).status == 500);
    CHECK(render_failure(ApiType::http, {Failure::integration_error, {}, {}}, ids).body ==
          R"({"message":"Internal Server Error"})");
    CHECK(render_failure(ApiType::rest, {Failure::integration_timeout, {}, {}}, ids).status == 504);
    CHECK(render_failure(ApiType::rest, {Failure::authorizer_error, {}, {}}, ids).body == R"({"message": null})");
    CHECK(render_failure(ApiType::rest, {Failure::denied_explicitly, {}, {}}, ids).body ==
          R"({"Message":"User is not authorized to access this resource with an explicit deny"})");
    CHECK(render_failure(ApiType::rest, {Failure::request_too_large, {}, {}}, ids).status == 413);

    std::vector<GatewayResponseSpec> custom(2);
    custom[0].type = "UNAUTHORIZED";
    custom[0].status = 418;
    custom[0].headers = {{"Access-Control-Allow-Origin", "*"}};
    custom[0].templates = {{"application/json", R"({"error":$context.error.messageString,"id":"$context.requestId"})"}};
    custom[1].type = "DEFAULT_4XX";
    custom[1].headers = {{"X-Default", "yes"}};
    auto u = render_failure(ApiType::rest, {Failure::unauthorized, {}, {}}, ids, &custom);
    CHECK(u.status == 418);
    CHECK(u.body == R"({"error":"Unauthorized","id":"rid"})");
    CHECK(u.headers.get("access-control-allow-origin") == "*");
    auto d = render_failure(ApiType::rest, {Failure::no_route, {}, {}}, ids, &custom);
    CHECK(d.status == 403);
    CHECK(d.headers.get("x-default") == "yes");
    CHECK(d.body == R"({"message":"Missing Authentication Token"})");
}

// ---- declarations ----

TEST_CASE("API declarations are validated and conflicts found") {
    auto rest = [](std::string id, std::vector<std::pair<std::string, std::string>> routes, std::string stage = "") {
        ApiSpec a;
        a.id = std::move(id);
        a.type = ApiType::rest;
        a.stage = std::move(stage);
        for (auto& [m, p] : routes) a.routes.push_back(RouteSpec{m, p, "fn", "", {}, false, std::nullopt, 0, ""});
        return a;
    };
    auto a = compile_api(rest("", {{"GET", "/items"}}));
    CHECK(a->spec.id.size() == 10);
    CHECK(a->spec.stage == "dev");
    CHECK(a->routes[0].timeout_ms == 29000);
    CHECK(a->routes[0].resource_id.size() == 6);

    auto code = [](auto&& fn) {
        try {
            fn();
        } catch (const core::AwsError& e) {
            return e.code();
        }
        return std::string("none");
    };
    CHECK(code([&] { compile_api(rest("a", {{"GET", "/x"}, {"GET", "/x/"}})); }) == "ConflictException");
    CHECK(code([&] { compile_api(rest("a", {{"GET", "/x/{id}"}, {"DELETE", "/x/{other}"}})); }) == "BadRequestException");
    CHECK(code([&] { compile_api(rest("a", {{"FETCH", "/x"}})); }) == "BadRequestException");
    CHECK(code([&] { compile_api(rest("A B", {{"GET", "/x"}})); }) == "BadRequestException");
    CHECK(code([&] { compile_api(rest("a", {{"GET", "/x"}}, "$default")); }) == "BadRequestException");
    auto with_authorizer = rest("a", {{"GET", "/x"}});
    with_authorizer.routes[0].authorizer = "missing";
    CHECK(code([&] { compile_api(with_authorizer); }) == "BadRequestException");
    ApiSpec jwt_on_rest = rest("a", {{"GET", "/x"}});
    jwt_on_rest.authorizers.push_back(AuthorizerSpec{});
    jwt_on_rest.authorizers[0].name = "j";
    jwt_on_rest.authorizers[0].kind = AuthorizerSpec::Kind::jwt;
    CHECK(code([&] { compile_api(jwt_on_rest); }) == "BadRequestException");
    ApiSpec bad_regex = rest("a", {{"GET", "/x"}});
    bad_regex.authorizers.push_back(AuthorizerSpec{});
    bad_regex.authorizers[0].name = "t";
    bad_regex.authorizers[0].function = "auth";
    bad_regex.authorizers[0].validation_expression = "([";
    CHECK(code([&] { compile_api(bad_regex); }) == "BadRequestException");

    // Across APIs: the same route at the same stage collides; another stage does not.
    auto snap = std::make_shared<const Snapshot>()->with(compile_api(rest("one", {{"GET", "/x/{id}"}})));
    CHECK(code([&] { (void)snap->with(compile_api(rest("two", {{"GET", "/x/{other}"}}))); }) == "ConflictException");
    CHECK(code([&] { (void)snap->with(compile_api(rest("two", {{"GET", "/x/{id}"}}, "prod"))); }) == "none");
    // Re-declaring the same id replaces it.
    CHECK(code([&] { (void)snap->with(compile_api(rest("one", {{"GET", "/x/{id}"}}))); }) == "none");
    ApiSpec http;
    http.id = "h";
    http.type = ApiType::http;
    http.routes.push_back(RouteSpec{"GET", "/dev/x", "fn", "", {}, false, std::nullopt, 0, ""});
    CHECK(code([&] { (void)snap->with(compile_api(http)); }) == "ConflictException");
    http.routes[0].path = "/api/x";
    auto both = snap->with(compile_api(http));
    CHECK(both->apis.size() == 2);
    CHECK(both->stages.count("dev") == 1);
    CHECK_FALSE(both->http.empty());
    CHECK(both->without("one")->apis.size() == 1);
}

// ---- the service, without a listener: mounting under another handler ----

#include "core/server.hpp"
#include "gateway/api.hpp"
#include "lambda/invoker.hpp"

namespace {

// Answers every invocation at once with an echo of its event.
struct EchoInvoker : lambda::Invoker {
    std::vector<std::string> invoked;
    std::optional<lambda::FunctionInfo> describe(std::string_view f) override {
        return lambda::FunctionInfo{std::string(f), "arn:" + std::string(f), 3};
    }
    void invoke(std::string_view f, lambda::InvokeInput in, std::function<void(lambda::InvokeResult)> done) override {
        invoked.push_back(std::string(f));
        lambda::InvokeResult r;
        r.payload = json{{"statusCode", 200}, {"body", in.payload}}.dump();
        done(std::move(r));
    }
    std::string invoke_event(std::string_view, lambda::InvokeInput, std::function<void(const lambda::InvokeResult&)>) override {
        return {};
    }
};

// Plans (from the head) and runs a request, as a listener would.
template <class MakePlan>
core::Response serve(core::Request head, MakePlan make_plan) {
    core::Plan plan = make_plan(head);
    core::Response out;
    out.status = 0;
    plan.run(std::move(head), [&out](core::Response&& r) { out = std::move(r); });
    return out;
}

core::Request head(std::string path) {
    core::Request r;
    r.method = "GET";
    r.path = path;
    r.target = path;
    r.headers.add("Host", "localhost:8080");
    r.remote_address = "127.0.0.1";
    return r;
}

}  // namespace

TEST_CASE("a handler on another listener mounts the gateway under a path prefix") {
    test::TempDir dir;
    core::Runtime runtime(1);
    auto invoker = std::make_shared<EchoInvoker>();
    auto gw = make_gateway(runtime, invoker, GatewayOptions{dir.path, "http://127.0.0.1:4566/_stratus", {}, 5000});
    ApiSpec rest;
    rest.id = "mountrest1";
    rest.type = ApiType::rest;
    rest.routes.push_back(RouteSpec{"GET", "/items/{id}", "items-fn", "", {}, false, std::nullopt, 0, ""});
    gw->declare(rest);
    ApiSpec http;
    http.id = "mounthttp1";
    http.type = ApiType::http;
    http.routes.push_back(RouteSpec{"GET", "/things", "things-fn", "", {}, false, std::nullopt, 0, ""});
    gw->declare(http);
    gw->set_endpoint("127.0.0.1:3000");
    CHECK(gw->base_url("mountrest1") == "http://127.0.0.1:3000/dev");
    CHECK(gw->base_url("mounthttp1") == "http://127.0.0.1:3000");
    CHECK(gw->apis().size() == 2);

    SUBCASE("one API, no stage in the path (a base path mapping)") {
        auto h = head("/api/items/7");
        auto r = serve(std::move(h), [&](core::Request& x) { return gw->plan_mounted(x, "/api", "mountrest1"); });
        REQUIRE(r.status == 200);
        json e = json::parse(r.body);
        CHECK(e["resource"] == "/items/{id}");
        CHECK(e["path"] == "/api/items/7");
        CHECK(e["pathParameters"] == json{{"id", "7"}});
        CHECK(e["requestContext"]["path"] == "/api/items/7");
        CHECK(e["requestContext"]["stage"] == "dev");
        CHECK(e["requestContext"]["domainName"] == "localhost:8080");
        CHECK(r.headers.get("x-amzn-RequestId") == e["requestContext"]["requestId"].get<std::string>());
        CHECK(invoker->invoked == std::vector<std::string>{"items-fn"});
    }
    SUBCASE("no API named: routed as on the API port") {
        auto h = head("/api/dev/items/8");
        auto r = serve(std::move(h), [&](core::Request& x) { return gw->plan_mounted(x, "/api"); });
        REQUIRE(r.status == 200);
        CHECK(json::parse(r.body)["pathParameters"] == json{{"id", "8"}});
        auto h2 = head("/api/things?x=1");
        h2.path = "/api/things";
        h2.query = "x=1";
        auto r2 = serve(std::move(h2), [&](core::Request& x) { return gw->plan_mounted(x, "/api"); });
        REQUIRE(r2.status == 200);
        json e2 = json::parse(r2.body);
        CHECK(e2["rawPath"] == "/api/things");
        CHECK(e2["routeKey"] == "GET /things");
        CHECK(e2["rawQueryString"] == "x=1");
    }
    SUBCASE("unknown routes and APIs answer in the API's words") {
        auto h = head("/api/nothing");
        CHECK(serve(std::move(h), [&](core::Request& x) { return gw->plan_mounted(x, "/api", "mountrest1"); }).status == 403);
        auto h2 = head("/api/nothing");
        CHECK(serve(std::move(h2), [&](core::Request& x) { return gw->plan_mounted(x, "/api", "mounthttp1"); }).status == 404);
        auto h3 = head("/api/x");
        CHECK(serve(std::move(h3), [&](core::Request& x) { return gw->plan_mounted(x, "/api", "nosuchapi1"); }).status == 403);
    }
    SUBCASE("the API port's own plan") {
        auto h = head("/dev/items/9");
        auto r = serve(std::move(h), [&](core::Request& x) { return gw->plan(x); });
        REQUIRE(r.status == 200);
        CHECK(json::parse(r.body)["requestContext"]["path"] == "/dev/items/9");
        gw->remove("mountrest1");
        auto h2 = head("/dev/items/9");
        CHECK(serve(std::move(h2), [&](core::Request& x) { return gw->plan(x); }).status == 404);  // the HTTP API's namespace now
    }
}

// ---- core/json_writer (the events' writer) ----

#include "core/json_writer.hpp"

TEST_CASE("JsonWriter writes valid JSON, escapes, and replaces invalid UTF-8") {
    core::JsonWriter w;
    w.begin_object()
        .member("s", "a\"b\\c\n\t\x01")
        .member("n", std::int64_t{-42})
        .member("t", true)
        .member_null("z")
        .key("arr")
        .begin_array()
        .value("x")
        .value(1)
        .begin_object()
        .end_object()
        .begin_array()
        .end_array()
        .end_array()
        .key("raw")
        .raw(R"({"a":1})")
        .member("utf8", "caf\xc3\xa9 \xf0\x9f\x98\x80")
        .member("bad", std::string_view("ok\xff\xc3", 4))
        .end_object();
    json j = json::parse(w.str());
    CHECK(j["s"] == "a\"b\\c\n\t\x01");
    CHECK(j["n"] == -42);
    CHECK(j["t"] == true);
    CHECK(j["z"].is_null());
    CHECK(j["arr"] == json::array({"x", 1, json::object(), json::array()}));
    CHECK(j["raw"] == json{{"a", 1}});
    CHECK(j["utf8"] == "café 😀");
    CHECK(j["bad"] == "ok\xef\xbf\xbd\xef\xbf\xbd");
    core::JsonWriter e;
    e.begin_array().end_array();
    CHECK(e.str() == "[]");
}
