// What a schedule's target receives (Amazon EventBridge user guide, "Amazon EventBridge events
// from scheduled rules" and "Transforming target input"): the Scheduled Event, or the
// rule's constant Input, the part of the event its InputPath selects, or its
// InputTransformer's template filled from the event.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "lambda/triggers.hpp"

namespace stratus::lambda {

std::string rule_arn(std::string_view rule_name);

// {"version":"0","id":..,"detail-type":"Scheduled Event","source":"aws.events","account":..,
//  "time":"2019-10-08T16:53:06Z","region":..,"resources":[rule ARN],"detail":{}}
std::string scheduled_event(std::string_view rule_name, std::int64_t time_s, std::string_view id);

// The JSON value `path` selects in `doc` ("$", "$.detail", "$.resources[0]", "$['a b']"),
// or nullptr when absent. Throws std::invalid_argument for a malformed path.
const nlohmann::json* json_path(const nlohmann::json& doc, std::string_view path);

// Checks Input / InputPath / InputTransformer of a schedule (at most one; valid JSON,
// paths, a template); throws std::invalid_argument with the reason.
void validate_target_input(const ScheduleSpec& spec);

// The payload for the target (JSON text): a plain-text template reaches it as a JSON string.
std::string target_input(const ScheduleSpec& spec, const std::string& event_json);

}  // namespace stratus::lambda
