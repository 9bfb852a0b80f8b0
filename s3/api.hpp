// S3 on the AWS port: REST-XML, path-style (/bucket/key) and virtual-hosted
// (bucket.s3.localhost) addressing. S3 also owns plain requests nothing else claims.
#pragma once

#include <memory>
#include <string>

#include "core/service.hpp"

namespace stratus::s3 {

// `spool_dir`: where upload bodies are streamed to before they become objects.
std::shared_ptr<core::Service> make_service(std::string spool_dir);

}  // namespace stratus::s3
