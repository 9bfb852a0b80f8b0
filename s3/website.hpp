// Static website hosting, two ways:
// - the S3 website endpoint (BUCKET.s3-website.localhost on the AWS port): the bucket's
//   WebsiteConfiguration (IndexDocument, ErrorDocument, RedirectAllRequestsTo,
//   RoutingRules) applied as S3 does, with S3's HTML error pages;
// - web_object: one object served as a CDN serves it (ETag / Last-Modified revalidation,
//   Cache-Control from object metadata, web content types, Accept-Encoding for objects
//   stored gzip- or br-encoded), for the site port (emulator/site), which routes paths.
// The website endpoint answers every request itself (HTML errors, never S3's XML).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/http_types.hpp"
#include "s3/ops.hpp"

namespace stratus::s3 {

core::Response website_request(Context& ctx, const core::Request& req, const std::string& bucket);
// The object `key` served with web semantics (for the site port, emulator/site); nullopt
// when there is no such object.
std::optional<core::Response> web_object(Context& ctx, const core::Request& req, const std::string& bucket,
                                         const std::string& key);

// Content type for a key by its extension ("app.js" -> "text/javascript"); empty if unknown.
std::string_view content_type_for(std::string_view key);

// Whether an Accept-Encoding header accepts `coding` ("gzip", "br"), honouring q=0.
bool accepts_encoding(std::string_view accept_encoding, std::string_view coding);

}  // namespace stratus::s3
