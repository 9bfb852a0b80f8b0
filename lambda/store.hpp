// Functions persisted in LMDB (one record per function, JSON) and their code unpacked
// under <data>/lambda/code/<name>/<revision>/. Also the accepted Event invocations not yet
// finished (db lambda_events, request id -> {function, payload}), so that an invocation
// answered 202 survives a crash or restart and runs then (AWS's async delivery is
// at-least-once too).
//
// get() answers from a cache of decoded functions (every invocation looks its function
// up); each write through this class drops what it changes. Any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/lmdb.hpp"
#include "lambda/function.hpp"
#include "lambda/function_url.hpp"

namespace stratus::lambda {

class FunctionStore {
public:
    FunctionStore(core::lmdb::Env& env, std::string code_root);

    std::optional<Function> get(const std::string& name);
    // False when a function of that name exists already.
    bool create(const Function& f);
    void put(const Function& f);
    // Removes the function with its versions and aliases (one transaction); the versions
    // removed are added to `versions` when given (their code is the caller's to remove).
    bool erase(const std::string& name, std::vector<Function>* versions = nullptr);

    // Published versions (db lambda_versions, "name:0000000003" -> Function), immutable.
    std::optional<Function> get_version(const std::string& name, const std::string& version);
    std::vector<Function> versions(const std::string& name);
    // Stores `version` and `latest` (its last_version advanced) in one transaction, unless
    // $LATEST is no longer `expected` (revision or last version; false: it changed meanwhile).
    bool publish(const Function& latest, const Function& expected, const Function& version);
    // A copy of a declared code directory, for a published version (which must not change
    // when the directory does). Throws InvalidParameterValueException when it cannot copy.
    std::string snapshot(const std::string& name, const std::string& dir);
    bool erase_version(const std::string& name, const std::string& version);
    // Whether $LATEST or a version of `name` other than `except` runs the code in `dir`.
    bool code_in_use(const std::string& name, const std::string& dir, const std::string& except = {});

    // Aliases (db lambda_aliases, "name:alias" -> Alias).
    std::optional<Alias> get_alias(const std::string& function, const std::string& name);
    std::vector<Alias> aliases(const std::string& function);
    bool create_alias(const Alias& a);  // false when it exists
    void put_alias(const Alias& a);
    bool erase_alias(const std::string& function, const std::string& name);  // and its URL

    // Function URLs (db lambda_urls, url id -> FunctionUrl); one per function or alias.
    std::optional<FunctionUrl> get_url(const std::string& id);
    std::optional<FunctionUrl> url_of(const std::string& function, const std::string& qualifier);
    std::vector<FunctionUrl> urls(const std::string& function);
    bool create_url(const FunctionUrl& u);  // false when the function or alias has one
    void put_url(const FunctionUrl& u);
    bool erase_url(const std::string& id);
    // Functions in name order after `marker`; `next` is set when more follow.
    std::vector<Function> list(const std::string& marker, std::size_t max, std::optional<std::string>& next);
    std::vector<Function> all();
    void clear();

    struct PendingEvent {
        std::string request_id, function, payload;
    };
    void put_event(const PendingEvent& e);
    void erase_event(const std::string& request_id);
    std::vector<PendingEvent> events();

    // Unpacks a deployment package into a fresh directory for `name`; returns it. Throws
    // InvalidParameterValueException for archives Lambda would refuse.
    std::string unpack(const std::string& name, std::string_view zip);
    // Removes a code directory made by unpack (never a declared one), and its package.
    void remove_code(const Function& f);
    // The deployment package unpack kept beside the code (GetFunction's Code.Location);
    // empty for declared directories and for functions older than the package copy.
    std::string package_path(const Function& f) const;

private:
    void forget(const std::string& name);  // after a write of `name`; empty: everything

    core::lmdb::Env& env_;
    std::mutex cache_mutex_;
    std::map<std::string, std::optional<Function>, std::less<>> cache_;
    std::uint64_t writes_ = 0;  // a get() that raced with a write does not fill the cache
    core::lmdb::Dbi dbi_;
    core::lmdb::Dbi events_;
    core::lmdb::Dbi versions_;
    core::lmdb::Dbi aliases_;
    core::lmdb::Dbi urls_;
    std::string code_root_;
};

}  // namespace stratus::lambda
