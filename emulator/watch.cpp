#include "emulator/watch.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace stratus::emulator {

namespace fs = std::filesystem;

struct Watcher::Impl {
    std::function<void(What)> changed;
    std::chrono::milliseconds settle;
    int fd = -1;
    int wake[2] = {-1, -1};
    std::mutex mutex;
    std::map<int, std::pair<std::string, What>> dirs;  // watch descriptor -> folder, kind
    std::set<std::string> config_files;                // absolute paths
    std::string pending_site_dir;                      // the site folder, while it does not exist
    int site_parent_wd = -1;                           // ...and the watch on its parent
    std::thread thread;
    std::atomic<bool> stopping{false};

    // The watch descriptor (one per folder: a folder watched for the config keeps that role).
    int add(const std::string& dir, What what, bool recursive) {
        uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB;
        int wd = inotify_add_watch(fd, dir.c_str(), mask);
        if (wd >= 0 && !dirs.count(wd)) dirs[wd] = {dir, what};
        if (!recursive) return wd;
        std::error_code ec;
        for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
             it != fs::recursive_directory_iterator(); it.increment(ec)) {
            if (ec) break;
            if (it->is_directory(ec)) {
                int w = inotify_add_watch(fd, it->path().c_str(), mask);
                if (w >= 0) dirs[w] = {it->path().string(), what};
            }
        }
        return wd;
    }

    void loop() {
        alignas(inotify_event) char buf[16384];
        bool pending_config = false, pending_site = false;
        for (;;) {
            pollfd p[2] = {{fd, POLLIN, 0}, {wake[0], POLLIN, 0}};
            int timeout = pending_config || pending_site ? static_cast<int>(settle.count()) : -1;
            int n = ::poll(p, 2, timeout);
            if (stopping) return;
            if (n == 0) {
                if (pending_config) changed(What::config);
                if (pending_site) changed(What::site);
                pending_config = pending_site = false;
                continue;
            }
            if (n < 0) continue;
            if (!(p[0].revents & POLLIN)) continue;
            ssize_t len = ::read(fd, buf, sizeof buf);
            if (len <= 0) continue;
            std::lock_guard lock(mutex);
            for (char* ptr = buf; ptr < buf + len;) {
                auto* e = reinterpret_cast<inotify_event*>(ptr);
                ptr += sizeof(inotify_event) + e->len;
                auto it = dirs.find(e->wd);
                if (it == dirs.end()) continue;
                std::string name = e->len ? std::string(e->name) : "";
                if (!pending_site_dir.empty() && e->wd == site_parent_wd &&
                    (fs::path(it->second.first) / name).string() == pending_site_dir) {
                    // The site folder appeared (a first build): watched from now on.
                    std::error_code ec;
                    if (fs::is_directory(pending_site_dir, ec)) {
                        add(pending_site_dir, What::site, true);
                        pending_site_dir.clear();
                        pending_site = true;
                    }
                    continue;
                }
                if (it->second.second == What::site && e->wd == site_parent_wd) continue;
                if (it->second.second == What::config) {
                    if (config_files.count((fs::path(it->second.first) / name).string())) pending_config = true;
                } else {
                    if (!name.empty() && name[0] == '.') continue;  // editors' swap files
                    pending_site = true;
                    if ((e->mask & IN_ISDIR) && (e->mask & (IN_CREATE | IN_MOVED_TO)))
                        add((fs::path(it->second.first) / name).string(), What::site, true);
                }
            }
        }
    }
};

Watcher::Watcher(std::function<void(What)> changed, std::chrono::milliseconds settle) : impl_(std::make_unique<Impl>()) {
    impl_->changed = std::move(changed);
    impl_->settle = settle;
    impl_->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (::pipe2(impl_->wake, O_CLOEXEC) != 0) impl_->wake[0] = impl_->wake[1] = -1;
    if (impl_->fd >= 0) impl_->thread = std::thread([this] { impl_->loop(); });
}

Watcher::~Watcher() {
    impl_->stopping = true;
    if (impl_->wake[1] >= 0) {
        char c = 1;
        (void)!::write(impl_->wake[1], &c, 1);
    }
    if (impl_->thread.joinable()) impl_->thread.join();
    for (int f : {impl_->fd, impl_->wake[0], impl_->wake[1]})
        if (f >= 0) ::close(f);
}

void Watcher::watch(const std::vector<std::string>& config_files, const std::string& site_dir) {
    if (impl_->fd < 0) return;
    std::lock_guard lock(impl_->mutex);
    for (auto& [wd, _] : impl_->dirs) inotify_rm_watch(impl_->fd, wd);
    impl_->dirs.clear();
    impl_->config_files.clear();
    std::set<std::string> folders;
    for (auto& f : config_files) {
        impl_->config_files.insert(fs::absolute(f).lexically_normal().string());
        folders.insert(fs::absolute(f).lexically_normal().parent_path().string());
    }
    for (auto& d : folders) impl_->add(d, What::config, false);
    impl_->pending_site_dir.clear();
    impl_->site_parent_wd = -1;
    std::error_code ec;
    if (site_dir.empty()) return;
    if (fs::is_directory(site_dir, ec)) {
        impl_->add(site_dir, What::site, true);
        return;
    }
    // Not built yet: its parent is watched until it appears.
    fs::path parent = fs::path(site_dir).parent_path();
    if (fs::is_directory(parent, ec)) {
        impl_->pending_site_dir = fs::path(site_dir).lexically_normal().string();
        impl_->site_parent_wd = impl_->add(parent.string(), What::site, false);
    }
}

}  // namespace stratus::emulator
