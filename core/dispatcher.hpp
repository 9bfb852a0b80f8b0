// The one AWS port: picks the service for each request (X-Amz-Target, SigV4 scope, host,
// path, fallback), checks signatures when asked to, runs the service and renders its
// errors. Also serves the internal /_stratus/ endpoints (health, reset).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/http_handler.hpp"
#include "core/service.hpp"

namespace stratus::core {

struct DispatchOptions {
    bool verify_signatures = false;
    // The key pairs accepted under verify_signatures: this one (when set) and `credentials`.
    std::string access_key_id;
    std::string secret_access_key;
    std::string version;
    std::vector<std::pair<std::string, std::string>> credentials;  // access key id, secret
};

// An internal endpoint under /_stratus/: synchronous, JSON.
using InternalHandler = std::function<Response(const Request&)>;

// How stratus's own endpoints (/_stratus/...) answer: JSON, no AWS protocol.
const Protocol& internal_protocol();

class Dispatcher : public HttpHandler {
public:
    explicit Dispatcher(DispatchOptions options);

    void add(std::shared_ptr<Service> service);
    // `path` is exact ("/_stratus/health"), or a prefix when it ends in '/'.
    void add_internal(std::string method, std::string path, InternalHandler handler);
    // Extra state wiped by POST /_stratus/reset besides the services' own.
    void on_reset(std::function<void()> hook);

    Plan plan(Request& head) override;

    // The service a request goes to, or nullptr when none claims it. Exposed for tests.
    Service* select(const Request& head) const;
    void reset_all();
    const std::vector<std::shared_ptr<Service>>& services() const { return services_; }

private:
    Plan internal_plan(Request& head);
    Plan unknown_plan(Request& head);
    void run(Service& service, Request&& request, Reply reply);

    DispatchOptions options_;
    std::shared_ptr<const Credentials> keys_;
    std::vector<std::shared_ptr<Service>> services_;
    std::vector<std::pair<std::string, Service*>> targets_;
    std::map<std::string, Service*, std::less<>> signing_names_;
    std::vector<std::pair<std::string, Service*>> host_suffixes_;
    std::vector<std::pair<std::string, Service*>> path_prefixes_;
    Service* fallback_ = nullptr;
    struct Internal {
        std::string method;
        std::string path;
        InternalHandler handler;
    };
    std::vector<Internal> internal_;
    std::vector<std::function<void()>> reset_hooks_;
    std::chrono::steady_clock::time_point started_;
    std::string health_services_ = "{}";  // cached {"dynamodb":"running",...}
    std::string health_version_;           // the version as a JSON string, for the health body
};

}  // namespace stratus::core
