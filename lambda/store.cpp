#include "lambda/store.hpp"

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

bool FunctionStore::erase(const std::string& name) {
    bool gone = env_.write([&](core::lmdb::WriteTxn& txn) { return txn.del(dbi_, name); });
    forget(name);
    return gone;
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
    for (auto& f : all()) remove_code(f);
    env_.write([&](core::lmdb::WriteTxn& txn) {
        txn.clear(dbi_);
        txn.clear(events_);
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
