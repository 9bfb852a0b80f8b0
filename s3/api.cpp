#include "s3/api.hpp"

#include <fmt/format.h>

#include <cctype>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include "core/file_sink.hpp"
#include "core/group_commit.hpp"
#include "core/log.hpp"
#include "s3/access.hpp"
#include "s3/auth.hpp"
#include "s3/cors.hpp"
#include "s3/errors.hpp"
#include "s3/object_common.hpp"
#include "s3/ops.hpp"
#include "s3/upload.hpp"
#include "s3/website.hpp"

namespace stratus::s3 {

namespace {

enum class Resource { service, bucket, object };

// S3 tells operations apart by (resource, method, sub-resource) (moto's ACTION_MAP), and
// PUTs by whether they copy (x-amz-copy-source: CopyObject, UploadPartCopy).
using OperationKey = std::tuple<Resource, std::string, std::string, bool>;

// The sub-resources that select an S3 operation; other query parameters are arguments.
// Order matters: the first one present wins ("?uploadId&partNumber" is UploadPart).
constexpr std::string_view sub_resources[] = {
    "uploadId", "uploads",  "delete",     "acl",        "cors",       "lifecycle",   "location",
    "notification", "policy", "tagging", "versioning", "versions",  "website",     "encryption",
    "logging",  "ownershipControls", "publicAccessBlock", "object-lock", "retention", "legal-hold",
    "attributes", "list-type", "accelerate", "requestPayment", "replication", "analytics", "metrics",
    "inventory", "intelligent-tiering", "restore", "select", "torrent", "policyStatus",
};

// The stored bucket configurations and their operations' names (Get / Put / Delete).
struct ConfigNames {
    std::string_view sub, get, put, del;
};
constexpr ConfigNames bucket_configs[] = {
    {"cors", "GetBucketCors", "PutBucketCors", "DeleteBucketCors"},
    {"lifecycle", "GetBucketLifecycleConfiguration", "PutBucketLifecycleConfiguration", "DeleteBucketLifecycle"},
    {"notification", "GetBucketNotificationConfiguration", "PutBucketNotificationConfiguration", ""},
    {"policy", "GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"},
    {"tagging", "GetBucketTagging", "PutBucketTagging", "DeleteBucketTagging"},
    {"versioning", "GetBucketVersioning", "PutBucketVersioning", ""},
    {"website", "GetBucketWebsite", "PutBucketWebsite", "DeleteBucketWebsite"},
    {"acl", "GetBucketAcl", "PutBucketAcl", ""},
    {"encryption", "GetBucketEncryption", "PutBucketEncryption", "DeleteBucketEncryption"},
    {"logging", "GetBucketLogging", "PutBucketLogging", ""},
    {"ownershipControls", "GetBucketOwnershipControls", "PutBucketOwnershipControls", "DeleteBucketOwnershipControls"},
    {"publicAccessBlock", "GetPublicAccessBlock", "PutPublicAccessBlock", "DeletePublicAccessBlock"},
};

// How an operation runs: on the I/O thread; on a worker (those that copy object bytes:
// CompleteMultipartUpload joins the parts, UploadPartCopy copies a range, POST Object
// spools the form's file; DESIGN.md: handlers never block the io_context); or, PutObject,
// checked on the I/O thread and committed on the group committer (core/group_commit.hpp).
enum class Run { io, worker, grouped };

struct Operation {
    std::string_view name;  // AWS's operation name (the access log's)
    Op fn = nullptr;        // nullptr for Run::grouped (S3ServiceImpl::put_grouped)
    Run run = Run::io;
};

std::map<OperationKey, Operation> make_table() {
    std::map<OperationKey, Operation> t;
    using R = Resource;
    auto row = [&t](R r, std::string method, std::string sub, std::string_view name, Op fn, Run run = Run::io,
                    bool copy = false) { t[{r, std::move(method), std::move(sub), copy}] = Operation{name, fn, run}; };
    row(R::service, "GET", "", "ListBuckets", list_buckets);
    row(R::bucket, "PUT", "", "CreateBucket", create_bucket);
    row(R::bucket, "DELETE", "", "DeleteBucket", delete_bucket);
    row(R::bucket, "HEAD", "", "HeadBucket", head_bucket);
    row(R::bucket, "GET", "", "ListObjects", list_objects);
    row(R::bucket, "GET", "list-type", "ListObjectsV2", list_objects);
    row(R::bucket, "GET", "location", "GetBucketLocation", get_bucket_location);
    row(R::bucket, "GET", "versions", "ListObjectVersions", list_object_versions);
    row(R::bucket, "GET", "uploads", "ListMultipartUploads", list_multipart_uploads);
    row(R::bucket, "POST", "delete", "DeleteObjects", delete_objects);
    row(R::bucket, "POST", "", "PostObject", post_object, Run::worker);
    row(R::bucket, "GET", "policyStatus", "GetBucketPolicyStatus", get_bucket_config);
    for (auto& c : bucket_configs) {
        row(R::bucket, "GET", std::string(c.sub), c.get, get_bucket_config);
        row(R::bucket, "PUT", std::string(c.sub), c.put, put_bucket_config);
        if (!c.del.empty()) row(R::bucket, "DELETE", std::string(c.sub), c.del, delete_bucket_config);
    }
    row(R::object, "PUT", "", "PutObject", nullptr, Run::grouped);
    row(R::object, "PUT", "", "CopyObject", copy_object, Run::io, true);
    row(R::object, "GET", "", "GetObject", get_object);
    row(R::object, "HEAD", "", "HeadObject", get_object);
    row(R::object, "DELETE", "", "DeleteObject", delete_object);
    row(R::object, "GET", "tagging", "GetObjectTagging", get_object_tagging);
    row(R::object, "PUT", "tagging", "PutObjectTagging", put_object_tagging);
    row(R::object, "DELETE", "tagging", "DeleteObjectTagging", delete_object_tagging);
    row(R::object, "GET", "acl", "GetObjectAcl", get_object_acl);
    row(R::object, "PUT", "acl", "PutObjectAcl", put_object_acl);
    row(R::object, "POST", "uploads", "CreateMultipartUpload", create_multipart_upload);
    row(R::object, "PUT", "uploadId", "UploadPart", upload_part);
    row(R::object, "PUT", "uploadId", "UploadPartCopy", upload_part, Run::worker, true);
    row(R::object, "POST", "uploadId", "CompleteMultipartUpload", complete_multipart_upload, Run::worker);
    row(R::object, "DELETE", "uploadId", "AbortMultipartUpload", abort_multipart_upload);
    row(R::object, "GET", "uploadId", "ListParts", list_parts);
    return t;
}

struct Target {
    Resource resource = Resource::service;
    std::string bucket;
    std::string key;
    std::string sub;
};

constexpr std::string_view website_suffix = ".s3-website.localhost";

// BUCKET.s3-website.localhost: the website endpoint.
std::optional<std::string> website_bucket(std::string_view host) {
    if (host.size() > website_suffix.size() && host.ends_with(website_suffix))
        return std::string(host.substr(0, host.size() - website_suffix.size()));
    return std::nullopt;
}

bool virtual_hosted(std::string_view host) {
    constexpr std::string_view suffix = ".s3.localhost";
    return host.size() > suffix.size() && host.ends_with(suffix);
}

// A path S3 can read: every '%' starts an escape of two hex digits, and the decoded
// bucket and key are UTF-8. S3 answers anything else 400 InvalidURI.
bool parseable_path(std::string_view raw) {
    auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
    for (std::size_t i = 0; i < raw.size(); ++i)
        if (raw[i] == '%' && (i + 2 >= raw.size() || !hex(raw[i + 1]) || !hex(raw[i + 2]))) return false;
    std::string d = core::percent_decode(raw);
    for (std::size_t i = 0; i < d.size();) {
        auto c = static_cast<unsigned char>(d[i]);
        std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        if (n == 0 || i + n > d.size()) return false;
        std::uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
        for (std::size_t k = 1; k < n; ++k) {
            auto cc = static_cast<unsigned char>(d[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n;
    }
    return true;
}

Target classify(const core::Request& request) {
    Target t;
    std::string_view host = request.host();
    std::string path = core::percent_decode(request.path);
    std::string_view p = path;
    if (!p.empty() && p.front() == '/') p.remove_prefix(1);
    if (virtual_hosted(host)) {
        t.bucket = std::string(host.substr(0, host.size() - std::string_view(".s3.localhost").size()));
        t.key = std::string(p);
    } else {
        auto slash = p.find('/');
        t.bucket = std::string(p.substr(0, slash));
        if (slash != std::string_view::npos) t.key = std::string(p.substr(slash + 1));
    }
    t.resource = t.bucket.empty() ? Resource::service : t.key.empty() ? Resource::bucket : Resource::object;
    auto params = request.query_params();
    for (auto s : sub_resources) {
        for (auto& q : params)
            if (q.name == s) {
                t.sub = q.name;
                break;
            }
        if (!t.sub.empty()) break;
    }
    return t;
}

// Runs jobs on its own threads: the operations that copy object bytes
// (CompleteMultipartUpload joins the parts, UploadPartCopy copies a range) take too long
// for an I/O thread (DESIGN.md: handlers never block the io_context).
class Workers {
public:
    explicit Workers(unsigned n) {
        for (unsigned i = 0; i < n; ++i) threads_.emplace_back([this] { loop(); });
    }
    ~Workers() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        cv_.notify_all();
        for (auto& t : threads_) t.join();
    }
    Workers(const Workers&) = delete;
    Workers& operator=(const Workers&) = delete;

    void post(std::function<void()> job) {
        {
            std::lock_guard lock(mutex_);
            jobs_.push_back(std::move(job));
        }
        cv_.notify_one();
    }

private:
    void loop() {
        for (;;) {
            std::function<void()> job;
            {
                std::unique_lock lock(mutex_);
                cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
                if (jobs_.empty()) return;  // stopping, nothing left
                job = std::move(jobs_.front());
                jobs_.pop_front();
            }
            job();
        }
    }

    std::vector<std::thread> threads_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> jobs_;
    bool stopping_ = false;
};

class S3ServiceImpl final : public S3Service {
public:
    S3ServiceImpl(core::lmdb::Env& env, Options options, std::shared_ptr<EventOutbox> events)
        : store_(env, options.root, options.fsync), events_(std::move(events)),
          ctx_{store_, *events_,
               [] {
                   return std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                       .count();
               },
               nullptr},
          operations_(make_table()) {
        store_.collect_garbage();
    }

    std::string_view name() const override { return "s3"; }
    const core::Protocol& protocol() const override { return protocol_; }
    core::ServiceRoute route() const override {
        core::ServiceRoute r;
        r.signing_names = {"s3"};
        r.host_suffixes = {".s3.localhost", std::string(website_suffix)};
        r.fallback = true;
        return r;
    }
    bool anonymous(const core::Request& head) const override {
        // Browsers send CORS preflights without credentials; website endpoints are public;
        // a form upload (POST Object) carries its signature in the form, checked there.
        return head.method == "OPTIONS" || website_bucket(head.host()).has_value() || form_upload(head);
    }

    static bool form_upload(const core::Request& head) {
        if (head.method != "POST") return false;
        Target t = classify(head);
        return t.resource == Resource::bucket && t.sub.empty();
    }

    void use_credentials(std::shared_ptr<const core::Credentials> keys) override {
        keys_ = std::move(keys);
        ctx_.keys = keys_.get();
    }

    // S3's own signing rules (s3/auth.hpp). A request without any signature goes on as
    // anonymous: route() asks s3/access.hpp what the bucket lets the public do.
    std::optional<core::AuthProblem> authenticate(core::Request& request,
                                                  const core::Credentials& keys) const override {
        std::string_view host = request.host();
        std::string_view bucket;
        if (virtual_hosted(host)) bucket = host.substr(0, host.size() - std::string_view(".s3.localhost").size());
        return s3::authenticate(request, keys, bucket);
    }

    core::AwsError auth_error(const core::AuthProblem& problem) const override {
        return s3_auth_error(problem);
    }

    std::string read_object(std::string_view bucket, std::string_view key, const std::optional<std::string>& version_id,
                            std::size_t max_bytes) override {
        Version v = load_copy_source(ctx_, CopySource{std::string(bucket), std::string(key), version_id});
        if (v.size > max_bytes)
            throw s3_error("EntityTooLarge");
        auto body = store_.read_body(v, max_bytes);
        if (!body) throw no_such_key(key);  // deleted meanwhile
        return std::move(*body);
    }

    Store::BodyCounts body_counts() override { return store_.body_counts(); }

    std::optional<core::Response> web_object(const core::Request& req, const std::string& bucket,
                                             const std::string& key) override {
        return s3::web_object(ctx_, req, bucket, key);
    }

    void create_bucket(const std::string& name) override {
        auto r = call("PUT", "/" + core::uri_encode(name), "");
        if (r.status == 409 && r.body.find("BucketAlreadyOwnedByYou") != std::string::npos) return;
        check(r);
    }
    void put_bucket_config(const std::string& bucket, const std::string& sub, std::string document) override {
        check(call("PUT", "/" + core::uri_encode(bucket) + "?" + sub, std::move(document)));
    }
    void delete_bucket_config(const std::string& bucket, const std::string& sub) override {
        check(call("DELETE", "/" + core::uri_encode(bucket) + "?" + sub, ""));
    }
    std::string put_object(const std::string& bucket, const std::string& key, std::string body,
                           const std::map<std::string, std::string>& headers) override {
        auto r = check(call("PUT", "/" + core::uri_encode(bucket) + "/" + core::uri_encode(key, false), std::move(body),
                            headers));
        return std::string(r.headers.get_or("ETag", ""));
    }
    void delete_object(const std::string& bucket, const std::string& key) override {
        check(call("DELETE", "/" + core::uri_encode(bucket) + "/" + core::uri_encode(key, false), ""));
    }
    std::vector<ObjectSummary> list_objects(const std::string& bucket, const std::string& prefix) override {
        std::vector<ObjectSummary> out;
        store_.env().read([&](core::lmdb::ReadTxn& txn) {
            require_bucket(txn, ctx_, bucket);
            store_.scan(txn, bucket, prefix, [&](const Entry& e) {
                if (!e.key.starts_with(prefix)) return false;
                if (auto* v = e.current()) out.push_back(ObjectSummary{e.key, v->etag, v->size});
                return true;
            });
        });
        return out;
    }

    core::BodyPolicy body_policy(const core::Request& head) const override {
        core::BodyPolicy p;
        Target t = classify(head);
        bool object_body = head.method == "PUT" && t.resource == Resource::object &&
                           (t.sub.empty() || t.sub == "uploadId") && !head.headers.has("x-amz-copy-source");
        if (object_body) {
            // Object bodies stream to disk: 5 GB is S3's single-PUT (and part) limit.
            // aws-chunked framing adds a little on the wire.
            p.limit = 5ULL * 1024 * 1024 * 1024 + 64 * 1024 * 1024;
            UploadOptions o = upload_options(head, store_.fsync());
            if (t.sub.empty()) {
                // PutObject (not UploadPart): small bodies stay in memory, and a body sent
                // without a checksum gets S3's default full-object CRC64NVME.
                o.inline_max = Store::inline_max;
                if (!o.checksum) o.checksum = ChecksumAlgorithm::crc64nvme;
            }
            p.make_sink = [dir = store_.spool_dir(), o] { return std::make_unique<UploadSink>(dir, o); };
        } else if (head.method == "PUT") {
            // Other PUT bodies (configurations, tagging) are small documents, but every PUT
            // streams to the spool all the same: the operation reads what it needs
            // (body_of, which refuses documents over 20 MB), and a PUT nothing takes is
            // still read whole before its answer.
            p.limit = 5ULL * 1024 * 1024 * 1024;
            p.make_sink = [dir = store_.spool_dir()] { return std::make_unique<core::FileSink>(dir); };
        } else if (form_upload(head)) {
            // Form uploads stream to the spool like PUT bodies; the file field may be 5 GB.
            p.limit = 5ULL * 1024 * 1024 * 1024 + 1024 * 1024;
            p.make_sink = [dir = store_.spool_dir()] { return std::make_unique<core::FileSink>(dir); };
            return p;  // not hashed: the signature is over the policy, not the body
        } else {
            p.limit = 20 * 1024 * 1024;
        }
        if (keys_ && p.make_sink) {
            // Under --verify-signatures a streamed body's hash is taken on the way in;
            // authenticate() checks it and hands the operation its own sink back.
            p.make_sink = [inner = std::move(p.make_sink)] { return hashing_sink(inner()); };
        }
        return p;
    }

    void handle(core::Request&& request, core::Reply reply) override {
        if (auto wb = website_bucket(request.host())) {
            auto r = website_request(ctx_, request, *wb);
            r.operation = "Website";
            return reply(std::move(r));
        }
        Target t = classify(request);
        if (!request.headers.has("origin") || t.bucket.empty() || request.method == "OPTIONS")
            return route(std::move(request), t, std::move(reply));
        // A CORS request: S3 adds the bucket's CORS headers to error answers too (the
        // operations decorate their successes), or the browser hides the error from the page.
        auto head = std::make_shared<core::Request>();
        head->method = request.method;
        head->target = request.target;
        head->path = request.path;
        head->query = request.query;
        head->headers = request.headers;
        head->request_id = request.request_id;
        reply = [this, head, bucket = t.bucket, inner = std::move(reply)](core::Response&& r) {
            if (r.status >= 400) cors_headers(*head, bucket, r);
            inner(std::move(r));
        };
        try {
            route(std::move(request), t, reply);
        } catch (...) {
            reply(failure(*head));
        }
    }

    void route(core::Request&& request, const Target& t, const core::Reply& reply) {
        if (!parseable_path(request.path))
            throw s3_error("InvalidURI").with("URI", request.path);
        if (request.method == "OPTIONS" && t.resource != Resource::service) {
            auto b = store_.env().read([&](core::lmdb::ReadTxn& txn) { return store_.get_bucket(txn, t.bucket); });
            if (!b) throw no_such_bucket(t.bucket);
            std::optional<std::string> cors;
            if (auto c = b->configs.find("cors"); c != b->configs.end()) cors = c->second;
            auto r = preflight(request, cors);
            r.operation = "PreflightRequest";
            return reply(std::move(r));
        }
        bool copy = request.method == "PUT" && t.resource == Resource::object &&
                    (t.sub.empty() || t.sub == "uploadId") && request.headers.has("x-amz-copy-source");
        auto it = operations_.find(OperationKey{t.resource, request.method, t.sub, copy});
        // Access control comes first: an anonymous caller learns nothing of what it may
        // not do. Form uploads carry their own signature, checked in post_object.
        bool anonymous = keys_ && request.access_key.empty();
        // A signed request by a key pair other than the first: an IAM user of the owner's
        // account, judged by the bucket's policy and ACLs (s3/access.hpp).
        std::string user = keys_ && !request.access_key.empty() && request.access_key != keys_->owner() &&
                                   request.access_key != internal_caller
                               ? request.access_key
                               : std::string();
        bool form = it != operations_.end() && it->second.fn == post_object;
        if (!form && (anonymous || !user.empty() || request.headers.has("x-amz-acl") || has_grant_headers(request)))
            authorize(request, t, anonymous, user);
        if (it == operations_.end()) {
            if (t.resource != Resource::service && (request.method == "GET" || request.method == "PUT" ||
                                                    request.method == "DELETE" || request.method == "HEAD" ||
                                                    request.method == "POST") &&
                !t.sub.empty()) {
                // What S3 answers for a request it recognises but does not implement.
                throw s3_error("NotImplemented")
                    .with("Header", t.sub);
            }
            throw s3_error("MethodNotAllowed")
                .with("Method", request.method)
                .with("ResourceType", t.resource == Resource::service  ? "SERVICE"
                                      : t.resource == Resource::bucket ? "BUCKET"
                                                                       : "OBJECT");
        }
        const Operation& op = it->second;
        if (op.run == Run::worker) {
            auto req = std::make_shared<core::Request>(std::move(request));
            workers_.post([this, req, op, t, reply] {
                core::Response r;
                try {
                    Call call{*req, t.bucket, t.key, t.sub};
                    r = op.fn(ctx_, call);
                    r.operation = op.name;
                    cors_headers(*req, t.bucket, r);
                } catch (...) {
                    r = failure(*req);
                }
                reply(std::move(r));
            });
            return;
        }
        if ((op.name == "PutObject" || op.name == "UploadPart") && !request.headers.has("content-length") &&
            !request.headers.has("transfer-encoding"))
            throw s3_error("MissingContentLength");
        if (op.run == Run::grouped) return put_grouped(std::move(request), t, reply);
        Call call{request, t.bucket, t.key, t.sub};
        core::Response r;
        try {
            r = op.fn(ctx_, call);
        } catch (const core::AwsError& e) {
            // An anonymous reader may not learn that a key is missing unless it may list
            // the bucket: S3 answers 403 then, not 404.
            if ((anonymous || !user.empty()) && e.code() == "NoSuchKey" &&
                !may(request, t.bucket, "", "s3:ListBucket", user))
                throw access_denied();
            if (e.status() != 304) throw;
            // Not Modified: headers only, no error document.
            r.status = 304;
            for (auto& [n, v] : e.fields()) r.headers.set(n, v);
        }
        r.operation = op.name;
        cors_headers(request, t.bucket, r);
        reply(std::move(r));
    }

    static core::AwsError access_denied() { return s3_error("AccessDenied"); }

    static bool has_grant_headers(const core::Request& r) {
        for (auto h : {"x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-read-acp", "x-amz-grant-write-acp",
                       "x-amz-grant-full-control"})
            if (r.headers.has(h)) return true;
        return false;
    }

    // Whether the anonymous `request` may do `action` on bucket/key (bucket ACL and policy
    // only); true when the bucket does not exist (the operation answers NoSuchBucket).
    bool may(const core::Request& request, const std::string& bucket, std::string_view key, std::string_view action,
             std::string_view user) {
        auto b = store_.env().read([&](core::lmdb::ReadTxn& txn) { return store_.get_bucket(txn, bucket); });
        return !b || allowed(*b, key, action, nullptr, request, user);
    }

    // The anonymous principal (user empty) or an IAM user of the owner's account.
    static bool allowed(const Bucket& b, std::string_view key, std::string_view action, const Grants* object_grants,
                        const core::Request& request, std::string_view user) {
        return user.empty() ? anonymous_allowed(b, key, action, object_grants, request)
                            : user_allowed(b, key, action, object_grants, request, user);
    }

    // Access control before an operation runs: what an anonymous request may do (under
    // --verify-signatures), and whether the bucket takes the ACL a request sets (Object
    // Ownership, BlockPublicAcls) for everyone. Throws S3's errors.
    void authorize(const core::Request& request, const Target& t, bool anonymous, const std::string& user) {
        int level = t.resource == Resource::service ? 0 : t.resource == Resource::bucket ? 1 : 2;
        bool judged = anonymous || !user.empty();
        if (level == 0) {
            // ListBuckets: an identity-based permission, which neither has.
            if (judged) throw access_denied();
            return;
        }
        std::optional<Bucket> b;
        std::optional<Grants> object_grants;
        std::string action = action_of(level, request.method, t.sub, request);
        bool reads_object_acl = level == 2 && (action == "s3:GetObject" || action == "s3:GetObjectVersion" ||
                                               action == "s3:GetObjectAcl" || action == "s3:PutObjectAcl");
        store_.env().read([&](core::lmdb::ReadTxn& txn) {
            b = store_.get_bucket(txn, t.bucket);
            if (!b || !judged || !reads_object_acl) return;
            auto e = store_.get_entry(txn, t.bucket, t.key);
            if (!e) return;
            auto vid = request.query_param("versionId");
            for (auto& v : e->versions)
                if (vid ? v.version_id == *vid : true) {
                    if (!v.delete_marker) object_grants = decode_grants(v.acl);
                    break;
                }
        });
        if (!b) {
            // A bucket that does not exist has no policy to consult: S3 answers anyone
            // NoSuchBucket (404), signed or not. Creating one needs an account, though.
            if (anonymous && level == 1 && request.method == "PUT" && t.sub.empty()) throw access_denied();
            if (anonymous) throw no_such_bucket(t.bucket);
            // An IAM user without identity-based permissions may do nothing with a bucket
            // that does not exist: IAM refuses before S3 looks.
            if (!user.empty()) throw access_denied();
            return;  // NoSuchBucket, from the operation
        }
        if (judged) {
            if (!allowed(*b, t.key, action, object_grants ? &*object_grants : nullptr, request, user)) {
                // A key that is not there has no ACL: whoever may list the bucket learns
                // it is missing (404), anyone else gets 403.
                bool missing_read = reads_object_acl && !object_grants && action != "s3:PutObjectAcl";
                if (!missing_read || !allowed(*b, "", "s3:ListBucket", nullptr, request, user))
                    throw access_denied();
            }
            // CopyObject and UploadPartCopy read their source too.
            if (auto src = request.headers.get("x-amz-copy-source"); src && request.method == "PUT") {
                CopySource cs = parse_copy_source(*src);
                if (!may(request, cs.bucket, cs.key, cs.version_id ? "s3:GetObjectVersion" : "s3:GetObject", user))
                    throw access_denied();
            }
        }
        // Requests that set an object's ACL as they write it: whether the bucket takes it
        // (PutObjectAcl and PutBucketAcl check inside their transaction).
        bool sets_object_acl = level == 2 && (t.sub.empty() || t.sub == "uploads") &&
                               (request.method == "PUT" || request.method == "POST");
        if (sets_object_acl)
            if (auto g = request_grants(request, false)) check_acl_allowed(*b, *g);
    }

    // The answer for the exception being handled (call it inside a catch block): S3's
    // error document, InternalError (logged) for what is not an AwsError.
    core::Response failure(const core::Request& req) {
        try {
            throw;
        } catch (const core::AwsError& e) {
            return core::render_error(protocol_, e, req);
        } catch (const std::exception& e) {
            core::log::error("s3 request {} failed: {}", req.request_id, e.what());
        } catch (...) {
            core::log::error("s3 request {} failed", req.request_id);
        }
        return core::render_error(protocol_, core::AwsError::internal(), req);
    }

    // Actual CORS requests get the Access-Control-* headers a matching rule allows.
    void cors_headers(const core::Request& request, const std::string& bucket, core::Response& r) {
        if (!request.headers.has("origin") || bucket.empty()) return;
        auto b = store_.env().read([&](core::lmdb::ReadTxn& txn) { return store_.get_bucket(txn, bucket); });
        if (b)
            if (auto c = b->configs.find("cors"); c != b->configs.end()) decorate(request, c->second, r);
    }

    // PutObject with its commit grouped with others' (core/group_commit.hpp): the checks
    // here (their errors are thrown to the dispatcher), the commit on the committer
    // thread, which answers.
    void put_grouped(core::Request&& request, const Target& t, core::Reply reply) {
        auto req = std::make_shared<core::Request>(std::move(request));
        Call call{*req, t.bucket, t.key, t.sub};
        PreparedPut p = prepare_put(ctx_, call);
        auto commit = std::make_shared<VersionCommit>(ctx_, call, std::move(p.v), "ObjectCreated:Put", true,
                                                      p.inline_body);
        commits_.submit([this, commit](core::lmdb::WriteTxn& txn) { commit->run(ctx_, txn); },
                        [this, commit, req, bucket = t.bucket, reply = std::move(reply)](std::exception_ptr error) {
                            core::Response r;
                            if (!error) {
                                commit->committed(ctx_);
                                r = put_response(commit->v);
                                r.operation = "PutObject";
                                cors_headers(*req, bucket, r);
                                return reply(std::move(r));
                            }
                            commit->failed(ctx_);
                            try {
                                std::rethrow_exception(error);
                            } catch (...) {
                                r = failure(*req);
                            }
                            reply(std::move(r));
                        });
    }

    void reset() override {
        store_.reset();
        store_.env().write([&](core::lmdb::WriteTxn& txn) { events_->reset(txn); });
    }

private:
    // One request through S3's own operations, as the HTTP layer would hand it over (the
    // body through the sink body_policy() picks), answered synchronously. Never on an I/O
    // thread: PutObject's answer comes from the group committer.
    core::Response call(std::string method, std::string target, std::string body,
                        const std::map<std::string, std::string>& headers = {}) {
        core::Request req;
        req.method = std::move(method);
        req.target = std::move(target);
        auto q = req.target.find('?');
        req.path = req.target.substr(0, q);
        if (q != std::string::npos) req.query = req.target.substr(q + 1);
        req.headers.set("Host", "localhost");
        for (auto& [n, v] : headers) req.headers.set(n, v);
        req.headers.set("Content-Length", std::to_string(body.size()));
        req.request_id = core::new_request_id(core::Wire::rest_xml);
        req.remote_address = "127.0.0.1";
        req.access_key = std::string(internal_caller);
        req.received_at = std::chrono::system_clock::now();
        req.body_size = body.size();
        auto policy = body_policy(req);
        if (policy.make_sink) {
            req.body_sink = policy.make_sink();
            if (!body.empty()) req.body_sink->write(body);
            req.body_sink->finish();
            unwrap_hashing_sink(req);  // nothing to check: no signature here
        } else {
            req.body = std::move(body);
        }
        core::Request head;
        head.request_id = req.request_id;
        auto done = std::make_shared<std::promise<core::Response>>();
        auto answer = done->get_future();
        try {
            handle(std::move(req), [done](core::Response&& r) { done->set_value(std::move(r)); });
        } catch (...) {
            return failure(head);
        }
        return answer.get();
    }

    // A non-2xx answer of call() as the AwsError it renders.
    static core::Response check(core::Response r) {
        if (r.status < 300) return r;
        auto field = [&r](std::string_view name) {
            std::string open = "<" + std::string(name) + ">", close = "</" + std::string(name) + ">";
            auto a = r.body.find(open);
            auto b = a == std::string::npos ? a : r.body.find(close, a);
            return b == std::string::npos ? std::string() : r.body.substr(a + open.size(), b - a - open.size());
        };
        throw core::AwsError(field("Code"), field("Message"), r.status);
    }


    core::Protocol protocol_{core::Wire::rest_xml, "", false};
    std::shared_ptr<const core::Credentials> keys_;  // set under --verify-signatures
    Store store_;
    std::shared_ptr<EventOutbox> events_;
    Context ctx_;
    std::map<OperationKey, Operation> operations_;
    // Last members: their destructors finish what was submitted before the store goes.
    core::lmdb::GroupCommit commits_{store_.env()};
    Workers workers_{2};
};

}  // namespace

std::shared_ptr<S3Service> make_service(core::lmdb::Env& env, Options options, std::shared_ptr<EventOutbox> events) {
    return std::make_shared<S3ServiceImpl>(env, std::move(options), std::move(events));
}

}  // namespace stratus::s3
