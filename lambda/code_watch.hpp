// Hot reload: watches functions' code directories (recursively, with inotify) and says
// which function's code changed, so the scheduler can retire its warm sandboxes.
//
// Changes are reported twice over: asynchronously as inotify delivers them, and on demand
// by poll(), which the scheduler calls before it hands an invocation to a warm sandbox,
// so a file written before an Invoke request arrives is always seen by that invocation
// (inotify queues an event inside the write's own system call).
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace stratus::lambda {

class CodeWatcher {
public:
    // `changed(name)` runs on the io_context's thread, at most once per poll/read batch
    // and function.
    CodeWatcher(boost::asio::io_context& io, std::function<void(const std::string&)> changed);
    ~CodeWatcher();
    CodeWatcher(const CodeWatcher&) = delete;
    CodeWatcher& operator=(const CodeWatcher&) = delete;

    // Watches `dir` and every directory below it for `name` (replacing what `name` watched
    // before). Returns false when inotify is unavailable or `dir` cannot be watched; hot
    // reload is then off for that function, nothing else changes.
    bool watch(const std::string& name, const std::string& dir);
    void unwatch(const std::string& name);
    bool watching(const std::string& name) const;
    // Reads what inotify has queued now, without blocking, and reports it.
    void poll();
    void close();

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace stratus::lambda
