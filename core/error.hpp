// The one typed error of stratus. Services throw it (or hand it to a Reply through
// the protocol layer); only the protocol layer (core/protocol.hpp) renders it.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace stratus::core {

enum class Fault { sender, receiver };

class AwsError : public std::runtime_error {
public:
    AwsError(std::string code, std::string message, int status, Fault fault = Fault::sender)
        : std::runtime_error(message), code_(std::move(code)), message_(std::move(message)),
          status_(status), fault_(fault) {}

    const std::string& code() const { return code_; }
    const std::string& message() const { return message_; }
    int status() const { return status_; }
    Fault fault() const { return fault_; }

    // Extra members rendered beside code and message: XML elements (S3's <BucketName>)
    // or JSON string members.
    const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }
    AwsError& with(std::string name, std::string value) {
        fields_.emplace_back(std::move(name), std::move(value));
        return *this;
    }
    // Response headers sent with the error (S3's x-amz-delete-marker on a 404 for a
    // deleted key, Content-Range on a 416).
    const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }
    AwsError& with_header(std::string name, std::string value) {
        headers_.emplace_back(std::move(name), std::move(value));
        return *this;
    }
    // A serialized JSON object whose members are merged into JSON error bodies
    // (DynamoDB's CancellationReasons, Item). Empty when none.
    const std::string& json_extra() const { return json_extra_; }
    AwsError& with_json(std::string object) {
        json_extra_ = std::move(object);
        return *this;
    }

    // Named factories for the codes every protocol shares.
    static AwsError validation(std::string message) {
        return {"ValidationException", std::move(message), 400};
    }
    static AwsError resource_not_found(std::string message) {
        return {"ResourceNotFoundException", std::move(message), 400};
    }
    static AwsError unknown_operation(std::string message = "") {
        return {"UnknownOperationException", std::move(message), 400};
    }
    static AwsError serialization(std::string message) {
        return {"SerializationException", std::move(message), 400};
    }
    static AwsError internal(std::string message = "Internal server error") {
        return {"InternalServerError", std::move(message), 500, Fault::receiver};
    }

private:
    std::string code_;
    std::string message_;
    int status_;
    Fault fault_;
    std::vector<std::pair<std::string, std::string>> fields_;
    std::vector<std::pair<std::string, std::string>> headers_;
    std::string json_extra_;
};

}  // namespace stratus::core
