// A config file read into JSON (serverless.yml / .yaml / .json, SAM and CloudFormation
// templates), with where each value came from, so errors name a file, line and column.
//
// YAML tags become CloudFormation's long forms: `!Ref X` -> {"Ref": "X"}, `!GetAtt A.B` ->
// {"Fn::GetAtt": ["A", "B"]}, `!Sub s` -> {"Fn::Sub": s}, `!Condition c` -> {"Condition": c},
// any other `!Name v` -> {"Fn::Name": v}. Plain scalars are typed as YAML 1.2's core schema
// types them (true / false, null / ~, numbers); quoted ones stay strings.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "emulator/app/config_error.hpp"

namespace stratus::app {

struct Document {
    std::string file;  // as shown in messages
    nlohmann::json root;
    // JSON pointer ("/functions/hello/handler") -> where that value starts.
    std::map<std::string, Mark> marks;

    // Where the value at `pointer` (or its nearest ancestor with a mark) came from.
    Mark mark(const std::string& pointer) const;
    [[noreturn]] void fail(const std::string& pointer, const std::string& message) const;
};

// Parses YAML (JSON included) text; throws ConfigError for bad syntax. `file` is only for
// messages.
Document parse_document(const std::string& text, const std::string& file);
// Reads and parses a file; throws ConfigError when it cannot be read.
Document load_document(const std::string& path, const std::string& shown_name);

// JSON pointer helpers: "/a/b" + "c" -> "/a/b/c" (escaping '~' and '/').
std::string child(const std::string& pointer, const std::string& key);
std::string child(const std::string& pointer, std::size_t index);

}  // namespace stratus::app
