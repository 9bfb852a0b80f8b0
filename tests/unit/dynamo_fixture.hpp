// Test helper: a DynamoDB store on a fresh LMDB environment in a temporary directory;
// each test's fixture adds its Context (clock, maintenance wake-up) on top.
#pragma once

#include "temp_dir.hpp"

#include "core/lmdb.hpp"
#include "dynamo/store/store.hpp"

namespace stratus::test {

struct DynamoStore {
    TempDir dir;
    core::lmdb::Env env = core::lmdb::Env::open(dir.path);
    dynamo::Store store{env};
};

}  // namespace stratus::test
