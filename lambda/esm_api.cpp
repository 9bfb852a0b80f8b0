// The Lambda API's event source mapping operations (botocore's lambda service-2.json):
// CreateEventSourceMapping (POST, 202), GetEventSourceMapping, ListEventSourceMappings,
// UpdateEventSourceMapping (PUT, 202), DeleteEventSourceMapping (DELETE, 202), under
// /2015-03-31/event-source-mappings/. Mappings are created Enabled at once (the API answers
// "Creating" as AWS does; the next Get says "Enabled").
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/protocol.hpp"
#include "lambda/api_json.hpp"
#include "lambda/function.hpp"
#include "lambda/trigger_engine_impl.hpp"

namespace stratus::lambda {

using json = nlohmann::json;
using core::AwsError;

namespace {

using api_json::opt;
using api_json::parse_body;

const core::Protocol& protocol() {
    static const core::Protocol p{core::Wire::rest_json, "", false};
    return p;
}

core::Response respond(const json& body, int status) {
    return core::json_response(protocol(), body.dump(-1, ' ', false, json::error_handler_t::replace), status);
}

AwsError invalid(std::string message) { return AwsError("InvalidParameterValueException", std::move(message), 400); }

// Lambda answers ResourceNotFoundException with 404 (botocore's lambda model).
AwsError not_found() { return AwsError("ResourceNotFoundException", "The resource you requested does not exist.", 404); }

// The settings a Create or Update body carries, applied to `spec`.
void apply_settings(const json& in, EventSourceMappingSpec& spec) {
    if (auto v = opt<bool>(in, "Enabled")) spec.enabled = *v;
    if (auto v = opt<int>(in, "BatchSize")) spec.batch_size = *v;
    if (auto v = opt<int>(in, "MaximumBatchingWindowInSeconds")) spec.maximum_batching_window_seconds = *v;
    if (auto v = opt<int>(in, "ParallelizationFactor")) spec.parallelization_factor = *v;
    if (auto v = opt<int>(in, "MaximumRecordAgeInSeconds")) spec.maximum_record_age_seconds = *v;
    if (auto v = opt<int>(in, "MaximumRetryAttempts")) spec.maximum_retry_attempts = *v;
    if (auto v = opt<bool>(in, "BisectBatchOnFunctionError")) spec.bisect_batch_on_function_error = *v;
    if (auto v = opt<int>(in, "TumblingWindowInSeconds"); v && *v != 0)
        throw invalid("TumblingWindowInSeconds is not supported by stratus (tumbling windows are not implemented)");
    if (auto it = in.find("FilterCriteria"); it != in.end() && !it->is_null()) {
        if (!it->is_object()) throw AwsError::serialization("FilterCriteria has the wrong type");
        spec.filter_patterns.clear();
        if (auto f = it->find("Filters"); f != it->end() && !f->is_null()) {
            if (!f->is_array()) throw AwsError::serialization("Filters has the wrong type");
            for (auto& filter : *f) {
                if (!filter.is_object()) throw AwsError::serialization("Filter has the wrong type");
                auto p = opt<std::string>(filter, "Pattern");
                if (!p) throw invalid("Invalid filter pattern definition.");
                spec.filter_patterns.push_back(*p);
            }
        }
    }
    if (auto it = in.find("FunctionResponseTypes"); it != in.end() && !it->is_null()) {
        if (!it->is_array()) throw AwsError::serialization("FunctionResponseTypes has the wrong type");
        spec.report_batch_item_failures = false;
        for (auto& t : *it) {
            if (!t.is_string() || t.get<std::string>() != "ReportBatchItemFailures")
                throw AwsError::validation(fmt::format("1 validation error detected: Value '{}' at 'functionResponseTypes' "
                                                       "failed to satisfy constraint: Member must satisfy constraint: "
                                                       "[Member must satisfy enum value set: [ReportBatchItemFailures]]",
                                                       t.dump()));
            spec.report_batch_item_failures = true;
        }
    }
    if (auto it = in.find("DestinationConfig"); it != in.end() && !it->is_null()) {
        if (!it->is_object()) throw AwsError::serialization("DestinationConfig has the wrong type");
        if (auto s = it->find("OnSuccess"); s != it->end() && s->is_object() && s->contains("Destination"))
            throw invalid("OnSuccess destinations are not supported for DynamoDB stream event sources");
        if (auto f = it->find("OnFailure"); f != it->end() && !f->is_null()) {
            if (!f->is_object()) throw AwsError::serialization("OnFailure has the wrong type");
            spec.on_failure_destination = opt<std::string>(*f, "Destination").value_or("");
        }
    }
}

}  // namespace

core::Response TriggerEngine::create_mapping_api(const core::Request& request) {
    Impl& e = *impl_;
    json in = parse_body(request.body);
    auto function = opt<std::string>(in, "FunctionName");
    if (!function)
        throw AwsError::validation("1 validation error detected: Value null at 'functionName' failed to satisfy "
                                   "constraint: Member must not be null");
    parse_function_ref(*function);  // ValidationException for a malformed name
    EventSourceMappingSpec spec;
    spec.function = *function;
    spec.event_source_arn = opt<std::string>(in, "EventSourceArn").value_or("");
    auto start = opt<std::string>(in, "StartingPosition");
    if (in.contains("StartingPositionTimestamp") || (start && *start == "AT_TIMESTAMP"))
        throw invalid("Unsupported starting position for DynamoDB streams: AT_TIMESTAMP");  // AWS wording unsure
    if (start && *start != "TRIM_HORIZON" && *start != "LATEST")
        throw AwsError::validation(fmt::format("1 validation error detected: Value '{}' at 'startingPosition' failed to "
                                               "satisfy constraint: Member must satisfy enum value set: [LATEST, "
                                               "AT_TIMESTAMP, TRIM_HORIZON]",
                                               *start));
    // A stream source needs a starting position (AWS wording unsure).
    if (!start) throw invalid("StartingPosition is required for DynamoDB stream event sources (TRIM_HORIZON or LATEST)");
    spec.starting_position = *start;
    apply_settings(in, spec);
    Mapping m = e.validate(spec);
    {
        std::lock_guard lock(e.mutex);
        for (auto& [uuid, other] : e.mappings)
            if (other.spec.function == m.spec.function && other.spec.event_source_arn == m.spec.event_source_arn)
                throw AwsError("ResourceConflictException",
                               fmt::format("The event source arn ({}) and function ({}) provided mapping already exists. "
                                           "Please update or delete the existing mapping with UUID {}",
                                           m.spec.event_source_arn, m.spec.function, uuid),
                               409);
    }
    m.uuid = core::random_uuid();
    json out = m.configuration("Creating");
    e.add(std::move(m));
    return respond(out, 202);
}

core::Response TriggerEngine::get_mapping_api(const std::string& uuid) {
    auto m = impl_->find(uuid);
    if (!m) throw not_found();
    return respond(m->configuration(m->spec.enabled ? "Enabled" : "Disabled"), 200);
}

core::Response TriggerEngine::list_mappings_api(const core::Request& request) {
    Impl& e = *impl_;
    std::optional<std::string> function;
    if (auto f = request.query_param("FunctionName")) function = parse_function_ref(*f).name;
    auto source = request.query_param("EventSourceArn");
    std::string marker = request.query_param("Marker").value_or("");
    std::size_t max = 100;
    if (auto mi = request.query_param("MaxItems")) {
        int v = 0;
        try {
            v = std::stoi(*mi);
        } catch (const std::exception&) {
            throw AwsError::validation("MaxItems must be a number");
        }
        if (v < 1 || v > 10000)
            throw AwsError::validation(fmt::format("1 validation error detected: Value '{}' at 'maxItems' failed to "
                                                   "satisfy constraint: Member must have value {} {}",
                                                   v, v < 1 ? "greater than or equal to" : "less than or equal to",
                                                   v < 1 ? 1 : 10000));
        max = static_cast<std::size_t>(v);
    }
    json list = json::array();
    std::optional<std::string> next;
    std::lock_guard lock(e.mutex);
    for (auto& [uuid, m] : e.mappings) {
        if (!marker.empty() && uuid <= marker) continue;
        if (function && m.spec.function != *function) continue;
        if (source && m.spec.event_source_arn != *source) continue;
        if (list.size() == max) {
            next = list.back()["UUID"].get<std::string>();
            break;
        }
        list.push_back(m.configuration(m.spec.enabled ? "Enabled" : "Disabled"));
    }
    json out = {{"EventSourceMappings", list}};
    if (next) out["NextMarker"] = *next;
    return respond(out, 200);
}

core::Response TriggerEngine::update_mapping_api(const core::Request& request, const std::string& uuid) {
    Impl& e = *impl_;
    json in = parse_body(request.body);
    auto current = e.find(uuid);
    if (!current) throw not_found();
    EventSourceMappingSpec spec = current->spec;
    if (auto f = opt<std::string>(in, "FunctionName")) {
        parse_function_ref(*f);
        spec.function = *f;
    }
    apply_settings(in, spec);
    Mapping m = e.validate(spec);
    m.uuid = uuid;
    m.last_result = current->last_result;
    const char* state = m.spec.enabled == current->spec.enabled ? "Updating" : m.spec.enabled ? "Enabling" : "Disabling";
    json out = m.configuration(state);
    e.replace(std::move(m));
    return respond(out, 202);
}

core::Response TriggerEngine::delete_mapping_api(const std::string& uuid) {
    Impl& e = *impl_;
    auto m = e.find(uuid);
    if (!m) throw not_found();
    json out = m->configuration("Deleting");
    e.remove(uuid);
    return respond(out, 202);
}

}  // namespace stratus::lambda
