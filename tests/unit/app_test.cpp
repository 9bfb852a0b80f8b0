// The app model: serverless.yml (v3 / v4) and SAM / CloudFormation templates read into one
// model; variables, intrinsics, and config errors with file, line and column. The app
// folders under tests/apps are shaped like real apps (the integration tests run them too).
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "emulator/app/document.hpp"
#include "emulator/app/intrinsics.hpp"
#include "emulator/app/load.hpp"
#include "emulator/app/variables.hpp"
#include "temp_dir.hpp"

using namespace stratus;
using namespace stratus::app;
namespace fs = std::filesystem;

namespace {

std::string apps(const std::string& name) { return std::string(STRATUS_TEST_APPS) + "/" + name; }

App load(const std::string& name, LoadOptions o = {}) {
    auto config = find_config(apps(name));
    REQUIRE(config);
    return load_app(*config, o);
}

const gateway::ApiSpec* api_of(const App& a, gateway::ApiType t) {
    for (auto& x : a.apis)
        if (x.type == t) return &x;
    return nullptr;
}

const gateway::RouteSpec* route(const gateway::ApiSpec& a, const std::string& method, const std::string& path) {
    for (auto& r : a.routes)
        if (r.method == method && r.path == path) return &r;
    return nullptr;
}

void write(const std::string& path, const std::string& text) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << text;
}

// Writes a serverless.yml (and a handler file) into `dir` and loads it.
App load_text(const test::TempDir& dir, const std::string& yaml, LoadOptions o = {}) {
    write(dir.path + "/serverless.yml", yaml);
    write(dir.path + "/handler.js", "exports.main = async () => 1;\n");
    return load_app(dir.path + "/serverless.yml", o);
}

// The ConfigError a config gives (fails the test when it loads).
ConfigError error_of(const test::TempDir& dir, const std::string& yaml, const std::string& file = "serverless.yml") {
    write(dir.path + "/" + file, yaml);
    write(dir.path + "/handler.js", "exports.main = async () => 1;\n");
    try {
        load_app(dir.path + "/" + file, {});
    } catch (const ConfigError& e) {
        return e;
    }
    FAIL("config loaded without an error");
    return ConfigError(Mark{}, "");
}

const char* base = "service: svc\nprovider:\n  name: aws\n  runtime: nodejs20.x\n";

}  // namespace

TEST_CASE("app: a REST API CRUD app (serverless v3)") {
    App a = load("rest-crud");
    CHECK(a.kind == "serverless");
    CHECK(a.service == "rest-crud");
    CHECK(a.stage == "dev");
    REQUIRE(a.functions.size() == 5);
    auto* create = a.function("create");
    REQUIRE(create);
    CHECK(create->name == "rest-crud-dev-create");
    CHECK(a.function("rest-crud-dev-create") == create);
    CHECK(create->environment.at("ITEMS_TABLE") == "rest-crud-items-dev");
    CHECK(create->environment.at("STAGE") == "dev");
    CHECK(create->timeout == 6);
    CHECK(create->memory_size == 1024);
    CHECK(create->code_dir == fs::path(apps("rest-crud")).lexically_normal().string());
    REQUIRE(a.tables.size() == 1);
    CHECK(a.tables[0].name == "rest-crud-items-dev");
    CHECK(a.tables[0].create["ProvisionedThroughput"]["WriteCapacityUnits"] == 1);  // '1' became a number
    auto* rest = api_of(a, gateway::ApiType::rest);
    REQUIRE(rest);
    CHECK(rest->stage == "dev");
    CHECK(rest->name == "dev-rest-crud");
    CHECK(rest->id.size() == 10);
    CHECK(rest->routes.size() == 5);
    auto* post = route(*rest, "POST", "/items");
    REQUIRE(post);
    CHECK(post->function == "rest-crud-dev-create");
    REQUIRE(post->cors);
    CHECK(post->cors->allow_origins == std::vector<std::string>{"*"});
    REQUIRE(route(*rest, "GET", "/items"));  // the 'GET items' short form
    CHECK(route(*rest, "DELETE", "/items/{id}")->api_key_required);
    CHECK(rest->api_keys == std::vector<std::string>{"partner-key-0123456789"});
    CHECK(rest->binary_media_types == std::vector<std::string>{"image/png"});
    CHECK(api_of(a, gateway::ApiType::http) == nullptr);
    SUBCASE("--stage changes names") {
        LoadOptions o;
        o.stage = "test";
        App t = load("rest-crud", o);
        CHECK(t.function("create")->name == "rest-crud-test-create");
        CHECK(t.tables[0].name == "rest-crud-items-test");
        CHECK(api_of(t, gateway::ApiType::rest)->stage == "test");
        CHECK(api_of(t, gateway::ApiType::rest)->id != rest->id);
    }
    SUBCASE("ids are stable") { CHECK(load("rest-crud").apis[0].id == rest->id); }
}

TEST_CASE("app: an HTTP API with JWT scopes, params and nested variables (serverless v4)") {
    ::unsetenv("NOTES_FEATURE");
    App a = load("http-jwt");
    auto* f = a.function("notes");
    REQUIRE(f);
    CHECK(f->runtime == "nodejs22.x");
    CHECK(f->memory_size == 512);
    CHECK(f->environment.at("NOTES_TABLE") == "http-jwt-notes-dev");
    CHECK(f->environment.at("LOG_LEVEL") == "debug");
    CHECK(f->environment.at("REGION") == "us-east-1");
    CHECK(f->environment.at("ACCOUNT") == "000000000000");
    CHECK(f->environment.at("FEATURE") == "on-from-file");
    auto* http = api_of(a, gateway::ApiType::http);
    REQUIRE(http);
    CHECK(http->stage == "$default");
    REQUIRE(http->cors);
    CHECK(http->cors->allow_origins == std::vector<std::string>{"http://localhost:5173"});
    CHECK(http->cors->allow_credentials);
    CHECK(http->cors->max_age == 600);
    REQUIRE(http->authorizers.size() == 1);
    CHECK(http->authorizers[0].kind == gateway::AuthorizerSpec::Kind::jwt);
    CHECK(http->authorizers[0].audiences == std::vector<std::string>{"notes-api"});
    auto* get = route(*http, "GET", "/notes");
    REQUIRE(get);
    CHECK(get->authorizer == "issuer");
    CHECK(get->scopes == std::vector<std::string>{"notes:read"});
    CHECK(get->payload_format_version == "2.0");
    CHECK(route(*http, "DELETE", "/notes/{id}")->authorizer.empty());
    CHECK(route(*http, "$default", ""));  // httpApi: '*'
    REQUIRE(a.tables.size() == 1);
    CHECK(a.tables[0].ttl_attribute == "expiresAt");
    CHECK(a.tables[0].create["GlobalSecondaryIndexes"][0]["IndexName"] == "byOwner");
    CHECK(a.files.size() == 2);  // the config and config.yml
    SUBCASE("env, --param and another stage") {
        ::setenv("NOTES_FEATURE", "from-env", 1);
        LoadOptions o;
        o.stage = "prod";
        App p = load("http-jwt", o);
        CHECK(p.function("notes")->environment.at("FEATURE") == "from-env");
        CHECK(p.function("notes")->environment.at("NOTES_TABLE") == "prod-http-jwt-notes-prod");
        CHECK(p.function("notes")->environment.at("LOG_LEVEL") == "info");  // the fallback
        o.params["tablePrefix"] = "cli";
        CHECK(load("http-jwt", o).function("notes")->environment.at("NOTES_TABLE") == "cli-notes-prod");
        ::unsetenv("NOTES_FEATURE");
    }
}

TEST_CASE("app: a custom authorizer app with a PEM key read from a file") {
    App a = load("custom-auth-pem");
    auto* f = a.function("private");
    REQUIRE(f);
    std::string pem = f->environment.at("PUBLIC_KEY");
    CHECK(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    CHECK(pem.find("-----END PUBLIC KEY-----") != std::string::npos);
    auto* rest = api_of(a, gateway::ApiType::rest);
    REQUIRE(rest);
    REQUIRE(rest->authorizers.size() == 2);
    const gateway::AuthorizerSpec* token = nullptr;
    const gateway::AuthorizerSpec* request = nullptr;
    for (auto& x : rest->authorizers) (x.name == "auth" ? token : request) = &x;
    REQUIRE(token);
    REQUIRE(request);
    CHECK(token->kind == gateway::AuthorizerSpec::Kind::token);
    CHECK(token->function == "custom-auth-dev-auth");
    CHECK(token->result_ttl_seconds == 0);
    CHECK(token->validation_expression == "^Bearer [-0-9a-zA-Z._]+$");
    CHECK(request->kind == gateway::AuthorizerSpec::Kind::request);
    CHECK(request->identity_sources == std::vector<std::string>{"method.request.querystring.token"});
    CHECK(route(*rest, "GET", "/private")->authorizer == "auth");
    CHECK(route(*rest, "GET", "/public")->authorizer.empty());
    REQUIRE(rest->gateway_responses.size() == 1);
    auto& g = rest->gateway_responses[0];
    CHECK(g.type == "UNAUTHORIZED");
    CHECK(g.status == 401);
    CHECK(g.headers.at("Access-Control-Allow-Origin") == "*");
    CHECK(g.templates.at("application/json") == "{\"error\":\"sign in first\"}");
}

TEST_CASE("app: SAM with raw API Gateway resources, conditions and intrinsics") {
    App a = load("sam-raw-api");
    CHECK(a.kind == "sam");
    CHECK(a.service == "sam-raw-api");
    auto* orders = a.function("OrdersFunction");
    REQUIRE(orders);
    CHECK(orders->name == "sam-raw-api-orders");  // !Sub '${AWS::StackName}-orders'
    CHECK(orders->runtime == "python3.12");
    CHECK(orders->memory_size == 256);  // !FindInMap
    CHECK(orders->timeout == 5);        // !If [IsProd, 30, 5]
    CHECK(orders->environment.at("TABLE") == "sam-raw-api-OrdersTable");
    CHECK(orders->environment.at("TABLE_ARN") == "arn:aws:dynamodb:us-east-1:000000000000:table/sam-raw-api-OrdersTable");
    CHECK(orders->environment.at("DEBUG") == "true");
    CHECK(orders->environment.at("FIRST_AZ") == "us-east-1a");
    CHECK(orders->environment.at("SECOND") == "b");
    CHECK(orders->code_dir.ends_with("sam-raw-api/src"));
    auto* rest = api_of(a, gateway::ApiType::rest);
    REQUIRE(rest);
    CHECK(rest->name == "orders-api");
    CHECK(rest->stage == "v1");
    CHECK(rest->routes.size() == 2);  // the MOCK OPTIONS method is not a Lambda route
    auto* list = route(*rest, "GET", "/orders");
    REQUIRE(list);
    CHECK(list->function == "sam-raw-api-orders");
    auto* one = route(*rest, "GET", "/orders/{orderId}");
    REQUIRE(one);
    CHECK(one->authorizer == "Authorizer");
    REQUIRE(rest->authorizers.size() == 1);
    CHECK(rest->authorizers[0].function == "AuthFunction");
    CHECK(rest->authorizers[0].result_ttl_seconds == 0);
    auto* http = api_of(a, gateway::ApiType::http);
    REQUIRE(http);
    auto* v2 = route(*http, "GET", "/v2/orders");
    REQUIRE(v2);
    CHECK(v2->function == "sam-raw-api-orders");
    CHECK(a.outputs.at("ApiUrl") == "https://" + rest->id + ".execute-api.us-east-1.amazonaws.com/v1");
    bool import_notice = false, sns_notice = false;
    for (auto& n : a.notices) {
        import_notice = import_notice || n.find("Fn::ImportValue shared-vpc-id") != std::string::npos;
        sns_notice = sns_notice || n.find("AWS::SNS::Topic") != std::string::npos;
    }
    CHECK(import_notice);
    CHECK(sns_notice);
    SUBCASE("parameter overrides and conditions") {
        LoadOptions o;
        o.params["Env"] = "prod";
        o.params["Stage"] = "v2";
        App p = load("sam-raw-api", o);
        CHECK(p.function("OrdersFunction")->timeout == 30);
        CHECK(p.function("OrdersFunction")->memory_size == 1024);
        CHECK(p.function("OrdersFunction")->environment.count("DEBUG") == 0);  // AWS::NoValue
        CHECK(api_of(p, gateway::ApiType::rest)->stage == "v2");
        o.params["Stage"] = "v3";
        CHECK_THROWS_WITH_AS(load("sam-raw-api", o), doctest::Contains("AllowedValues"), ConfigError);
    }
}

TEST_CASE("app: SAM Globals, Api and HttpApi auth, stream, S3 and schedule events, a website bucket") {
    App a = load("sam-http");
    REQUIRE(a.functions.size() == 3);
    auto* list = a.function("ListFunction");
    REQUIRE(list);
    CHECK(list->runtime == "nodejs20.x");  // Globals
    CHECK(list->timeout == 10);
    CHECK(list->environment.at("TABLE") == "sam-http-Table");
    CHECK(a.function("StreamFunction")->runtime == "nodejs24.x");
    bool runtime_notice = false;
    for (auto& n : a.notices) runtime_notice = runtime_notice || n.find("nodejs24.x runs on this machine's node") != std::string::npos;
    CHECK(runtime_notice);
    const gateway::ApiSpec* http = nullptr;
    const gateway::ApiSpec* rest = nullptr;
    const gateway::ApiSpec* implicit = nullptr;
    for (auto& x : a.apis) {
        if (x.type == gateway::ApiType::http) http = &x;
        else if (x.stage == "prod") rest = &x;
        else implicit = &x;
    }
    REQUIRE(http);
    REQUIRE(rest);
    REQUIRE(implicit);
    CHECK(route(*http, "GET", "/items")->authorizer == "Jwt");
    CHECK(route(*http, "GET", "/items")->scopes == std::vector<std::string>{"items/read"});
    CHECK(route(*http, "GET", "/open")->authorizer.empty());
    CHECK(http->authorizers[0].issuer == "https://issuer.example.com");
    REQUIRE(http->cors);
    CHECK(http->cors->allow_methods == std::vector<std::string>{"GET", "POST"});
    CHECK(route(*rest, "GET", "/items")->authorizer == "Token");
    CHECK(rest->authorizers[0].result_ttl_seconds == 0);
    CHECK(rest->gateway_responses[0].status == 401);
    CHECK(implicit->stage == "Prod");
    auto* any = route(*implicit, "ANY", "/implicit");
    REQUIRE(any);
    REQUIRE(any->cors);  // Globals.Api.Cors
    REQUIRE(a.mappings.size() == 1);
    CHECK(a.mappings[0].event_source_arn == std::string(stream_arn_marker) + "sam-http-Events");
    CHECK(a.mappings[0].batch_size == 10);
    CHECK(a.mappings[0].filter_patterns == std::vector<std::string>{"{\"eventName\": [\"INSERT\"]}"});
    REQUIRE(a.schedules.size() == 1);
    CHECK(a.schedules[0].expression == "cron(0 3 * * ? *)");
    CHECK(a.schedules[0].input == "{\"job\": \"nightly\"}");
    REQUIRE(a.bucket_triggers.size() == 1);
    CHECK(a.bucket_triggers[0].bucket == "sam-http-uploads");
    CHECK(a.bucket_triggers[0].prefix == "incoming/");
    CHECK(a.bucket_triggers[0].suffix == ".csv");
    REQUIRE(a.site);
    CHECK(a.site->config.bucket == "sam-http-website");
    CHECK(a.site->config.spa);
    bool policy = false;
    for (auto& b : a.buckets)
        if (b.name == "sam-http-website") policy = b.configs.count("policy") && b.configs.count("website");
    CHECK(policy);
    REQUIRE(a.tables.size() == 2);
}

TEST_CASE("app: Python stream consumers") {
    App a = load("py-stream");
    REQUIRE(a.mappings.size() == 1);
    auto& m = a.mappings[0];
    CHECK(m.function == "py-stream-dev-audit");
    CHECK(m.event_source_arn == std::string(stream_arn_marker) + "py-stream-dev-orders");
    CHECK(m.starting_position == "TRIM_HORIZON");
    CHECK(m.maximum_retry_attempts == 2);
    CHECK(m.bisect_batch_on_function_error);
    CHECK(m.report_batch_item_failures);
    CHECK(m.filter_patterns == std::vector<std::string>{"{\"eventName\":[\"INSERT\",\"MODIFY\"]}"});
    CHECK(a.function("newer")->runtime == "python3.14");
    CHECK(a.function("put")->runtime == "python3.12");
}

TEST_CASE("app: a CloudFront distribution with an API behaviour is the site") {
    App a = load("cloudfront-site");
    REQUIRE(a.site);
    CHECK(a.site->config.bucket == "cf-site-bucket");
    CHECK(a.site->config.index == "index.html");
    CHECK_FALSE(a.site->config.spa);
    REQUIRE(a.site->config.error_responses.size() == 2);
    CHECK(a.site->config.error_responses[0].error_code == 403);
    CHECK(a.site->config.error_responses[0].response_code == 200);
    CHECK(a.site->config.error_responses[0].page == "/index.html");
    REQUIRE(a.site->config.api_routes.size() == 1);
    CHECK(a.site->config.api_routes[0].prefix == "/api");
    CHECK(a.site->api_id == a.apis[0].id);
}

TEST_CASE("app: the example todo app") {
    ::setenv("STRATUS_ISSUER", "http://127.0.0.1:4566/_stratus", 1);
    App a = load("../../examples/todo");
    ::unsetenv("STRATUS_ISSUER");
    CHECK(a.functions.size() == 11);
    REQUIRE(a.site);
    CHECK(a.site->config.bucket == "todo-dev-site");
    CHECK(a.site->dir.ends_with("examples/todo/web/dist"));
    REQUIRE(a.site->config.api_routes.size() == 2);
    CHECK(a.site->config.api_routes[0].prefix == "/api");
    CHECK(a.site->config.api_routes[0].origin_path == "");
    CHECK(a.site->config.api_routes[1].prefix == "/rest");
    CHECK(a.site->config.api_routes[1].origin_path == "/dev");
    auto* http = api_of(a, gateway::ApiType::http);
    REQUIRE(http);
    CHECK(http->authorizers[0].issuer == "http://127.0.0.1:4566/_stratus");
    CHECK(route(*http, "POST", "/api/todos")->scopes == std::vector<std::string>{"todos/write"});
    auto* rest = api_of(a, gateway::ApiType::rest);
    REQUIRE(rest);
    CHECK(route(*rest, "POST", "/rest/todos/{id}/attachment")->authorizer == "tokenAuthorizer");
    CHECK(a.function("recordAttachment")->runtime == "python3.12");
    CHECK(a.bucket_triggers.size() == 1);
    CHECK(a.schedules.size() == 1);
    CHECK(a.mappings.size() == 1);
}

TEST_CASE("app: serverless variables") {
    test::TempDir dir;
    SUBCASE("self, nested, fallbacks, types") {
        App a = load_text(dir, std::string(base) + R"(
  environment:
    A: ${self:custom.a}
    B: ${self:custom.missing, 'fallback'}
    C: prefix-${self:custom.n}-suffix
    D: ${self:custom.map.${self:custom.key}}
    E: ${env:STRATUS_TEST_UNSET_VAR, ${self:custom.a}}
    F: ${opt:stage, 'dev'}-${sls:stage}
    G: ${strToBool(true)}
    H: ${self:custom.number}
custom:
  a: alpha
  n: 7
  key: two
  map: { one: 1, two: second }
  number: 42
functions:
  f: { handler: handler.main }
)");
        auto& env = a.function("f")->environment;
        CHECK(env.at("A") == "alpha");
        CHECK(env.at("B") == "fallback");
        CHECK(env.at("C") == "prefix-7-suffix");
        CHECK(env.at("D") == "second");
        CHECK(env.at("E") == "alpha");
        CHECK(env.at("F") == "dev-dev");
        CHECK(env.at("G") == "true");
        CHECK(env.at("H") == "42");
    }
    SUBCASE("Fn::Sub's ${Name} is left alone") {
        App a = load_text(dir, std::string(base) + R"(
  environment:
    URL: !Sub 'https://${AWS::Region}.example.com/${self:service}'
functions:
  f: { handler: handler.main }
)");
        CHECK(a.function("f")->environment.at("URL") == "https://us-east-1.example.com/svc");
    }
    SUBCASE("a cycle is an error") {
        auto e = error_of(dir, std::string(base) + "custom:\n  a: ${self:custom.b}\n  b: ${self:custom.a}\nfunctions:\n  f: { handler: handler.main }\n");
        CHECK(e.message().find("cycle") != std::string::npos);
    }
    SUBCASE("an unresolvable variable names its line and column") {
        auto e = error_of(dir, std::string(base) + "  environment:\n    X: ${env:STRATUS_TEST_UNSET_VAR}\nfunctions:\n  f: { handler: handler.main }\n");
        CHECK(e.mark().file == "serverless.yml");
        CHECK(e.mark().line == 6);
        CHECK(e.mark().column == 8);
        CHECK(e.message().find("STRATUS_TEST_UNSET_VAR is not set") != std::string::npos);
    }
    SUBCASE("ssm needs a fallback offline") {
        auto e = error_of(dir, std::string(base) + "  environment:\n    X: ${ssm:/app/secret}\nfunctions:\n  f: { handler: handler.main }\n");
        CHECK(e.message().find("fallback") != std::string::npos);
        App a = load_text(dir, std::string(base) + "  environment:\n    X: ${ssm:/app/secret, 'local'}\nfunctions:\n  f: { handler: handler.main }\n");
        CHECK(a.function("f")->environment.at("X") == "local");
    }
}

TEST_CASE("app: config errors name the file, line and column") {
    test::TempDir dir;
    SUBCASE("unknown event type") {
        auto e = error_of(dir, std::string(base) + "functions:\n  f:\n    handler: handler.main\n    events:\n      - htttp: GET /x\n");
        CHECK(e.mark().line == 9);
        CHECK(e.message().find("unknown event type 'htttp'") != std::string::npos);
    }
    SUBCASE("a known event type not emulated is a notice") {
        App a = load_text(dir, std::string(base) + "functions:\n  f:\n    handler: handler.main\n    events:\n      - sqs: arn:aws:sqs:us-east-1:1:q\n");
        REQUIRE(a.notices.size() == 1);
        CHECK(a.notices[0].find("sqs events are not emulated") != std::string::npos);
    }
    SUBCASE("missing handler file") {
        auto e = error_of(dir, std::string(base) + "functions:\n  f:\n    handler: src/nope.main\n");
        CHECK(e.mark().line == 7);
        CHECK(e.mark().column == 14);
        CHECK(e.message().find("src/nope.js (or .mjs / .cjs) not found") != std::string::npos);
    }
    SUBCASE("a TypeScript handler needs a build") {
        write(dir.path + "/src/h.ts", "export const main = async () => 1;\n");
        auto e = error_of(dir, std::string(base) + "functions:\n  f:\n    handler: src/h.main\n");
        CHECK(e.message().find("TypeScript") != std::string::npos);
    }
    SUBCASE("two routes that collide") {
        auto e = error_of(dir, std::string(base) + "functions:\n  f:\n    handler: handler.main\n    events:\n      - httpApi: GET /x\n  g:\n    handler: handler.main\n    events:\n      - httpApi: 'GET /x/'\n");
        CHECK(e.message().find("two routes collide: GET /x") != std::string::npos);
    }
    SUBCASE("bad intrinsic") {
        auto e = error_of(dir, std::string(base) + "  environment:\n    X: !Select [5, [a, b]]\nfunctions:\n  f: { handler: handler.main }\n");
        CHECK(e.mark().line == 6);
        CHECK(e.message().find("out of range") != std::string::npos);
        auto e2 = error_of(dir, std::string(base) + "  environment:\n    X: !Ref Nowhere\nfunctions:\n  f: { handler: handler.main }\n");
        CHECK(e2.message().find("Ref to 'Nowhere'") != std::string::npos);
        auto e3 = error_of(dir, std::string(base) + "  environment:\n    X: !Bogus x\nfunctions:\n  f: { handler: handler.main }\n");
        CHECK(e3.message().find("unknown tag !Bogus") != std::string::npos);
    }
    SUBCASE("YAML syntax") {
        auto e = error_of(dir, "service: svc\nprovider:\n  name: aws\n   bad: indent\n");
        CHECK(e.mark().file == "serverless.yml");
        CHECK(e.mark().line >= 3);
    }
    SUBCASE("duplicate keys") {
        auto e = error_of(dir, "service: svc\nservice: again\n");
        CHECK(e.mark().line == 2);
        CHECK(e.message().find("duplicate key 'service'") != std::string::npos);
    }
    SUBCASE("unsupported runtime") {
        auto e = error_of(dir, "service: svc\nprovider:\n  name: aws\n  runtime: java21\nfunctions:\n  f: { handler: handler.main }\n");
        CHECK(e.mark().line == 4);
        CHECK(e.message().find("java21 is not supported") != std::string::npos);
    }
    SUBCASE("an http authorizer naming no function stays a route to a function name") {
        App a = load_text(dir, std::string(base) + "functions:\n  f:\n    handler: handler.main\n    events:\n      - http: { path: x, method: get, authorizer: aws_iam }\n");
        CHECK(a.apis[0].routes[0].authorizer.empty());
        CHECK(!a.notices.empty());
    }
}

TEST_CASE("app: intrinsics, long and short forms") {
    Document d = parse_document(R"(
Conditions:
  Yes: !Equals [a, a]
  No: !Not [!Condition Yes]
  Both: !And [!Condition Yes, !Condition No]
  Either: { "Fn::Or": [{ Condition: Yes }, { Condition: No }] }
Values:
  join: !Join ['-', [a, !Ref Param, 3]]
  joinlong: { "Fn::Join": [",", [x, y]] }
  sub: !Sub 'x-${Param}-${!Literal}'
  sublist: !Sub ['${A}/${B}', { A: 1, B: !Ref Param }]
  select: !Select ['1', [p, q]]
  split: !Split [/, a/b/c]
  if: !If [Either, yes, no]
  ifnot: !If [Both, yes, no]
  base64: !Base64 hi
  getatt: !GetAtt Res.Attr.Deep
  novalue: [1, !Ref AWS::NoValue, 2]
)", "t.yaml");
    std::vector<std::string> notices;
    Intrinsics ix(d, "", {{"Param", "P"}}, "eu-west-1", "stack", notices);
    ix.set_resources([](const std::string& id) -> std::optional<nlohmann::json> { return id == "Res" ? std::optional<nlohmann::json>("res-name") : std::nullopt; },
                     [](const std::string& id, const std::string& attr) -> std::optional<nlohmann::json> {
                         return id + "#" + attr;
                     });
    auto v = ix.eval(d.root["Values"], "/Values");
    CHECK(v["join"] == "a-P-3");
    CHECK(v["joinlong"] == "x,y");
    CHECK(v["sub"] == "x-P-${Literal}");
    CHECK(v["sublist"] == "1/P");
    CHECK(v["select"] == "q");
    CHECK(v["split"] == nlohmann::json::array({"a", "b", "c"}));
    CHECK(v["if"] == "yes");
    CHECK(v["ifnot"] == "no");
    CHECK(v["base64"] == "aGk=");
    CHECK(v["getatt"] == "Res#Attr.Deep");
    CHECK(v["novalue"] == nlohmann::json::array({1, 2}));
    CHECK(ix.condition("Yes", ""));
    CHECK_FALSE(ix.condition("No", ""));
}

TEST_CASE("app: YAML scalars and anchors") {
    Document d = parse_document("a: 1\nb: '1'\nc: true\nd: ~\ne: 1.5\nf: 0123\ng: &x { k: v }\nh: *x\ni:\n  <<: *x\n  j: 2\n", "t.yml");
    CHECK(d.root["a"] == 1);
    CHECK(d.root["b"] == "1");
    CHECK(d.root["c"] == true);
    CHECK(d.root["d"].is_null());
    CHECK(d.root["e"] == 1.5);
    CHECK(d.root["f"] == "0123");
    CHECK(d.root["h"]["k"] == "v");
    CHECK(d.root["i"]["k"] == "v");
    CHECK(d.root["i"]["j"] == 2);
    CHECK(d.mark("/g/k").line == 7);
}

TEST_CASE("app: find_config and serverless.json") {
    test::TempDir dir;
    CHECK_FALSE(find_config(dir.path));
    write(dir.path + "/serverless.json", R"({"service": "js", "provider": {"name": "aws", "runtime": "nodejs20.x"},
      "functions": {"f": {"handler": "handler.main", "events": [{"httpApi": "GET /x"}]}}})");
    write(dir.path + "/handler.js", "exports.main = async () => 1;\n");
    auto c = find_config(dir.path);
    REQUIRE(c);
    CHECK(c->ends_with("serverless.json"));
    App a = load_app(*c, {});
    CHECK(a.function("f")->name == "js-dev-f");
    CHECK(find_config(*c) == c);
}

TEST_CASE("app: serverless-finch and serverless-s3-sync sites") {
    test::TempDir dir;
    SUBCASE("finch") {
        App a = load_text(dir, std::string(base) + "custom:\n  client:\n    bucketName: my-site\n    distributionFolder: build\n    errorDocument: error.html\nfunctions:\n  f: { handler: handler.main }\n");
        REQUIRE(a.site);
        CHECK(a.site->config.bucket == "my-site");
        CHECK(a.site->dir == dir.path + "/build");
        CHECK_FALSE(a.site->config.spa);
        CHECK(a.site->config.error_responses[0].page == "/error.html");
    }
    SUBCASE("s3Sync picks the website bucket") {
        App a = load_text(dir, std::string(base) + R"(custom:
  s3Sync:
    - bucketName: assets-bucket
      localDir: assets
    - bucketName: web-bucket
      localDir: dist
functions:
  f: { handler: handler.main }
resources:
  Resources:
    Web:
      Type: AWS::S3::Bucket
      Properties:
        BucketName: web-bucket
        WebsiteConfiguration: { IndexDocument: index.html }
)");
        REQUIRE(a.site);
        CHECK(a.site->config.bucket == "web-bucket");
        CHECK(a.site->dir == dir.path + "/dist");
    }
}

TEST_CASE("app: layer directories (serverless layers:, SAM / CloudFormation LayerVersion)") {
    test::TempDir dir;
    fs::create_directories(dir.path + "/libs/nodejs");
    App a = load_text(dir, std::string(base) +
                               "  layers:\n    - arn:aws:lambda:us-east-1:000000000000:layer:ext:3\n"
                               "layers:\n  my_libs:\n    path: libs\n    name: libs-layer\n    compatibleRuntimes: [nodejs20.x]\n"
                               "functions:\n  a:\n    handler: handler.main\n"
                               "  b:\n    handler: handler.main\n    layers:\n      - Ref: MyUnderscorelibsLambdaLayer\n"
                               "      - arn:aws:lambda:us-east-1:000000000000:layer:ext:3\n");
    REQUIRE(a.layers.size() == 1);
    CHECK(a.layers[0].name == "libs-layer");
    CHECK(a.layers[0].dir == fs::path(dir.path + "/libs").lexically_normal().string());
    CHECK(a.layers[0].compatible_runtimes == std::vector<std::string>{"nodejs20.x"});
    // The provider's layers, replaced by a function's own.
    CHECK(a.function("a")->layers == std::vector<std::string>{"arn:aws:lambda:us-east-1:000000000000:layer:ext:3"});
    CHECK(a.function("b")->layers == std::vector<std::string>{std::string(layer_arn_marker) + "libs-layer",
                                                               "arn:aws:lambda:us-east-1:000000000000:layer:ext:3"});
    CHECK(error_of(dir, std::string(base) + "layers:\n  x:\n    path: nowhere\n").message()
              .find("layer folder nowhere does not exist") != std::string::npos);

    test::TempDir sam;
    write(sam.path + "/src/app.py", "def handler(e, c):\n    return 1\n");
    fs::create_directories(sam.path + "/layer/python");
    write(sam.path + "/template.yaml",
          "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function:\n    Layers: [!Ref Shared]\n"
          "Resources:\n  Shared:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n      ContentUri: layer/\n"
          "  Raw:\n    Type: AWS::Lambda::LayerVersion\n    Properties:\n      LayerName: raw\n      Content: layer\n"
          "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src\n      Handler: app.handler\n"
          "      Runtime: python3.12\n"
          "  Own:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src\n      Handler: app.handler\n"
          "      Runtime: python3.12\n      Layers: [!Ref Raw, !Ref Shared]\n");
    App s = load_app(sam.path + "/template.yaml", {});
    REQUIRE(s.layers.size() == 2);
    CHECK(s.function("Fn")->layers == std::vector<std::string>{std::string(layer_arn_marker) + "Shared"});
    CHECK(s.function("Own")->layers ==
          std::vector<std::string>{std::string(layer_arn_marker) + "raw", std::string(layer_arn_marker) + "Shared"});
    CHECK(s.notices.empty());
}

TEST_CASE("app: HTTP API stages (SAM StageName, raw ApiGatewayV2 stages)") {
    // A named stage is served at /{stage}/...; $default (or none declared) at the root.
    test::TempDir dir;
    write(dir.path + "/handler.js", "exports.main = async () => 1;\n");
    write(dir.path + "/template.yaml", R"(
Transform: AWS::Serverless-2016-10-31
Resources:
  Named:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageName: v1
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs20.x
      Handler: handler.main
      Events:
        Get:
          Type: HttpApi
          Properties: { ApiId: !Ref Named, Path: /items, Method: GET }
  Raw:
    Type: AWS::ApiGatewayV2::Api
    Properties: { Name: raw, ProtocolType: HTTP, Target: !GetAtt Fn.Arn }
  RawStage:
    Type: AWS::ApiGatewayV2::Stage
    Properties: { ApiId: !Ref Raw, StageName: dev, AutoDeploy: true }
  Both:
    Type: AWS::ApiGatewayV2::Api
    Properties: { Name: both, ProtocolType: HTTP, Target: !GetAtt Fn.Arn }
  BothDev:
    Type: AWS::ApiGatewayV2::Stage
    Properties: { ApiId: !Ref Both, StageName: dev }
  BothDefault:
    Type: AWS::ApiGatewayV2::Stage
    Properties: { ApiId: !Ref Both, StageName: $default }
)");
    App a = load_app(dir.path + "/template.yaml", {});
    std::map<std::string, std::string> stages;
    for (auto& x : a.apis) stages[x.name] = x.stage;
    CHECK(stages.at("Named") == "v1");
    CHECK(stages.at("raw") == "dev");
    CHECK(stages.at("both") == "$default");
}
