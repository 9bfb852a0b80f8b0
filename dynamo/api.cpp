#include "dynamo/api.hpp"

#include <fmt/format.h>

#include <functional>
#include <map>

namespace stratus::dynamo {

namespace {

using Operation = std::function<void(core::Request&&, core::Reply)>;

class DynamoService final : public core::Service {
public:
    std::string_view name() const override { return "dynamodb"; }
    const core::Protocol& protocol() const override { return protocol_; }
    core::ServiceRoute route() const override {
        core::ServiceRoute r;
        r.target_prefixes = {"DynamoDB_20120810."};
        r.signing_names = {"dynamodb"};
        return r;
    }
    core::BodyPolicy body_policy(const core::Request&) const override {
        // DynamoDB's request size limit (BatchWriteItem's 16 MB).
        core::BodyPolicy p;
        p.limit = 16 * 1024 * 1024;
        return p;
    }

    void handle(core::Request&& request, core::Reply reply) override {
        std::string_view target = request.headers.get_or("x-amz-target", "");
        auto dot = target.find('.');
        std::string_view op = dot == std::string_view::npos ? std::string_view{} : target.substr(dot + 1);
        auto it = operations_.find(op);
        if (it == operations_.end()) {
            // DynamoDB answers an unknown target with a bare UnknownOperationException.
            throw core::AwsError::unknown_operation();
        }
        it->second(std::move(request), std::move(reply));
    }

private:
    core::Protocol protocol_{core::Wire::json10, "com.amazonaws.dynamodb.v20120810#", true};
    // Operation name -> handler. The DynamoDB issue fills this table.
    std::map<std::string, Operation, std::less<>> operations_;
};

}  // namespace

std::shared_ptr<core::Service> make_service() { return std::make_shared<DynamoService>(); }

}  // namespace stratus::dynamo
