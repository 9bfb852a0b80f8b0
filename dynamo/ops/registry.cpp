#include "dynamo/ops/ops.hpp"

namespace stratus::dynamo {

const std::map<std::string, Operation, std::less<>>& operations() {
    static const std::map<std::string, Operation, std::less<>> table = {
        {"CreateTable", create_table},
        {"DescribeTable", describe_table},
        {"ListTables", list_tables},
        {"DeleteTable", delete_table},
        {"UpdateTable", update_table},
        {"TagResource", tag_resource},
        {"UntagResource", untag_resource},
        {"ListTagsOfResource", list_tags_of_resource},
        {"UpdateTimeToLive", update_time_to_live},
        {"DescribeTimeToLive", describe_time_to_live},
        {"DescribeContinuousBackups", describe_continuous_backups},
        {"UpdateContinuousBackups", update_continuous_backups},
        {"DescribeLimits", describe_limits},
        {"DescribeEndpoints", describe_endpoints},
        {"PutItem", put_item},
        {"GetItem", get_item},
        {"DeleteItem", delete_item},
        {"UpdateItem", update_item},
        {"Query", query},
        {"Scan", scan},
        {"BatchGetItem", batch_get_item},
        {"BatchWriteItem", batch_write_item},
        {"TransactGetItems", transact_get_items},
        {"TransactWriteItems", transact_write_items},
        {"ExecuteStatement", execute_statement},
        {"BatchExecuteStatement", batch_execute_statement},
        {"ExecuteTransaction", execute_transaction},
    };
    return table;
}

const std::map<std::string, TextOperation, std::less<>>& text_operations() {
    static const std::map<std::string, TextOperation, std::less<>> table = {
        {"GetItem", get_item_text},
        {"Query", query_text},
        {"Scan", scan_text},
    };
    return table;
}

}  // namespace stratus::dynamo
