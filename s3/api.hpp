// S3 on the AWS port: REST-XML, path-style (/bucket/key) and virtual-hosted
// (bucket.s3.localhost) addressing. S3 also owns plain requests nothing else claims.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/http_handler.hpp"
#include "core/lmdb.hpp"
#include "core/service.hpp"
#include "s3/events.hpp"
#include "s3/store.hpp"

namespace stratus::s3 {

struct Options {
    std::string root;    // <data dir>/s3: objects/ and spool/ live below
    bool fsync = false;  // --durability full: fsync object files before acknowledging
};

// The service, and the event outbox its notification configurations feed.
std::shared_ptr<core::Service> make_service(core::lmdb::Env& env, Options options, std::shared_ptr<EventOutbox> events);

// The site port's handler: `bucket` served like a CDN serves a single-page app (see
// s3/website.hpp). `s3` must be the service make_service returned.
std::unique_ptr<core::HttpHandler> make_site_handler(const std::shared_ptr<core::Service>& s3, std::string bucket);

// Reads a whole object for another service (Lambda code from S3Bucket / S3Key): the current
// version, or `version_id`. Throws S3's AwsError (NoSuchBucket, NoSuchKey, NoSuchVersion),
// or EntityTooLarge past `max_bytes`. `s3` must be the service make_service returned.
std::string read_object(const std::shared_ptr<core::Service>& s3, std::string_view bucket, std::string_view key,
                        const std::optional<std::string>& version_id, std::size_t max_bytes);

// How many object bodies are stored, as files and inline in LMDB: for tests
// (/_stratus/test/s3/bodies) that check deletes free what they should.
Store::BodyCounts body_counts(const std::shared_ptr<core::Service>& s3);

}  // namespace stratus::s3
