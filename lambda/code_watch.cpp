#include "lambda/code_watch.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <filesystem>
#include <map>
#include <set>
#include <vector>

#include "core/log.hpp"
#include "core/net.hpp"

namespace stratus::lambda {

namespace fs = std::filesystem;

namespace {
// What counts as a change. IN_MODIFY and IN_CLOSE_WRITE both: a sandbox started between an
// editor's first write and its close is retired again by the close.
constexpr std::uint32_t mask = IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_CREATE | IN_DELETE | IN_MOVED_FROM |
                               IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK;
// A code tree with more directories than this (a vast node_modules) is watched only this far.
constexpr std::size_t max_dirs_per_function = 8192;
}  // namespace

struct CodeWatcher::Impl : std::enable_shared_from_this<Impl> {
    Impl(net::io_context& io, std::function<void(const std::string&)> cb) : fd(io), changed(std::move(cb)) {}

    net::posix::stream_descriptor fd;
    std::function<void(const std::string&)> changed;
    struct Watch {
        std::string path;
        std::set<std::string> names;  // functions sharing a directory share its watch
    };
    std::map<int, Watch> watches;
    struct Tree {
        int root_wd = -1;
        std::set<int> wds;
    };
    std::map<std::string, Tree> trees;
    bool warned_limit = false;

    bool open() {
        if (fd.is_open()) return true;
        int raw = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (raw < 0) {
            core::log::warn("lambda: hot reload is off (inotify: {})", std::strerror(errno));
            return false;
        }
        fd.assign(raw);
        arm();
        return true;
    }

    void arm() {
        fd.async_wait(net::posix::stream_descriptor::wait_read, [weak = weak_from_this()](const boost::system::error_code& ec) {
            auto self = weak.lock();
            if (!self || ec) return;
            self->read_all();
            if (self->fd.is_open()) self->arm();
        });
    }

    int add(const std::string& name, const std::string& path) {
        int wd = ::inotify_add_watch(fd.native_handle(), path.c_str(), mask);
        if (wd < 0) {
            if (errno == ENOSPC && !warned_limit) {
                warned_limit = true;
                core::log::warn("lambda: hot reload watches only part of {} (fs.inotify.max_user_watches reached)", path);
            }
            return -1;
        }
        auto& w = watches[wd];
        w.path = path;
        w.names.insert(name);
        trees[name].wds.insert(wd);
        return wd;
    }

    // Watches `dir` and the directories below it (symbolic links are not followed); returns
    // the watch of `dir`, -1 when it cannot be watched.
    int add_tree(const std::string& name, const fs::path& dir) {
        int root = add(name, dir.string());
        if (root < 0) return root;
        std::error_code ec;
        fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
        for (; !ec && it != end; it.increment(ec)) {
            if (!it->is_directory(ec) || it->is_symlink(ec)) continue;
            if (it->path().filename() == ".git") {
                it.disable_recursion_pending();
                continue;
            }
            if (trees[name].wds.size() >= max_dirs_per_function) {
                if (!warned_limit) {
                    warned_limit = true;
                    core::log::warn("lambda: hot reload watches the first {} directories of {}", max_dirs_per_function,
                                    dir.string());
                }
                return root;
            }
            add(name, it->path().string());
        }
        return root;
    }

    void drop(const std::string& name) {
        auto t = trees.find(name);
        if (t == trees.end()) return;
        for (int wd : t->second.wds) {
            auto w = watches.find(wd);
            if (w == watches.end()) continue;
            w->second.names.erase(name);
            if (w->second.names.empty()) {
                ::inotify_rm_watch(fd.native_handle(), wd);
                watches.erase(w);
            }
        }
        trees.erase(t);
    }

    void read_all() {
        if (!fd.is_open()) return;
        alignas(inotify_event) std::array<char, 64 * 1024> buf;
        std::set<std::string> hit;
        for (;;) {
            ssize_t n = ::read(fd.native_handle(), buf.data(), buf.size());
            if (n <= 0) break;
            for (char* p = buf.data(); p < buf.data() + n;) {
                auto* ev = reinterpret_cast<inotify_event*>(p);
                p += sizeof(inotify_event) + ev->len;
                if (ev->mask & IN_Q_OVERFLOW) {
                    for (auto& [name, tree] : trees) hit.insert(name);
                    continue;
                }
                auto w = watches.find(ev->wd);
                if (w == watches.end()) continue;
                for (auto& name : w->second.names) hit.insert(name);
                if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO)) && ev->len) {
                    fs::path child = fs::path(w->second.path) / ev->name;
                    auto names = w->second.names;  // add_tree may rehash `watches`
                    for (auto& name : names) add_tree(name, child);
                }
                if (ev->mask & IN_IGNORED) forget(ev->wd);
            }
        }
        for (auto& name : hit)
            if (changed) changed(name);
    }

    // The kernel dropped a watch (its directory is gone).
    void forget(int wd) {
        auto w = watches.find(wd);
        if (w == watches.end()) return;
        for (auto& name : w->second.names) {
            auto t = trees.find(name);
            if (t == trees.end()) continue;
            t->second.wds.erase(wd);
            if (t->second.root_wd == wd) {
                // The code root itself went away: the tree is stale. watching() says so and
                // the scheduler watches the directory anew when it next starts a sandbox.
                t->second.root_wd = -1;
            }
        }
        watches.erase(w);
    }
};

CodeWatcher::CodeWatcher(boost::asio::io_context& io, std::function<void(const std::string&)> changed)
    : impl_(std::make_shared<Impl>(io, std::move(changed))) {}

CodeWatcher::~CodeWatcher() { close(); }

bool CodeWatcher::watch(const std::string& name, const std::string& dir) {
    impl_->drop(name);
    if (!impl_->open()) return false;
    int root = impl_->add_tree(name, fs::path(dir));
    if (root < 0) {
        impl_->drop(name);
        return false;
    }
    auto& tree = impl_->trees[name];
    tree.root_wd = root;
    return true;
}

void CodeWatcher::unwatch(const std::string& name) { impl_->drop(name); }

bool CodeWatcher::watching(const std::string& name) const {
    auto t = impl_->trees.find(name);
    return t != impl_->trees.end() && t->second.root_wd >= 0;
}

void CodeWatcher::poll() { impl_->read_all(); }

void CodeWatcher::close() {
    impl_->changed = nullptr;
    boost::system::error_code ec;
    impl_->fd.close(ec);
    impl_->watches.clear();
    impl_->trees.clear();
}

}  // namespace stratus::lambda
