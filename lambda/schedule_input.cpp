#include "lambda/schedule_input.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/protocol.hpp"
#include "lambda/function.hpp"

namespace stratus::lambda {

using json = nlohmann::json;

namespace {

[[noreturn]] void bad_input(const std::string& why) { throw std::invalid_argument(why); }

std::string seconds_iso(std::int64_t time_s) {
    std::string t = core::iso8601(time_s * 1000);  // 2019-10-08T16:53:06.000Z
    return t.substr(0, 19) + "Z";
}

}  // namespace

std::string rule_arn(std::string_view rule_name) {
    return fmt::format("arn:aws:events:{}:{}:rule/{}", region, account, rule_name);
}

std::string scheduled_event(std::string_view rule_name, std::int64_t time_s, std::string_view id) {
    json e = {{"version", "0"},
              {"id", id},
              {"detail-type", "Scheduled Event"},
              {"source", "aws.events"},
              {"account", account},
              {"time", seconds_iso(time_s)},
              {"region", region},
              {"resources", json::array({rule_arn(rule_name)})},
              {"detail", json::object()}};
    return e.dump();
}

const json* json_path(const json& doc, std::string_view path) {
    if (!path.starts_with("$")) bad_input("a path starts with $");
    const json* cur = &doc;
    std::size_t i = 1;
    while (i < path.size()) {
        if (path[i] == '.') {
            std::size_t j = i + 1;
            while (j < path.size() && path[j] != '.' && path[j] != '[') ++j;
            std::string name(path.substr(i + 1, j - i - 1));
            if (name.empty()) bad_input("empty name in path");
            if (!cur->is_object()) return nullptr;
            auto it = cur->find(name);
            if (it == cur->end()) return nullptr;
            cur = &*it;
            i = j;
        } else if (path[i] == '[') {
            auto close = path.find(']', i);
            if (close == std::string_view::npos) bad_input("unclosed [ in path");
            std::string_view inner = path.substr(i + 1, close - i - 1);
            if (inner.size() >= 2 && (inner.front() == '\'' || inner.front() == '"') && inner.back() == inner.front()) {
                std::string name(inner.substr(1, inner.size() - 2));
                if (!cur->is_object()) return nullptr;
                auto it = cur->find(name);
                if (it == cur->end()) return nullptr;
                cur = &*it;
            } else {
                if (inner.empty()) bad_input("empty index in path");
                std::size_t n = 0;
                for (char c : inner) {
                    if (c < '0' || c > '9') bad_input("an index in a path is a whole number");
                    n = n * 10 + static_cast<std::size_t>(c - '0');
                }
                if (!cur->is_array() || n >= cur->size()) return nullptr;
                cur = &(*cur)[n];
            }
            i = close + 1;
        } else {
            bad_input("unexpected character in path");
        }
    }
    return cur;
}

void validate_target_input(const ScheduleSpec& spec) {
    int given = (spec.input ? 1 : 0) + (spec.input_path ? 1 : 0) + (spec.input_template || spec.input_paths_map ? 1 : 0);
    if (given > 1) bad_input("only one of Input, InputPath and InputTransformer may be given");
    if (spec.input && json::parse(*spec.input, nullptr, false).is_discarded()) bad_input("Input must be valid JSON text");
    json probe = json::object();
    if (spec.input_path) json_path(probe, *spec.input_path);
    if (spec.input_paths_map || spec.input_template) {
        if (!spec.input_template) bad_input("InputTransformer needs an InputTemplate");
        if (spec.input_paths_map) {
            json m = json::parse(*spec.input_paths_map, nullptr, false);
            if (!m.is_object()) bad_input("InputPathsMap must be a JSON object");
            if (m.size() > 100) bad_input("InputPathsMap has at most 100 entries");
            for (auto& [k, v] : m.items()) {
                if (k.starts_with("aws.events")) bad_input("InputPathsMap keys may not start with aws.events");
                if (!v.is_string()) bad_input("InputPathsMap values are JSON paths");
                json_path(probe, v.get<std::string>());
            }
        }
    }
}

std::string target_input(const ScheduleSpec& spec, const std::string& event_json) {
    if (spec.input) return *spec.input;
    json event = json::parse(event_json);
    if (spec.input_path) {
        const json* v = json_path(event, *spec.input_path);
        return v ? v->dump() : "null";
    }
    if (!spec.input_template) return event_json;
    // InputTransformer: <name> placeholders in the template take values found by
    // InputPathsMap, plus the predefined aws.events.* ones. A placeholder between double
    // quotes takes a string value's characters (JSON-escaped), elsewhere the value's JSON.
    std::map<std::string, json> values;
    if (spec.input_paths_map) {
        json m = json::parse(*spec.input_paths_map);
        for (auto& [k, path] : m.items()) {
            const json* v = json_path(event, path.get<std::string>());
            values[k] = v ? *v : json();
        }
    }
    std::string rule = event["resources"].is_array() && !event["resources"].empty() ? event["resources"][0].get<std::string>() : "";
    values["aws.events.rule-arn"] = rule;
    values["aws.events.rule-name"] = rule.substr(rule.rfind('/') + 1);
    values["aws.events.event.ingestion-time"] = event.value("time", "");
    values["aws.events.event"] = event;
    values["aws.events.event.json"] = event;
    const std::string& t = *spec.input_template;
    // A template that is not JSON (plain text) takes string values as their characters.
    auto first = t.find_first_not_of(" \t\r\n");
    bool text_mode = first == std::string::npos || (t[first] != '{' && t[first] != '[' && t[first] != '"');
    std::string out;
    for (std::size_t i = 0; i < t.size();) {
        if (t[i] == '<') {
            auto close = t.find('>', i);
            if (close != std::string::npos) {
                std::string name = t.substr(i + 1, close - i - 1);
                auto it = values.find(name);
                if (it != values.end()) {
                    bool quoted = text_mode || (i > 0 && t[i - 1] == '"' && close + 1 < t.size() && t[close + 1] == '"');
                    const json& v = it->second;
                    if (quoted && v.is_string()) {
                        std::string dumped = v.dump();
                        out += dumped.substr(1, dumped.size() - 2);
                    } else if (quoted && v.is_null()) {
                        // nothing: an absent value inside quotes is the empty string
                    } else {
                        out += v.dump();
                    }
                    i = close + 1;
                    continue;
                }
            }
        }
        out += t[i++];
    }
    // A template that is not JSON (plain text) reaches the function as a JSON string.
    if (json::parse(out, nullptr, false).is_discarded()) return json(out).dump();
    return out;
}

}  // namespace stratus::lambda
