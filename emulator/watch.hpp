// Watches an app's files for `stratus start`: the config (and the files it includes) and
// the site folder (recursively), with inotify on a thread of its own. Changes arriving
// together (an editor's save, a build writing many files) are reported once, after
// `settle` without further events.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace stratus::emulator {

class Watcher {
public:
    enum class What { config, site };
    // `changed` runs on the watcher's thread.
    Watcher(std::function<void(What)> changed, std::chrono::milliseconds settle = std::chrono::milliseconds(100));
    ~Watcher();
    Watcher(const Watcher&) = delete;
    Watcher& operator=(const Watcher&) = delete;

    // Replaces what is watched: the config files (their folders are watched, so editors
    // that save by renaming are seen) and the site folder (empty: none).
    void watch(const std::vector<std::string>& config_files, const std::string& site_dir);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace stratus::emulator
