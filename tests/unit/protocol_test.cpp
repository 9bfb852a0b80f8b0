// Error rendering in each AWS wire protocol (core/protocol.hpp, core/error.hpp): what
// botocore and the other SDKs parse to raise the right exception class.
#include "core/protocol.hpp"

#include <doctest/doctest.h>
#include <zlib.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/auth.hpp"
#include "core/error.hpp"
#include "core/http_types.hpp"

namespace {

using nlohmann::json;
using stratus::core::AuthFailure;
using stratus::core::AuthProblem;
using stratus::core::AwsError;
using stratus::core::Fault;
using stratus::core::Protocol;
using stratus::core::Request;
using stratus::core::Response;
using stratus::core::Wire;
using stratus::core::crc32;
using stratus::core::default_auth_error;
using stratus::core::default_too_large;
using stratus::core::new_request_id;
using stratus::core::render_error;
using stratus::core::xml_escape;

const Protocol dynamodb{Wire::json10, "com.amazonaws.dynamodb.v20120810#", true};
const Protocol logs{Wire::json11, "", false};
const Protocol lambda{Wire::rest_json, "", false};
const Protocol s3{Wire::rest_xml, "", false};
const Protocol internal{Wire::internal, "", false};

Request request(std::string method = "POST", std::string request_id = "REQ-1") {
    Request r;
    r.method = std::move(method);
    r.request_id = std::move(request_id);
    return r;
}

json body_json(const Response& r) {
    auto j = json::parse(r.body, nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    REQUIRE(j.is_object());
    return j;
}

bool all_of(std::string_view s, std::string_view alphabet) {
    for (char c : s)
        if (alphabet.find(c) == std::string_view::npos) return false;
    return true;
}

std::string xml_unescape(std::string_view s) {
    static const std::pair<std::string_view, char> entities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        bool replaced = false;
        for (auto [entity, c] : entities) {
            if (s.substr(i).starts_with(entity)) {
                out.push_back(c);
                i += entity.size();
                replaced = true;
                break;
            }
        }
        if (!replaced) out.push_back(s[i++]);
    }
    return out;
}

// A minimal well-formedness check of an S3 error document: an optional XML declaration,
// then properly nested elements without attributes, and character data where '<' never
// appears and '&' only starts one of the five predefined entities. Returns the (name,
// unescaped text) of every leaf element, in order; REQUIREs on malformed input.
std::vector<std::pair<std::string, std::string>> xml_leaves(std::string_view doc) {
    if (doc.starts_with("<?xml")) {
        auto end = doc.find("?>");
        REQUIRE(end != std::string_view::npos);
        doc.remove_prefix(end + 2);
    }
    std::vector<std::pair<std::string, std::string>> leaves;
    std::vector<std::string> open;
    std::string text;
    bool seen_root = false;
    bool leaf = false;  // no child element since the innermost open tag
    for (std::size_t i = 0; i < doc.size();) {
        char c = doc[i];
        if (c == '<') {
            auto end = doc.find('>', i);
            REQUIRE(end != std::string_view::npos);
            std::string_view tag = doc.substr(i + 1, end - i - 1);
            bool closing = tag.starts_with('/');
            if (closing) tag.remove_prefix(1);
            REQUIRE_FALSE(tag.empty());
            for (char t : tag)
                if (!std::isalnum(static_cast<unsigned char>(t)) && t != '-' && t != '_')
                    FAIL("bad element name <" << std::string(tag) << ">");
            if (closing) {
                REQUIRE_FALSE(open.empty());
                REQUIRE(open.back() == tag);
                if (leaf) leaves.emplace_back(open.back(), xml_unescape(text));
                open.pop_back();
                leaf = false;
            } else {
                REQUIRE_FALSE((open.empty() && seen_root));  // a single root element
                seen_root = true;
                open.emplace_back(tag);
                leaf = true;
            }
            text.clear();
            i = end + 1;
            continue;
        }
        if (c == '>') FAIL("raw '>' in character data at " << i);
        if (c == '&') {
            std::string_view rest = doc.substr(i);
            if (!(rest.starts_with("&amp;") || rest.starts_with("&lt;") || rest.starts_with("&gt;") ||
                  rest.starts_with("&quot;") || rest.starts_with("&apos;")))
                FAIL("'&' not starting an entity at " << i);
        }
        if (open.empty()) {
            if (!std::isspace(static_cast<unsigned char>(c))) FAIL("text outside the root element at " << i);
        } else {
            text.push_back(c);
        }
        ++i;
    }
    REQUIRE(open.empty());
    REQUIRE(seen_root);
    return leaves;
}

const std::string hostile = "a<b>c&d\"e'f </Message><Code>Injected</Code> &amp; ]]>";

}  // namespace

TEST_CASE("crc32 matches the zlib vectors") {
    CHECK(crc32("") == 0u);
    CHECK(crc32("123456789") == 0xCBF43926u);
    // Python: zlib.crc32(b"The quick brown fox jumps over the lazy dog") == 0x414FA339
    CHECK(crc32("The quick brown fox jumps over the lazy dog") == 0x414FA339u);
    // Python: zlib.crc32(b"{}") == 2745614147
    CHECK(crc32("{}") == 2745614147u);
    CHECK(crc32(std::string_view("\0", 1)) == 0xD202EF8Du);
}

TEST_CASE("crc32 (libdeflate's) equals zlib's at every length and alignment, and chains") {
    std::string data(5000, '\0');
    std::uint32_t x = 12345;
    for (auto& c : data) c = static_cast<char>((x = x * 1103515245u + 12345u) >> 24);
    for (std::size_t off : {0u, 1u, 3u, 7u}) {
        for (std::size_t len = 0; len + off <= data.size(); len += (len < 300 ? 1 : 397)) {
            CAPTURE(off);
            CAPTURE(len);
            std::string_view part(data.data() + off, len);
            auto expected = static_cast<std::uint32_t>(
                ::crc32(0, reinterpret_cast<const Bytef*>(part.data()), static_cast<uInt>(part.size())));
            REQUIRE(crc32(part) == expected);
            // Chained in two pieces, as S3's streaming checksum does.
            std::size_t cut = len / 3;
            REQUIRE(crc32(crc32(part.substr(0, cut)), part.substr(cut)) == expected);
        }
    }
}

TEST_CASE("xml_escape escapes the five XML special characters") {
    CHECK(xml_escape("") == "");
    CHECK(xml_escape("plain text/key.txt") == "plain text/key.txt");
    CHECK(xml_escape("&") == "&amp;");
    CHECK(xml_escape("<") == "&lt;");
    CHECK(xml_escape(">") == "&gt;");
    CHECK(xml_escape("\"") == "&quot;");
    CHECK(xml_escape("'") == "&apos;");
    CHECK(xml_escape("a<b>&\"'c") == "a&lt;b&gt;&amp;&quot;&apos;c");
    CHECK(xml_escape("&amp;") == "&amp;amp;");       // not idempotent: escapes again
    CHECK(xml_escape("\xC3\xBC") == "\xC3\xBC");     // UTF-8 untouched
}

TEST_CASE("new_request_id is shaped like each service's") {
    SUBCASE("S3: 16 uppercase hex characters") {
        auto id = new_request_id(Wire::rest_xml);
        CHECK(id.size() == 16);
        CHECK(all_of(id, "0123456789ABCDEF"));
    }
    SUBCASE("DynamoDB: 52 characters of base32hex") {
        // As AWS's own, e.g. K2QH8DNOU907N97FNA2GDLL8OBVV4KQNSO5AEMVJF66Q9ASUAAJG: digits
        // and A-V. Every position takes every one of the 32 characters across draws.
        std::array<std::string, 52> seen;
        for (int n = 0; n < 2000; ++n) {
            auto id = new_request_id(Wire::json10);
            REQUIRE(id.size() == 52);
            CHECK(all_of(id, "0123456789ABCDEFGHIJKLMNOPQRSTUV"));
            for (std::size_t i = 0; i < id.size(); ++i)
                if (seen[i].find(id[i]) == std::string::npos) seen[i] += id[i];
        }
        for (std::size_t i = 0; i < seen.size(); ++i) {
            CAPTURE(i);
            CHECK(seen[i].size() == 32);
        }
    }
    SUBCASE("others: a lowercase UUID v4") {
        for (Wire wire : {Wire::json11, Wire::rest_json, Wire::internal}) {
            CAPTURE(static_cast<int>(wire));
            // xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx
            auto id = new_request_id(wire);
            REQUIRE(id.size() == 36);
            for (std::size_t i : {8u, 13u, 18u, 23u}) CHECK(id[i] == '-');
            std::string hex = id;
            std::erase(hex, '-');
            CHECK(hex.size() == 32);
            CHECK(all_of(hex, "0123456789abcdef"));
            CHECK(id[14] == '4');
            CHECK(std::string_view("89ab").find(id[19]) != std::string_view::npos);
        }
    }
}

TEST_CASE("UUIDs use every random digit") {
    // Each of the 30 random hex digits varies across draws (a digit stuck at one value, or
    // two positions copying each other, would show); the version and variant stay fixed.
    std::array<std::string, 36> seen;
    for (int n = 0; n < 400; ++n) {
        auto id = new_request_id(Wire::json11);
        for (std::size_t i = 0; i < id.size(); ++i)
            if (seen[i].find(id[i]) == std::string::npos) seen[i] += id[i];
    }
    for (std::size_t i = 0; i < seen.size(); ++i) {
        CAPTURE(i);
        if (i == 8 || i == 13 || i == 18 || i == 23) CHECK(seen[i] == "-");
        else if (i == 14) CHECK(seen[i] == "4");
        else if (i == 19) CHECK(seen[i].size() == 4);
        else CHECK(seen[i].size() >= 12);
    }
}

TEST_CASE("new_request_id differs between calls") {
    for (Wire wire : {Wire::rest_xml, Wire::json10, Wire::json11, Wire::rest_json, Wire::internal}) {
        CAPTURE(static_cast<int>(wire));
        CHECK(new_request_id(wire) != new_request_id(wire));
    }
}

TEST_CASE("render_error in JSON 1.0 qualifies __type with the service prefix") {
    Response r = render_error(dynamodb, AwsError::resource_not_found("Requested resource not found"), request());
    CHECK(r.status == 400);
    CHECK(r.headers.get("Content-Type") == "application/x-amz-json-1.0");
    CHECK(r.headers.get("x-amzn-RequestId") == "REQ-1");
    CHECK_FALSE(r.headers.has("x-amz-request-id"));
    json j = body_json(r);
    CHECK(j == json{{"__type", "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"},
                    {"message", "Requested resource not found"}});
}

TEST_CASE("render_error in JSON 1.0 uses Coral namespaces for framework errors") {
    SUBCASE("ValidationException is com.amazon.coral.validate") {
        json j = body_json(render_error(dynamodb, AwsError::validation("bad"), request()));
        CHECK(j["__type"] == "com.amazon.coral.validate#ValidationException");
        CHECK(j["message"] == "bad");
    }
    SUBCASE("other framework errors are com.amazon.coral.service") {
        for (std::string code : {"UnknownOperationException", "SerializationException", "UnrecognizedClientException",
                                 "InvalidSignatureException", "MissingAuthenticationTokenException",
                                 "IncompleteSignatureException", "AccessDeniedException", "RequestEntityTooLarge",
                                 "InternalFailure"}) {
            CAPTURE(code);
            json j = body_json(render_error(dynamodb, AwsError(code, "m", 400), request()));
            CHECK(j["__type"] == "com.amazon.coral.service#" + code);
        }
    }
    SUBCASE("service errors keep the service prefix") {
        for (std::string code : {"ConditionalCheckFailedException", "ResourceInUseException",
                                 "ProvisionedThroughputExceededException", "InternalServerError"}) {
            CAPTURE(code);
            json j = body_json(render_error(dynamodb, AwsError(code, "m", 400), request()));
            CHECK(j["__type"] == "com.amazonaws.dynamodb.v20120810#" + code);
        }
    }
}

TEST_CASE("render_error in JSON 1.0 omits an empty message") {
    Response r = render_error(dynamodb, AwsError::unknown_operation(), request());
    CHECK(r.status == 400);
    json j = body_json(r);
    CHECK(j == json{{"__type", "com.amazon.coral.service#UnknownOperationException"}});
}

TEST_CASE("render_error in JSON merges json_extra and adds fields") {
    AwsError e("TransactionCanceledException", "Transaction cancelled", 400);
    e.with_json(R"({"CancellationReasons":[{"Code":"None"},{"Code":"ConditionalCheckFailed"}],"n":1})")
        .with("TableName", "orders")
        .with("Reason", "x\"y");
    json j = body_json(render_error(dynamodb, e, request()));
    CHECK(j["__type"] == "com.amazonaws.dynamodb.v20120810#TransactionCanceledException");
    CHECK(j["message"] == "Transaction cancelled");
    CHECK(j["CancellationReasons"] == json::parse(R"([{"Code":"None"},{"Code":"ConditionalCheckFailed"}])"));
    CHECK(j["n"] == 1);
    CHECK(j["TableName"] == "orders");
    CHECK(j["Reason"] == "x\"y");
    CHECK(j.size() == 6);

    SUBCASE("json_extra that is not an object is ignored") {
        AwsError bad("SomeError", "m", 400);
        bad.with_json("[1,2]");
        CHECK(body_json(render_error(dynamodb, bad, request())).size() == 2);
        AwsError broken("SomeError", "m", 400);
        broken.with_json("{not json");
        CHECK(body_json(render_error(dynamodb, broken, request())).size() == 2);
    }
    SUBCASE("__type and message win over json_extra members of the same name") {
        AwsError clash("SomeError", "real", 400);
        clash.with_json(R"({"__type":"fake","message":"fake"})");
        json c = body_json(render_error(dynamodb, clash, request()));
        CHECK(c["__type"] == "com.amazonaws.dynamodb.v20120810#SomeError");
        CHECK(c["message"] == "real");
    }
}

TEST_CASE("render_error in JSON 1.0 sets x-amz-crc32 to the body's CRC32 when the protocol asks") {
    Response r = render_error(dynamodb, AwsError::validation("One or more parameter values were invalid"), request());
    REQUIRE(r.headers.has("x-amz-crc32"));
    CHECK(r.headers.get("x-amz-crc32") == std::to_string(crc32(r.body)));

    SUBCASE("not without Protocol::crc32") {
        Protocol plain = dynamodb;
        plain.crc32 = false;
        CHECK_FALSE(render_error(plain, AwsError::validation("x"), request()).headers.has("x-amz-crc32"));
    }
}

TEST_CASE("render_error in JSON 1.1 has a bare __type") {
    Response r = render_error(logs, AwsError::resource_not_found("The specified log group does not exist."), request());
    CHECK(r.status == 400);
    CHECK(r.headers.get("Content-Type") == "application/x-amz-json-1.1");
    CHECK(r.headers.get("x-amzn-RequestId") == "REQ-1");
    CHECK_FALSE(r.headers.has("x-amz-crc32"));
    CHECK(body_json(r) == json{{"__type", "ResourceNotFoundException"},
                               {"message", "The specified log group does not exist."}});

    SUBCASE("framework codes are bare too") {
        CHECK(body_json(render_error(logs, AwsError::validation("v"), request()))["__type"] == "ValidationException");
        CHECK(body_json(render_error(logs, AwsError::unknown_operation(), request())) ==
              json{{"__type", "UnknownOperationException"}});
    }
}

TEST_CASE("render_error in REST-JSON puts the code in x-amzn-ErrorType") {
    SUBCASE("sender fault is Type User") {
        Response r = render_error(lambda, AwsError("ResourceNotFoundException", "Function not found", 404), request());
        CHECK(r.status == 404);
        CHECK(r.headers.get("x-amzn-ErrorType") == "ResourceNotFoundException");
        CHECK(r.headers.get("Content-Type") == "application/json");
        CHECK(r.headers.get("x-amzn-RequestId") == "REQ-1");
        CHECK(body_json(r) == json{{"Type", "User"}, {"Message", "Function not found"}});
    }
    SUBCASE("receiver fault is Type Service") {
        Response r = render_error(lambda, AwsError("ServiceException", "boom", 500, Fault::receiver), request());
        CHECK(r.status == 500);
        CHECK(r.headers.get("x-amzn-ErrorType") == "ServiceException");
        CHECK(body_json(r) == json{{"Type", "Service"}, {"Message", "boom"}});
    }
    SUBCASE("an empty message is still sent, and fields are added") {
        AwsError e("TooManyRequestsException", "", 429);
        e.with("retryAfterSeconds", "1").with("Reason", "ConcurrentInvocationLimitExceeded");
        json j = body_json(render_error(lambda, e, request()));
        CHECK(j == json{{"Type", "User"},
                        {"Message", ""},
                        {"retryAfterSeconds", "1"},
                        {"Reason", "ConcurrentInvocationLimitExceeded"}});
    }
}

TEST_CASE("render_error in REST-XML is a well-formed S3 error document") {
    AwsError e("NoSuchKey", "The specified key does not exist.", 404);
    e.with("Key", "photos/a b.jpg").with("BucketName", "my-bucket");
    Response r = render_error(s3, e, request("GET", "0123456789ABCDEF"));
    CHECK(r.status == 404);
    CHECK(r.headers.get("Content-Type") == "application/xml");
    CHECK(r.headers.get("x-amz-request-id") == "0123456789ABCDEF");
    REQUIRE(r.headers.has("x-amz-id-2"));
    CHECK_FALSE(r.headers.get("x-amz-id-2")->empty());
    CHECK_FALSE(r.headers.has("x-amzn-RequestId"));
    CHECK(r.body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    auto leaves = xml_leaves(r.body);
    CHECK(leaves == std::vector<std::pair<std::string, std::string>>{
                        {"Code", "NoSuchKey"},
                        {"Message", "The specified key does not exist."},
                        {"Key", "photos/a b.jpg"},
                        {"BucketName", "my-bucket"},
                        {"RequestId", "0123456789ABCDEF"},
                    });
    CHECK(r.body.find("<Error>") != std::string::npos);
}

TEST_CASE("render_error in REST-XML escapes hostile text everywhere") {
    AwsError e(hostile, hostile, 400);
    e.with("Key", hostile);
    Response r = render_error(s3, e, request("PUT", hostile));
    auto leaves = xml_leaves(r.body);
    CHECK(leaves == std::vector<std::pair<std::string, std::string>>{
                        {"Code", hostile}, {"Message", hostile}, {"Key", hostile}, {"RequestId", hostile}});
    CHECK(r.body.find("Injected</Code>") == std::string::npos);
}

TEST_CASE("render_error for internal endpoints is plain JSON") {
    Response r = render_error(internal, AwsError("NotFound", "No internal endpoint /_stratus/x", 404), request());
    CHECK(r.status == 404);
    CHECK(r.headers.get("Content-Type") == "application/json");
    CHECK(r.headers.get("x-amzn-RequestId") == "REQ-1");
    CHECK(body_json(r) == json{{"error", "NotFound"}, {"message", "No internal endpoint /_stratus/x"}});
}

TEST_CASE("render_error for HEAD sends no body but keeps status and headers") {
    struct Case {
        const Protocol* protocol;
        std::string_view request_id_header;
    };
    SUBCASE("every wire") {
        for (Case c : {Case{&dynamodb, "x-amzn-RequestId"}, Case{&logs, "x-amzn-RequestId"},
                       Case{&lambda, "x-amzn-RequestId"}, Case{&s3, "x-amz-request-id"},
                       Case{&internal, "x-amzn-RequestId"}}) {
            CAPTURE(static_cast<int>(c.protocol->wire));
            Response r = render_error(*c.protocol, AwsError("NoSuchBucket", "The specified bucket does not exist", 404),
                                      request("HEAD", "HEADREQ"));
            CHECK(r.status == 404);
            CHECK(r.body.empty());
            CHECK(r.headers.has("Content-Type"));
            CHECK(r.headers.get(c.request_id_header) == "HEADREQ");
        }
    }
    SUBCASE("REST-JSON keeps x-amzn-ErrorType") {
        Response r = render_error(lambda, AwsError("ResourceNotFoundException", "m", 404), request("HEAD"));
        CHECK(r.body.empty());
        CHECK(r.headers.get("x-amzn-ErrorType") == "ResourceNotFoundException");
    }
    SUBCASE("crc32 is of the empty body that is sent") {
        Response r = render_error(dynamodb, AwsError::validation("x"), request("HEAD"));
        CHECK(r.headers.get("x-amz-crc32") == "0");
    }
}

TEST_CASE("default_auth_error in REST-XML uses S3's codes") {
    struct Case {
        AuthFailure failure;
        std::string_view code;
        int status;
    };
    SUBCASE("codes and statuses") {
        for (Case c : {Case{AuthFailure::missing, "AccessDenied", 403},
                       Case{AuthFailure::malformed, "AuthorizationHeaderMalformed", 400},
                       Case{AuthFailure::unknown_access_key, "InvalidAccessKeyId", 403},
                       Case{AuthFailure::signature_mismatch, "SignatureDoesNotMatch", 403},
                       Case{AuthFailure::expired, "AccessDenied", 403},
                       Case{AuthFailure::time_skewed, "RequestTimeTooSkewed", 403},
                       Case{AuthFailure::content_sha_mismatch, "XAmzContentSHA256Mismatch", 400}}) {
            CAPTURE(c.code);
            AwsError e = default_auth_error(Wire::rest_xml, AuthProblem{c.failure, ""});
            CHECK(e.code() == c.code);
            CHECK(e.status() == c.status);
            CHECK(e.fault() == Fault::sender);
            CHECK_FALSE(e.message().empty());
        }
    }
    SUBCASE("messages") {
        CHECK(default_auth_error(Wire::rest_xml, {AuthFailure::missing, ""}).message() == "Access Denied");
        CHECK(default_auth_error(Wire::rest_xml, {AuthFailure::expired, ""}).message() == "Request has expired");
        CHECK(default_auth_error(Wire::rest_xml, {AuthFailure::malformed, "bad scope"}).message() == "bad scope");
        CHECK(default_auth_error(Wire::rest_xml, {AuthFailure::malformed, ""}).message() ==
              "The authorization header is malformed.");
    }
}

TEST_CASE("default_auth_error in JSON 1.0 answers 400, REST-JSON 403") {
    struct Case {
        AuthFailure failure;
        std::string_view code;
    };
    SUBCASE("codes and statuses") {
        for (Wire wire : {Wire::json10, Wire::rest_json}) {
            int status = wire == Wire::json10 ? 400 : 403;
            for (Case c : {Case{AuthFailure::missing, "MissingAuthenticationTokenException"},
                           Case{AuthFailure::malformed, "IncompleteSignatureException"},
                           Case{AuthFailure::unknown_access_key, "UnrecognizedClientException"},
                           Case{AuthFailure::signature_mismatch, "InvalidSignatureException"},
                           Case{AuthFailure::expired, "InvalidSignatureException"},
                           Case{AuthFailure::time_skewed, "InvalidSignatureException"},
                           Case{AuthFailure::content_sha_mismatch, "InvalidSignatureException"}}) {
                CAPTURE(static_cast<int>(wire));
                CAPTURE(c.code);
                AwsError e = default_auth_error(wire, AuthProblem{c.failure, ""});
                CHECK(e.code() == c.code);
                CHECK(e.status() == status);
                CHECK(e.fault() == Fault::sender);
                CHECK_FALSE(e.message().empty());
            }
        }
    }
    SUBCASE("messages") {
        CHECK(default_auth_error(Wire::json10, {AuthFailure::missing, ""}).message() ==
              "Request is missing Authentication Token");
        CHECK(default_auth_error(Wire::rest_json, {AuthFailure::missing, ""}).message() ==
              "Missing Authentication Token");
        CHECK(default_auth_error(Wire::json10, {AuthFailure::unknown_access_key, ""}).message() ==
              "The security token included in the request is invalid.");
        CHECK(default_auth_error(Wire::json10, {AuthFailure::malformed, "Credential is odd"}).message() ==
              "Credential is odd");
        CHECK(default_auth_error(Wire::json10, {AuthFailure::expired, ""}).message() == "Signature expired");
        CHECK(default_auth_error(Wire::json10, {AuthFailure::time_skewed, "Signature expired: 2026"}).message() ==
              "Signature expired: 2026");
    }
    SUBCASE("rendered by DynamoDB in the Coral namespace") {
        json j = body_json(render_error(dynamodb, default_auth_error(Wire::json10, {AuthFailure::missing, ""}),
                                        request()));
        CHECK(j["__type"] == "com.amazon.coral.service#MissingAuthenticationTokenException");
    }
}

TEST_CASE("default_too_large per wire") {
    SUBCASE("S3: EntityTooLarge 400 with MaxSizeAllowed") {
        AwsError e = default_too_large(Wire::rest_xml, 5368709120ULL);
        CHECK(e.code() == "EntityTooLarge");
        CHECK(e.status() == 400);
        REQUIRE(e.fields().size() == 1);
        CHECK(e.fields()[0] == std::pair<std::string, std::string>{"MaxSizeAllowed", "5368709120"});
    }
    SUBCASE("REST-JSON: RequestEntityTooLargeException 413") {
        AwsError e = default_too_large(Wire::rest_json, 6291456);
        CHECK(e.code() == "RequestEntityTooLargeException");
        CHECK(e.status() == 413);
        CHECK(e.message().find("6291456") != std::string::npos);
    }
    SUBCASE("JSON protocols: RequestEntityTooLarge 413") {
        for (Wire wire : {Wire::json10, Wire::json11, Wire::internal}) {
            CAPTURE(static_cast<int>(wire));
            AwsError e = default_too_large(wire, 16777216);
            CHECK(e.code() == "RequestEntityTooLarge");
            CHECK(e.status() == 413);
            CHECK(e.message().find("16777216") != std::string::npos);
        }
    }
}

TEST_CASE("AwsError factories") {
    CHECK(AwsError::validation("v").code() == "ValidationException");
    CHECK(AwsError::validation("v").status() == 400);
    CHECK(AwsError::resource_not_found("r").code() == "ResourceNotFoundException");
    CHECK(AwsError::unknown_operation().message().empty());
    CHECK(AwsError::serialization("s").code() == "SerializationException");
    AwsError internal_error = AwsError::internal();
    CHECK(internal_error.code() == "InternalServerError");
    CHECK(internal_error.status() == 500);
    CHECK(internal_error.fault() == Fault::receiver);
    CHECK(std::string_view(AwsError::validation("what").what()) == "what");
}
