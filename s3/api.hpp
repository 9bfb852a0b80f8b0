// S3 on the AWS port: REST-XML, path-style (/bucket/key) and virtual-hosted
// (bucket.s3.localhost) addressing. S3 also owns plain requests nothing else claims.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/lmdb.hpp"
#include "core/service.hpp"
#include "s3/events.hpp"
#include "s3/store.hpp"

namespace stratus::s3 {

struct Options {
    std::string root;    // <data dir>/s3: objects/ and spool/ live below
    bool fsync = false;  // --durability full: fsync object files before acknowledging
};

// An object as a listing shows it (the site sync compares ETags).
struct ObjectSummary {
    std::string key;
    std::string etag;  // quoted
    std::uint64_t size = 0;
};

// The S3 service on the AWS port, and what the rest of stratus (the app model's deploy, the
// site port, Lambda's code from S3) does with it in-process. Every call goes through S3's
// own operations (the same checks, events and durability as a request on the wire) and
// throws S3's AwsError.
class S3Service : public core::Service {
public:
    // CreateBucket; a bucket that exists already is left as it is.
    virtual void create_bucket(const std::string& name) = 0;
    // PUT ?<sub> with `document` (the XML, or the JSON of a policy): "website", "cors",
    // "versioning", "notification", "policy", "tagging", ...
    virtual void put_bucket_config(const std::string& bucket, const std::string& sub, std::string document) = 0;
    // DELETE ?<sub> (website, cors, policy, ...).
    virtual void delete_bucket_config(const std::string& bucket, const std::string& sub) = 0;
    // PutObject; `headers` are the request's (Content-Type, Cache-Control, ...). Returns the
    // quoted ETag.
    virtual std::string put_object(const std::string& bucket, const std::string& key, std::string body,
                                   const std::map<std::string, std::string>& headers = {}) = 0;
    virtual void delete_object(const std::string& bucket, const std::string& key) = 0;
    // Every current object of the bucket (below `prefix`), in key order.
    virtual std::vector<ObjectSummary> list_objects(const std::string& bucket, const std::string& prefix = "") = 0;
    // The object `key` served to a browser (a CDN's GET / HEAD: conditionals, ranges,
    // content types, content codings; see s3/website.hpp); nullopt when there is no such
    // object (or the bucket is missing).
    virtual std::optional<core::Response> web_object(const core::Request& req, const std::string& bucket,
                                                      const std::string& key) = 0;
    // A whole object for another service (Lambda code from S3Bucket / S3Key): the current
    // version, or `version_id`. Throws NoSuchBucket, NoSuchKey, NoSuchVersion, or
    // EntityTooLarge past `max_bytes`.
    virtual std::string read_object(std::string_view bucket, std::string_view key,
                                    const std::optional<std::string>& version_id, std::size_t max_bytes) = 0;
    // How many object bodies are stored, as files and inline in LMDB: for tests
    // (/_stratus/test/s3/bodies) that check deletes free what they should.
    virtual Store::BodyCounts body_counts() = 0;
};

// The service, and the event outbox its notification configurations feed.
std::shared_ptr<S3Service> make_service(core::lmdb::Env& env, Options options, std::shared_ptr<EventOutbox> events);

}  // namespace stratus::s3
