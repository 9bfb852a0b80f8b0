// Test helper: the message of the AwsError a call throws ("" when it throws none).
#pragma once

#include <functional>
#include <string>

#include "core/error.hpp"

namespace stratus::test {

inline std::string message_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const core::AwsError& e) {
        return e.message();
    }
    return "";
}

}  // namespace stratus::test
