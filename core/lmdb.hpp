// The LMDB layer: move-only RAII handles over liblmdb (0.9.x) plus the two policies the
// daemon relies on — a map that grows instead of failing with MDB_MAP_FULL, and a
// durability mode that survives kill -9 without an fsync per commit.
//
// Usage (DynamoDB and S3 stores):
//
//     Env env = Env::open(data_dir);                 // once, at startup
//     Dbi items = env.open_db("items");              // every DBI once, at startup
//     env.write([&](WriteTxn& txn) { txn.put(items, key, value); });
//     auto copy = env.read([&](ReadTxn& txn) -> std::optional<std::string> {
//         auto v = txn.get(items, key);              // view into the map...
//         return v ? std::optional<std::string>(*v) : std::nullopt;  // ...copied out
//     });
//
// Rules for callers (not checked unless stated):
// - A string_view returned by get() or by a Cursor points into the memory map. lmdb.h
//   on MDB_val: "valid only until a subsequent update operation, or the end of the
//   transaction". Copy out before the next put/del in a write txn, and before the txn
//   ends; never return a view from env.read()/env.write().
// - A write transaction belongs to the thread that began it (LMDB's writer lock is a
//   process-shared mutex owned by that thread). MDB_NOTLS lifts this only for read
//   transactions. Never hold any transaction across an async wait.
// - A thread holds at most one transaction of an Env at a time. Beginning a second one
//   while the first is open can deadlock against a map resize (see Env::write).
//   env.read()/env.write() check this and throw std::logic_error; raw
//   ReadTxn::begin/WriteTxn::begin cannot.
// - Cursors live inside the block of their transaction (lmdb.h, mdb_cursor_open: a
//   write transaction frees its cursors when it ends, so closing one afterwards is a
//   use-after-free).
// - lmdb.h caveats: "Use an MDB_env* in the process which opened it, not after fork()",
//   and "Do not have open an LMDB database twice in the same process at the same time".
#pragma once

#include <lmdb.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace stratus::core::lmdb {

// Any LMDB failure other than "not found" (which get/del/cursor moves report as
// nullopt/false). code() is the mdb return value: an MDB_* constant or an errno.
class Error : public std::runtime_error {
public:
    Error(int code, std::string_view where);
    int code() const noexcept { return code_; }

private:
    int code_;
};

enum class Durability {
    // MDB_NOSYNC: a commit pwrite()s its pages into the OS page cache and returns; a
    // background thread fsyncs at most every flush_interval.
    // Why kill -9 is safe: mdb_txn_commit writes the new data pages and then the meta
    // page that points at them with write calls, before it returns. The page cache
    // belongs to the kernel, which writes it back whether or not the process lives. A
    // process killed before the meta write leaves the previous meta, and its
    // unreferenced pages are free space. The writer mutex in lock.mdb is robust on
    // Linux (lmdb.h caveats: stale writers "cleared automatically"), and the lock file
    // is reset by the next first opener.
    // A power loss or kernel crash may lose the last ~flush_interval of commits but,
    // lmdb.h on MDB_NOSYNC, keeps the database consistent on a filesystem that
    // preserves write order, because MDB_WRITEMAP is not used.
    normal,
    // Every commit is on disk before Env::write returns. MDB_NOMETASYNC: a commit
    // fdatasyncs its data pages (which also flushes the previous commit's meta page),
    // then writes its own meta page without a flush; WriteTxn::commit then fdatasyncs
    // once more for that meta page, unless the transaction deferred it
    // (WriteTxn::defer_meta_sync: group commit lets the next group's commit flush it,
    // one flush per group instead of two). lmdb.h on MDB_NOMETASYNC: it "maintains
    // database integrity"; a crash before the meta flush undoes only that commit.
    full,
};

struct EnvOptions {
    // Initial map size; doubled by Env::write whenever a transaction fills it. Only
    // address space: without MDB_WRITEMAP the data file grows with the data, not with
    // the map.
    std::size_t map_size = std::size_t{256} << 20;
    unsigned max_dbs = 64;
    // Reader-table slots. With MDB_NOTLS each live read transaction takes one.
    unsigned max_readers = 126;
    Durability durability = Durability::normal;
    // Durability::normal only: how often the background thread fsyncs if anything was
    // committed since the last flush.
    std::chrono::milliseconds flush_interval{1000};
    // Extra mdb_env_open flags (e.g. MDB_NORDAHEAD). MDB_NOTLS is always added, and
    // MDB_NOSYNC for Durability::normal. MDB_WRITEMAP, MDB_NOSUBDIR, MDB_MAPASYNC and
    // MDB_NOLOCK are rejected: the locking and durability reasoning here assumes them off.
    unsigned flags = 0;
};

// For health checks and logs.
struct EnvStats {
    std::size_t map_size = 0;    // current map size in bytes
    std::size_t page_size = 0;
    std::size_t last_page = 0;   // highest page number used (as of the last commit)
    std::size_t used_bytes = 0;  // (last_page + 1) * page_size: data file high-water mark
    std::size_t last_txnid = 0;
    unsigned max_readers = 0;
    unsigned reader_slots_used = 0;  // high-water mark of reader slots in use
    std::size_t resizes = 0;         // map growths since open
    int flush_error = 0;  // last mdb_env_sync error of the background flusher; 0 = fine
};

class Env;
class Txn;
class ReadTxn;
class WriteTxn;
class JoinWrites;
class Cursor;

namespace detail {
struct EnvState;

// Marks "this thread is inside env.read()/env.write() of this Env" and refuses a nested
// entry with std::logic_error; see Env::write for the deadlock it prevents.
class Reentry {
public:
    explicit Reentry(const EnvState* state);
    ~Reentry();
    Reentry(const Reentry&) = delete;
    Reentry& operator=(const Reentry&) = delete;

private:
    const EnvState* state_;
    const Reentry* outer_;
};

// The write transaction a JoinWrites on this thread joined for this Env, or nullptr.
WriteTxn* joined_write(const EnvState* state) noexcept;
}  // namespace detail

// A named database handle. Deliberately a copyable value that never closes itself:
// lmdb.h on mdb_dbi_close says it is "not mutex protected" and "normally unnecessary";
// handles are opened once at startup and released by mdb_env_close. Valid for the
// lifetime of the Env that opened it.
class Dbi {
public:
    MDB_dbi handle() const noexcept { return dbi_; }
    friend bool operator==(Dbi, Dbi) = default;

private:
    friend class Env;
    explicit Dbi(MDB_dbi dbi) noexcept : dbi_(dbi) {}
    MDB_dbi dbi_;
};

class Env {
public:
    // Opens (creating the directory if needed) <dir>/data.mdb and <dir>/lock.mdb.
    static Env open(const std::string& dir, const EnvOptions& options = {});

    Env(Env&&) noexcept;
    Env& operator=(Env&&) noexcept;
    Env(const Env&) = delete;
    Env& operator=(const Env&) = delete;
    // Stops the flusher, fsyncs if anything is unflushed (best effort; call sync() at
    // graceful shutdown to see errors), closes the env. No transaction may be alive.
    ~Env();

    // Opens (with MDB_CREATE: creates) a named database, in its own write transaction.
    // Call once per name at startup, before other threads use the Env: lmdb.h says
    // mdb_dbi_open "must not be called from multiple concurrent transactions".
    // flags: MDB_CREATE, MDB_DUPSORT, MDB_INTEGERKEY, ... Without MDB_CREATE a missing
    // database throws Error(MDB_NOTFOUND).
    Dbi open_db(std::string_view name, unsigned flags = MDB_CREATE);

    // Runs fn(WriteTxn&) in a fresh write transaction and commits it; returns fn's
    // result. If the map fills (MDB_MAP_FULL) during fn or commit, the transaction is
    // aborted, the map doubled, and fn rerun from scratch — so fn must have no effects
    // outside the transaction that a rerun would duplicate, and must not commit or
    // abort the txn itself. Anything else fn throws aborts and propagates.
    // Do not return views into the map: they die with the transaction.
    template <class Fn>
    std::invoke_result_t<Fn&, WriteTxn&> write(Fn&& fn);

    // Runs fn(ReadTxn&) in a read transaction (a consistent snapshot) and returns its
    // result. Readers never block writers, nor writers readers.
    template <class Fn>
    std::invoke_result_t<Fn&, ReadTxn&> read(Fn&& fn);

    // fsyncs committed data now (graceful shutdown; Durability::normal). Like stats(),
    // takes the shared resize lock, so call it outside transactions.
    void sync();

    // Durability::full: the id of the last committed transaction known to be on disk
    // (meta page included); every commit up to it survives a power loss. Durability::
    // normal: the same after Env::sync (the flusher's syncs count too).
    std::uint64_t durable_through() const noexcept;

    EnvStats stats() const;
    const EnvOptions& options() const noexcept;
    MDB_env* handle() const noexcept;

private:
    friend class Txn;
    friend class ReadTxn;
    friend class WriteTxn;
    explicit Env(std::unique_ptr<detail::EnvState> state) noexcept;
    // Doubles the map unless another thread already grew it past `seen`. The caller
    // must hold no transaction of this Env.
    void grow(std::size_t seen);

    std::unique_ptr<detail::EnvState> state_;
};

// What read and write transactions share. Holds, for its whole life, a shared lock on
// the Env's resize mutex (mdb_env_set_mapsize needs "no transactions active in this
// process"), plus the MDB_txn. Destruction aborts.
class Txn {
public:
    // nullopt if absent. The view points into the map: valid until the next put/del in
    // this transaction or its end, whichever comes first (lmdb.h, MDB_val).
    std::optional<std::string_view> get(Dbi dbi, std::string_view key) const;
    // Number of entries (all duplicates counted) in dbi, as this transaction sees it.
    std::size_t entries(Dbi dbi) const;

    // Ends the transaction now, discarding any writes. Idempotent.
    void abort() noexcept;
    bool active() const noexcept { return txn_ != nullptr; }
    MDB_txn* handle() const noexcept { return txn_; }
    bool read_only() const noexcept { return read_only_; }
    // A read transaction: the id of the committed transaction whose snapshot it sees (two
    // read transactions of one Env with the same id see the same data). A write
    // transaction: the id it will commit as, which an abort gives to the next one.
    std::uint64_t id() const noexcept;
    // A write transaction: a number no other write transaction of this process had (an
    // aborted one's id() is reused; this is not). A read transaction: 0.
    std::uint64_t write_serial() const noexcept { return write_serial_; }

protected:
    Txn(detail::EnvState* state, std::shared_lock<std::shared_mutex>&& lock,
        MDB_txn* txn) noexcept;
    Txn(Txn&& other) noexcept;
    Txn& operator=(Txn&& other) noexcept;
    ~Txn();

    detail::EnvState* state_;
    // Released only after txn_ has ended (abort() and commit() order it explicitly).
    std::shared_lock<std::shared_mutex> lock_;
    MDB_txn* txn_;
    // A read transaction: ending it resets it for reuse (mdb_txn_reset / mdb_txn_renew)
    // instead of freeing it.
    bool read_only_ = false;
    std::uint64_t write_serial_ = 0;

private:
    friend class Cursor;
};

class ReadTxn : public Txn {
public:
    static ReadTxn begin(Env& env);

private:
    ReadTxn(detail::EnvState* state, std::shared_lock<std::shared_mutex>&& lock,
            MDB_txn* txn) noexcept
        : Txn(state, std::move(lock), txn) {}
};

class WriteTxn : public Txn {
public:
    // Blocks while another thread's write transaction is open (LMDB's writer lock).
    // MDB_MAP_FULL from a raw WriteTxn reaches the caller; use Env::write to get growth.
    static WriteTxn begin(Env& env);

    // flags: MDB_NOOVERWRITE / MDB_NODUPDATA make it conditional — returns false (and
    // writes nothing) if the key (pair) exists; otherwise always true. MDB_APPEND and
    // MDB_APPENDDUP are allowed; MDB_RESERVE is not (no buffer is handed back).
    // Keys: 1..511 bytes (mdb_env_get_maxkeysize), else Error(MDB_BAD_VALSIZE).
    bool put(Dbi dbi, std::string_view key, std::string_view value, unsigned flags = 0);
    // Deletes key (with MDB_DUPSORT: all its values). Returns whether it existed.
    bool del(Dbi dbi, std::string_view key);
    // MDB_DUPSORT: deletes the one pair (key, value). Returns whether it existed.
    bool del(Dbi dbi, std::string_view key, std::string_view value);
    // Empties dbi, keeping the handle (mdb_drop with del = 0).
    void clear(Dbi dbi);

    // Ends the transaction either way. The handle is cleared before mdb_txn_commit,
    // which frees the transaction even when it fails, so the destructor cannot abort a
    // freed txn. Cursors of this transaction must be gone already.
    void commit();

    // Some operation of this still-open transaction failed with MDB_MAP_FULL, even if
    // the caller swallowed the Error (LMDB then refuses to commit it).
    bool map_full() const noexcept;

    // Changes (puts, deletes, clears, cursor deletes) made through this Env's write
    // transactions so far: compare two readings to learn whether work in between wrote.
    std::uint64_t writes() const noexcept;

    // Runs `fn` once this transaction has committed (on the committing thread, right
    // after mdb_txn_commit succeeds); never when it aborts or its commit fails, so a
    // rerun of Env::write's fn registers afresh. For wake-ups of readers waiting for
    // what the transaction wrote (stream pollers, outbox dispatchers): fn must be quick,
    // must not throw and must not begin a transaction of this Env.
    void after_commit(std::function<void()> fn) { after_commit_.push_back(std::move(fn)); }

    // Runs `fn(*this)` when commit() is called, before LMDB commits: for writes gathered
    // over the transaction and made once (a table's statistics). fn may write; what it
    // throws ends the commit as a failing put would (Env::write grows the map and reruns
    // on MDB_MAP_FULL). Dropped when the transaction aborts.
    void before_commit(std::function<void(WriteTxn&)> fn) { before_commit_.push_back(std::move(fn)); }

    // Durability::full: commit() returns once the data pages are on disk but without
    // flushing the meta page that makes them the database's state; the commit is
    // durable when Env::durable_through() reaches its id(), which the next writing
    // commit or an Env::sync() brings about. For GroupCommit, which answers a group's
    // clients only then. No effect under Durability::normal.
    void defer_meta_sync() noexcept { defer_meta_sync_ = true; }

private:
    friend class Env;
    friend class JoinWrites;
    WriteTxn(detail::EnvState* state, std::shared_lock<std::shared_mutex>&& lock,
             MDB_txn* txn, std::size_t map_size) noexcept
        : Txn(state, std::move(lock), txn), map_size_(map_size) {}

    std::size_t map_size_;  // map size when this txn began; fixed while it lives
    std::uint64_t writes_at_begin_ = 0;
    bool defer_meta_sync_ = false;
    std::vector<std::function<void(WriteTxn&)>> before_commit_;
    std::vector<std::function<void()>> after_commit_;
};

// While alive, this thread's Env::write calls on txn's Env run their fn directly in txn:
// no transaction of their own, no commit, no growth (a MAP_FULL reaches the caller of
// the outer Env::write, which grows and reruns everything). Group commit runs many
// requests' writes in one transaction this way. Nests; the innermost wins.
class JoinWrites {
public:
    explicit JoinWrites(WriteTxn& txn) noexcept;
    ~JoinWrites();
    JoinWrites(const JoinWrites&) = delete;
    JoinWrites& operator=(const JoinWrites&) = delete;

private:
    friend WriteTxn* detail::joined_write(const detail::EnvState* state) noexcept;
    WriteTxn* txn_;
    const detail::EnvState* state_;
    const JoinWrites* outer_;
};

// Ordered iteration over one database. Positioning calls return false when there is no
// such entry; key()/value() are meaningful only after one returned true and are views
// into the map (same lifetime as Txn::get). Close (destroy) it before its transaction
// ends.
class Cursor {
public:
    static Cursor open(const Txn& txn, Dbi dbi);

    Cursor(Cursor&& other) noexcept;
    Cursor& operator=(Cursor&& other) noexcept;
    Cursor(const Cursor&) = delete;
    Cursor& operator=(const Cursor&) = delete;
    ~Cursor();

    bool first();
    bool last();
    bool next();  // with MDB_DUPSORT, also steps through a key's values
    bool prev();
    // First entry with key >= `key` (MDB_SET_RANGE): the start of a forward range scan.
    bool seek(std::string_view key);
    // Last entry with key <= `key` / < `key`: the start of a backward range scan
    // (with MDB_DUPSORT, the last value of that key).
    bool seek_le(std::string_view key);
    bool seek_lt(std::string_view key);

    std::string_view key() const;
    std::string_view value() const;

    // Deletes the current entry (needs a write transaction). The cursor then sits on
    // the following entry without reporting it: next() returns it, so
    // `for (bool ok = c.first(); ok; ok = c.next()) if (...) c.del();` visits everything.
    void del();

    MDB_cursor* handle() const noexcept { return cursor_; }

private:
    Cursor(detail::EnvState* state, MDB_cursor* cursor) noexcept
        : state_(state), cursor_(cursor) {}
    bool move(MDB_cursor_op op, MDB_val* key = nullptr);

    detail::EnvState* state_;
    MDB_cursor* cursor_;
};

// ---- templates ----

// Growth and locking. mdb_env_set_mapsize "may be called at later times if no
// transactions are active in this process. Note that the library does not check for
// this condition" (lmdb.h). So every transaction holds a shared lock on the Env's
// std::shared_mutex for its whole life, and grow() takes it exclusively.
//
// No deadlock with LMDB's writer mutex: the only thread that ever waits for the
// exclusive lock is a writer that has already aborted its transaction — releasing
// LMDB's writer mutex — and dropped its shared lock. Everyone it waits for holds a
// shared lock and is either running (readers; the one writer) or blocked on LMDB's
// writer mutex, which the running writer releases without ever waiting for the
// exclusive lock. So every wait points at a thread that makes progress. A thread
// holding a second transaction while it grows would wait for itself; Reentry refuses
// nested env.read/env.write for that reason.
//
// Starvation: libstdc++'s shared_mutex is glibc's reader-preferring rwlock, so a
// resize waits for a moment with no transaction open. Transactions are short; growth
// is rare and doubles.
template <class Fn>
std::invoke_result_t<Fn&, WriteTxn&> Env::write(Fn&& fn) {
    using Result = std::invoke_result_t<Fn&, WriteTxn&>;
    if (WriteTxn* joined = detail::joined_write(state_.get())) return fn(*joined);
    detail::Reentry reentry(state_.get());
    for (;;) {
        std::size_t seen = 0;
        {
            WriteTxn txn = WriteTxn::begin(*this);
            seen = txn.map_size_;
            try {
                if constexpr (std::is_void_v<Result>) {
                    fn(txn);
                    if (!txn.map_full()) {
                        txn.commit();
                        return;
                    }
                } else {
                    Result result = fn(txn);
                    if (!txn.map_full()) {
                        txn.commit();
                        return result;
                    }
                }
            } catch (const Error& e) {
                // From fn or from commit. MDB_TXN_FULL is deliberately not retried: it
                // counts dirty pages in one transaction (a fixed limit, ~512 MiB), which
                // a bigger map does not change, so a rerun would fail the same way.
                if (e.code() != MDB_MAP_FULL) throw;
            } catch (...) {
                // fn translated a MAP_FULL into something else: still growth. The flag
                // is only trustworthy while the txn (and LMDB's writer lock) is held.
                if (!txn.active() || !txn.map_full()) throw;
            }
        }  // txn aborted and shared lock released here, before grow() locks exclusively
        grow(seen);
    }
}

template <class Fn>
std::invoke_result_t<Fn&, ReadTxn&> Env::read(Fn&& fn) {
    detail::Reentry reentry(state_.get());
    ReadTxn txn = ReadTxn::begin(*this);
    return fn(txn);
}

}  // namespace stratus::core::lmdb
