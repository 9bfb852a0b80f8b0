#include "lambda/store.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/protocol.hpp"
#include "lambda/zip.hpp"

namespace stratus::lambda {

namespace fs = std::filesystem;

// Lambda's limit on a function's unzipped code.
constexpr std::uint64_t max_unzipped = 262144000;

FunctionStore::FunctionStore(core::lmdb::Env& env, std::string code_root)
    : env_(env), dbi_(env.open_db("lambda_functions")), events_(env.open_db("lambda_events")),
      versions_(env.open_db("lambda_versions")), aliases_(env.open_db("lambda_aliases")),
      urls_(env.open_db("lambda_urls")),
      code_root_(std::move(code_root)) {
    fs::create_directories(code_root_);
}

std::optional<Function> FunctionStore::get(const std::string& name) {
    std::uint64_t writes;
    {
        std::lock_guard lock(cache_mutex_);
        if (auto it = cache_.find(name); it != cache_.end()) return it->second;
        writes = writes_;
    }
    auto text = env_.read([&](core::lmdb::ReadTxn& txn) -> std::optional<std::string> {
        auto v = txn.get(dbi_, name);
        if (!v) return std::nullopt;
        return std::string(*v);
    });
    std::optional<Function> f;
    if (text) f = Function::from_json(*text);
    std::lock_guard lock(cache_mutex_);
    // Names that do not exist are cached too, but not without bound (callers may probe).
    if (writes == writes_ && (f || cache_.size() < 4096)) cache_.emplace(name, f);
    return f;
}

void FunctionStore::forget(const std::string& name) {
    std::lock_guard lock(cache_mutex_);
    ++writes_;
    if (name.empty())
        cache_.clear();
    else
        cache_.erase(name);
}

bool FunctionStore::create(const Function& f) {
    bool made = env_.write([&](core::lmdb::WriteTxn& txn) {
        if (txn.get(dbi_, f.name)) return false;
        txn.put(dbi_, f.name, f.to_json());
        return true;
    });
    forget(f.name);
    return made;
}

void FunctionStore::put(const Function& f) {
    env_.write([&](core::lmdb::WriteTxn& txn) { txn.put(dbi_, f.name, f.to_json()); });
    forget(f.name);
}

namespace {

// "f:0000000003": versions sort numerically under their function's prefix "f:" (no
// function name holds a ':').
std::string version_key(const std::string& name, const std::string& version) {
    return fmt::format("{}:{:0>10}", name, version);
}

// The keys and values under "prefix" in `dbi`.
template <class Txn>
std::vector<std::pair<std::string, std::string>> scan(Txn& txn, const core::lmdb::Dbi& dbi, const std::string& prefix) {
    std::vector<std::pair<std::string, std::string>> out;
    auto c = core::lmdb::Cursor::open(txn, dbi);
    for (bool ok = prefix.empty() ? c.first() : c.seek(prefix); ok && c.key().starts_with(prefix); ok = c.next())
        out.emplace_back(std::string(c.key()), std::string(c.value()));
    return out;
}

}  // namespace

bool FunctionStore::erase(const std::string& name, std::vector<Function>* versions) {
    bool gone = env_.write([&](core::lmdb::WriteTxn& txn) {
        for (auto& [k, v] : scan(txn, versions_, name + ":")) {
            if (versions) versions->push_back(Function::from_json(v));
            txn.del(versions_, k);
        }
        for (auto& [k, v] : scan(txn, aliases_, name + ":")) txn.del(aliases_, k);
        for (auto& [k, v] : scan(txn, urls_, ""))
            if (FunctionUrl::from_json(v).function == name) txn.del(urls_, k);
        return txn.del(dbi_, name);
    });
    forget({});
    return gone;
}

std::optional<Function> FunctionStore::get_version(const std::string& name, const std::string& version) {
    std::string key = name + ":" + version;
    {
        std::lock_guard lock(cache_mutex_);
        if (auto it = cache_.find(key); it != cache_.end() && it->second) return it->second;
    }
    auto text = env_.read([&](core::lmdb::ReadTxn& txn) -> std::optional<std::string> {
        auto v = txn.get(versions_, version_key(name, version));
        if (!v) return std::nullopt;
        return std::string(*v);
    });
    if (!text) return std::nullopt;
    auto f = Function::from_json(*text);
    std::lock_guard lock(cache_mutex_);
    if (cache_.size() < 4096) cache_.emplace(key, f);  // versions never change
    return f;
}

std::vector<Function> FunctionStore::versions(const std::string& name) {
    auto rows = env_.read([&](core::lmdb::ReadTxn& txn) { return scan(txn, versions_, name + ":"); });
    std::vector<Function> out;
    for (auto& [k, v] : rows) out.push_back(Function::from_json(v));
    return out;
}

bool FunctionStore::publish(const Function& latest, const Function& expected, const Function& version) {
    bool done = env_.write([&](core::lmdb::WriteTxn& txn) {
        auto cur = txn.get(dbi_, latest.name);
        if (!cur) return false;
        auto now = Function::from_json(*cur);
        if (now.revision_id != expected.revision_id || now.last_version != expected.last_version) return false;
        txn.put(versions_, version_key(version.name, version.version), version.to_json());
        txn.put(dbi_, latest.name, latest.to_json());
        return true;
    });
    forget(latest.name);
    return done;
}

bool FunctionStore::erase_version(const std::string& name, const std::string& version) {
    bool gone = env_.write([&](core::lmdb::WriteTxn& txn) { return txn.del(versions_, version_key(name, version)); });
    forget(name + ":" + version);
    return gone;
}

bool FunctionStore::code_in_use(const std::string& name, const std::string& dir, const std::string& except) {
    if (auto f = get(name); f && f->code_dir == dir) return true;
    for (auto& v : versions(name))
        if (v.version != except && v.code_dir == dir) return true;
    return false;
}

std::optional<Alias> FunctionStore::get_alias(const std::string& function, const std::string& name) {
    auto text = env_.read([&](core::lmdb::ReadTxn& txn) -> std::optional<std::string> {
        auto v = txn.get(aliases_, function + ":" + name);
        if (!v) return std::nullopt;
        return std::string(*v);
    });
    if (!text) return std::nullopt;
    return Alias::from_json(*text);
}

std::vector<Alias> FunctionStore::aliases(const std::string& function) {
    auto rows = env_.read([&](core::lmdb::ReadTxn& txn) { return scan(txn, aliases_, function + ":"); });
    std::vector<Alias> out;
    for (auto& [k, v] : rows) out.push_back(Alias::from_json(v));
    return out;
}

bool FunctionStore::create_alias(const Alias& a) {
    return env_.write([&](core::lmdb::WriteTxn& txn) {
        std::string key = a.function + ":" + a.name;
        if (txn.get(aliases_, key)) return false;
        txn.put(aliases_, key, a.to_json());
        return true;
    });
}

void FunctionStore::put_alias(const Alias& a) {
    env_.write([&](core::lmdb::WriteTxn& txn) { txn.put(aliases_, a.function + ":" + a.name, a.to_json()); });
}

bool FunctionStore::erase_alias(const std::string& function, const std::string& name) {
    return env_.write([&](core::lmdb::WriteTxn& txn) {
        for (auto& [k, v] : scan(txn, urls_, "")) {
            auto u = FunctionUrl::from_json(v);
            if (u.function == function && u.qualifier == name) txn.del(urls_, k);
        }
        return txn.del(aliases_, function + ":" + name);
    });
}

std::optional<FunctionUrl> FunctionStore::get_url(const std::string& id) {
    auto text = env_.read([&](core::lmdb::ReadTxn& txn) -> std::optional<std::string> {
        auto v = txn.get(urls_, id);
        if (!v) return std::nullopt;
        return std::string(*v);
    });
    if (!text) return std::nullopt;
    return FunctionUrl::from_json(*text);
}

std::vector<FunctionUrl> FunctionStore::urls(const std::string& function) {
    auto rows = env_.read([&](core::lmdb::ReadTxn& txn) { return scan(txn, urls_, ""); });
    std::vector<FunctionUrl> out;
    for (auto& [k, v] : rows) {
        auto u = FunctionUrl::from_json(v);
        if (u.function == function) out.push_back(std::move(u));
    }
    return out;
}

std::optional<FunctionUrl> FunctionStore::url_of(const std::string& function, const std::string& qualifier) {
    for (auto& u : urls(function))
        if (u.qualifier == qualifier) return u;
    return std::nullopt;
}

bool FunctionStore::create_url(const FunctionUrl& u) {
    return env_.write([&](core::lmdb::WriteTxn& txn) {
        for (auto& [k, v] : scan(txn, urls_, "")) {
            auto o = FunctionUrl::from_json(v);
            if (o.function == u.function && o.qualifier == u.qualifier) return false;
        }
        txn.put(urls_, u.id, u.to_json());
        return true;
    });
}

void FunctionStore::put_url(const FunctionUrl& u) {
    env_.write([&](core::lmdb::WriteTxn& txn) { txn.put(urls_, u.id, u.to_json()); });
}

bool FunctionStore::erase_url(const std::string& id) {
    return env_.write([&](core::lmdb::WriteTxn& txn) { return txn.del(urls_, id); });
}

std::vector<Function> FunctionStore::list(const std::string& marker, std::size_t max,
                                          std::optional<std::string>& next) {
    std::vector<std::string> texts;
    env_.read([&](core::lmdb::ReadTxn& txn) {
        auto c = core::lmdb::Cursor::open(txn, dbi_);
        bool ok = marker.empty() ? c.first() : c.seek(marker);
        if (ok && !marker.empty() && c.key() == marker) ok = c.next();
        for (; ok; ok = c.next()) {
            if (texts.size() == max) {
                next = texts.empty() ? std::nullopt : std::optional<std::string>(Function::from_json(texts.back()).name);
                break;
            }
            texts.emplace_back(c.value());
        }
    });
    std::vector<Function> out;
    for (auto& t : texts) out.push_back(Function::from_json(t));
    return out;
}

std::vector<Function> FunctionStore::all() {
    std::optional<std::string> next;
    return list("", SIZE_MAX, next);
}

void FunctionStore::clear() {
    for (auto& f : all()) {
        for (auto& v : versions(f.name))
            if (v.code_dir != f.code_dir) remove_code(v);
        remove_code(f);
    }
    env_.write([&](core::lmdb::WriteTxn& txn) {
        txn.clear(dbi_);
        txn.clear(events_);
        txn.clear(versions_);
        txn.clear(aliases_);
        txn.clear(urls_);
    });
    forget({});
}

void FunctionStore::put_event(const PendingEvent& e) {
    nlohmann::json j = {{"function", e.function}, {"payload", e.payload}};
    env_.write([&](core::lmdb::WriteTxn& txn) { txn.put(events_, e.request_id, j.dump()); });
}

void FunctionStore::erase_event(const std::string& request_id) {
    env_.write([&](core::lmdb::WriteTxn& txn) { txn.del(events_, request_id); });
}

std::vector<FunctionStore::PendingEvent> FunctionStore::events() {
    std::vector<PendingEvent> out;
    env_.read([&](core::lmdb::ReadTxn& txn) {
        auto c = core::lmdb::Cursor::open(txn, events_);
        for (bool ok = c.first(); ok; ok = c.next()) {
            auto j = nlohmann::json::parse(c.value(), nullptr, false);
            if (!j.is_object()) continue;
            out.push_back({std::string(c.key()), j.value("function", ""), j.value("payload", "")});
        }
    });
    return out;
}

std::string FunctionStore::unpack(const std::string& name, std::string_view zip) {
    std::string dir = (fs::path(code_root_) / name / core::random_uuid()).string();
    try {
        unzip(zip, dir, max_unzipped);
    } catch (const std::exception& e) {
        std::error_code ec;
        fs::remove_all(dir, ec);
        core::log::debug("lambda: refusing the code of {}: {}", name, e.what());
        if (std::string_view(e.what()) == "unzipped size too large")
            throw core::AwsError("InvalidParameterValueException",
                                 "Unzipped size must be smaller than 262144000 bytes", 400);
        throw core::AwsError("InvalidParameterValueException",
                             "Could not unzip uploaded file. Please check your file, then try to upload again.", 400);
    }
    // The package itself, for GetFunction's Code.Location (outside the code directory: the
    // handler never sees it).
    std::ofstream out(dir + ".zip", std::ios::binary | std::ios::trunc);
    out.write(zip.data(), static_cast<std::streamsize>(zip.size()));
    if (!out.flush()) {
        std::error_code ec;
        fs::remove(dir + ".zip", ec);
        core::log::warn("lambda: cannot keep the package of {} (GetFunction will not offer it)", name);
    }
    return dir;
}

std::string FunctionStore::snapshot(const std::string& name, const std::string& dir) {
    std::string copy = (fs::path(code_root_) / name / core::random_uuid()).string();
    std::error_code ec;
    fs::create_directories(copy, ec);
    if (!ec) fs::copy(dir, copy, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    if (ec) {
        std::string why = ec.message();
        fs::remove_all(copy, ec);
        throw core::AwsError("InvalidParameterValueException",
                             fmt::format("Cannot copy the code directory {} for the new version: {}", dir, why), 400);
    }
    return copy;
}

std::string FunctionStore::package_path(const Function& f) const {
    if (f.external_code || f.code_dir.empty() || !f.code_dir.starts_with(code_root_ + "/")) return {};
    std::error_code ec;
    return fs::exists(f.code_dir + ".zip", ec) ? f.code_dir + ".zip" : std::string();
}

void FunctionStore::remove_code(const Function& f) {
    if (f.external_code || f.code_dir.empty()) return;
    // Only directories we made, under our root.
    if (!f.code_dir.starts_with(code_root_ + "/")) return;
    std::error_code ec;
    fs::remove_all(f.code_dir, ec);
    fs::remove(f.code_dir + ".zip", ec);
}

}  // namespace stratus::lambda
