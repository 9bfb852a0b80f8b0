// Bucket CORS as S3 applies it: preflight (OPTIONS) answered from the bucket's
// CORSConfiguration, and the Access-Control-* headers added to actual requests whose
// Origin and method a rule allows.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html
#pragma once

#include <optional>
#include <string>

#include "core/http_types.hpp"

namespace stratus::s3 {

// `cors_xml` empty: the bucket has no configuration. Throws the AwsError S3 answers for
// a refused preflight; returns the 200 response otherwise.
core::Response preflight(const core::Request& req, const std::optional<std::string>& cors_xml);

// Adds the CORS headers to `r` when the request has an Origin a rule allows for its method.
void decorate(const core::Request& req, const std::string& cors_xml, core::Response& r);

}  // namespace stratus::s3
