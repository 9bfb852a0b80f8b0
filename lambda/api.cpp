#include "lambda/api.hpp"

#include <fmt/format.h>

#include <functional>
#include <vector>

namespace stratus::lambda {

namespace {

using Operation = std::function<void(core::Request&&, core::Reply)>;

struct Route {
    std::string method;
    std::string path_prefix;
    std::string name;
    Operation run;
};

class LambdaService final : public core::Service {
public:
    std::string_view name() const override { return "lambda"; }
    const core::Protocol& protocol() const override { return protocol_; }
    core::ServiceRoute route() const override {
        // Every dated API prefix of the Lambda REST API (functions, tags, event invoke
        // configs, layers, function URLs / concurrency).
        core::ServiceRoute r;
        r.signing_names = {"lambda"};
        r.path_prefixes = {"/2015-03-31/", "/2017-03-31/", "/2018-10-31/", "/2019-09-25/",
                           "/2019-09-30/", "/2020-04-22/", "/2020-06-30/", "/2021-10-31/"};
        return r;
    }
    core::BodyPolicy body_policy(const core::Request&) const override {
        // Invoke payloads are limited to 6 MB; CreateFunction with a zip up to 50 MB.
        core::BodyPolicy p;
        p.limit = 70 * 1024 * 1024;
        return p;
    }

    void handle(core::Request&& request, core::Reply reply) override {
        for (auto& r : routes_) {
            if (r.method == request.method && request.path.starts_with(r.path_prefix))
                return r.run(std::move(request), std::move(reply));
        }
        // Not sure what AWS answers for a path no Lambda operation has (API Gateway-style
        // front ends answer 404 UnknownOperationException); we answer that.
        throw core::AwsError("UnknownOperationException",
                             fmt::format("Unknown operation {} {}", request.method, request.path), 404);
    }

private:
    core::Protocol protocol_{core::Wire::rest_json, "", false};
    // The Lambda issue fills this table.
    std::vector<Route> routes_;
};

}  // namespace

std::shared_ptr<core::Service> make_service() { return std::make_shared<LambdaService>(); }

}  // namespace stratus::lambda
