// TTL: items whose TTL attribute (a number, epoch seconds) is in the past are deleted by
// the service. AWS takes up to a few days; stratus sweeps every second so tests see it.
// Like AWS, values more than five years in the past are ignored (they are taken to be
// mistakes, e.g. milliseconds), and so are non-number values.
//
// The store keeps a TTL index (ddb_ttl: table, expiry, item), so a sweep reads only the
// entries that are due, however large the table.
#include <nlohmann/json.hpp>

#include "dynamo/ops/ops.hpp"

namespace stratus::dynamo {

namespace lmdb = core::lmdb;

namespace {
constexpr double five_years = 5 * 365.25 * 24 * 3600;
// Items deleted per write transaction: keeps each one short so writers are not held up.
constexpr std::size_t batch = 256;
}

std::size_t sweep_expired(Context& ctx, double now) {
    Number now_n = Number::parse(std::to_string(static_cast<std::int64_t>(now)));
    Number oldest = Number::parse(std::to_string(static_cast<std::int64_t>(now - five_years)));
    std::vector<std::string> tables = ctx.store.env().read([&](lmdb::ReadTxn& txn) {
        std::vector<std::string> names;
        for (auto& name : ctx.store.table_names(txn))
            if (auto t = ctx.store.find_table(txn, name); t && !t->ttl_attribute.empty()) names.push_back(name);
        return names;
    });
    std::size_t deleted = 0;
    for (auto& name : tables) {
        for (;;) {
            // Read, delete and re-check in one write transaction: an item rewritten since
            // it became due is judged by its current value.
            std::size_t n = ctx.store.env().write([&](lmdb::WriteTxn& txn) -> std::size_t {
                auto t = ctx.store.find_table(txn, name);
                if (!t || t->ttl_attribute.empty()) return 0;
                std::size_t done = 0;
                for (auto& key : ctx.store.ttl_due(txn, *t, oldest, now_n, batch)) {
                    auto item = ctx.store.get_by_item_key(txn, key);
                    if (!item) continue;
                    auto it = item->find(t->ttl_attribute);
                    if (it == item->end() || it->second.type != Type::N || now_n < it->second.n ||
                        it->second.n < oldest)
                        continue;
                    ctx.store.erase(txn, *t, *item, true);
                    ++done;
                }
                return done;
            });
            deleted += n;
            if (n < batch) break;
        }
    }
    return deleted;
}

}  // namespace stratus::dynamo
