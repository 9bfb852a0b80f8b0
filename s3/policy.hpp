// Bucket policies: the JSON document parsed and checked as S3 checks it on
// PutBucketPolicy (MalformedPolicy with AWS's messages), evaluated for a request the way
// IAM does for one principal (an explicit Deny wins over any Allow; nothing matching is an
// implicit deny), and judged public or not as S3's Block Public Access judges it
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status).
// Standard library only (and nlohmann inside the .cpp), so that the fuzz target links it
// alone.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace stratus::s3::policy {

// A document S3 would refuse; what() is AWS's MalformedPolicy message.
struct PolicyError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Condition {
    std::string op;   // as written, e.g. "StringLike", "IpAddressIfExists", "ForAnyValue:StringEquals"
    std::string key;  // lowercased ("aws:sourceip")
    std::vector<std::string> values;
};

struct Statement {
    bool allow = true;
    // Principal / NotPrincipal: "*" stands for everyone (also {"AWS": "*"}); other
    // entries are "AWS:<id>", "Service:<name>", "CanonicalUser:<id>", "Federated:<x>".
    std::vector<std::string> principals;
    bool not_principal = false;
    std::vector<std::string> actions;  // lowercased, may hold * and ?
    bool not_action = false;
    std::vector<std::string> resources;  // may hold * and ?
    bool not_resource = false;
    std::vector<Condition> conditions;
};

struct Policy {
    std::vector<Statement> statements;
};

// Parses and validates a bucket policy for `bucket` (every Resource must name it or
// objects in it). Throws PolicyError.
Policy parse(std::string_view json, std::string_view bucket);

// The request as a policy sees it.
struct Request {
    bool anonymous = true;       // unsigned: matches only the "*" principal
    // A signed request by an IAM user of the bucket owner's account (not the owner
    // itself, which policies do not restrict here): its ARN and its account. An Allow
    // grants it when it names "*" or the user's ARN; naming the account delegates to the
    // account's identity policies, which are not modelled (none), so it grants nothing,
    // while a Deny naming the account applies to the user.
    std::string principal_arn;   // "arn:aws:iam::000000000000:user/NAME"
    std::string account;         // "000000000000"
    std::string action;          // "s3:GetObject"
    std::string resource;        // "arn:aws:s3:::bucket/key"
    // Condition keys present in the request, lowercased ("aws:sourceip" -> "127.0.0.1").
    std::map<std::string, std::vector<std::string>> context;
};

enum class Decision { none, allow, deny };
// Deny when a matching Deny statement exists, else Allow when an Allow matches, else none
// (an implicit deny).
Decision evaluate(const Policy& p, const Request& r);

// Whether the policy is public in S3's sense: some Allow statement grants to a wildcard
// principal without a condition that pins it to fixed values (aws:SourceIp to a range no
// wider than /8 (IPv4) or /32 (IPv6), aws:SourceArn, aws:SourceVpc, aws:SourceVpce,
// aws:SourceAccount, aws:SourceOwner, aws:PrincipalOrgID, aws:PrincipalAccount,
// aws:PrincipalArn, aws:userid, s3:DataAccessPointArn, s3:DataAccessPointAccount).
bool is_public(const Policy& p);

// Helpers, exposed for tests.
// '*' matches any run of characters, '?' any one; case-sensitive unless told otherwise.
bool glob(std::string_view pattern, std::string_view text, bool ignore_case = false);
// Whether `address` (IPv4, IPv6, or IPv4-mapped IPv6) lies in `cidr` (an address with an
// optional /prefix); false for anything unparsable.
bool ip_in(std::string_view address, std::string_view cidr);

}  // namespace stratus::s3::policy
