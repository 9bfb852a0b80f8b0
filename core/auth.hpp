// Why a request failed authentication. Services turn a failure into their own AWS error
// (S3's SignatureDoesNotMatch, DynamoDB's InvalidSignatureException, ...); see
// Service::auth_error and default_auth_error in core/protocol.hpp.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stratus::core {

enum class AuthFailure {
    missing,              // no Authorization header nor presigned query
    malformed,            // SigV4 present but unparsable (missing Credential=, bad scope...)
    unknown_access_key,   // access key is none of the configured ones
    signature_mismatch,   // signature differs from the one we computed
    expired,              // presigned URL past X-Amz-Expires
    time_skewed,          // header auth with X-Amz-Date more than 15 minutes off
    content_sha_mismatch, // x-amz-content-sha256 differs from the body's SHA-256
};

struct AuthProblem {
    AuthFailure failure;
    std::string detail;  // text for the error message (e.g. the expired timestamps)
};

// The key pairs --verify-signatures accepts (--access-key-id / --secret-access-key, repeated,
// or a credentials file in the AWS CLI's format): access key id -> secret.
class Credentials {
public:
    void add(std::string access_key_id, std::string secret) {
        if (secrets_.empty()) owner_ = access_key_id;
        secrets_[std::move(access_key_id)] = std::move(secret);
    }
    // The first pair added: the account's owner (root). Services may treat the others as
    // other principals (S3: IAM users of the same account, see s3/access.hpp).
    const std::string& owner() const { return owner_; }
    // The secret of `access_key_id`, or nullptr when it is not one of ours.
    const std::string* secret(std::string_view access_key_id) const {
        auto it = secrets_.find(access_key_id);
        return it == secrets_.end() ? nullptr : &it->second;
    }
    bool empty() const { return secrets_.empty(); }
    std::size_t size() const { return secrets_.size(); }

private:
    std::map<std::string, std::string, std::less<>> secrets_;
    std::string owner_;
};

// The key pairs of a credentials file in the AWS CLI's format (~/.aws/credentials): INI
// sections, each with aws_access_key_id and aws_secret_access_key ('#' and ';' comments,
// spaces around '=' ignored). A section with only one of the two throws
// std::invalid_argument naming it.
std::vector<std::pair<std::string, std::string>> parse_credentials_file(std::string_view text);

}  // namespace stratus::core
