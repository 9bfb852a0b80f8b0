// CloudWatch Logs on the AWS port (JSON 1.1, X-Amz-Target: Logs_20140328.*).
//
// Lambda's function logs (lambda::LogBook) are the log groups /aws/lambda/{function}, one
// stream per sandbox as Lambda names them ("2026/12/02/[$LATEST]<id>"); other groups are
// made with CreateLogGroup and written with PutLogEvents (their lines are kept by a
// LogBook of their own under <data>/logs, with the same byte budget per group; their
// groups, streams, retention and tags in LMDB). Groups, streams, GetLogEvents,
// FilterLogEvents (logs/filter_pattern.hpp), retention and tags as AWS's API reference
// describes them.
//
// `aws logs tail --follow` polls FilterLogEvents and sleeps 5 s whenever a page comes back
// without a nextToken. So that a new invocation's lines show within a moment, an open-ended
// FilterLogEvents page with interleaved=true (which only that command still sends) ends
// with a "tail" nextToken: a request carrying one waits (1 s; 20 s once the same query came
// back after such a wait, which only a follower does) for lines after it, answers as soon
// as some match, and answers without a nextToken when the wait ends with none (a follower:
// with a fresh tail token). `aws logs tail` without --follow thus ends about 1 s later.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "core/lmdb.hpp"
#include "core/service.hpp"

namespace stratus::core {
class Runtime;
}
namespace stratus::lambda {
class LogBook;
}

namespace stratus::logs {

struct LogsOptions {
    std::string data_dir;                // lines of the groups made by CreateLogGroup: <data_dir>/logs
    std::size_t budget_per_group = 1 << 20;  // bytes kept per group, oldest first out
};

std::shared_ptr<core::Service> make_service(core::Runtime& runtime, core::lmdb::Env& env, lambda::LogBook& function_logs,
                                            LogsOptions options);

}  // namespace stratus::logs
