// The Serverless Framework's variables (v3 and v4), resolved offline:
// ${self:path}, ${opt:stage, 'dev'}, ${opt:region}, ${sls:stage}, ${env:NAME, default},
// ${file(./x.yml):key}, ${file(./key.pem)} (any other file: its text), ${aws:region},
// ${aws:accountId}, ${param:key} (--param, then params.<stage>, then params.default),
// ${strToBool(..)}, nested (${self:custom.${sls:stage}.table}) and with fallbacks
// (${env:A, ${env:B, 'x'}}). ${cf:..}, ${ssm:..} and ${s3:..} need AWS: only their
// fallbacks resolve. ${Name} forms of no known source (Fn::Sub's ${AWS::Region},
// ${Table.Arn}) are left as they are.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "emulator/app/document.hpp"

namespace stratus::app {

struct VariableOptions {
    std::string stage;   // --stage; empty: provider.stage, else "dev"
    std::string region;  // --region; empty: provider.region, else "us-east-1"
    std::map<std::string, std::string> params;  // --param K=V
    std::string dir;     // the config's folder (file() paths are relative to it)
    std::function<const char*(const char*)> getenv;  // default ::getenv
};

// Resolves doc.root in place. Throws ConfigError (with the value's file, line and column)
// for a variable that does not resolve and has no fallback. Adds the files read through
// file() to `files`.
void resolve_variables(Document& doc, const VariableOptions& options, std::vector<std::string>& files);

}  // namespace stratus::app
