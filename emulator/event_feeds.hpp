// The event sources of Lambda's triggers (lambda/event_sources.hpp), adapted from the
// services that produce them: DynamoDB's streams and S3's event outbox. Only emulator/
// knows both sides (shared/DESIGN.md).
#pragma once

#include <memory>

#include "core/lmdb.hpp"
#include "dynamo/streams/stream_store.hpp"
#include "lambda/event_sources.hpp"
#include "s3/events.hpp"

namespace stratus::emulator {

std::shared_ptr<lambda::StreamEventSource> stream_feed(core::lmdb::Env& env, dynamo::streams::StreamStore& streams);
std::shared_ptr<lambda::S3EventSource> s3_feed(std::shared_ptr<s3::EventOutbox> outbox);

}  // namespace stratus::emulator

namespace stratus::core {
class Dispatcher;
}
namespace stratus::lambda {
class Triggers;
}

namespace stratus::emulator {

// The internal endpoints of the triggers:
//   POST /_stratus/schedules/{name}/run             fire a schedule now -> {"RequestId": ...}
//   GET  /_stratus/schedules                        the declared schedules
//   GET  /_stratus/lambda/event-source-mappings/{uuid}/failures
//                                                   what the mapping sent to its on-failure destination
// and, with the test API (stratus's own tests):
//   POST /_stratus/test/lambda/schedule             declare a schedule (what the app model does)
//   POST /_stratus/test/dynamodb/streams/rotate     {"StreamArn": ...}: close the open shard, open a child
//   GET  /_stratus/test/s3/events                   the S3 event records committed since the last call
//   GET  /_stratus/test/s3/outbox                   {"pending": n}: S3 events not yet handed to Lambda
struct TriggerEndpoints {
    lambda::Triggers& triggers;
    dynamo::streams::StreamStore& streams;
    std::shared_ptr<s3::EventOutbox> outbox;
    bool test_api = false;
};
void add_trigger_endpoints(core::Dispatcher& dispatcher, TriggerEndpoints endpoints);

}  // namespace stratus::emulator
