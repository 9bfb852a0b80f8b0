#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>

#include "core/crypto.hpp"
#include "core/error.hpp"
#include "dynamo/ops/input.hpp"
#include "dynamo/ops/items_common.hpp"
#include "dynamo/ops/ops.hpp"

namespace stratus::dynamo {

using json = nlohmann::json;
namespace lmdb = core::lmdb;

namespace {

constexpr double token_lifetime = 600;  // ClientRequestToken is remembered for 10 minutes
constexpr std::size_t max_transaction_bytes = 4 * 1024 * 1024;

enum class Kind { check, put, del, update };

struct Action {
    Kind kind;
    std::string table;
    const json* body = nullptr;  // Item (put) or Key (others)
    expr::Condition condition;
    expr::Update update;
    bool return_old = false;
};

// What identifies a request for ClientRequestToken: its canonical JSON without the
// members that only shape the answer, hashed.
std::string request_digest(const json& in) {
    json copy = in;
    copy.erase("ReturnConsumedCapacity");
    copy.erase("ReturnItemCollectionMetrics");
    return core::crypto::sha256(copy.dump());
}

Action parse_action(const json& ti) {
    if (!ti.is_object()) throw core::AwsError::serialization("Unexpected value in TransactItems");
    static const std::pair<const char*, Kind> kinds[] = {
        {"ConditionCheck", Kind::check}, {"Put", Kind::put}, {"Delete", Kind::del}, {"Update", Kind::update}};
    const json* spec = nullptr;
    Action a{};
    int found = 0;
    for (auto& [name, kind] : kinds) {
        if (const json* s = input::opt_object(ti, name)) {
            spec = s;
            a.kind = kind;
            ++found;
        }
    }
    if (found != 1)
        throw core::AwsError::validation(
            "TransactItems can only contain one of Check, Put, Update or Delete");  // AWS wording unsure
    a.table = parse_table_name(*spec);
    a.body = input::opt_object(*spec, a.kind == Kind::put ? "Item" : "Key");
    if (!a.body)
        throw core::AwsError::validation(fmt::format("1 validation error detected: Value null at 'transactItems.member.{}' "
                                                     "failed to satisfy constraint: Member must not be null",
                                                     a.kind == Kind::put ? "put.item" : "key"));
    a.return_old = parse_return_old_on_failure(*spec);
    auto cond_text = input::opt_string(*spec, "ConditionExpression");
    auto update_text = input::opt_string(*spec, "UpdateExpression");
    if (a.kind == Kind::check && !cond_text)
        throw core::AwsError::validation("1 validation error detected: Value null at "
                                         "'transactItems.member.conditionCheck.conditionExpression' failed to satisfy "
                                         "constraint: Member must not be null");
    if (a.kind == Kind::update && !update_text)
        throw core::AwsError::validation("1 validation error detected: Value null at "
                                         "'transactItems.member.update.updateExpression' failed to satisfy constraint: "
                                         "Member must not be null");
    expr::Context ec = expression_context(*spec, cond_text || update_text, "ConditionExpression is null");
    if (update_text) a.update = ec.update(*update_text);
    if (cond_text) a.condition = ec.condition(*cond_text);
    ec.check_unused();
    return a;
}

}  // namespace

json transact_write_items(Context& ctx, const json& in) {
    input::require_object(in);
    const json* items = input::opt_array(in, "TransactItems");
    input::Violations v;
    if (!items) v.add_null("transactItems");
    else if (items->empty()) v.add("[]", "transactItems", "Member must have length greater than or equal to 1");
    else if (items->size() > 100) v.add("[...]", "transactItems", "Member must have length less than or equal to 100");
    auto token = input::opt_string(in, "ClientRequestToken");
    if (token && (token->empty() || token->size() > 36))
        v.add(*token, "clientRequestToken", "Member must have length less than or equal to 36");
    v.throw_if_any();
    CapacityMode capacity = parse_capacity_mode(in);
    std::vector<Action> actions;
    for (auto& ti : *items) actions.push_back(parse_action(ti));

    std::string digest;
    if (token) {
        digest = request_digest(in);
        std::lock_guard lock(ctx.tokens->mutex);
        ctx.tokens->expire(ctx.now(), token_lifetime);
        auto it = ctx.tokens->entries.find(*token);
        if (it != ctx.tokens->entries.end()) {
            if (it->second.request_digest != digest)
                throw core::AwsError("IdempotentParameterMismatchException",
                                     "Request with the same client token was made with different parameters",
                                     400);  // AWS wording unsure
            return json::parse(it->second.response);
        }
    }

    json out = ctx.store.env().write([&](lmdb::WriteTxn& txn) {
        std::map<std::string, TableDef> tables;
        std::set<std::string> seen;
        struct Planned {
            const TableDef* table;
            Item key;
            std::optional<Item> old;
            std::optional<Item> next;  // nullopt: delete (or nothing, for checks)
        };
        std::vector<Planned> plan;
        // An item that fails validation (a bad key, a missing key attribute, an item too
        // large) cancels the transaction with a ValidationError at its position, as AWS
        // does; the request itself stays valid.
        std::vector<std::optional<std::string>> invalid(actions.size());
        std::size_t total_bytes = 0;
        for (std::size_t i = 0; i < actions.size(); ++i) {
            auto& a = actions[i];
            auto [it, fresh] = tables.try_emplace(a.table);
            if (fresh) it->second = require_table(ctx, txn, a.table);
            const TableDef& t = it->second;
            Planned p{&t, {}, {}, {}};
            try {
                if (a.kind == Kind::put) {
                    Item item = item_from_json(*a.body);
                    validate_item(item, t);
                    p.key = key_of(item, t.key);
                    p.next = std::move(item);
                } else {
                    p.key = parse_key(*a.body, t);
                }
                for (auto& name : a.update.attribute_names())
                    if (p.key.count(name))
                        throw core::AwsError::validation(fmt::format(
                            "One or more parameter values were invalid: Cannot update attribute {}. This attribute is "
                            "part of the key",
                            name));
            } catch (const core::AwsError& e) {
                if (e.code() != "ValidationException") throw;
                invalid[i] = e.message();
                plan.push_back(std::move(p));
                continue;
            }
            if (!seen.insert(t.name + '\0' + ctx.store.item_key(t, p.key)).second)
                throw core::AwsError::validation("Transaction request cannot include multiple operations on one item");
            total_bytes += p.next ? item_size(*p.next) : item_size(p.key);
            plan.push_back(std::move(p));
        }
        // AWS: "The aggregate size of the items in the transaction cannot exceed 4 MB". Its
        // message for it is not documented.
        if (total_bytes > max_transaction_bytes)
            throw core::AwsError::validation(fmt::format(
                "Transaction request size exceeded the maximum allowed size of 4 MB; size: {} bytes", total_bytes));
        // Check every condition against the current items before writing anything.
        json reasons = json::array();
        bool cancelled = false;
        std::vector<std::string> codes;
        for (std::size_t i = 0; i < actions.size(); ++i) {
            auto& a = actions[i];
            auto& p = plan[i];
            json reason = {{"Code", "None"}};
            if (invalid[i]) {
                reason = {{"Code", "ValidationError"}, {"Message", *invalid[i]}};
            } else {
                p.old = ctx.store.get(txn, *p.table, p.key);
                try {
                    if (!a.condition.empty() && !a.condition.evaluate(p.old.value_or(Item{}))) {
                        reason = {{"Code", "ConditionalCheckFailed"}, {"Message", "The conditional request failed"}};
                        if (a.return_old && p.old) reason["Item"] = item_to_json(*p.old);
                    } else if (a.kind == Kind::update) {
                        Item base = p.old.value_or(p.key);
                        expr::UpdateResult r = a.update.apply(base);
                        // An update that only removes leaves a missing item missing.
                        if (p.old || a.update.creates()) {
                            p.next = std::move(r.item);
                            validate_item(*p.next, *p.table, ItemSource::update);
                        }
                    }
                } catch (const core::AwsError& e) {
                    reason = {{"Code", "ValidationError"}, {"Message", e.message()}};
                }
            }
            std::string code = reason["Code"].get<std::string>();
            cancelled |= code != "None";
            codes.push_back(code);
            reasons.push_back(std::move(reason));
        }
        if (cancelled) {
            std::string list;
            for (auto& c : codes) list += (list.empty() ? "" : ", ") + c;
            throw core::AwsError("TransactionCanceledException",
                                 "Transaction cancelled, please refer cancellation reasons for specific reasons [" + list + "]",
                                 400)
                .with_json(json{{"CancellationReasons", reasons}}.dump());
        }
        std::map<std::string, double> units;
        for (std::size_t i = 0; i < actions.size(); ++i) {
            auto& a = actions[i];
            auto& p = plan[i];
            double u = 2 * write_units(std::max(p.next ? item_size(*p.next) : 0, p.old ? item_size(*p.old) : 0));
            units[p.table->name] += a.kind == Kind::check ? read_units(p.old ? item_size(*p.old) : 0, true) * 2 : u;
            if ((a.kind == Kind::put || a.kind == Kind::update) && p.next) ctx.store.put(txn, *p.table, *p.next, p.old);
            else if (a.kind == Kind::del && p.old) ctx.store.erase(txn, *p.table, *p.old);
        }
        json result = json::object();
        if (capacity != CapacityMode::none) {
            json list = json::array();
            for (auto& [name, u] : units) list.push_back(capacity_json(capacity, tables.at(name), u));
            result["ConsumedCapacity"] = list;
        }
        // The token counts once the change is committed: under group commit this
        // transaction may run again (the group rerun after a map resize), and a token
        // remembered by a run that was rolled back would answer a retry with nothing done.
        if (token)
            txn.after_commit([tokens = ctx.tokens, token = *token, digest, now = ctx.now()]() mutable {
                std::lock_guard lock(tokens->mutex);
                tokens->remember(token, std::move(digest), json::object().dump(), now);
            });
        return result;
    });
    return out;
}

void TransactionTokens::expire(double now, double lifetime) {
    auto drop_front = [&] {
        auto& [at, token] = order.front();
        auto it = entries.find(token);
        // The same token remembered again later has a newer entry: keep that one.
        if (it != entries.end() && it->second.at == at) entries.erase(it);
        order.pop_front();
    };
    while (!order.empty() && now - order.front().first > lifetime) drop_front();
    while (!order.empty() && order.size() >= max_entries) drop_front();
}

void TransactionTokens::remember(const std::string& token, std::string&& digest, std::string&& response, double now) {
    expire(now, token_lifetime);
    entries[token] = {std::move(digest), std::move(response), now};
    order.emplace_back(now, token);
}

}  // namespace stratus::dynamo
