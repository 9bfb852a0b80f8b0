#include "dynamo/model/table.hpp"

#include <nlohmann/json.hpp>

namespace stratus::dynamo {

namespace {

using json = nlohmann::json;

Type type_from_name(const std::string& t) {
    if (t == "N") return Type::N;
    if (t == "B") return Type::B;
    return Type::S;
}

json key_to_json(const KeySchema& k) {
    json j = {{"hash", {k.hash.name, std::string(type_name(k.hash.type))}}};
    if (k.range) j["range"] = {k.range->name, std::string(type_name(k.range->type))};
    return j;
}

KeySchema key_from_json(const json& j) {
    KeySchema k;
    k.hash = {j.at("hash").at(0).get<std::string>(), type_from_name(j.at("hash").at(1).get<std::string>())};
    if (j.contains("range"))
        k.range = KeyElement{j["range"].at(0).get<std::string>(), type_from_name(j["range"].at(1).get<std::string>())};
    return k;
}

const char* projection_name(ProjectionType p) {
    switch (p) {
        case ProjectionType::all: return "ALL";
        case ProjectionType::keys_only: return "KEYS_ONLY";
        case ProjectionType::include: return "INCLUDE";
    }
    return "ALL";
}

ProjectionType projection_from(const std::string& s) {
    if (s == "KEYS_ONLY") return ProjectionType::keys_only;
    if (s == "INCLUDE") return ProjectionType::include;
    return ProjectionType::all;
}

}  // namespace

const IndexDef* TableDef::index(std::string_view index_name) const {
    for (auto& i : indexes)
        if (i.name == index_name) return &i;
    return nullptr;
}

std::optional<Type> TableDef::key_attribute_type(std::string_view attr) const {
    auto check = [&](const KeySchema& k) -> std::optional<Type> {
        if (k.hash.name == attr) return k.hash.type;
        if (k.range && k.range->name == attr) return k.range->type;
        return std::nullopt;
    };
    if (auto t = check(key)) return t;
    for (auto& i : indexes)
        if (auto t = check(i.key)) return t;
    return std::nullopt;
}

json TableDef::to_catalog() const {
    json attrs = json::array();
    for (auto& a : attribute_definitions) attrs.push_back({a.name, std::string(type_name(a.type))});
    json idx = json::array();
    for (auto& i : indexes) {
        idx.push_back({{"name", i.name},
                       {"global", i.global},
                       {"id", i.id},
                       {"key", key_to_json(i.key)},
                       {"projection", projection_name(i.projection)},
                       {"non_key", i.non_key_attributes},
                       {"rcu", i.read_capacity},
                       {"wcu", i.write_capacity},
                       {"arn", i.arn}});
        if (i.backfilling) idx.back()["backfilling"] = true;
    }
    json tag_list = json::array();
    for (auto& [k, v] : tags) tag_list.push_back({k, v});
    return {{"format", 1},
            {"name", name},
            {"id", id},
            {"table_id", table_id},
            {"arn", arn},
            {"key", key_to_json(key)},
            {"attributes", attrs},
            {"indexes", idx},
            {"pay_per_request", pay_per_request},
            {"rcu", read_capacity},
            {"wcu", write_capacity},
            {"created", created},
            {"billing_changed", billing_changed},
            {"table_class", table_class},
            {"deletion_protection", deletion_protection},
            {"tags", tag_list},
            {"ttl_attribute", ttl_attribute},
            {"pitr", pitr},
            {"stream_enabled", stream_enabled},
            {"stream_view_type", stream_view_type},
            {"stream_label", stream_label},
            {"stream_id", stream_id}};
}

TableDef TableDef::from_catalog(const json& j) {
    TableDef t;
    t.name = j.at("name").get<std::string>();
    t.id = j.at("id").get<std::uint32_t>();
    t.table_id = j.value("table_id", "");
    t.arn = j.value("arn", "");
    t.key = key_from_json(j.at("key"));
    for (auto& a : j.at("attributes"))
        t.attribute_definitions.push_back({a.at(0).get<std::string>(), type_from_name(a.at(1).get<std::string>())});
    for (auto& i : j.at("indexes")) {
        IndexDef d;
        d.name = i.at("name").get<std::string>();
        d.global = i.at("global").get<bool>();
        d.id = i.at("id").get<std::uint32_t>();
        d.key = key_from_json(i.at("key"));
        d.projection = projection_from(i.at("projection").get<std::string>());
        d.non_key_attributes = i.value("non_key", std::vector<std::string>{});
        d.read_capacity = i.value("rcu", std::int64_t{0});
        d.write_capacity = i.value("wcu", std::int64_t{0});
        d.arn = i.value("arn", "");
        d.backfilling = i.value("backfilling", false);
        t.indexes.push_back(std::move(d));
    }
    t.pay_per_request = j.value("pay_per_request", true);
    t.read_capacity = j.value("rcu", std::int64_t{0});
    t.write_capacity = j.value("wcu", std::int64_t{0});
    t.created = j.value("created", 0.0);
    t.billing_changed = j.value("billing_changed", 0.0);
    t.table_class = j.value("table_class", "STANDARD");
    t.deletion_protection = j.value("deletion_protection", false);
    for (auto& tag : j.value("tags", json::array())) t.tags.emplace_back(tag.at(0).get<std::string>(), tag.at(1).get<std::string>());
    t.ttl_attribute = j.value("ttl_attribute", "");
    t.pitr = j.value("pitr", false);
    t.stream_enabled = j.value("stream_enabled", false);
    t.stream_view_type = j.value("stream_view_type", "");
    t.stream_label = j.value("stream_label", "");
    t.stream_id = j.value("stream_id", std::uint32_t{0});
    return t;
}

Item key_of(const Item& item, const KeySchema& key) {
    Item out;
    if (auto it = item.find(key.hash.name); it != item.end()) out.insert(*it);
    if (key.range)
        if (auto it = item.find(key.range->name); it != item.end()) out.insert(*it);
    return out;
}

}  // namespace stratus::dynamo
