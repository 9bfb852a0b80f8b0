// The site port: an app's website bucket served as a CDN distribution serves it (a
// CloudFront distribution with an S3 origin, or `custom.stratus.site`): the default root
// object, SPA routing, custom error responses, and path patterns routed to the API Gateway
// in-process, so the single-page app and its API share one origin (no CORS).
//
// It reads objects only through s3::S3Service and reaches the gateway only through the
// gateway's HttpHandler: S3 knows nothing of either (shared/DESIGN.md).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/http_handler.hpp"

namespace stratus::s3 {
class S3Service;
}

namespace stratus::emulator {

struct SiteConfig {
    std::string bucket;
    // CloudFront's DefaultRootObject; also what a path ending in "/" gets (S3 website
    // style), and what SPA routing serves.
    std::string index = "index.html";
    // A path whose last segment has no extension that names no object is a client-side
    // route: the index with 200.
    bool spa = true;
    // CloudFront CustomErrorResponses: the origin's 403 / 404 answered with this page.
    struct ErrorResponse {
        int error_code = 404;
        std::string page;      // "/index.html"; empty: the error stays
        int response_code = 0; // 0: the error code
    };
    std::vector<ErrorResponse> error_responses;
    // Cache behaviours routed to the API Gateway: "/api/*" and "/api" match prefix "/api".
    struct ApiRoute {
        std::string prefix;       // "/api"
        std::string origin_path;  // CloudFront OriginPath ("/dev"): prepended to the path
    };
    std::vector<ApiRoute> api_routes;
};

class Site final : public core::HttpHandler {
public:
    // `api`: the gateway's user-traffic handler; nullptr answers API paths with 502.
    Site(std::shared_ptr<s3::S3Service> s3, core::HttpHandler* api);
    // Replaces what is served (a redeploy); requests in flight finish with the old one.
    void configure(SiteConfig config);
    std::shared_ptr<const SiteConfig> config() const;
    core::Plan plan(core::Request& head) override;

private:
    core::Response serve(const core::Request& req, const SiteConfig& c);

    std::shared_ptr<s3::S3Service> s3_;
    core::HttpHandler* api_;
    mutable std::mutex mutex_;
    std::shared_ptr<const SiteConfig> config_;
};

}  // namespace stratus::emulator
