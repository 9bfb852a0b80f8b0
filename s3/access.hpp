// Who may do what under --verify-signatures, decided as S3 decides it for a request
// without a signature (the anonymous principal): the bucket policy (an explicit Deny wins,
// an Allow grants), the ACLs of the bucket and of the object (grants to AllUsers), Object
// Ownership (BucketOwnerEnforced disables ACLs) and the bucket's Block Public Access
// settings (IgnorePublicAcls, RestrictPublicBuckets) over both. Signed requests by the
// owner's key pair are not judged here; those by other key pairs are (user_allowed). Without
// --verify-signatures nothing is judged at all.
//
// Stored with the bucket (Bucket::configs, in the bucket's LMDB record like CORS and
// website): "policy" (the JSON as sent), "grants" (the bucket ACL, encode_grants),
// "ownershipControls" and "publicAccessBlock" (the XML documents as sent). An object's ACL
// is Version::acl.
//
// AWS's defaults for new buckets (since April 2023: all four Block Public Access settings
// on, Object Ownership BucketOwnerEnforced) are what a bucket created by a client under
// --verify-signatures gets. Buckets created without --verify-signatures, and those the app
// model deploys, get none (ACLs enabled, nothing blocked), so that local apps and tests
// that set ACLs and public policies work as before.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/http_types.hpp"
#include "s3/store.hpp"

namespace stratus::s3 {

// One ACL grant besides the owner's FULL_CONTROL (which every bucket and object has: the
// one account owns them all). grantee: "AllUsers", "AuthenticatedUsers", "LogDelivery"
// (the groups), "id:<canonical id>" or "email:<address>".
struct Grant {
    std::string grantee;
    std::string permission;  // READ, WRITE, READ_ACP, WRITE_ACP, FULL_CONTROL
    bool operator==(const Grant&) const = default;
};
using Grants = std::vector<Grant>;

std::string encode_grants(const Grants& g);  // "AllUsers=READ,AllUsers=WRITE"
Grants decode_grants(std::string_view s);
// The grants a request sets: x-amz-acl (a canned ACL) or x-amz-grant-* headers; nullopt
// when it sets none. Throws S3's errors for an unknown canned ACL or both kinds at once.
std::optional<Grants> request_grants(const core::Request& req, bool bucket);
// The grants of an AccessControlPolicy document (PutBucketAcl / PutObjectAcl bodies).
Grants grants_from_xml(std::string_view body);
// The AccessControlPolicy document GetBucketAcl / GetObjectAcl answer.
std::string acl_xml(const Grants& g);
// Grants to AllUsers or AuthenticatedUsers make an ACL public.
bool public_grants(const Grants& g);

struct PublicAccessBlock {
    bool block_public_acls = false;
    bool ignore_public_acls = false;
    bool block_public_policy = false;
    bool restrict_public_buckets = false;
};
PublicAccessBlock public_access_block(const Bucket& b);  // all false when none is set
// Validates a PutPublicAccessBlock document (MalformedXML otherwise).
void check_public_access_block_xml(std::string_view body);
std::string public_access_block_xml(const PublicAccessBlock& p);

// "BucketOwnerEnforced", "BucketOwnerPreferred" or "ObjectWriter" (none set: ObjectWriter,
// what buckets made before 2023 have).
std::string object_ownership(const Bucket& b);
// Validates a PutBucketOwnershipControls document; returns its ObjectOwnership.
std::string check_ownership_xml(std::string_view body);
std::string ownership_xml(std::string_view ownership);
void check_ownership_value(std::string_view ownership);

// Whether `grants` may be set on (an object in) bucket b: AccessControlListNotSupported
// when ACLs are disabled (BucketOwnerEnforced) and the grants go beyond the owner's, 403
// AccessDenied when BlockPublicAcls is on and they are public.
void check_acl_allowed(const Bucket& b, const Grants& grants);
// PutBucketPolicy: 403 AccessDenied for a public policy under BlockPublicPolicy.
void check_policy_allowed(const Bucket& b, std::string_view policy_json);
// The parsed policy for `bucket`; MalformedPolicy with AWS's message otherwise.
void validate_policy(std::string_view policy_json, std::string_view bucket);
// GetBucketPolicyStatus's IsPublic.
bool policy_is_public(const Bucket& b);

// The IAM action of a request (s3:GetObject, s3:ListBucket, ...). level: 0 service,
// 1 bucket, 2 object.
std::string action_of(int level, std::string_view method, std::string_view sub, const core::Request& req);

// Whether an anonymous request for `action` on bucket b (and key, for object actions) is
// allowed. object_grants: the ACL of the object it reads (GetObject, GetObjectAcl,
// PutObjectAcl), nullptr otherwise.
bool anonymous_allowed(const Bucket& b, std::string_view key, std::string_view action, const Grants* object_grants,
                       const core::Request& req);

// Several key pairs under --verify-signatures: the first is the account's owner (root),
// which owns every bucket and is not restricted; each other pair is an IAM user of the
// same account, named by its access key id (arn:aws:iam::000000000000:user/<access key
// id>), with no identity-based policies (none are modelled). As on AWS, such a user may do
// what the bucket policy allows it (Principal "*" or its ARN; a policy naming the account
// delegates to identity policies, so grants nothing, while a Deny naming the account
// applies) or what ACL grants to AllUsers / AuthenticatedUsers allow, unless an explicit
// Deny applies; Block Public Access's IgnorePublicAcls and BucketOwnerEnforced take the
// ACL grants away. RestrictPublicBuckets does not: it spares "authorized users within the
// bucket owner's account" (S3 User Guide, Block Public Access).
std::string user_arn(std::string_view user);
bool user_allowed(const Bucket& b, std::string_view key, std::string_view action, const Grants* object_grants,
                  const core::Request& req, std::string_view user);

}  // namespace stratus::s3
