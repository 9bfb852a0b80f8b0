// TTL: items whose TTL attribute (a number, epoch seconds) is in the past are deleted by
// the service. AWS takes up to a few days; stratus sweeps every second so tests see it.
// Like AWS, values more than five years in the past are ignored (they are taken to be
// mistakes, e.g. milliseconds), and so are non-number values.
//
// Known gap: each sweep reads every item of every table with TTL enabled; fine for
// development-sized tables, costly for millions of items (a TTL index would fix it).
#include <nlohmann/json.hpp>

#include "dynamo/ops/ops.hpp"

namespace stratus::dynamo {

namespace lmdb = core::lmdb;

namespace {
constexpr double five_years = 5 * 365.25 * 24 * 3600;
}

std::size_t sweep_expired(Context& ctx, double now) {
    struct Expired {
        std::string table;
        Item key;
    };
    std::vector<Expired> expired;
    Number now_n = Number::parse(std::to_string(static_cast<std::int64_t>(now)));
    Number oldest = Number::parse(std::to_string(static_cast<std::int64_t>(now - five_years)));
    ctx.store.env().read([&](lmdb::ReadTxn& txn) {
        for (auto& name : ctx.store.table_names(txn)) {
            auto t = ctx.store.find_table(txn, name);
            if (!t || t->ttl_attribute.empty()) continue;
            Store::Range range;
            range.prefix = ctx.store.id_prefix(t->id);
            ctx.store.scan(txn, range, [&](Item&& item) {
                auto it = item.find(t->ttl_attribute);
                if (it != item.end() && it->second.type == Type::N && it->second.n <= now_n && it->second.n >= oldest)
                    expired.push_back({t->name, key_of(item, t->key)});
                return true;
            });
        }
    });
    std::size_t deleted = 0;
    for (auto& e : expired) {
        // One short write transaction per item, re-checked: the item may have changed
        // since the read.
        deleted += ctx.store.env().write([&](lmdb::WriteTxn& txn) -> std::size_t {
            auto t = ctx.store.find_table(txn, e.table);
            if (!t || t->ttl_attribute.empty()) return 0;
            auto item = ctx.store.get(txn, *t, e.key);
            if (!item) return 0;
            auto it = item->find(t->ttl_attribute);
            if (it == item->end() || it->second.type != Type::N || !(it->second.n <= now_n) || it->second.n < oldest)
                return 0;
            ctx.store.erase(txn, *t, *item);
            return 1;
        });
    }
    return deleted;
}

}  // namespace stratus::dynamo
