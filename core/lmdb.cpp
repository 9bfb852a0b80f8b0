#include "core/lmdb.hpp"

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <limits>
#include <mutex>
#include <thread>
#include <vector>

namespace stratus::core::lmdb {

namespace detail {

// Heap-allocated so Env can move while transactions, cursors and the flusher thread
// keep pointing at it.
struct EnvState {
    MDB_env* env = nullptr;
    EnvOptions options;

    // Shared by every transaction (and sync/stats), exclusive for mdb_env_set_mapsize.
    // See Env::write in lmdb.hpp for why this cannot deadlock.
    std::shared_mutex resize_mutex;
    // Set when an operation of the current write transaction fails with MDB_MAP_FULL;
    // reset by WriteTxn::begin. LMDB allows one write transaction per process at a
    // time, so while a WriteTxn is open the flag is its own.
    std::atomic<bool> map_full{false};
    std::atomic<std::size_t> resizes{0};
    // Successful changes by write transactions, and write transactions begun; only the
    // writer-lock holder touches them.
    std::uint64_t writes = 0;
    std::uint64_t write_serials = 0;

    // Durability::normal flusher.
    std::mutex flush_mutex;
    std::condition_variable flush_cv;
    bool stopping = false;               // guarded by flush_mutex
    std::atomic<bool> dirty{false};      // committed since the last fsync
    // Ids of the last commit, and of the last one known to be on disk with its meta page.
    std::atomic<std::uint64_t> committed_txnid{0};
    std::atomic<std::uint64_t> durable_txnid{0};
    static void raise(std::atomic<std::uint64_t>& to, std::uint64_t id) noexcept {
        std::uint64_t seen = to.load();
        while (seen < id && !to.compare_exchange_weak(seen, id)) {
        }
    }
    void mark_durable(std::uint64_t id) noexcept { raise(durable_txnid, id); }
    std::atomic<int> flush_error{0};
    std::thread flusher;

    // Ended read transactions kept for reuse: mdb_txn_reset keeps the transaction's
    // memory and reader slot, and mdb_txn_renew takes it up again without an allocation
    // or the reader-table mutex a fresh mdb_txn_begin needs (lmdb.h recommends this for
    // frequent readers). With MDB_NOTLS any thread may renew any of them.
    static constexpr std::size_t max_idle_readers = 16;
    std::mutex idle_mutex;
    std::vector<MDB_txn*> idle_readers;

    // A reset read transaction, or nullptr.
    MDB_txn* take_idle_reader() {
        std::lock_guard lock(idle_mutex);
        if (idle_readers.empty()) return nullptr;
        MDB_txn* txn = idle_readers.back();
        idle_readers.pop_back();
        return txn;
    }
    // Ends a read transaction, keeping it for reuse when there is room.
    void end_reader(MDB_txn* txn) noexcept {
        mdb_txn_reset(txn);
        {
            std::lock_guard lock(idle_mutex);
            if (idle_readers.size() < max_idle_readers) {
                idle_readers.push_back(txn);
                return;
            }
        }
        mdb_txn_abort(txn);
    }

    EnvState() = default;
    EnvState(const EnvState&) = delete;
    EnvState& operator=(const EnvState&) = delete;
    ~EnvState();

    void flush_loop();
    int sync_now();
};

}  // namespace detail

using detail::EnvState;

namespace {

[[noreturn]] void fail(EnvState* state, int rc, std::string_view where) {
    if (rc == MDB_MAP_FULL && state != nullptr) state->map_full.store(true);
    throw Error(rc, where);
}

void check(int rc, std::string_view where) {
    if (rc != MDB_SUCCESS) throw Error(rc, where);
}

// LMDB never writes through the pointer of a key or of put's data (MDB_RESERVE aside,
// which put refuses); the const_cast only satisfies its C signature.
MDB_val to_val(std::string_view s) noexcept {
    return MDB_val{s.size(), const_cast<char*>(s.empty() ? "" : s.data())};
}

std::string_view to_view(const MDB_val& v) noexcept {
    return {static_cast<const char*>(v.mv_data), v.mv_size};
}

// mdb_txn_begin under the shared resize lock. MDB_MAP_RESIZED means another process
// grew the map past ours; lmdb.h: call mdb_env_set_mapsize with 0 "to adopt the new
// size" — which, like any resize, needs no transaction active here. The daemon is
// normally the only process, so this is for tools (mdb_stat, a second opener).
MDB_txn* begin_txn(EnvState& state, unsigned flags,
                   std::shared_lock<std::shared_mutex>& lock) {
    for (;;) {
        lock = std::shared_lock(state.resize_mutex);
        MDB_txn* txn = nullptr;
        int rc = mdb_txn_begin(state.env, nullptr, flags, &txn);
        if (rc == MDB_SUCCESS) return txn;
        lock.unlock();
        if (rc != MDB_MAP_RESIZED) throw Error(rc, "mdb_txn_begin");
        std::unique_lock exclusive(state.resize_mutex);
        check(mdb_env_set_mapsize(state.env, 0), "mdb_env_set_mapsize");
    }
}

thread_local const detail::Reentry* innermost_reentry = nullptr;
thread_local const JoinWrites* innermost_join = nullptr;

}  // namespace

Error::Error(int code, std::string_view where)
    : std::runtime_error(std::string(where) + ": " + mdb_strerror(code)), code_(code) {}

// ---- detail ----

detail::Reentry::Reentry(const EnvState* state) : state_(state), outer_(innermost_reentry) {
    for (const Reentry* r = outer_; r != nullptr; r = r->outer_)
        if (r->state_ == state)
            throw std::logic_error(
                "lmdb: nested env.read/env.write on one thread; a map resize would wait "
                "for this thread's own open transaction. Pass the outer txn down instead.");
    innermost_reentry = this;
}

detail::Reentry::~Reentry() { innermost_reentry = outer_; }

WriteTxn* detail::joined_write(const EnvState* state) noexcept {
    for (const JoinWrites* j = innermost_join; j != nullptr; j = j->outer_)
        if (j->state_ == state) return j->txn_;
    return nullptr;
}

JoinWrites::JoinWrites(WriteTxn& txn) noexcept : txn_(&txn), state_(txn.state_), outer_(innermost_join) {
    innermost_join = this;
}

JoinWrites::~JoinWrites() { innermost_join = outer_; }

EnvState::~EnvState() {
    if (flusher.joinable()) {
        {
            std::lock_guard lock(flush_mutex);
            stopping = true;
        }
        flush_cv.notify_all();
        flusher.join();
    }
    if (env != nullptr) {
        for (MDB_txn* txn : idle_readers) mdb_txn_abort(txn);
        idle_readers.clear();
        // Best effort: errors here have no one to go to; Env::sync() reports them.
        if (dirty.load()) sync_now();
        // Also required after a failed mdb_env_open (lmdb.h).
        mdb_env_close(env);
    }
}

// Wakes every flush_interval (or at once on shutdown) and fsyncs if anything was
// committed since the last flush.
void EnvState::flush_loop() {
    std::unique_lock lock(flush_mutex);
    while (!stopping) {
        flush_cv.wait_for(lock, options.flush_interval, [this] { return stopping; });
        if (stopping || !dirty.load()) continue;
        lock.unlock();
        int rc = sync_now();
        flush_error.store(rc);
        lock.lock();
    }
}

// Clears `dirty` before the fsync so a commit racing with it marks the env dirty again.
// Held under the shared lock only to keep "everything that touches the env holds it"
// true; without MDB_WRITEMAP mdb_env_sync is an fdatasync of the data file and never
// reads the map that a resize replaces.
int EnvState::sync_now() {
    dirty.store(false);
    std::uint64_t committed = committed_txnid.load();  // read first: these are what the sync covers
    std::shared_lock lock(resize_mutex);
    int rc = mdb_env_sync(env, 1);
    if (rc != MDB_SUCCESS) dirty.store(true);
    else mark_durable(committed);
    return rc;
}

// ---- Env ----

Env::Env(std::unique_ptr<EnvState> state) noexcept : state_(std::move(state)) {}
Env::Env(Env&&) noexcept = default;
Env& Env::operator=(Env&&) noexcept = default;
Env::~Env() = default;

Env Env::open(const std::string& dir, const EnvOptions& options) {
    // MDB_WRITEMAP refused: we keep the default write() path. With WRITEMAP, a wild write
    // through a view from get() lands in the database (lmdb.h: it "loses protection
    // from application bugs like wild pointer writes"), the data file is extended to
    // the whole map at every growth, and lmdb.h warns not to mix processes with and
    // without it. (kill -9 would be safe either way: both paths leave committed pages
    // in the kernel's page cache.) MDB_NOLOCK / MDB_MAPASYNC: we rely on LMDB's locks
    // and on MDB_NOSYNC semantics. MDB_NOSUBDIR: the layout is a directory.
    constexpr unsigned refused = MDB_WRITEMAP | MDB_NOSUBDIR | MDB_MAPASYNC | MDB_NOLOCK;
    if ((options.flags & refused) != 0)
        throw std::invalid_argument(
            "lmdb: MDB_WRITEMAP, MDB_NOSUBDIR, MDB_MAPASYNC and MDB_NOLOCK are not supported");
    if (options.map_size == 0) throw std::invalid_argument("lmdb: map_size must be > 0");

    std::filesystem::create_directories(dir);

    auto state = std::make_unique<EnvState>();
    state->options = options;
    check(mdb_env_create(&state->env), "mdb_env_create");
    check(mdb_env_set_maxdbs(state->env, options.max_dbs), "mdb_env_set_maxdbs");
    check(mdb_env_set_maxreaders(state->env, options.max_readers), "mdb_env_set_maxreaders");
    check(mdb_env_set_mapsize(state->env, options.map_size), "mdb_env_set_mapsize");

    // MDB_NOTLS: read transactions run on whichever asio worker thread handles the
    // request, and a thread may then hold several; without it reader slots are tied to
    // threads. (Write transactions stay bound to their thread regardless.)
    unsigned flags = options.flags | MDB_NOTLS;
    flags |= options.durability == Durability::normal ? MDB_NOSYNC : MDB_NOMETASYNC;
    check(mdb_env_open(state->env, dir.c_str(), flags, 0644), "mdb_env_open " + dir);

    // lmdb.h caveats: a process that died inside a read transaction leaves a stale
    // reader slot that stops page reuse until checked. (The lock file is reset anyway
    // when we are its first opener; this covers a concurrent opener's dead readers.)
    int dead = 0;
    check(mdb_reader_check(state->env, &dead), "mdb_reader_check");
    MDB_envinfo opened{};
    check(mdb_env_info(state->env, &opened), "mdb_env_info");
    state->committed_txnid.store(opened.me_last_txnid);
    state->durable_txnid.store(opened.me_last_txnid);  // what a reopen finds is what is on disk

    if (options.durability == Durability::normal) {
        EnvState* s = state.get();
        state->flusher = std::thread([s] { s->flush_loop(); });
    }
    return Env(std::move(state));
}

Dbi Env::open_db(std::string_view name, unsigned flags) {
    const std::string owned(name);  // mdb_dbi_open wants a NUL-terminated name
    MDB_dbi dbi = write([&](WriteTxn& txn) {
        MDB_dbi out = 0;
        int rc = mdb_dbi_open(txn.handle(), owned.c_str(), flags & ~unsigned{MDB_CREATE}, &out);
        if (rc == MDB_NOTFOUND && (flags & MDB_CREATE) != 0) {
            rc = mdb_dbi_open(txn.handle(), owned.c_str(), flags, &out);
            if (rc == MDB_SUCCESS) ++state_->writes;  // a new database record: the commit writes
        }
        if (rc != MDB_SUCCESS) fail(state_.get(), rc, "mdb_dbi_open " + owned);
        return out;
    });
    return Dbi(dbi);
}

void Env::grow(std::size_t seen) {
    std::unique_lock exclusive(state_->resize_mutex);
    MDB_envinfo info{};
    check(mdb_env_info(state_->env, &info), "mdb_env_info");
    if (info.me_mapsize > seen) return;  // another writer grew it while we waited
    if (seen > std::numeric_limits<std::size_t>::max() / 2)
        throw Error(MDB_MAP_FULL, "lmdb: map cannot grow further");
    // Only increases are persisted (into the meta page by the next commit), and the
    // data file itself does not grow until pages are written (no MDB_WRITEMAP).
    check(mdb_env_set_mapsize(state_->env, seen * 2), "mdb_env_set_mapsize");
    state_->resizes.fetch_add(1);
}

void Env::sync() {
    int rc = state_->sync_now();
    if (rc != MDB_SUCCESS) throw Error(rc, "mdb_env_sync");
}

std::uint64_t Env::durable_through() const noexcept { return state_->durable_txnid.load(); }

EnvStats Env::stats() const {
    std::shared_lock lock(state_->resize_mutex);
    MDB_envinfo info{};
    MDB_stat stat{};
    check(mdb_env_info(state_->env, &info), "mdb_env_info");
    check(mdb_env_stat(state_->env, &stat), "mdb_env_stat");
    EnvStats out;
    out.map_size = info.me_mapsize;
    out.page_size = stat.ms_psize;
    out.last_page = info.me_last_pgno;
    out.used_bytes = (info.me_last_pgno + 1) * std::size_t{stat.ms_psize};
    out.last_txnid = info.me_last_txnid;
    out.max_readers = info.me_maxreaders;
    out.reader_slots_used = info.me_numreaders;
    out.resizes = state_->resizes.load();
    out.flush_error = state_->flush_error.load();
    return out;
}

const EnvOptions& Env::options() const noexcept { return state_->options; }

MDB_env* Env::handle() const noexcept { return state_ ? state_->env : nullptr; }

// ---- Txn ----

Txn::Txn(EnvState* state, std::shared_lock<std::shared_mutex>&& lock, MDB_txn* txn) noexcept
    : state_(state), lock_(std::move(lock)), txn_(txn) {}

Txn::Txn(Txn&& other) noexcept
    : state_(other.state_),
      lock_(std::move(other.lock_)),
      txn_(std::exchange(other.txn_, nullptr)),
      read_only_(other.read_only_),
      write_serial_(other.write_serial_) {}

Txn& Txn::operator=(Txn&& other) noexcept {
    if (this != &other) {
        abort();
        state_ = other.state_;
        lock_ = std::move(other.lock_);
        txn_ = std::exchange(other.txn_, nullptr);
        read_only_ = other.read_only_;
        write_serial_ = other.write_serial_;
    }
    return *this;
}

Txn::~Txn() { abort(); }

void Txn::abort() noexcept {
    if (txn_ != nullptr) {
        MDB_txn* txn = std::exchange(txn_, nullptr);
        if (read_only_) state_->end_reader(txn);  // before the lock goes: a resize waits for it
        else mdb_txn_abort(txn);
    }
    if (lock_.owns_lock()) lock_.unlock();  // only now may a resize proceed
}

std::uint64_t Txn::id() const noexcept { return static_cast<std::uint64_t>(mdb_txn_id(txn_)); }

std::optional<std::string_view> Txn::get(Dbi dbi, std::string_view key) const {
    MDB_val k = to_val(key);
    MDB_val v{};
    int rc = mdb_get(txn_, dbi.handle(), &k, &v);
    if (rc == MDB_NOTFOUND) return std::nullopt;
    if (rc != MDB_SUCCESS) fail(state_, rc, "mdb_get");
    return to_view(v);
}

std::size_t Txn::entries(Dbi dbi) const {
    MDB_stat stat{};
    int rc = mdb_stat(txn_, dbi.handle(), &stat);
    if (rc != MDB_SUCCESS) fail(state_, rc, "mdb_stat");
    return stat.ms_entries;
}

ReadTxn ReadTxn::begin(Env& env) {
    EnvState& state = *env.state_;
    std::shared_lock<std::shared_mutex> lock(state.resize_mutex);
    if (MDB_txn* txn = state.take_idle_reader()) {
        if (mdb_txn_renew(txn) == MDB_SUCCESS) {
            ReadTxn out(&state, std::move(lock), txn);
            out.read_only_ = true;
            return out;
        }
        mdb_txn_abort(txn);  // MDB_MAP_RESIZED and the like: a fresh one sorts it out
    }
    lock.unlock();
    MDB_txn* txn = begin_txn(state, MDB_RDONLY, lock);
    ReadTxn out(&state, std::move(lock), txn);
    out.read_only_ = true;
    return out;
}

WriteTxn WriteTxn::begin(Env& env) {
    EnvState& state = *env.state_;
    std::shared_lock<std::shared_mutex> lock;
    MDB_txn* txn = begin_txn(state, 0, lock);
    // We now hold LMDB's writer lock, so no other write transaction can touch the flag,
    // and our shared lock keeps the map size fixed until we end.
    state.map_full.store(false);
    MDB_envinfo info{};
    int rc = mdb_env_info(state.env, &info);
    if (rc != MDB_SUCCESS) {
        mdb_txn_abort(txn);
        throw Error(rc, "mdb_env_info");
    }
    WriteTxn out(&state, std::move(lock), txn, info.me_mapsize);
    out.writes_at_begin_ = state.writes;
    out.write_serial_ = ++state.write_serials;
    return out;
}

bool WriteTxn::map_full() const noexcept { return txn_ != nullptr && state_->map_full.load(); }

std::uint64_t WriteTxn::writes() const noexcept { return state_->writes; }

bool WriteTxn::put(Dbi dbi, std::string_view key, std::string_view value, unsigned flags) {
    if ((flags & MDB_RESERVE) != 0)
        throw std::invalid_argument("lmdb: WriteTxn::put does not support MDB_RESERVE");
    MDB_val k = to_val(key);
    MDB_val v = to_val(value);
    int rc = mdb_put(txn_, dbi.handle(), &k, &v, flags);
    if (rc == MDB_KEYEXIST && (flags & (MDB_NOOVERWRITE | MDB_NODUPDATA)) != 0) return false;
    if (rc != MDB_SUCCESS) fail(state_, rc, "mdb_put");
    ++state_->writes;
    return true;
}

bool WriteTxn::del(Dbi dbi, std::string_view key) {
    MDB_val k = to_val(key);
    int rc = mdb_del(txn_, dbi.handle(), &k, nullptr);
    if (rc == MDB_NOTFOUND) return false;
    // Deleting can need fresh pages too (copy-on-write of the path), hence MAP_FULL.
    if (rc != MDB_SUCCESS) fail(state_, rc, "mdb_del");
    ++state_->writes;
    return true;
}

bool WriteTxn::del(Dbi dbi, std::string_view key, std::string_view value) {
    MDB_val k = to_val(key);
    MDB_val v = to_val(value);
    int rc = mdb_del(txn_, dbi.handle(), &k, &v);
    if (rc == MDB_NOTFOUND) return false;
    if (rc != MDB_SUCCESS) fail(state_, rc, "mdb_del");
    ++state_->writes;
    return true;
}

void WriteTxn::clear(Dbi dbi) {
    int rc = mdb_drop(txn_, dbi.handle(), 0);
    if (rc != MDB_SUCCESS) fail(state_, rc, "mdb_drop");
    ++state_->writes;
}

void WriteTxn::commit() {
    if (txn_ == nullptr) throw std::logic_error("lmdb: commit of a transaction that has ended");
    // Still open: a hook that throws leaves the transaction to be aborted.
    for (std::size_t i = 0; i < before_commit_.size(); ++i) before_commit_[i](*this);
    before_commit_.clear();
    // lmdb.h, mdb_txn_commit: "The transaction handle is freed" whether or not the
    // commit succeeds, so it must not reach mdb_txn_abort afterwards.
    MDB_txn* txn = std::exchange(txn_, nullptr);
    std::uint64_t id = mdb_txn_id(txn);
    // A transaction that changed nothing commits as nothing: no pages, no sync, no new id.
    bool wrote = state_->writes != writes_at_begin_;
    int rc = mdb_txn_commit(txn);
    lock_.unlock();
    // Not fail(): LMDB's writer lock is released, the map_full flag may already belong
    // to the next writer. Env::write reads MDB_MAP_FULL from the Error's code instead.
    if (rc != MDB_SUCCESS) throw Error(rc, "mdb_txn_commit");
    if (wrote) {
        EnvState::raise(state_->committed_txnid, id);  // a later writer may have stored already
        // Durability::normal: for the flusher. full: a meta page not flushed yet.
        state_->dirty.store(true);
        if (state_->options.durability == Durability::full) {
            // This commit's fdatasync (MDB_NOMETASYNC) came after the previous meta write.
            state_->mark_durable(id - 1);
            if (!defer_meta_sync_)
                if (int sync_rc = state_->sync_now(); sync_rc != MDB_SUCCESS) throw Error(sync_rc, "mdb_env_sync");
        }
    }
    for (auto& fn : std::exchange(after_commit_, {})) fn();
}

// ---- Cursor ----

Cursor Cursor::open(const Txn& txn, Dbi dbi) {
    MDB_cursor* cursor = nullptr;
    int rc = mdb_cursor_open(txn.txn_, dbi.handle(), &cursor);
    if (rc != MDB_SUCCESS) fail(txn.state_, rc, "mdb_cursor_open");
    return Cursor(txn.state_, cursor);
}

Cursor::Cursor(Cursor&& other) noexcept
    : state_(other.state_), cursor_(std::exchange(other.cursor_, nullptr)) {}

Cursor& Cursor::operator=(Cursor&& other) noexcept {
    if (this != &other) {
        if (cursor_ != nullptr) mdb_cursor_close(cursor_);
        state_ = other.state_;
        cursor_ = std::exchange(other.cursor_, nullptr);
    }
    return *this;
}

Cursor::~Cursor() {
    if (cursor_ != nullptr) mdb_cursor_close(cursor_);
}

bool Cursor::move(MDB_cursor_op op, MDB_val* key) {
    MDB_val k = key != nullptr ? *key : MDB_val{};
    MDB_val v{};
    int rc = mdb_cursor_get(cursor_, &k, &v, op);
    if (rc == MDB_NOTFOUND) return false;
    if (rc != MDB_SUCCESS) fail(state_, rc, "mdb_cursor_get");
    return true;
}

bool Cursor::first() { return move(MDB_FIRST); }
bool Cursor::last() { return move(MDB_LAST); }
bool Cursor::next() { return move(MDB_NEXT); }
bool Cursor::prev() { return move(MDB_PREV); }

bool Cursor::seek(std::string_view key) {
    MDB_val k = to_val(key);
    return move(MDB_SET_RANGE, &k);
}

bool Cursor::seek_le(std::string_view key) {
    if (!seek(key)) return last();
    if (this->key() != key) return prev();
    // On `key` itself, at its first value (MDB_DUPSORT); a backward scan starts at its
    // last one: step to the next key, then back. Harmless without MDB_DUPSORT.
    if (!move(MDB_NEXT_NODUP)) return last();
    return prev();
}

bool Cursor::seek_lt(std::string_view key) {
    if (!seek(key)) return last();
    return prev();
}

std::string_view Cursor::key() const {
    MDB_val k{};
    MDB_val v{};
    int rc = mdb_cursor_get(cursor_, &k, &v, MDB_GET_CURRENT);
    if (rc != MDB_SUCCESS) fail(state_, rc, "mdb_cursor_get(current)");
    return to_view(k);
}

std::string_view Cursor::value() const {
    MDB_val k{};
    MDB_val v{};
    int rc = mdb_cursor_get(cursor_, &k, &v, MDB_GET_CURRENT);
    if (rc != MDB_SUCCESS) fail(state_, rc, "mdb_cursor_get(current)");
    return to_view(v);
}

void Cursor::del() {
    int rc = mdb_cursor_del(cursor_, 0);
    if (rc != MDB_SUCCESS) fail(state_, rc, "mdb_cursor_del");
    ++state_->writes;
}

}  // namespace stratus::core::lmdb
