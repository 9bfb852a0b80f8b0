// CloudFormation's intrinsic functions, evaluated offline: Ref, Fn::GetAtt, Fn::Sub,
// Fn::Join, Fn::Select, Fn::Split, Fn::If / Fn::Equals / Fn::Not / Fn::And / Fn::Or with
// the template's Conditions, Fn::FindInMap, Fn::Base64, Fn::GetAZs, Fn::Length,
// Fn::ToJsonString, and Fn::ImportValue (no other stacks exist offline: a notice, and the
// export's name as its value). AWS::NoValue removes the property.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "emulator/app/document.hpp"

namespace stratus::app {

class Intrinsics {
public:
    // What a Ref or Fn::GetAtt of a resource gives; nullopt: no such resource / attribute.
    using RefFn = std::function<std::optional<nlohmann::json>(const std::string& logical_id)>;
    using GetAttFn = std::function<std::optional<nlohmann::json>(const std::string& logical_id, const std::string& attribute)>;

    // `base`: where the template's Conditions and Mappings live ("" for SAM,
    // "/resources" for serverless.yml).
    Intrinsics(const Document& doc, std::string base, std::map<std::string, nlohmann::json> parameters,
               std::string region, std::string stack_name, std::vector<std::string>& notices);
    void set_resources(RefFn ref, GetAttFn get_att) {
        ref_ = std::move(ref);
        get_att_ = std::move(get_att);
    }

    // `value` (found at `pointer` in the document, for messages) with every intrinsic
    // evaluated. Throws ConfigError.
    nlohmann::json eval(const nlohmann::json& value, const std::string& pointer);
    // The value of the template's condition `name`.
    bool condition(const std::string& name, const std::string& pointer);
    // Whether a resource's Condition holds (true without one).
    bool resource_enabled(const nlohmann::json& resource, const std::string& pointer);
    // Evaluates to a string (numbers are printed); ConfigError otherwise.
    std::string eval_string(const nlohmann::json& value, const std::string& pointer);

    const Document& doc() const { return doc_; }

private:
    nlohmann::json fn(const std::string& name, const nlohmann::json& arg, const std::string& pointer);
    nlohmann::json sub(const nlohmann::json& arg, const std::string& pointer);
    nlohmann::json ref(const std::string& name, const std::string& pointer);

    const Document& doc_;
    std::string base_;
    std::map<std::string, nlohmann::json> parameters_;
    std::string region_, stack_name_;
    std::vector<std::string>& notices_;
    RefFn ref_;
    GetAttFn get_att_;
    std::map<std::string, bool> conditions_;
    std::set<std::string> evaluating_;
};

// A marker value that removes the property holding it (Ref AWS::NoValue).
bool is_no_value(const nlohmann::json& v);

}  // namespace stratus::app
