// S3 operations: each takes the parsed call (bucket, key, the request) and returns the
// response or throws an AwsError. The service (api.cpp) picks one from its table.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/http_types.hpp"
#include "core/auth.hpp"
#include "core/protocol.hpp"
#include "s3/events.hpp"
#include "s3/store.hpp"

namespace stratus::s3 {

struct Context {
    Store& store;
    EventOutbox& events;  // notification records, staged in the change's transaction
    std::function<std::int64_t()> now_ms;
    // The key pairs accepted under --verify-signatures (POST Object checks its policy's
    // signature itself); nullptr when signatures are not checked.
    const core::Credentials* keys = nullptr;
};

struct Call {
    core::Request& req;
    std::string bucket;  // decoded; empty for service-level calls
    std::string key;     // decoded; empty for bucket-level calls
    std::string sub;     // selecting sub-resource ("" for plain object/bucket calls)
};

using Op = core::Response (*)(Context&, Call&);

// ---- errors (AWS codes, statuses and messages) ----
core::AwsError no_such_bucket(std::string_view bucket);
core::AwsError no_such_key(std::string_view key);
core::AwsError malformed_xml();
core::AwsError invalid_argument(std::string message, std::string name = "", std::string value = "");
core::AwsError invalid_request(std::string message);

// ---- helpers ----
using core::iso8601;                      // core/protocol.hpp: 2026-11-26T19:58:00.000Z
std::string http_date(std::int64_t ms);   // Thu, 26 Nov 2026 19:58:00 GMT
std::optional<std::int64_t> parse_http_date(std::string_view s);  // RFC 1123 / ISO 8601, ms
std::string new_version_id();
std::string new_upload_id();
void validate_bucket_name(std::string_view name);
void validate_key(std::string_view key);
Bucket require_bucket(const core::lmdb::Txn& txn, Context& ctx, std::string_view name);
// Reads a request body that was streamed to a file (small documents only).
std::string body_of(core::Request& req, std::size_t limit = 20 * 1024 * 1024);
core::Response xml_response(std::string body, int status = 200);
core::Response empty_response(int status = 200);
// Tag sets: "k1=v1&k2=v2" (x-amz-tagging) and <Tagging><TagSet>.
std::vector<std::pair<std::string, std::string>> parse_tagging_header(std::string_view s);
std::vector<std::pair<std::string, std::string>> parse_tagging_xml(std::string_view body);
void validate_tags(const std::vector<std::pair<std::string, std::string>>& tags, bool object);
std::string tagging_xml(const std::vector<std::pair<std::string, std::string>>& tags);
// Request::access_key of the calls stratus makes itself (the app model's deploys).
constexpr std::string_view internal_caller = "stratus:internal";
// The owner every bucket and object has here (the one account).
constexpr std::string_view owner_id = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";
constexpr std::string_view owner_name = "webfile";

// ---- operations ----
// buckets (bucket_ops.cpp)
core::Response list_buckets(Context&, Call&);
core::Response create_bucket(Context&, Call&);
core::Response delete_bucket(Context&, Call&);
core::Response head_bucket(Context&, Call&);
core::Response get_bucket_location(Context&, Call&);
core::Response get_bucket_config(Context&, Call&);
core::Response put_bucket_config(Context&, Call&);
core::Response delete_bucket_config(Context&, Call&);
// objects (object_ops.cpp)
core::Response get_object(Context&, Call&);
// POST Object (browser form uploads), s3/post_object.cpp.
core::Response post_object(Context&, Call&);
core::Response delete_object(Context&, Call&);
core::Response delete_objects(Context&, Call&);
core::Response get_object_tagging(Context&, Call&);
core::Response put_object_tagging(Context&, Call&);
core::Response delete_object_tagging(Context&, Call&);
core::Response get_object_acl(Context&, Call&);
core::Response put_object_acl(Context&, Call&);
// listing (list_ops.cpp)
core::Response list_objects(Context&, Call&);
core::Response list_object_versions(Context&, Call&);
// multipart (multipart_ops.cpp)
core::Response create_multipart_upload(Context&, Call&);
core::Response upload_part(Context&, Call&);
core::Response complete_multipart_upload(Context&, Call&);
core::Response abort_multipart_upload(Context&, Call&);
core::Response list_parts(Context&, Call&);
core::Response list_multipart_uploads(Context&, Call&);

}  // namespace stratus::s3
