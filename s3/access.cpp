#include "s3/access.hpp"

#include <algorithm>
#include <chrono>

#include "core/error.hpp"
#include "core/protocol.hpp"
#include "core/text.hpp"
#include "s3/errors.hpp"
#include "s3/ops.hpp"
#include "s3/policy.hpp"
#include "s3/xml.hpp"

namespace stratus::s3 {

namespace {

constexpr std::string_view all_users_uri = "http://acs.amazonaws.com/groups/global/AllUsers";
constexpr std::string_view authenticated_users_uri = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
constexpr std::string_view log_delivery_uri = "http://acs.amazonaws.com/groups/s3/LogDelivery";

core::AwsError malformed_acl() {
    return s3_error("MalformedACLError");
}

std::string_view acl_trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool valid_permission(std::string_view p) {
    return p == "READ" || p == "WRITE" || p == "READ_ACP" || p == "WRITE_ACP" || p == "FULL_CONTROL";
}

// A group URI's grantee name, or nullopt.
std::optional<std::string> group_of(std::string_view uri) {
    if (uri == all_users_uri) return "AllUsers";
    if (uri == authenticated_users_uri) return "AuthenticatedUsers";
    if (uri == log_delivery_uri) return "LogDelivery";
    return std::nullopt;
}

std::string_view uri_of(std::string_view group) {
    return group == "AllUsers" ? all_users_uri : group == "AuthenticatedUsers" ? authenticated_users_uri : log_delivery_uri;
}

// x-amz-grant-read: uri="http://acs.amazonaws.com/groups/global/AllUsers", id="..."
void parse_grant_header(std::string_view value, std::string_view permission, Grants& out) {
    std::size_t i = 0;
    while (i < value.size()) {
        auto comma = value.find(',', i);
        std::string_view item = acl_trim(value.substr(i, comma == std::string_view::npos ? value.npos : comma - i));
        i = comma == std::string_view::npos ? value.size() : comma + 1;
        if (item.empty()) continue;
        auto eq = item.find('=');
        if (eq == std::string_view::npos) throw invalid_argument("Invalid grant header", "x-amz-grant", std::string(item));
        std::string type = core::ascii_lower(acl_trim(item.substr(0, eq)));
        std::string_view v = acl_trim(item.substr(eq + 1));
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        if (type == "uri") {
            auto g = group_of(v);
            if (!g) throw invalid_argument("Invalid group uri", "uri", std::string(v));
            out.push_back({*g, std::string(permission)});
        } else if (type == "id") {
            if (v != owner_id) out.push_back({"id:" + std::string(v), std::string(permission)});
        } else if (type == "emailaddress") {
            out.push_back({"email:" + std::string(v), std::string(permission)});
        } else {
            throw invalid_argument("Invalid grant header", "x-amz-grant", std::string(item));
        }
    }
}

bool grants(const Grants* g, std::string_view grantee, std::string_view permission) {
    if (!g) return false;
    return std::any_of(g->begin(), g->end(), [&](const Grant& x) {
        return x.grantee == grantee && (x.permission == permission || x.permission == "FULL_CONTROL");
    });
}

PublicAccessBlock parse_pab(const XmlNode& doc) {
    PublicAccessBlock p;
    auto flag = [&](std::string_view name, bool& out) {
        if (auto t = doc.child_text(name)) {
            std::string v = core::ascii_lower(acl_trim(*t));
            if (v != "true" && v != "false") throw malformed_xml();
            out = v == "true";
        }
    };
    flag("BlockPublicAcls", p.block_public_acls);
    flag("IgnorePublicAcls", p.ignore_public_acls);
    flag("BlockPublicPolicy", p.block_public_policy);
    flag("RestrictPublicBuckets", p.restrict_public_buckets);
    return p;
}

std::optional<policy::Policy> stored_policy(const Bucket& b) {
    auto it = b.configs.find("policy");
    if (it == b.configs.end()) return std::nullopt;
    try {
        return policy::parse(it->second, b.name);
    } catch (const policy::PolicyError&) {
        // Stored before policies were checked: one S3 would have refused grants nothing.
        return policy::Policy{};
    }
}

}  // namespace

std::string encode_grants(const Grants& g) {
    std::string out;
    for (auto& x : g) {
        if (!out.empty()) out += '\n';
        out += x.permission + "=" + x.grantee;
    }
    return out;
}

Grants decode_grants(std::string_view s) {
    Grants out;
    while (!s.empty()) {
        auto nl = s.find('\n');
        std::string_view line = s.substr(0, nl);
        s = nl == std::string_view::npos ? std::string_view() : s.substr(nl + 1);
        auto eq = line.find('=');
        if (eq == std::string_view::npos) continue;
        out.push_back({std::string(line.substr(eq + 1)), std::string(line.substr(0, eq))});
    }
    return out;
}

std::optional<Grants> request_grants(const core::Request& req, bool bucket) {
    static constexpr std::pair<std::string_view, std::string_view> grant_headers[] = {
        {"x-amz-grant-full-control", "FULL_CONTROL"}, {"x-amz-grant-read", "READ"},
        {"x-amz-grant-read-acp", "READ_ACP"},         {"x-amz-grant-write", "WRITE"},
        {"x-amz-grant-write-acp", "WRITE_ACP"},
    };
    std::optional<Grants> explicit_grants;
    for (auto& [h, perm] : grant_headers)
        if (auto v = req.headers.get(h)) {
            if (!explicit_grants) explicit_grants.emplace();
            parse_grant_header(*v, perm, *explicit_grants);
        }
    auto canned = req.headers.get("x-amz-acl");
    if (canned && explicit_grants)
        throw invalid_request("Specifying both Canned ACLs and Header Grants is not allowed");
    if (explicit_grants) return explicit_grants;
    if (!canned) return std::nullopt;
    std::string_view c = *canned;
    if (c == "private" || c == "bucket-owner-read" || c == "bucket-owner-full-control" || c == "aws-exec-read")
        return Grants{};
    if (c == "public-read") return Grants{{"AllUsers", "READ"}};
    if (c == "public-read-write") return Grants{{"AllUsers", "READ"}, {"AllUsers", "WRITE"}};
    if (c == "authenticated-read") return Grants{{"AuthenticatedUsers", "READ"}};
    if (c == "log-delivery-write" && bucket) return Grants{{"LogDelivery", "WRITE"}, {"LogDelivery", "READ_ACP"}};
    // What S3 answers for a canned ACL it does not know (observed wording not documented).
    throw s3_error("InvalidArgument").with("ArgumentName", "x-amz-acl").with("ArgumentValue", std::string(c));
}

Grants grants_from_xml(std::string_view body) {
    auto doc = parse_xml(body);
    if (!doc || doc->name != "AccessControlPolicy") throw malformed_acl();
    const XmlNode* list = doc->child("AccessControlList");
    if (!list) throw malformed_acl();
    Grants out;
    for (auto* g : list->all("Grant")) {
        const XmlNode* grantee = g->child("Grantee");
        auto perm = g->child_text("Permission");
        if (!grantee || !perm || !valid_permission(*perm)) throw malformed_acl();
        if (auto uri = grantee->child_text("URI")) {
            auto group = group_of(*uri);
            if (!group) throw invalid_argument("Invalid group uri", "Grantee", *uri);
            out.push_back({*group, *perm});
        } else if (auto id = grantee->child_text("ID")) {
            if (*id != owner_id) out.push_back({"id:" + *id, *perm});
        } else if (auto email = grantee->child_text("EmailAddress")) {
            out.push_back({"email:" + *email, *perm});
        } else {
            throw malformed_acl();
        }
    }
    return out;
}

std::string acl_xml(const Grants& g) {
    std::string out =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AccessControlPolicy "
        "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Owner><ID>" +
        std::string(owner_id) + "</ID><DisplayName>" + std::string(owner_name) + "</DisplayName></Owner><AccessControlList>";
    auto grant = [&](std::string_view type, const std::string& inner, std::string_view perm) {
        out += "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"";
        out += type;
        out += "\">" + inner + "</Grantee><Permission>" + std::string(perm) + "</Permission></Grant>";
    };
    grant("CanonicalUser",
          "<ID>" + std::string(owner_id) + "</ID><DisplayName>" + std::string(owner_name) + "</DisplayName>",
          "FULL_CONTROL");
    for (auto& x : g) {
        if (x.grantee.starts_with("id:"))
            grant("CanonicalUser", "<ID>" + core::xml_escape(x.grantee.substr(3)) + "</ID>", x.permission);
        else if (x.grantee.starts_with("email:"))
            grant("AmazonCustomerByEmail", "<EmailAddress>" + core::xml_escape(x.grantee.substr(6)) + "</EmailAddress>",
                  x.permission);
        else
            grant("Group", "<URI>" + std::string(uri_of(x.grantee)) + "</URI>", x.permission);
    }
    out += "</AccessControlList></AccessControlPolicy>";
    return out;
}

bool public_grants(const Grants& g) {
    return std::any_of(g.begin(), g.end(),
                       [](const Grant& x) { return x.grantee == "AllUsers" || x.grantee == "AuthenticatedUsers"; });
}

PublicAccessBlock public_access_block(const Bucket& b) {
    auto it = b.configs.find("publicAccessBlock");
    if (it == b.configs.end()) return {};
    auto doc = parse_xml(it->second);
    if (!doc) return {};
    try {
        return parse_pab(*doc);
    } catch (const core::AwsError&) {
        return {};
    }
}

void check_public_access_block_xml(std::string_view body) {
    auto doc = parse_xml(body);
    if (!doc || doc->name != "PublicAccessBlockConfiguration") throw malformed_xml();
    parse_pab(*doc);
}

std::string public_access_block_xml(const PublicAccessBlock& p) {
    XmlWriter w("PublicAccessBlockConfiguration");
    w.leaf("BlockPublicAcls", p.block_public_acls ? "true" : "false");
    w.leaf("IgnorePublicAcls", p.ignore_public_acls ? "true" : "false");
    w.leaf("BlockPublicPolicy", p.block_public_policy ? "true" : "false");
    w.leaf("RestrictPublicBuckets", p.restrict_public_buckets ? "true" : "false");
    return w.finish();
}

std::string object_ownership(const Bucket& b) {
    auto it = b.configs.find("ownershipControls");
    if (it == b.configs.end()) return "ObjectWriter";
    try {
        return check_ownership_xml(it->second);
    } catch (const core::AwsError&) {
        return "ObjectWriter";
    }
}

void check_ownership_value(std::string_view o) {
    if (o != "BucketOwnerEnforced" && o != "BucketOwnerPreferred" && o != "ObjectWriter")
        throw invalid_argument("Invalid x-amz-object-ownership header: " + std::string(o), "x-amz-object-ownership",
                               std::string(o));
}

std::string check_ownership_xml(std::string_view body) {
    auto doc = parse_xml(body);
    if (!doc || doc->name != "OwnershipControls") throw malformed_xml();
    auto rules = doc->all("Rule");
    if (rules.size() != 1) throw malformed_xml();
    auto o = rules[0]->child_text("ObjectOwnership");
    if (!o || (*o != "BucketOwnerEnforced" && *o != "BucketOwnerPreferred" && *o != "ObjectWriter"))
        throw malformed_xml();
    return *o;
}

std::string ownership_xml(std::string_view ownership) {
    XmlWriter w("OwnershipControls");
    w.open("Rule").leaf("ObjectOwnership", ownership).close();
    return w.finish();
}

void check_acl_allowed(const Bucket& b, const Grants& g) {
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html:
    // with ACLs disabled only ACLs granting the owner full control (private,
    // bucket-owner-full-control or the equivalent grants) are accepted.
    if (!g.empty() && object_ownership(b) == "BucketOwnerEnforced")
        throw s3_error("AccessControlListNotSupported");
    if (public_grants(g) && public_access_block(b).block_public_acls)
        throw s3_error("AccessDenied");
}

void validate_policy(std::string_view policy_json, std::string_view bucket) {
    try {
        policy::parse(policy_json, bucket);
    } catch (const policy::PolicyError& e) {
        throw s3_error("MalformedPolicy", e.what());
    }
}

void check_policy_allowed(const Bucket& b, std::string_view policy_json) {
    if (!public_access_block(b).block_public_policy) return;
    if (!policy::is_public(policy::parse(policy_json, b.name))) return;
    // AWS's wording since 2023 (the caller is the account's root here).
    throw s3_error("AccessDenied", "User: arn:aws:iam::000000000000:root is not authorized to perform: s3:PutBucketPolicy on "
                         "resource: \"arn:aws:s3:::" +
                             b.name +
                             "\" because public policies are blocked by the BlockPublicPolicy block public access "
                             "setting.");
}

bool policy_is_public(const Bucket& b) {
    auto p = stored_policy(b);
    return p && policy::is_public(*p);
}

std::string action_of(int level, std::string_view method, std::string_view sub, const core::Request& req) {
    auto a = [](std::string_view name) { return "s3:" + std::string(name); };
    if (level == 0) return a("ListAllMyBuckets");
    if (level == 2) {
        bool version = req.query_param("versionId").has_value();
        if (sub.empty()) {
            if (method == "GET" || method == "HEAD") return a(version ? "GetObjectVersion" : "GetObject");
            if (method == "PUT") return a("PutObject");
            if (method == "DELETE") return a(version ? "DeleteObjectVersion" : "DeleteObject");
        }
        if (sub == "tagging")
            return a(method == "GET" ? "GetObjectTagging" : method == "PUT" ? "PutObjectTagging" : "DeleteObjectTagging");
        if (sub == "acl") return a(method == "GET" ? "GetObjectAcl" : "PutObjectAcl");
        if (sub == "uploads") return a("PutObject");
        if (sub == "uploadId") {
            if (method == "DELETE") return a("AbortMultipartUpload");
            if (method == "GET") return a("ListMultipartUploadParts");
            return a("PutObject");
        }
        return {};
    }
    if (sub.empty() || sub == "list-type") {
        if (method == "GET" || method == "HEAD") return a("ListBucket");
        if (method == "PUT") return a("CreateBucket");
        if (method == "DELETE") return a("DeleteBucket");
        if (method == "POST") return a("PutObject");
        return {};
    }
    if (sub == "versions") return a("ListBucketVersions");
    if (sub == "uploads") return a("ListBucketMultipartUploads");
    if (sub == "location") return a("GetBucketLocation");
    if (sub == "delete") return a("DeleteObject");
    if (sub == "policyStatus") return a("GetBucketPolicyStatus");
    struct Names {
        std::string_view sub, get, put, del;
    };
    static constexpr Names names[] = {
        {"cors", "GetBucketCORS", "PutBucketCORS", "PutBucketCORS"},
        {"lifecycle", "GetLifecycleConfiguration", "PutLifecycleConfiguration", "PutLifecycleConfiguration"},
        {"notification", "GetBucketNotification", "PutBucketNotification", "PutBucketNotification"},
        {"policy", "GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"},
        {"tagging", "GetBucketTagging", "PutBucketTagging", "PutBucketTagging"},
        {"versioning", "GetBucketVersioning", "PutBucketVersioning", "PutBucketVersioning"},
        {"website", "GetBucketWebsite", "PutBucketWebsite", "DeleteBucketWebsite"},
        {"acl", "GetBucketAcl", "PutBucketAcl", "PutBucketAcl"},
        {"encryption", "GetEncryptionConfiguration", "PutEncryptionConfiguration", "PutEncryptionConfiguration"},
        {"logging", "GetBucketLogging", "PutBucketLogging", "PutBucketLogging"},
        {"ownershipControls", "GetBucketOwnershipControls", "PutBucketOwnershipControls", "PutBucketOwnershipControls"},
        {"publicAccessBlock", "GetBucketPublicAccessBlock", "PutBucketPublicAccessBlock", "PutBucketPublicAccessBlock"},
    };
    for (auto& n : names)
        if (n.sub == sub) return a(method == "GET" ? n.get : method == "PUT" ? n.put : n.del);
    return {};
}

namespace {
constexpr std::string_view account_id = "000000000000";

bool principal_allowed(const Bucket& b, std::string_view key, std::string_view action, const Grants* object_grants,
                       const core::Request& req, std::string_view user);
}  // namespace

std::string user_arn(std::string_view user) {
    return "arn:aws:iam::" + std::string(account_id) + ":user/" + std::string(user);
}

bool anonymous_allowed(const Bucket& b, std::string_view key, std::string_view action, const Grants* object_grants,
                       const core::Request& req) {
    return principal_allowed(b, key, action, object_grants, req, "");
}

bool user_allowed(const Bucket& b, std::string_view key, std::string_view action, const Grants* object_grants,
                  const core::Request& req, std::string_view user) {
    return principal_allowed(b, key, action, object_grants, req, user);
}

namespace {

// Whether an ACL grant to one of the groups (AllUsers, and for a signed user
// AuthenticatedUsers too) gives `permission`.
bool group_grants(const Grants* g, std::string_view permission, bool user) {
    return grants(g, "AllUsers", permission) || (user && grants(g, "AuthenticatedUsers", permission));
}

// user: empty for the anonymous principal, else the access key id of an IAM user of the
// owner's account (see user_allowed in access.hpp).
bool principal_allowed(const Bucket& b, std::string_view key, std::string_view action, const Grants* object_grants,
                       const core::Request& req, std::string_view user) {
    if (action.empty()) return false;
    bool signed_user = !user.empty();
    PublicAccessBlock pab = public_access_block(b);
    if (auto p = stored_policy(b)) {
        policy::Request r;
        r.anonymous = !signed_user;
        if (signed_user) {
            r.principal_arn = user_arn(user);
            r.account = std::string(account_id);
        }
        r.action = std::string(action);
        r.resource = "arn:aws:s3:::" + b.name + (key.empty() ? "" : "/" + std::string(key));
        auto& c = r.context;
        c["aws:sourceip"] = {req.remote_address.empty() ? std::string("127.0.0.1") : req.remote_address};
        // Plain HTTP: stratus serves no TLS.
        c["aws:securetransport"] = {"false"};
        c["aws:principaltype"] = {signed_user ? "User" : "Anonymous"};
        if (signed_user) {
            c["aws:username"] = {std::string(user)};
            c["aws:userid"] = {std::string(user)};
            c["aws:principalarn"] = {r.principal_arn};
            c["aws:principalaccount"] = {std::string(account_id)};
        }
        if (auto ref = req.headers.get("referer")) c["aws:referer"] = {std::string(*ref)};
        if (auto ua = req.headers.get("user-agent")) c["aws:useragent"] = {std::string(*ua)};
        auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
        c["aws:currenttime"] = {core::iso8601(now)};
        c["aws:epochtime"] = {std::to_string(now / 1000)};
        if (action == "s3:ListBucket" || action == "s3:ListBucketVersions") {
            for (auto name : {"prefix", "delimiter", "max-keys"})
                if (auto v = req.query_param(name)) c[std::string("s3:") + name] = {std::string(*v)};
        }
        if (auto acl = req.headers.get("x-amz-acl")) c["s3:x-amz-acl"] = {std::string(*acl)};
        auto d = policy::evaluate(*p, r);
        if (d == policy::Decision::deny) return false;
        // RestrictPublicBuckets: a public policy grants the public (and other accounts)
        // nothing; users of the owner's account keep what it grants them.
        if (d == policy::Decision::allow &&
            !(pab.restrict_public_buckets && !signed_user && policy::is_public(*p)))
            return true;
    }
    if (pab.ignore_public_acls || object_ownership(b) == "BucketOwnerEnforced") return false;
    // ACLs: the object's for reading it and its ACL, the bucket's for the rest. Grants to
    // the owner's canonical id are the account's: its users' identity policies would decide.
    if (action == "s3:GetObject" || action == "s3:GetObjectVersion") return group_grants(object_grants, "READ", signed_user);
    if (action == "s3:GetObjectAcl") return group_grants(object_grants, "READ_ACP", signed_user);
    if (action == "s3:PutObjectAcl") return group_grants(object_grants, "WRITE_ACP", signed_user);
    Grants bucket_grants;
    if (auto it = b.configs.find("grants"); it != b.configs.end()) bucket_grants = decode_grants(it->second);
    if (action == "s3:ListBucket" || action == "s3:ListBucketVersions" || action == "s3:ListBucketMultipartUploads")
        return group_grants(&bucket_grants, "READ", signed_user);
    if (action == "s3:PutObject" || action == "s3:DeleteObject" || action == "s3:DeleteObjectVersion")
        return group_grants(&bucket_grants, "WRITE", signed_user);
    if (action == "s3:GetBucketAcl") return group_grants(&bucket_grants, "READ_ACP", signed_user);
    if (action == "s3:PutBucketAcl") return group_grants(&bucket_grants, "WRITE_ACP", signed_user);
    return false;
}

}  // namespace

}  // namespace stratus::s3
