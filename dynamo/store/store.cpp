#include "dynamo/store/store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/crypto.hpp"

namespace stratus::dynamo {

namespace lmdb = core::lmdb;

namespace {

void append_u32be(std::string& out, std::uint32_t v) {
    const char b[4] = {static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xFF),
                       static_cast<char>((v >> 8) & 0xFF), static_cast<char>(v & 0xFF)};
    out.append(b, 4);
}

std::string u32be(std::uint32_t v) {
    std::string s;
    append_u32be(s, v);
    return s;
}

std::uint32_t read_u32be(std::string_view s) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4 && i < s.size(); ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
    return v;
}

std::string i64be(std::int64_t v) {
    auto u = static_cast<std::uint64_t>(v);
    std::string s(8, '\0');
    for (int i = 7; i >= 0; --i) {
        s[static_cast<std::size_t>(i)] = static_cast<char>(u & 0xFF);
        u >>= 8;
    }
    return s;
}

std::int64_t read_i64be(std::string_view s) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8 && i < s.size(); ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
    return static_cast<std::int64_t>(v);
}

// The key attribute's value, if the item has it with the key's type.
const AttributeValue* key_value(const Item& item, const KeyElement& k) {
    auto it = item.find(k.name);
    if (it == item.end() || it->second.type != k.type) return nullptr;
    return &it->second;
}

// SHA-256 of `bytes`, first 128 bits as 32 hex characters: names a long key part.
std::string digest(std::string_view bytes) { return core::crypto::sha256_hex(bytes).substr(0, 32); }

std::uint64_t next_store_serial() {
    static std::atomic<std::uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

Store::Store(lmdb::Env& env)
    : env_(env), serial_(next_store_serial()), catalog_(env.open_db("ddb_catalog")), items_(env.open_db("ddb_items")),
      index_(env.open_db("ddb_index")), meta_(env.open_db("ddb_meta")), ttl_(env.open_db("ddb_ttl")),
      streams_(env, meta_) {
    // Data dirs written before format 2 (long key parts, TTL index): rewrite their keys
    // and rebuild their indexes once.
    env_.write([&](lmdb::WriteTxn& txn) {
        if (txn.get(meta_, "format")) return;
        for (auto& name : table_names(txn))
            if (auto t = find_table(txn, name)) upgrade_table(txn, *t);
        txn.put(meta_, "format", "2");
    });
    // Tables created with a StreamSpecification before streams were recorded have none:
    // they get their stream now.
    env_.write([&](lmdb::WriteTxn& txn) {
        for (auto& name : table_names(txn)) {
            auto t = find_table(txn, name);
            if (!t || !t->stream_enabled || t->stream_id != 0) continue;
            auto view = streams::parse_view_type(t->stream_view_type);
            if (!view) continue;
            streams_.create(txn, *t, *view, allocate_id(txn));
            save_table(txn, *t);
        }
    });
}

void Store::upgrade_table(lmdb::WriteTxn& txn, const TableDef& table) {
    std::string prefix = u32be(table.id);
    std::vector<std::pair<std::string, Item>> moved;
    {
        auto c = lmdb::Cursor::open(txn, items_);
        for (bool ok = c.seek(prefix); ok && c.key().starts_with(prefix); ok = c.next()) {
            Item item = decode_item(c.value());
            if (item_key(table, item) != c.key()) moved.emplace_back(std::string(c.key()), std::move(item));
        }
    }
    for (auto& [old_key, item] : moved) {
        txn.del(items_, old_key);
        txn.put(items_, item_key(table, item), encode_item(item));
    }
    for (auto& index : table.indexes) {
        erase_prefix(txn, index_, u32be(index.id));
        drop_stats(txn, index.id);
        backfill_index(txn, table, index);
    }
    rebuild_ttl(txn, table);
}

std::string Store::stored_part(const AttributeValue& v, std::size_t budget) {
    std::string out;
    append_stored_part(out, v, budget);
    return out;
}

void Store::append_stored_part(std::string& out, const AttributeValue& v, std::size_t budget) {
    const std::size_t start = out.size();
    append_key_part(out, v);
    if (out.size() - start <= budget) return;
    // Long form: E[0:c] 00 01 digest(E). Only S and B encodings get this long (escape
    // 00 -> 00 FF, terminator 00 00), so "00 01" never occurs in a normal encoding and the
    // long form is never a prefix of another part, nor has one. c avoids ending inside an
    // escape pair.
    std::string e = out.substr(start);
    std::size_t c = budget - long_part_extra;
    if (e[c - 1] == '\0') --c;  // before c, every 00 starts an escape pair (00 FF)
    out.resize(start + c);
    out += '\0';
    out += '\x01';
    out += digest(e);
}

std::string Store::partition_prefix(std::uint32_t id, const AttributeValue& hash) {
    std::string k;
    k.reserve(32);
    append_u32be(k, id);
    append_stored_part(k, hash, hash_part_budget);
    return k;
}

std::size_t Store::range_budget(std::size_t prefix_size, bool index) {
    return max_key - prefix_size - (index ? suffix_reserve : 0);
}

std::optional<TableDef> Store::find_table(const lmdb::Txn& txn, std::string_view name) const {
    auto def = table(txn, name);
    if (!def) return std::nullopt;
    return *def;
}

std::shared_ptr<const TableDef> Store::table(const lmdb::Txn& txn, std::string_view name) const {
    // A read transaction sees one committed snapshot, named by its id: the definition this
    // thread found last in the same snapshot is still the one, with no catalog lookup (the
    // largest fixed cost of a GetItem after the item's own lookup). A write transaction can
    // change the catalog as it goes, and an aborted one's id is used again: never memoized.
    struct Last {
        std::uint64_t store = 0, snapshot = 0;
        std::string name;
        std::shared_ptr<const TableDef> def;
    };
    thread_local Last last;
    const bool memo = txn.read_only();
    const std::uint64_t snapshot = memo ? txn.id() : 0;
    if (memo && last.def && last.store == serial_ && last.snapshot == snapshot && last.name == name) return last.def;
    auto v = txn.get(catalog_, name);
    if (!v) {
        // A dropped table's parsed definition goes too: the cache holds only live tables.
        std::lock_guard lock(cache_mutex_);
        if (auto it = cache_.find(name); it != cache_.end()) cache_.erase(it);
        return nullptr;
    }
    std::shared_ptr<const TableDef> def;
    {
        std::lock_guard lock(cache_mutex_);
        auto it = cache_.find(name);
        if (it != cache_.end() && it->second.first == *v) def = it->second.second;
    }
    if (!def) {
        def = std::make_shared<const TableDef>(TableDef::from_catalog(nlohmann::json::parse(*v)));
        std::lock_guard lock(cache_mutex_);
        cache_[std::string(name)] = {std::string(*v), def};
    }
    if (memo) {
        last.store = serial_;
        last.snapshot = snapshot;
        last.name.assign(name);
        last.def = def;
    }
    return def;
}

std::vector<std::string> Store::table_names(const lmdb::Txn& txn) const {
    std::vector<std::string> names;
    auto c = lmdb::Cursor::open(txn, catalog_);
    for (bool ok = c.first(); ok; ok = c.next()) names.emplace_back(c.key());
    return names;
}

void Store::save_table(lmdb::WriteTxn& txn, const TableDef& table) {
    txn.put(catalog_, table.name, table.to_catalog().dump());
}

std::uint32_t Store::allocate_id(lmdb::WriteTxn& txn) {
    auto v = txn.get(meta_, "next_id");
    std::uint32_t id = v ? read_u32be(*v) : 1;
    txn.put(meta_, "next_id", u32be(id + 1));
    return id;
}

std::size_t Store::erase_prefix(lmdb::WriteTxn& txn, lmdb::Dbi dbi, const std::string& prefix, std::size_t limit) {
    std::size_t n = 0;
    auto c = lmdb::Cursor::open(txn, dbi);
    for (bool ok = c.seek(prefix); ok && n < limit && c.key().starts_with(prefix); ++n) {
        c.del();
        ok = c.next();
    }
    return n;
}

namespace {
// ddb_meta keys of pending long work (maintenance_step):
//   "bf" + u32be(index id) -> table name + '\0' + the last item key backfilled (none yet: empty)
//   "purge" + db + u32be(id) -> "" : entries of id left to erase in db ('i' items, 'x' index, 't' ttl)
//   "ttlbuild" + u32be(table id) -> table name + '\0' + TTL attribute + '\0' + the last item key done
constexpr std::string_view backfill_prefix = "bf";
constexpr std::string_view purge_prefix = "purge";
constexpr std::string_view ttl_build_prefix = "ttlbuild";
constexpr std::string_view pending_prefixes[] = {backfill_prefix, purge_prefix, ttl_build_prefix};
}  // namespace

void Store::schedule_purge(lmdb::WriteTxn& txn, char db, std::uint32_t id) {
    std::string k(purge_prefix);
    k += db;
    k += u32be(id);
    txn.put(meta_, k, "");
}

void Store::drop_table(lmdb::WriteTxn& txn, const TableDef& table) {
    schedule_purge(txn, 'i', table.id);
    schedule_purge(txn, 't', table.id);
    drop_stats(txn, table.id);
    for (auto& index : table.indexes) drop_index(txn, index);
    TableDef copy = table;
    streams_.disable(txn, copy);
    txn.del(catalog_, table.name);
}

void Store::drop_index(lmdb::WriteTxn& txn, const IndexDef& index) {
    schedule_purge(txn, 'x', index.id);
    drop_stats(txn, index.id);
    txn.del(meta_, std::string(backfill_prefix) + u32be(index.id));
}

void Store::schedule_backfill(lmdb::WriteTxn& txn, const TableDef& table, const IndexDef& index) {
    txn.put(meta_, std::string(backfill_prefix) + u32be(index.id), table.name + '\0');
}

bool Store::maintenance_pending(const lmdb::Txn& txn) const {
    auto c = lmdb::Cursor::open(txn, meta_);
    for (std::string_view p : pending_prefixes)
        if (c.seek(p) && c.key().starts_with(p)) return true;
    return false;
}

bool Store::maintenance_step(lmdb::WriteTxn& txn, std::size_t budget) {
    std::string key, value;
    {
        auto c = lmdb::Cursor::open(txn, meta_);
        for (std::string_view p : pending_prefixes)
            if (c.seek(p) && c.key().starts_with(p)) {
                key = c.key();
                value = c.value();
                break;
            }
    }
    if (key.empty()) return false;
    if (key.starts_with(backfill_prefix)) {
        backfill_step(txn, key, value, budget);
        return true;
    }
    if (key.starts_with(ttl_build_prefix)) {
        ttl_build_step(txn, key, value, budget);
        return true;
    }
    char db = key[purge_prefix.size()];
    std::string id = key.substr(purge_prefix.size() + 1);
    lmdb::Dbi dbi = db == 'i' ? items_ : db == 'x' ? index_ : ttl_;
    if (erase_prefix(txn, dbi, id, budget) < budget) txn.del(meta_, key);
    return true;
}

void Store::backfill_step(lmdb::WriteTxn& txn, std::string_view meta_key, std::string_view state, std::size_t budget) {
    std::uint32_t index_id = read_u32be(meta_key.substr(backfill_prefix.size()));
    auto nul = state.find('\0');
    std::string name(state.substr(0, nul));
    std::string last = nul == std::string_view::npos ? std::string() : std::string(state.substr(nul + 1));
    auto table = find_table(txn, name);
    auto index = table ? std::find_if(table->indexes.begin(), table->indexes.end(),
                                      [&](const IndexDef& i) { return i.id == index_id && i.backfilling; })
                       : std::vector<IndexDef>::iterator{};
    if (!table || index == table->indexes.end()) {  // dropped meanwhile
        txn.del(meta_, meta_key);
        return;
    }
    std::string prefix = u32be(table->id);
    std::vector<std::pair<std::string, Item>> items;
    bool more = false;
    {
        auto c = lmdb::Cursor::open(txn, items_);
        bool ok = c.seek(last.empty() ? prefix : last);
        if (ok && !last.empty() && c.key() == last) ok = c.next();
        for (; ok && c.key().starts_with(prefix); ok = c.next()) {
            if (items.size() == budget) {
                more = true;
                break;
            }
            items.emplace_back(std::string(c.key()), decode_item(c.value()));
        }
    }
    TableDef only = *table;
    only.indexes = {*index};
    for (auto& [k, item] : items) {
        // Items written since the index was declared already have their entry (writes
        // maintain every index of the definition); putting it again would count it twice.
        if (!indexable(*index, item) || !project_for_index(only, *index, item)) continue;
        if (txn.get(index_, entry_key(only, &*index, item))) continue;
        put_index_entries(txn, only, item);
    }
    if (more) {
        txn.put(meta_, meta_key, name + '\0' + items.back().first);
    } else {
        index->backfilling = false;
        save_table(txn, *table);
        txn.del(meta_, meta_key);
    }
}

bool Store::indexable(const IndexDef& index, const Item& item) {
    for (const KeyElement* k : {&index.key.hash, index.key.range ? &*index.key.range : nullptr}) {
        if (!k) continue;
        auto it = item.find(k->name);
        if (it == item.end() || it->second.type != k->type) continue;
        const AttributeValue& v = it->second;
        if ((v.type == Type::S || v.type == Type::B) && v.s.empty()) return false;
        if (value_size(v) > (k == &index.key.hash ? 2048u : 1024u)) return false;
    }
    return true;
}

std::string Store::id_prefix(std::uint32_t id) const { return u32be(id); }

std::string Store::item_key(const TableDef& table, const Item& key) const {
    auto hash = key_value(key, table.key.hash);
    if (!hash) throw core::AwsError::validation("The provided key element does not match the schema");
    const AttributeValue* range = nullptr;
    if (table.key.range) {
        range = key_value(key, *table.key.range);
        if (!range) throw core::AwsError::validation("The provided key element does not match the schema");
    }
    return item_key(table, *hash, range);
}

std::string Store::item_key(const TableDef& table, const AttributeValue& hash, const AttributeValue* range) const {
    std::string k = partition_prefix(table.id, hash);
    if (range) append_stored_part(k, *range, range_budget(k.size(), false));
    return k;
}

std::string Store::entry_key(const TableDef& table, const IndexDef* index, const Item& item) const {
    if (!index) return item_key(table, item);
    auto h = key_value(item, index->key.hash);
    if (!h) throw core::AwsError::validation("The provided starting key is invalid");
    std::string k = partition_prefix(index->id, *h);
    if (index->key.range) {
        auto r = key_value(item, *index->key.range);
        if (!r) throw core::AwsError::validation("The provided starting key is invalid");
        append_stored_part(k, *r, range_budget(k.size(), true));
    }
    // The table key makes the entry unique; when it does not fit, its digest does.
    std::string suffix = item_key(table, item).substr(4);
    k += k.size() + suffix.size() <= max_key ? suffix : digest(suffix);
    return k;
}

std::optional<Item> Store::get(const lmdb::Txn& txn, const TableDef& table, const Item& key) const {
    auto v = get_encoded(txn, table, key);
    if (!v) return std::nullopt;
    return decode_item(*v);
}

std::optional<std::string_view> Store::get_encoded(const lmdb::Txn& txn, const TableDef& table,
                                                   const Item& key) const {
    return txn.get(items_, item_key(table, key));
}

std::optional<std::string_view> Store::get_encoded(const lmdb::Txn& txn, const TableDef& table,
                                                   const AttributeValue& hash, const AttributeValue* range) const {
    return txn.get(items_, item_key(table, hash, range));
}

std::optional<Item> Store::project_for_index(const TableDef& table, const IndexDef& index, const Item& item) {
    if (!key_value(item, index.key.hash)) return std::nullopt;
    if (index.key.range && !key_value(item, *index.key.range)) return std::nullopt;
    if (index.projection == ProjectionType::all) return item;
    Item out;
    auto copy = [&](const std::string& name) {
        auto it = item.find(name);
        if (it != item.end()) out.insert(*it);
    };
    copy(table.key.hash.name);
    if (table.key.range) copy(table.key.range->name);
    copy(index.key.hash.name);
    if (index.key.range) copy(index.key.range->name);
    if (index.projection == ProjectionType::include)
        for (auto& n : index.non_key_attributes) copy(n);
    return out;
}

void Store::put_index_entries(lmdb::WriteTxn& txn, const TableDef& table, const Item& item) {
    for (auto& index : table.indexes) {
        auto projected = project_for_index(table, index, item);
        if (!projected) continue;
        std::string k = entry_key(table, &index, item);
        std::string v = encode_item(*projected);
        txn.put(index_, k, v);
        add_stats(txn, index.id, 1, static_cast<std::int64_t>(item_size(*projected)));
    }
}

void Store::erase_index_entries(lmdb::WriteTxn& txn, const TableDef& table, const Item& item) {
    for (auto& index : table.indexes) {
        auto projected = project_for_index(table, index, item);
        if (!projected) continue;
        if (txn.del(index_, entry_key(table, &index, item)))
            add_stats(txn, index.id, -1, -static_cast<std::int64_t>(item_size(*projected)));
    }
}

void Store::put(lmdb::WriteTxn& txn, const TableDef& table, const Item& item, const std::optional<Item>& old) {
    std::string k = item_key(table, item);
    // One update of the table's statistics: a replaced item changes its size only.
    std::int64_t count = 1, size = static_cast<std::int64_t>(item_size(item));
    if (old) {
        erase_index_entries(txn, table, *old);
        count = 0;
        size -= static_cast<std::int64_t>(item_size(*old));
        if (auto tk = ttl_key(table, *old, k)) txn.del(ttl_, *tk);
    }
    std::string bytes = encode_item(item);
    txn.put(items_, k, bytes);
    add_stats(txn, table.id, count, size);
    put_index_entries(txn, table, item);
    if (auto tk = ttl_key(table, item, k)) txn.put(ttl_, *tk, k);
    streams_.append(txn, table, old ? &*old : nullptr, &item, bytes, false);
}

void Store::erase(lmdb::WriteTxn& txn, const TableDef& table, const Item& old, bool by_service) {
    std::string k = item_key(table, old);
    if (!txn.del(items_, k)) return;
    add_stats(txn, table.id, -1, -static_cast<std::int64_t>(item_size(old)));
    erase_index_entries(txn, table, old);
    if (auto tk = ttl_key(table, old, k)) txn.del(ttl_, *tk);
    streams_.append(txn, table, &old, nullptr, {}, by_service);
}

std::optional<std::string> Store::ttl_key(const TableDef& table, const Item& item, std::string_view key) const {
    if (table.ttl_attribute.empty()) return std::nullopt;
    auto it = item.find(table.ttl_attribute);
    if (it == item.end() || it->second.type != Type::N) return std::nullopt;
    std::string k = u32be(table.id);
    k += encode_key_part(it->second);
    k += digest(key);
    return k;
}

void Store::schedule_ttl_build(lmdb::WriteTxn& txn, const TableDef& table) {
    erase_prefix(txn, ttl_, u32be(table.id));
    txn.put(meta_, std::string(ttl_build_prefix) + u32be(table.id), table.name + '\0' + table.ttl_attribute + '\0');
}

void Store::ttl_build_step(lmdb::WriteTxn& txn, std::string_view meta_key, std::string_view state, std::size_t budget) {
    std::uint32_t id = read_u32be(meta_key.substr(ttl_build_prefix.size()));
    auto nul = state.find('\0'), nul2 = state.find('\0', nul + 1);
    std::string name(state.substr(0, nul));
    std::string attribute(state.substr(nul + 1, nul2 - nul - 1));
    std::string last(state.substr(nul2 + 1));
    auto table = find_table(txn, name);
    if (!table || table->id != id || table->ttl_attribute != attribute) {  // dropped or changed meanwhile
        txn.del(meta_, meta_key);
        return;
    }
    std::string prefix = u32be(id);
    std::vector<std::pair<std::string, std::string>> entries;
    std::string at;
    bool more = false;
    {
        auto c = lmdb::Cursor::open(txn, items_);
        bool ok = c.seek(last.empty() ? prefix : last);
        if (ok && !last.empty() && c.key() == last) ok = c.next();
        for (std::size_t n = 0; ok && c.key().starts_with(prefix); ok = c.next(), ++n) {
            if (n == budget) {
                more = true;
                break;
            }
            at = c.key();
            // An entry written meanwhile by a write is the same key and value: putting it
            // again changes nothing.
            if (auto tk = ttl_key(*table, decode_item(c.value()), c.key())) entries.emplace_back(std::move(*tk), at);
        }
    }
    for (auto& [tk, k] : entries) txn.put(ttl_, tk, k);
    if (more) txn.put(meta_, meta_key, name + '\0' + attribute + '\0' + at);
    else txn.del(meta_, meta_key);
}

void Store::rebuild_ttl(lmdb::WriteTxn& txn, const TableDef& table) {
    std::string prefix = u32be(table.id);
    txn.del(meta_, std::string(ttl_build_prefix) + prefix);
    erase_prefix(txn, ttl_, prefix);
    if (table.ttl_attribute.empty()) return;
    std::vector<std::pair<std::string, std::string>> entries;
    {
        auto c = lmdb::Cursor::open(txn, items_);
        for (bool ok = c.seek(prefix); ok && c.key().starts_with(prefix); ok = c.next())
            if (auto tk = ttl_key(table, decode_item(c.value()), c.key())) entries.emplace_back(std::move(*tk), c.key());
    }
    for (auto& [tk, k] : entries) txn.put(ttl_, tk, k);
}

std::vector<std::string> Store::ttl_due(const lmdb::Txn& txn, const TableDef& table, const Number& from,
                                        const Number& to, std::size_t limit) const {
    std::vector<std::string> keys;
    std::string prefix = u32be(table.id);
    auto c = lmdb::Cursor::open(txn, ttl_);
    for (bool ok = c.seek(prefix + encode_key_part(AttributeValue::number(from)));
         ok && keys.size() < limit && c.key().starts_with(prefix); ok = c.next()) {
        std::string_view rest = c.key().substr(prefix.size());
        if (to < consume_key_part(Type::N, rest).n) break;
        keys.emplace_back(c.value());
    }
    return keys;
}

std::optional<Item> Store::get_by_item_key(const lmdb::Txn& txn, std::string_view item_key) const {
    auto v = txn.get(items_, item_key);
    if (!v) return std::nullopt;
    return decode_item(*v);
}

void Store::backfill_index(lmdb::WriteTxn& txn, const TableDef& table, const IndexDef& index) {
    TableDef only = table;
    only.indexes = {index};
    std::string prefix = u32be(table.id);
    std::vector<Item> items;
    {
        auto c = lmdb::Cursor::open(txn, items_);
        for (bool ok = c.seek(prefix); ok && c.key().starts_with(prefix); ok = c.next())
            items.push_back(decode_item(c.value()));
    }
    // Items whose new index key is empty or longer than a key may be are left out of the
    // index (as AWS's backfill does), as writes could never have stored them there.
    for (auto& item : items)
        if (indexable(index, item)) put_index_entries(txn, only, item);
}

Stats Store::stored_stats(const lmdb::Txn& txn, std::uint32_t id) const {
    auto v = txn.get(meta_, "stats" + u32be(id));
    if (!v || v->size() < 16) return {};
    return {read_i64be(v->substr(0, 8)), read_i64be(v->substr(8, 8))};
}

Stats Store::stats(const lmdb::Txn& txn, std::uint32_t id) const {
    Stats s = stored_stats(txn, id);
    // A write transaction sees its own changes not yet stored.
    if (txn.write_serial() != 0 && txn.write_serial() == pending_stats_txn_)
        if (auto it = pending_stats_.find(id); it != pending_stats_.end()) {
            s.count += it->second.count;
            s.bytes += it->second.bytes;
        }
    return s;
}

void Store::add_stats(lmdb::WriteTxn& txn, std::uint32_t id, std::int64_t count, std::int64_t bytes) {
    if (pending_stats_txn_ != txn.write_serial()) {
        // The first change in this transaction (what an aborted one left is dropped).
        pending_stats_txn_ = txn.write_serial();
        pending_stats_.clear();
        txn.before_commit([this](lmdb::WriteTxn& t) { write_stats(t); });
    }
    Stats& s = pending_stats_[id];
    s.count += count;
    s.bytes += bytes;
}

void Store::write_stats(lmdb::WriteTxn& txn) {
    for (const auto& [id, change] : pending_stats_) {
        if (change.count == 0 && change.bytes == 0) continue;
        Stats s = stored_stats(txn, id);
        s.count += change.count;
        s.bytes += change.bytes;
        txn.put(meta_, "stats" + u32be(id), i64be(s.count) + i64be(s.bytes));
    }
    pending_stats_.clear();
}

void Store::drop_stats(lmdb::WriteTxn& txn, std::uint32_t id) {
    txn.del(meta_, "stats" + u32be(id));
    if (pending_stats_txn_ == txn.write_serial()) pending_stats_.erase(id);
}

std::string Store::successor(std::string prefix) {
    while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xFF) prefix.pop_back();
    if (!prefix.empty()) prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
    return prefix;
}

void Store::scan(const lmdb::Txn& txn, const Range& range, const std::function<bool(Item&&)>& visit) const {
    auto c = lmdb::Cursor::open(txn, range.index ? index_ : items_);
    const std::string& lower = range.lower.empty() ? range.prefix : range.lower;
    std::string upper = range.upper.empty() ? successor(range.prefix) : range.upper;
    bool ok;
    if (range.forward) {
        ok = c.seek(lower);
        if (ok && range.exclusive_start && c.key() <= *range.exclusive_start) {
            ok = c.seek(*range.exclusive_start);
            if (ok && c.key() == *range.exclusive_start) ok = c.next();
        }
    } else {
        ok = upper.empty() ? c.last() : c.seek_lt(upper);
        if (ok && range.exclusive_start && c.key() >= *range.exclusive_start) ok = c.seek_lt(*range.exclusive_start);
    }
    while (ok) {
        std::string_view k = c.key();
        if (!k.starts_with(range.prefix)) break;
        if (range.forward ? (!upper.empty() && k >= upper) : (k < lower)) break;
        if (!visit(decode_item(c.value()))) break;
        ok = range.forward ? c.next() : c.prev();
    }
}

void Store::reset(lmdb::WriteTxn& txn) {
    if (pending_stats_txn_ == txn.write_serial()) pending_stats_.clear();
    txn.clear(catalog_);
    txn.clear(items_);
    txn.clear(index_);
    txn.clear(ttl_);
    streams_.reset(txn);
    // Ids and stream sequence numbers are not reused even across resets, so clear only the
    // statistics.
    std::string next, seq;
    if (auto v = txn.get(meta_, "next_id")) next = std::string(*v);
    if (auto v = txn.get(meta_, "stream_seq")) seq = std::string(*v);
    txn.clear(meta_);
    if (!next.empty()) txn.put(meta_, "next_id", next);
    if (!seq.empty()) txn.put(meta_, "stream_seq", seq);
    txn.put(meta_, "format", "2");
}

}  // namespace stratus::dynamo
