// Bucket calls: create / delete / head / list / location, and the stored configurations.
#include "core/protocol.hpp"
#include "s3/access.hpp"
#include "s3/errors.hpp"
#include "s3/ops.hpp"
#include "s3/xml.hpp"

namespace stratus::s3 {

namespace {

// What GET answers for a configuration never set: an AWS error, or a default document.
struct ConfigSpec {
    std::string_view sub;
    std::string_view missing_code;  // s3/errors.hpp; empty: answer a default document instead
    std::string_view root;  // expected root element of the XML document (empty: JSON)
    int put_status;
};

constexpr ConfigSpec config_specs[] = {
    {"policy", "NoSuchBucketPolicy", "", 204},
    {"cors", "NoSuchCORSConfiguration", "CORSConfiguration", 200},
    {"website", "NoSuchWebsiteConfiguration", "WebsiteConfiguration", 200},
    {"lifecycle", "NoSuchLifecycleConfiguration", "LifecycleConfiguration", 200},
    {"notification", "", "NotificationConfiguration", 200},
    {"acl", "", "AccessControlPolicy", 200},
    {"encryption", "", "ServerSideEncryptionConfiguration", 200},
    {"logging", "", "BucketLoggingStatus", 200},
    {"ownershipControls", "OwnershipControlsNotFoundError", "OwnershipControls", 200},
    {"publicAccessBlock", "NoSuchPublicAccessBlockConfiguration", "PublicAccessBlockConfiguration", 200},
};

const ConfigSpec* spec_of(std::string_view sub) {
    for (auto& s : config_specs)
        if (s.sub == sub) return &s;
    return nullptr;
}

std::string default_config(std::string_view sub) {
    if (sub == "notification") return XmlWriter("NotificationConfiguration").finish();
    if (sub == "logging") return XmlWriter("BucketLoggingStatus").finish();
    if (sub == "encryption") {
        // Every bucket has SSE-S3 by default since January 2023.
        XmlWriter w("ServerSideEncryptionConfiguration");
        w.open("Rule").open("ApplyServerSideEncryptionByDefault").leaf("SSEAlgorithm", "AES256").close();
        w.leaf("BucketKeyEnabled", "false");
        return w.finish();
    }
    return {};
}

}  // namespace

core::Response list_buckets(Context& ctx, Call&) {
    auto buckets = ctx.store.env().read([&](core::lmdb::ReadTxn& txn) { return ctx.store.list_buckets(txn); });
    XmlWriter w("ListAllMyBucketsResult");
    w.open("Owner").leaf("ID", owner_id).leaf("DisplayName", owner_name).close();
    w.open("Buckets");
    for (auto& b : buckets)
        w.open("Bucket").leaf("Name", b.name).leaf("CreationDate", iso8601(b.created_ms)).leaf("BucketRegion", b.region).close();
    w.close();
    return xml_response(w.finish());
}

core::Response create_bucket(Context& ctx, Call& call) {
    validate_bucket_name(call.bucket);
    Bucket b;
    b.name = call.bucket;
    b.created_ms = ctx.now_ms();
    std::string body = body_of(call.req);
    if (!body.empty()) {
        auto doc = parse_xml(body);
        if (!doc || doc->name != "CreateBucketConfiguration") throw malformed_xml();
        if (auto lc = doc->child_text("LocationConstraint")) {
            // us-east-1 is the region without a constraint; naming it is an error on AWS.
            if (*lc == "us-east-1")
                throw s3_error("InvalidLocationConstraint")
                    .with("LocationConstraint", *lc);
            if (!lc->empty()) b.region = *lc;
        }
    }
    // Object Ownership and Block Public Access. Under --verify-signatures a client's new
    // bucket gets AWS's defaults since April 2023 (all four blocks on, BucketOwnerEnforced
    // unless x-amz-object-ownership says otherwise); see s3/access.hpp for why others get none.
    std::optional<std::string> ownership;
    if (auto o = call.req.headers.get("x-amz-object-ownership")) {
        check_ownership_value(*o);
        ownership = std::string(*o);
    }
    bool aws_defaults = ctx.keys && call.req.access_key != internal_caller;
    if (aws_defaults) {
        if (!ownership) ownership = "BucketOwnerEnforced";
        b.configs["publicAccessBlock"] = public_access_block_xml({true, true, true, true});
    }
    if (ownership) b.configs["ownershipControls"] = ownership_xml(*ownership);
    Grants grants = request_grants(call.req, true).value_or(Grants{});
    if (!grants.empty() && ownership == "BucketOwnerEnforced")
        throw s3_error("InvalidBucketAclWithObjectOwnership");
    if (public_grants(grants) && aws_defaults)
        throw s3_error("InvalidBucketAclWithBlockPublicAccessError");
    ctx.store.env().write([&](core::lmdb::WriteTxn& txn) {
        if (auto old = ctx.store.get_bucket(txn, b.name)) {
            // S3's legacy answer in us-east-1: creating a bucket you already own there
            // succeeds and changes nothing; every other region answers 409.
            // https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
            if (old->region == "us-east-1" && b.region == "us-east-1") {
                return;
            }
            throw s3_error("BucketAlreadyOwnedByYou")
                .with("BucketName", b.name);
        }
        if (!grants.empty()) b.configs["grants"] = encode_grants(grants);
        ctx.store.put_bucket(txn, b);
    });
    auto r = empty_response();
    r.headers.set("Location", "/" + b.name);
    return r;
}

core::Response delete_bucket(Context& ctx, Call& call) {
    // A bucket whose only contents are unfinished multipart uploads is deleted, its
    // uploads aborted (as S3 does); objects (or versions, delete markers) keep it.
    std::vector<std::string> part_files;
    ctx.store.env().write([&](core::lmdb::WriteTxn& txn) {
        part_files.clear();
        require_bucket(txn, ctx, call.bucket);
        if (!ctx.store.bucket_empty(txn, call.bucket, /*count_uploads=*/false))
            throw s3_error("BucketNotEmpty")
                .with("BucketName", call.bucket);
        for (auto& u : ctx.store.list_uploads(txn, call.bucket)) {
            for (auto& [n, p] : u.parts) part_files.push_back(p.file);
            ctx.store.delete_upload(txn, u.id);
        }
        ctx.store.delete_bucket(txn, call.bucket);
    });
    ctx.store.remove_files(part_files);
    return empty_response(204);
}

core::Response head_bucket(Context& ctx, Call& call) {
    auto b = ctx.store.env().read([&](core::lmdb::ReadTxn& txn) { return require_bucket(txn, ctx, call.bucket); });
    auto r = empty_response();
    r.headers.set("x-amz-bucket-region", b.region);
    r.headers.set("x-amz-access-point-alias", "false");
    r.headers.set("Content-Type", "application/xml");
    return r;
}

core::Response get_bucket_location(Context& ctx, Call& call) {
    auto b = ctx.store.env().read([&](core::lmdb::ReadTxn& txn) { return require_bucket(txn, ctx, call.bucket); });
    std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint "
                       "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
    if (b.region != "us-east-1") body += core::xml_escape(b.region);
    body += "</LocationConstraint>";
    return xml_response(std::move(body));
}

core::Response get_bucket_config(Context& ctx, Call& call) {
    auto b = ctx.store.env().read([&](core::lmdb::ReadTxn& txn) { return require_bucket(txn, ctx, call.bucket); });
    if (call.sub == "versioning") {
        XmlWriter w("VersioningConfiguration");
        if (!b.versioning.empty()) w.leaf("Status", b.versioning);
        return xml_response(w.finish());
    }
    if (call.sub == "tagging") {
        if (!b.has_tags)
            throw s3_error("NoSuchTagSet").with("BucketName", b.name);
        return xml_response(tagging_xml(b.tags));
    }
    if (call.sub == "acl") {
        auto g = b.configs.find("grants");
        return xml_response(acl_xml(g == b.configs.end() ? Grants{} : decode_grants(g->second)));
    }
    if (call.sub == "policyStatus") {
        if (!b.configs.count("policy"))
            throw s3_error("NoSuchBucketPolicy").with("BucketName", b.name);
        XmlWriter w("PolicyStatus");
        w.leaf("IsPublic", policy_is_public(b) ? "true" : "false");
        return xml_response(w.finish());
    }
    const ConfigSpec* spec = spec_of(call.sub);
    if (!spec) throw s3_error("NotImplemented");
    auto it = b.configs.find(std::string(call.sub));
    if (it != b.configs.end() && call.sub == "publicAccessBlock")
        return xml_response(public_access_block_xml(public_access_block(b)));
    if (it != b.configs.end() && call.sub == "ownershipControls") return xml_response(ownership_xml(object_ownership(b)));
    if (it == b.configs.end()) {
        if (!spec->missing_code.empty())
            throw s3_error_named(spec->missing_code).value().with("BucketName", b.name);
        return xml_response(default_config(call.sub));
    }
    if (call.sub == "policy") {
        core::Response r;
        r.headers.set("Content-Type", "application/json");
        r.body = it->second;
        return r;
    }
    return xml_response(it->second);
}

core::Response put_bucket_config(Context& ctx, Call& call) {
    std::string body = body_of(call.req);
    std::string sub = call.sub;
    std::string versioning;
    std::vector<std::pair<std::string, std::string>> tags;
    Grants grants;
    const ConfigSpec* spec = spec_of(sub);
    if (sub == "versioning") {
        auto doc = parse_xml(body);
        if (!doc || doc->name != "VersioningConfiguration") throw malformed_xml();
        auto status = doc->child_text("Status");
        if (!status || (*status != "Enabled" && *status != "Suspended")) throw malformed_xml();
        versioning = *status;
    } else if (sub == "tagging") {
        tags = parse_tagging_xml(body);
        validate_tags(tags, false);
    } else if (!spec) {
        throw s3_error("NotImplemented");
    } else if (sub == "policy") {
        validate_policy(body, call.bucket);
    } else if (sub == "acl") {
        // A canned ACL or grant headers, or an AccessControlPolicy document.
        auto from_headers = request_grants(call.req, true);
        if (from_headers && !body.empty())
            throw s3_error("UnexpectedContent");
        grants = from_headers ? *from_headers : grants_from_xml(body);
    } else if (sub == "publicAccessBlock") {
        check_public_access_block_xml(body);
    } else if (sub == "ownershipControls") {
        check_ownership_xml(body);
    } else {
        auto doc = parse_xml(body);
        if (!doc || doc->name != spec->root) throw malformed_xml();
        if (sub == "website" && !doc->child("IndexDocument") && !doc->child("RedirectAllRequestsTo"))
            throw invalid_argument("A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty");
        if (sub == "cors" && doc->all("CORSRule").empty()) throw malformed_xml();
    }
    ctx.store.env().write([&](core::lmdb::WriteTxn& txn) {
        Bucket b = require_bucket(txn, ctx, call.bucket);
        if (sub == "versioning") b.versioning = versioning;
        else if (sub == "tagging") {
            b.tags = tags;
            b.has_tags = true;
        } else if (sub == "acl") {
            check_acl_allowed(b, grants);
            b.configs.erase("acl");  // the document earlier versions kept
            if (grants.empty()) b.configs.erase("grants");
            else b.configs["grants"] = encode_grants(grants);
        } else {
            if (sub == "policy") check_policy_allowed(b, body);
            b.configs[sub] = body;
        }
        ctx.store.put_bucket(txn, b);
    });
    return empty_response(spec ? spec->put_status : sub == "tagging" ? 204 : 200);
}

core::Response delete_bucket_config(Context& ctx, Call& call) {
    ctx.store.env().write([&](core::lmdb::WriteTxn& txn) {
        Bucket b = require_bucket(txn, ctx, call.bucket);
        if (call.sub == "tagging") {
            b.tags.clear();
            b.has_tags = false;
        } else {
            b.configs.erase(call.sub);
        }
        ctx.store.put_bucket(txn, b);
    });
    return empty_response(204);
}

}  // namespace stratus::s3
