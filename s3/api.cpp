#include "s3/api.hpp"

#include <fmt/format.h>

#include <functional>
#include <map>
#include <tuple>

#include "core/file_sink.hpp"

namespace stratus::s3 {

namespace {

enum class Resource { service, bucket, object };

// S3 tells operations apart by (resource, method, sub-resource) (moto's ACTION_MAP).
using OperationKey = std::tuple<Resource, std::string, std::string>;
using Operation = std::function<void(core::Request&&, core::Reply)>;

// The sub-resources that select an S3 operation; other query parameters are arguments.
constexpr std::string_view sub_resources[] = {
    "acl",     "cors",      "delete",    "lifecycle", "location",  "notification", "partNumber", "policy",
    "tagging", "uploadId",  "uploads",   "versioning", "versions", "website",      "list-type",  "encryption",
    "logging", "ownershipControls", "publicAccessBlock", "object-lock", "retention", "legal-hold", "attributes",
};

class S3Service final : public core::Service {
public:
    explicit S3Service(std::string spool_dir) : spool_dir_(std::move(spool_dir)) {}

    std::string_view name() const override { return "s3"; }
    const core::Protocol& protocol() const override { return protocol_; }
    core::ServiceRoute route() const override {
        core::ServiceRoute r;
        r.signing_names = {"s3"};
        r.host_suffixes = {".s3.localhost"};
        r.fallback = true;
        return r;
    }
    core::BodyPolicy body_policy(const core::Request& head) const override {
        core::BodyPolicy p;
        if (head.method == "PUT") {
            // Object bodies stream to disk: 5 GB is S3's single-PUT limit.
            p.limit = 5ULL * 1024 * 1024 * 1024;
            p.make_sink = [dir = spool_dir_] { return std::make_unique<core::FileSink>(dir); };
        } else {
            p.limit = 20 * 1024 * 1024;
        }
        return p;
    }

    void handle(core::Request&& request, core::Reply reply) override {
        auto [resource, sub] = classify(request);
        auto it = operations_.find(OperationKey{resource, request.method, sub});
        if (it == operations_.end()) {
            // What S3 answers for a request it recognises but does not implement.
            throw core::AwsError("NotImplemented",
                                 "A header you provided implies functionality that is not implemented", 501)
                .with("Method", request.method)
                .with("ResourceType", resource == Resource::service  ? "SERVICE"
                                      : resource == Resource::bucket ? "BUCKET"
                                                                     : "OBJECT");
        }
        it->second(std::move(request), std::move(reply));
    }

private:
    static std::pair<Resource, std::string> classify(const core::Request& request) {
        std::string_view host = request.host();
        bool virtual_hosted = host.size() > std::string_view(".s3.localhost").size() &&
                              host.ends_with(".s3.localhost");
        std::string_view path = request.path;
        if (!path.empty() && path.front() == '/') path.remove_prefix(1);
        Resource resource;
        if (virtual_hosted)
            resource = path.empty() ? Resource::bucket : Resource::object;
        else if (path.empty())
            resource = Resource::service;
        else {
            auto slash = path.find('/');
            bool bucket_only = slash == std::string_view::npos || slash + 1 == path.size();  // "b" or "b/"
            resource = bucket_only ? Resource::bucket : Resource::object;
        }
        std::string sub;
        for (auto& p : request.query_params())
            for (auto s : sub_resources)
                if (p.name == s && sub.empty()) sub = p.name;
        return {resource, sub};
    }

    std::string spool_dir_;
    core::Protocol protocol_{core::Wire::rest_xml, "", false};
    // (resource, method, sub-resource) -> handler. The S3 issue fills this table.
    std::map<OperationKey, Operation> operations_;
};

}  // namespace

std::shared_ptr<core::Service> make_service(std::string spool_dir) {
    return std::make_shared<S3Service>(std::move(spool_dir));
}

}  // namespace stratus::s3
