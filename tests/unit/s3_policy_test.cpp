// Bucket policies (s3/policy.hpp): parsing with S3's MalformedPolicy messages, evaluation
// for the anonymous principal (explicit Deny wins, wildcards, NotAction/NotResource,
// conditions), S3's "public" test; the ACL helpers of s3/access.hpp and the error table.
#include "s3/policy.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

#include "core/error.hpp"
#include "s3/access.hpp"
#include "s3/errors.hpp"

namespace policy = stratus::s3::policy;
using policy::Decision;

namespace {

std::string doc(const std::string& statements) { return R"({"Version":"2012-10-17","Statement":[)" + statements + "]}"; }

std::string parse_error(const std::string& text, std::string_view bucket = "b") {
    try {
        policy::parse(text, bucket);
    } catch (const policy::PolicyError& e) {
        return e.what();
    }
    return "accepted";
}

policy::Request anon(std::string action, std::string resource,
                     std::map<std::string, std::vector<std::string>> context = {}) {
    policy::Request r;
    r.action = std::move(action);
    r.resource = std::move(resource);
    r.context = std::move(context);
    if (!r.context.count("aws:sourceip")) r.context["aws:sourceip"] = {"127.0.0.1"};
    return r;
}

Decision eval(const std::string& statements, const policy::Request& r) {
    return policy::evaluate(policy::parse(doc(statements), "b"), r);
}

}  // namespace

TEST_CASE("glob: * and ?, case folding on request") {
    CHECK(policy::glob("arn:aws:s3:::b/*", "arn:aws:s3:::b/a/b/c"));
    CHECK(policy::glob("arn:aws:s3:::b/*", "arn:aws:s3:::b/"));
    CHECK_FALSE(policy::glob("arn:aws:s3:::b/*", "arn:aws:s3:::b"));
    CHECK(policy::glob("a?c", "abc"));
    CHECK_FALSE(policy::glob("a?c", "ac"));
    CHECK(policy::glob("*", ""));
    CHECK(policy::glob("**a**", "xxaxx"));
    CHECK(policy::glob("s3:get*", "s3:GetObject", true));
    CHECK_FALSE(policy::glob("s3:get*", "s3:GetObject"));
    CHECK(policy::glob("a*b*c", "aXbYbZc"));
    CHECK_FALSE(policy::glob("a*b*c", "aXbYbZ"));
    // Long runs stay fast (no exponential backtracking).
    CHECK_FALSE(policy::glob(std::string(50, '*') + "b", std::string(5000, 'a')));
}

TEST_CASE("ip_in: IPv4 and IPv6 CIDRs, mapped addresses") {
    CHECK(policy::ip_in("127.0.0.1", "127.0.0.0/8"));
    CHECK(policy::ip_in("127.0.0.1", "127.0.0.1"));
    CHECK(policy::ip_in("127.0.0.1", "127.0.0.1/32"));
    CHECK_FALSE(policy::ip_in("127.0.0.2", "127.0.0.1/32"));
    CHECK(policy::ip_in("10.1.2.3", "10.0.0.0/8"));
    CHECK(policy::ip_in("10.1.2.3", "0.0.0.0/0"));
    CHECK(policy::ip_in("192.168.1.77", "192.168.1.64/26"));
    CHECK_FALSE(policy::ip_in("192.168.1.200", "192.168.1.64/26"));
    CHECK(policy::ip_in("::ffff:127.0.0.1", "127.0.0.0/8"));
    CHECK(policy::ip_in("::1", "::1/128"));
    CHECK(policy::ip_in("2001:db8::5", "2001:db8::/32"));
    CHECK_FALSE(policy::ip_in("2001:db9::5", "2001:db8::/32"));
    CHECK_FALSE(policy::ip_in("127.0.0.1", "::1/128"));
    CHECK_FALSE(policy::ip_in("127.0.0.1", "127.0.0.0/33"));
    CHECK_FALSE(policy::ip_in("127.0.0.1", "127.0.0.0/x"));
    CHECK_FALSE(policy::ip_in("localhost", "127.0.0.0/8"));
}

TEST_CASE("parse: S3's MalformedPolicy messages") {
    std::string ok = R"({"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"})";
    CHECK(parse_error(doc(ok)) == "accepted");
    CHECK(parse_error(R"({"Statement":)" + ok + "}") == "accepted");
    CHECK(parse_error("") == "Policies must be valid JSON and the first byte must be '{'");
    CHECK(parse_error(" " + doc(ok)) == "Policies must be valid JSON and the first byte must be '{'");
    CHECK(parse_error("{\"Statement\": [") == "Policies must be valid JSON and the first byte must be '{'");
    CHECK(parse_error("{}") == "Missing required field Statement");
    CHECK(parse_error(R"({"Statement":[]})") == "Missing required field Statement");
    CHECK(parse_error(R"({"Version":"1","Statement":[)" + ok + "]}") == "The policy must contain a valid version string");
    CHECK(parse_error(R"({"Statement":[)" + ok + R"(],"Foo":1})") == "Unknown field Foo");
    CHECK(parse_error(doc(R"({"Effect":"Allowed","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"})")) ==
          "Invalid effect: Allowed");
    CHECK(parse_error(doc(R"({"Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"})")) ==
          "Missing required field Effect");
    CHECK(parse_error(doc(R"({"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"})")) ==
          "Missing required field Principal");
    CHECK(parse_error(doc(R"({"Effect":"Allow","Principal":"*","Resource":"arn:aws:s3:::b/*"})")) ==
          "Missing required field Action");
    CHECK(parse_error(doc(R"({"Effect":"Allow","Principal":"*","Action":"s3:GetObject"})")) ==
          "Missing required field Resource");
    CHECK(parse_error(doc(R"({"Effect":"Allow","Principal":"me","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"})")) ==
          "Invalid principal in policy");
    CHECK(parse_error(doc(R"({"Effect":"Allow","Principal":{"Bob":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"})")) ==
          "Invalid principal in policy");
    CHECK(parse_error(doc(R"({"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"})")) ==
          "accepted");
    CHECK(parse_error(doc(R"({"Effect":"Allow","Principal":{"AWS":["123456789012","*"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"})")) ==
          "accepted");
    CHECK(parse_error(doc(R"({"Effect":"Allow","Principal":"*","Action":"s3:Fly","Resource":"arn:aws:s3:::b/*"})")) ==
          "Policy has invalid action");
    CHECK(parse_error(doc(R"({"Effect":"Allow","Principal":"*","Action":"sqs:*","Resource":"arn:aws:s3:::b/*"})")) ==
          "Policy has invalid action");
    CHECK(parse_error(doc(R"({"Effect":"Allow","Principal":"*","Action":"s3:Get*","Resource":"arn:aws:s3:::b/*"})")) ==
          "accepted");
    CHECK(parse_error(doc(R"({"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::c/*"})")) ==
          "Policy has invalid resource");
    CHECK(parse_error(doc(R"({"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"})")) ==
          "Policy has invalid resource");
    CHECK(parse_error(doc(R"({"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b"})")) ==
          "Action does not apply to any resource(s) in statement");
    CHECK(parse_error(doc(R"({"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b/*"})")) ==
          "Action does not apply to any resource(s) in statement");
    CHECK(parse_error(doc(R"({"Effect":"Allow","Principal":"*","Action":["s3:ListBucket","s3:GetObject"],"Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]})")) ==
          "accepted");
    CHECK(parse_error(doc(R"({"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringMaybe":{"aws:Referer":"x"}}})")) ==
          "Invalid Condition type : StringMaybe");
    CHECK(parse_error(doc(R"({"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringLike":{"Referer":"x"}}})")) ==
          "Policy has an invalid condition key");
    CHECK(parse_error(doc(R"({"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"ForAnyValue:StringLikeIfExists":{"aws:Referer":["x",1,true]}}})")) ==
          "accepted");
    CHECK(parse_error(doc(R"({"Effect":"Allow","Principal":"*","Action":[],"Resource":"arn:aws:s3:::b/*"})")) ==
          "Missing required field Action");
    CHECK(parse_error(doc(R"({"Effect":"Allow","Principal":"*","Action":[1],"Resource":"arn:aws:s3:::b/*"})")) ==
          "Invalid policy syntax.");
    CHECK(parse_error(doc("3")) == "Invalid policy syntax.");
}

TEST_CASE("evaluate: actions, resources, explicit deny") {
    std::string get = R"({"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/pub/*"})";
    CHECK(eval(get, anon("s3:GetObject", "arn:aws:s3:::b/pub/x")) == Decision::allow);
    CHECK(eval(get, anon("s3:GetObject", "arn:aws:s3:::b/priv/x")) == Decision::none);
    CHECK(eval(get, anon("s3:PutObject", "arn:aws:s3:::b/pub/x")) == Decision::none);
    // Actions compare without case, resources with it.
    CHECK(eval(R"({"Effect":"Allow","Principal":{"AWS":"*"},"Action":"S3:getobject","Resource":"arn:aws:s3:::b/*"})",
               anon("s3:GetObject", "arn:aws:s3:::b/x")) == Decision::allow);
    CHECK(eval(get, anon("s3:GetObject", "arn:aws:s3:::b/PUB/x")) == Decision::none);
    std::string deny = R"({"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/pub/secret*"})";
    CHECK(eval(get + "," + deny, anon("s3:GetObject", "arn:aws:s3:::b/pub/secret.txt")) == Decision::deny);
    CHECK(eval(deny + "," + get, anon("s3:GetObject", "arn:aws:s3:::b/pub/secret.txt")) == Decision::deny);
    CHECK(eval(get + "," + deny, anon("s3:GetObject", "arn:aws:s3:::b/pub/open.txt")) == Decision::allow);
    // A specific account is not the anonymous caller.
    CHECK(eval(R"({"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"})",
               anon("s3:GetObject", "arn:aws:s3:::b/x")) == Decision::none);
    // NotAction / NotResource / NotPrincipal.
    CHECK(eval(R"({"Effect":"Allow","Principal":"*","NotAction":"s3:Delete*","Resource":"arn:aws:s3:::b/*"})",
               anon("s3:PutObject", "arn:aws:s3:::b/x")) == Decision::allow);
    CHECK(eval(R"({"Effect":"Allow","Principal":"*","NotAction":"s3:Delete*","Resource":"arn:aws:s3:::b/*"})",
               anon("s3:DeleteObject", "arn:aws:s3:::b/x")) == Decision::none);
    CHECK(eval(R"({"Effect":"Deny","Principal":"*","Action":"s3:GetObject","NotResource":"arn:aws:s3:::b/pub/*"})",
               anon("s3:GetObject", "arn:aws:s3:::b/x")) == Decision::deny);
    CHECK(eval(R"({"Effect":"Deny","NotPrincipal":{"AWS":"123456789012"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"})",
               anon("s3:GetObject", "arn:aws:s3:::b/x")) == Decision::deny);
    CHECK(eval(R"({"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"})",
               anon("s3:ListBucket", "arn:aws:s3:::b")) == Decision::allow);
}

TEST_CASE("evaluate: conditions") {
    auto with = [](const std::string& cond) {
        return R"({"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":)" +
               cond + "}";
    };
    auto r = anon("s3:GetObject", "arn:aws:s3:::b/x");
    auto ref = anon("s3:GetObject", "arn:aws:s3:::b/x", {{"aws:referer", {"https://app.test/page"}}});
    CHECK(eval(with(R"({"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}})"), r) == Decision::allow);
    CHECK(eval(with(R"({"IpAddress":{"aws:SourceIp":["10.0.0.0/8","127.0.0.1/32"]}})"), r) == Decision::allow);
    CHECK(eval(with(R"({"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}})"), r) == Decision::none);
    CHECK(eval(with(R"({"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}})"), r) == Decision::allow);
    CHECK(eval(with(R"({"StringLike":{"aws:Referer":"https://app.test/*"}})"), ref) == Decision::allow);
    CHECK(eval(with(R"({"StringLike":{"aws:Referer":"https://app.test/*"}})"), r) == Decision::none);
    CHECK(eval(with(R"({"StringEquals":{"aws:Referer":"https://app.test/page"}})"), ref) == Decision::allow);
    CHECK(eval(with(R"({"StringEquals":{"aws:Referer":"https://APP.test/page"}})"), ref) == Decision::none);
    CHECK(eval(with(R"({"StringEqualsIgnoreCase":{"aws:Referer":"https://APP.test/page"}})"), ref) == Decision::allow);
    CHECK(eval(with(R"({"StringNotLike":{"aws:Referer":"https://app.test/*"}})"), ref) == Decision::none);
    // A negated operator holds for a key the request lacks; IfExists too.
    CHECK(eval(with(R"({"StringNotLike":{"aws:Referer":"https://app.test/*"}})"), r) == Decision::allow);
    CHECK(eval(with(R"({"StringLikeIfExists":{"aws:Referer":"https://app.test/*"}})"), r) == Decision::allow);
    CHECK(eval(with(R"({"StringLikeIfExists":{"aws:Referer":"https://other/*"}})"), ref) == Decision::none);
    CHECK(eval(with(R"({"Null":{"aws:Referer":"true"}})"), r) == Decision::allow);
    CHECK(eval(with(R"({"Null":{"aws:Referer":"true"}})"), ref) == Decision::none);
    CHECK(eval(with(R"({"Null":{"aws:Referer":false}})"), ref) == Decision::allow);
    auto http = anon("s3:GetObject", "arn:aws:s3:::b/x", {{"aws:securetransport", {"false"}}});
    CHECK(eval(with(R"({"Bool":{"aws:SecureTransport":"false"}})"), http) == Decision::allow);
    CHECK(eval(with(R"({"Bool":{"aws:SecureTransport":true}})"), http) == Decision::none);
    // Every condition of a statement must hold (AND), any value of one (OR).
    CHECK(eval(with(R"({"IpAddress":{"aws:SourceIp":"127.0.0.1"},"StringLike":{"aws:Referer":"https://app.test/*"}})"), ref) ==
          Decision::allow);
    CHECK(eval(with(R"({"IpAddress":{"aws:SourceIp":"127.0.0.1"},"StringLike":{"aws:Referer":"https://app.test/*"}})"), r) ==
          Decision::none);
    auto t = anon("s3:GetObject", "arn:aws:s3:::b/x", {{"aws:currenttime", {"2026-12-02T17:00:00.000Z"}},
                                                        {"aws:epochtime", {"1796230800"}}});
    CHECK(eval(with(R"({"DateLessThan":{"aws:CurrentTime":"2027-01-01T00:00:00Z"}})"), t) == Decision::allow);
    CHECK(eval(with(R"({"DateGreaterThan":{"aws:CurrentTime":"2027-01-01"}})"), t) == Decision::none);
    CHECK(eval(with(R"({"NumericLessThan":{"aws:EpochTime":1796230801}})"), t) == Decision::allow);
    CHECK(eval(with(R"({"NumericGreaterThanEquals":{"aws:EpochTime":"1796230801"}})"), t) == Decision::none);
    auto list = anon("s3:GetObject", "arn:aws:s3:::b/x", {{"s3:prefix", {"home/"}}});
    CHECK(eval(with(R"({"ForAnyValue:StringEquals":{"s3:prefix":["a/","home/"]}})"), list) == Decision::allow);
    CHECK(eval(with(R"({"ForAllValues:StringEquals":{"s3:prefix":["a/"]}})"), r) == Decision::allow);  // vacuous
    // A condition over a deny: the usual "no plain HTTP" statement.
    std::string deny_http =
        R"({"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}})";
    CHECK(eval(with(R"({"IpAddress":{"aws:SourceIp":"127.0.0.1"}})") + "," + deny_http, http) == Decision::deny);
}

TEST_CASE("is_public: as Block Public Access judges a policy") {
    auto pub = [](const std::string& statements) { return policy::is_public(policy::parse(doc(statements), "b")); };
    std::string base = R"("Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*")";
    CHECK(pub(R"({"Effect":"Allow","Principal":"*",)" + base + "}"));
    CHECK(pub(R"({"Effect":"Allow","Principal":{"AWS":"*"},)" + base + "}"));
    CHECK(pub(R"({"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::*:root"},)" + base + "}"));
    CHECK_FALSE(pub(R"({"Effect":"Deny","Principal":"*",)" + base + "}"));
    CHECK_FALSE(pub(R"({"Effect":"Allow","Principal":{"AWS":"123456789012"},)" + base + "}"));
    CHECK(pub(R"({"Effect":"Allow","NotPrincipal":{"AWS":"123456789012"},)" + base + "}"));
    // Fixed values pin it: a source range of /8 or narrower, an account, a VPC endpoint.
    CHECK_FALSE(pub(R"({"Effect":"Allow","Principal":"*",)" + base + R"(,"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}})"));
    CHECK(pub(R"({"Effect":"Allow","Principal":"*",)" + base + R"(,"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/7"}}})"));
    CHECK(pub(R"({"Effect":"Allow","Principal":"*",)" + base + R"(,"Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","0.0.0.0/0"]}}})"));
    CHECK(pub(R"({"Effect":"Allow","Principal":"*",)" + base + R"(,"Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}})"));
    CHECK_FALSE(pub(R"({"Effect":"Allow","Principal":"*",)" + base + R"(,"Condition":{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}})"));
    CHECK(pub(R"({"Effect":"Allow","Principal":"*",)" + base + R"(,"Condition":{"IpAddress":{"aws:SourceIp":"2001:db8::/31"}}})"));
    CHECK_FALSE(pub(R"({"Effect":"Allow","Principal":"*",)" + base + R"(,"Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}})"));
    CHECK_FALSE(pub(R"({"Effect":"Allow","Principal":"*",)" + base + R"(,"Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}})"));
    CHECK(pub(R"({"Effect":"Allow","Principal":"*",)" + base + R"(,"Condition":{"StringLike":{"aws:SourceAccount":"12345*"}}})"));
    // Anyone can send any Referer or claim TLS: neither pins anything.
    CHECK(pub(R"({"Effect":"Allow","Principal":"*",)" + base + R"(,"Condition":{"StringLike":{"aws:Referer":"https://app.test/*"}}})"));
    CHECK(pub(R"({"Effect":"Allow","Principal":"*",)" + base + R"(,"Condition":{"Bool":{"aws:SecureTransport":"true"}}})"));
    // One public statement is enough.
    CHECK(pub(R"({"Effect":"Allow","Principal":{"AWS":"123456789012"},)" + base + R"(},{"Effect":"Allow","Principal":"*",)" +
              base + "}"));
}

TEST_CASE("ACL grants: encoding, XML, public") {
    using namespace stratus::s3;
    Grants g{{"AllUsers", "READ"}, {"id:abc", "WRITE_ACP"}};
    CHECK(decode_grants(encode_grants(g)) == g);
    CHECK(decode_grants("").empty());
    CHECK(public_grants(g));
    CHECK_FALSE(public_grants({{"id:abc", "READ"}, {"LogDelivery", "WRITE"}}));
    CHECK(public_grants({{"AuthenticatedUsers", "READ"}}));
    std::string xml = acl_xml(g);
    CHECK(xml.find("<URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ") !=
          std::string::npos);
    CHECK(grants_from_xml(xml) == g);  // the owner's own grant is implied
    CHECK_THROWS_AS(grants_from_xml("<AccessControlPolicy><AccessControlList><Grant><Grantee><URI>x</URI></Grantee>"
                                    "<Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>"),
                    stratus::core::AwsError);
    CHECK_THROWS_AS(grants_from_xml("<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>x</ID></Grantee>"
                                    "<Permission>ALL</Permission></Grant></AccessControlList></AccessControlPolicy>"),
                    stratus::core::AwsError);
}

TEST_CASE("S3's error table: one row per code, statuses of errors") {
    using namespace stratus::s3;
    std::set<std::string_view> codes;
    for (const auto& e : error_specs) {
        CHECK(codes.insert(e.code).second);
        CHECK(e.status >= 400);
        CHECK(e.status < 600);
    }
    auto e = s3_error("NoSuchKey");
    CHECK(e.code() == "NoSuchKey");
    CHECK(e.status() == 404);
    CHECK(e.message() == "The specified key does not exist.");
    CHECK(s3_error("InvalidRequest", "why").status() == 400);
    CHECK(s3_error_named("NoSuchCORSConfiguration")->status() == 404);
    CHECK_FALSE(s3_error_named("NoSuchThing"));
}
