// Static website hosting, two ways:
// - the S3 website endpoint (BUCKET.s3-website.localhost on the AWS port): the bucket's
//   WebsiteConfiguration (IndexDocument, ErrorDocument, RedirectAllRequestsTo,
//   RoutingRules) applied as S3 does, with S3's HTML error pages;
// - the site port: one bucket served as a CDN serves a single-page app (index.html at
//   "/", SPA fallback to index.html with 200 for paths that are not files, ETag /
//   Last-Modified revalidation, Cache-Control from object metadata, web content types,
//   Accept-Encoding for objects stored gzip- or br-encoded).
// Both answer every request themselves (HTML errors, never S3's XML).
#pragma once

#include <string>
#include <string_view>

#include "core/http_types.hpp"
#include "s3/ops.hpp"

namespace stratus::s3 {

core::Response website_request(Context& ctx, const core::Request& req, const std::string& bucket);
core::Response site_request(Context& ctx, const core::Request& req, const std::string& bucket);

// Content type for a key by its extension ("app.js" -> "text/javascript"); empty if unknown.
std::string_view content_type_for(std::string_view key);

// Whether an Accept-Encoding header accepts `coding` ("gzip", "br"), honouring q=0.
bool accepts_encoding(std::string_view accept_encoding, std::string_view coding);

}  // namespace stratus::s3
