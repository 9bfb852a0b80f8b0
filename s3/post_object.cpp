// POST Object: browser form uploads (multipart/form-data), as createPresignedPost (JS SDK
// v3) and generate_presigned_post (boto3) produce them.
// https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <system_error>

#include "core/base64.hpp"
#include "core/crypto.hpp"
#include "core/file_sink.hpp"
#include "core/sigv4.hpp"
#include "core/text.hpp"
#include "s3/access.hpp"
#include "s3/errors.hpp"
#include "s3/form.hpp"
#include "s3/object_common.hpp"
#include "s3/ops.hpp"
#include "s3/xml.hpp"

namespace stratus::s3 {

namespace {

namespace crypto = core::crypto;
using json = nlohmann::json;


core::AwsError access_denied(std::string message) { return s3_error("AccessDenied", std::move(message)); }

core::AwsError invalid_policy(std::string_view what) {
    return s3_error("InvalidPolicyDocument", "Invalid Policy: " + std::string(what));
}

// The spooled body, mapped read-only (never read into memory as a whole).
struct Mapped {
    int fd = -1;
    void* data = nullptr;
    std::size_t size = 0;
    explicit Mapped(const std::string& path) {
        fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) throw std::system_error(errno, std::generic_category(), "open form body");
        struct stat st{};
        if (::fstat(fd, &st) != 0) throw std::system_error(errno, std::generic_category(), "stat form body");
        size = static_cast<std::size_t>(st.st_size);
        if (size > 0) {
            data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (data == MAP_FAILED) {
                data = nullptr;
                throw std::system_error(errno, std::generic_category(), "map form body");
            }
        }
    }
    ~Mapped() {
        if (data) ::munmap(data, size);
        if (fd >= 0) ::close(fd);
    }
    Mapped(const Mapped&) = delete;
    Mapped& operator=(const Mapped&) = delete;
    std::string_view view() const { return {static_cast<const char*>(data), data ? size : 0}; }
};

// "2026-12-02T16:00:00Z" or with fractional seconds ("...00.000Z"), as the SDKs write a
// policy's expiration; milliseconds since the epoch, nullopt when it is not that form.
std::optional<std::int64_t> parse_iso8601_ms(std::string_view s) {
    int y, mo, d, h, mi, se;
    char tail[32] = {};
    std::string text(s.substr(0, 40));
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%31s", &y, &mo, &d, &h, &mi, &se, tail) != 7) return std::nullopt;
    std::string_view t = tail;
    if (t.starts_with('.')) {
        t.remove_prefix(1);
        while (!t.empty() && t.front() >= '0' && t.front() <= '9') t.remove_prefix(1);
    }
    if (t != "Z") return std::nullopt;
    using namespace std::chrono;
    year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok() || h > 23 || mi > 59 || se > 60) return std::nullopt;
    auto tp = sys_days{ymd} + hours{h} + minutes{mi} + seconds{se};
    return duration_cast<milliseconds>(tp.time_since_epoch()).count();
}

// The form's fields (names lowercased; values as sent), up to the file.
struct Form {
    std::map<std::string, std::string> fields;
    const FormPart* file = nullptr;
};

// The exact text S3 quotes for a failed condition.
std::string condition_text(const json& c) { return c.dump(); }

// Checks the policy's conditions against the form, as S3 does: every condition holds,
// and every field (but the signature's own, the policy, the file and x-ignore-*) is
// named by some condition. content-length-range is returned for the file's check.
std::optional<std::pair<std::int64_t, std::int64_t>> check_conditions(const json& conditions, const Form& form,
                                                                       const std::string& bucket) {
    std::optional<std::pair<std::int64_t, std::int64_t>> length_range;
    std::map<std::string, bool> covered;
    auto value_of = [&](const std::string& field) -> std::optional<std::string> {
        if (field == "bucket") return bucket;
        auto it = form.fields.find(field);
        if (it == form.fields.end()) return std::nullopt;
        return it->second;
    };
    auto failed = [&](const json& c) {
        return access_denied("Invalid according to Policy: Policy Condition failed: " + condition_text(c));
    };
    for (const auto& c : conditions) {
        if (c.is_object()) {
            if (c.size() != 1 || !c.begin().value().is_string()) throw invalid_policy("Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.");
            std::string field = core::ascii_lower(c.begin().key());
            if (field.starts_with('$')) field.erase(0, 1);
            covered[field] = true;
            auto v = value_of(field);
            if (!v || *v != c.begin().value().get<std::string>()) throw failed(c);
        } else if (c.is_array() && !c.empty() && c[0].is_string()) {
            std::string op = core::ascii_lower(c[0].get<std::string>());
            if (op == "content-length-range") {
                if (c.size() != 3 || !c[1].is_number_integer() || !c[2].is_number_integer())
                    throw invalid_policy("Invalid content-length-range condition.");
                length_range = std::make_pair(c[1].get<std::int64_t>(), c[2].get<std::int64_t>());
                continue;
            }
            if (c.size() != 3 || !c[1].is_string() || !c[2].is_string())
                throw invalid_policy("Invalid Condition: wrong number of arguments.");
            std::string field = c[1].get<std::string>();
            if (!field.starts_with('$')) throw invalid_policy("Invalid Condition: the field must start with $.");
            field = core::ascii_lower(field.substr(1));
            covered[field] = true;
            auto v = value_of(field);
            std::string want = c[2].get<std::string>();
            if (op == "eq") {
                if (!v || *v != want) throw failed(c);
            } else if (op == "starts-with") {
                if (!v || !v->starts_with(want)) throw failed(c);
            } else {
                throw invalid_policy("Invalid Condition: unknown operation " + c[0].get<std::string>() + ".");
            }
        } else {
            throw invalid_policy("Invalid Condition: conditions must be objects or arrays.");
        }
    }
    std::string extra;
    for (auto& [name, value] : form.fields) {
        if (name == "policy" || name == "x-amz-signature" || name == "signature" || name == "awsaccesskeyid" ||
            name == "file" || name.starts_with("x-ignore-") || covered.count(name))
            continue;
        extra += (extra.empty() ? "" : ", ") + name;
    }
    if (!extra.empty()) throw access_denied("Invalid according to Policy: Extra input fields: " + extra);
    return length_range;
}

// The policy's signature (SigV4: x-amz-algorithm, -credential, -date, -signature; SigV2:
// AWSAccessKeyId and signature) checked against the accepted keys. Returns the signer.
std::string check_signature(const Form& form, const std::string& policy_b64, const core::Credentials& keys) {
    auto field = [&](const char* name) -> const std::string* {
        auto it = form.fields.find(name);
        return it == form.fields.end() ? nullptr : &it->second;
    };
    if (const std::string* alg = field("x-amz-algorithm")) {
        if (*alg != "AWS4-HMAC-SHA256")
            throw invalid_argument("POST form fields x-amz-algorithm must be AWS4-HMAC-SHA256", "X-Amz-Algorithm", *alg);
        const std::string* cred = field("x-amz-credential");
        const std::string* sig = field("x-amz-signature");
        if (!cred || !sig || !field("x-amz-date"))
            throw invalid_argument("Bucket POST must contain a field named 'X-Amz-Credential', 'X-Amz-Date' and "
                                   "'X-Amz-Signature'.");
        // AKID/date/region/service/aws4_request
        std::vector<std::string> scope;
        std::string_view rest = *cred;
        while (true) {
            auto slash = rest.find('/');
            scope.emplace_back(rest.substr(0, slash));
            if (slash == std::string_view::npos) break;
            rest.remove_prefix(slash + 1);
        }
        if (scope.size() != 5 || scope[4] != "aws4_request")
            throw invalid_argument("Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; "
                                   "expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".",
                                   "X-Amz-Credential", *cred);
        const std::string* secret = keys.secret(scope[0]);
        if (!secret)
            throw s3_error("InvalidAccessKeyId")
                .with("AWSAccessKeyId", scope[0]);
        std::string key = core::sigv4::signing_key(*secret, scope[1], scope[2], scope[3]);
        if (!crypto::constant_time_equal(crypto::hex(crypto::hmac_sha256(key, policy_b64)), core::ascii_lower(*sig)))
            throw s3_error("SignatureDoesNotMatch");
        return scope[0];
    }
    if (const std::string* akid = field("awsaccesskeyid")) {
        const std::string* sig = field("signature");
        if (!sig) throw invalid_argument("Bucket POST must contain a field named 'Signature'.");
        const std::string* secret = keys.secret(*akid);
        if (!secret)
            throw s3_error("InvalidAccessKeyId")
                .with("AWSAccessKeyId", *akid);
        if (!crypto::constant_time_equal(core::base64_encode(crypto::hmac_sha1(*secret, policy_b64)), *sig))
            throw s3_error("SignatureDoesNotMatch");
        return *akid;
    }
    // Unsigned: anonymous, which no bucket allows here (no public-write ACL or policy).
    throw access_denied("Access Denied");
}

// Copies [offset, offset+length) of the mapped body into a new spool file, taking its MD5.
std::string spool_range(Context& ctx, std::string_view bytes, std::string& md5_raw, Digest& crc) {
    std::string tmpl = ctx.store.spool_dir() + "/post-XXXXXX";
    int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "create object file");
    crypto::Hasher md5{crypto::Hash::md5};
    try {
        while (!bytes.empty()) {
            std::size_t n = std::min<std::size_t>(bytes.size(), 1 << 20);
            md5.update(bytes.substr(0, n));
            crc.update(bytes.substr(0, n));
            std::size_t done = 0;
            while (done < n) {
                ssize_t w = ::write(fd, bytes.data() + done, n - done);
                if (w < 0 && errno == EINTR) continue;
                if (w < 0) throw std::system_error(errno, std::generic_category(), "write object file");
                done += static_cast<std::size_t>(w);
            }
            bytes.remove_prefix(n);
        }
        if (ctx.store.fsync() && ::fsync(fd) != 0) throw std::system_error(errno, std::generic_category(), "fsync");
    } catch (...) {
        ::close(fd);
        ::unlink(tmpl.c_str());
        throw;
    }
    ::close(fd);
    md5_raw = md5.final();
    return tmpl;
}

}  // namespace

core::Response post_object(Context& ctx, Call& call) {
    auto boundary = form_boundary(call.req.headers.get_or("content-type", ""));
    if (!boundary)
        throw s3_error("PreconditionFailed")
            .with("Condition", "Bucket POST must be of the enclosure-type multipart/form-data");
    ctx.store.env().read([&](core::lmdb::ReadTxn& txn) { require_bucket(txn, ctx, call.bucket); });
    auto* sink = dynamic_cast<core::FileSink*>(call.req.body_sink.get());
    std::optional<Mapped> mapped;
    std::string_view body = call.req.body;
    if (sink) {
        mapped.emplace(sink->path());
        body = mapped->view();
    }
    std::vector<FormPart> parts;
    try {
        parts = parse_form(body, *boundary);
    } catch (const FormError&) {
        throw s3_error("MalformedPOSTRequest");
    }
    Form form;
    for (const auto& p : parts) {
        // The file is the last field S3 reads; anything after it is ignored.
        if (core::ascii_lower(p.name) == "file") {
            form.file = &p;
            break;
        }
        std::string name = core::ascii_lower(p.name);
        if (form.fields.count(name))
            throw invalid_argument("Bucket POST must contain at most one field named '" + p.name + "'.");
        form.fields[name] = std::string(body.substr(p.offset, p.length));
    }
    if (!form.fields.count("key"))
        throw invalid_argument("Bucket POST must contain a field named 'key'.  If it is specified, please check the "
                               "order of the fields.",
                               "key", "");
    if (!form.file) throw invalid_argument("POST requires exactly one file upload per request.", "file", "0");

    std::optional<std::pair<std::int64_t, std::int64_t>> length_range;
    std::string signer;  // the access key id that signed the policy
    auto policy_field = form.fields.find("policy");
    if (policy_field != form.fields.end()) {
        auto decoded = core::base64_decode(policy_field->second);
        if (!decoded) throw invalid_policy("Invalid Policy: Invalid JSON.");
        json policy = json::parse(*decoded, nullptr, false);
        if (policy.is_discarded() || !policy.is_object()) throw invalid_policy("Invalid JSON.");
        if (!policy.contains("expiration") || !policy["expiration"].is_string())
            throw invalid_policy("Policy missing expiration.");
        auto expires = parse_iso8601_ms(policy["expiration"].get<std::string>());
        if (!expires) throw invalid_policy("Invalid 'expiration' value: '" + policy["expiration"].get<std::string>() + "'");
        if (!policy.contains("conditions") || !policy["conditions"].is_array())
            throw invalid_policy("Policy missing conditions.");
        if (ctx.keys) signer = check_signature(form, policy_field->second, *ctx.keys);
        if (*expires < ctx.now_ms()) throw access_denied("Invalid according to Policy: Policy expired.");
        length_range = check_conditions(policy["conditions"], form, call.bucket);
    }
    // A form without a policy is anonymous: under --verify-signatures the bucket's ACL and
    // policy decide (below, once the key is known).
    bool anonymous = ctx.keys && policy_field == form.fields.end();

    std::uint64_t size = form.file->length;
    if (length_range) {
        if (static_cast<std::int64_t>(size) > length_range->second)
            throw s3_error("EntityTooLarge")
                .with("ProposedSize", std::to_string(size))
                .with("MaxSizeAllowed", std::to_string(length_range->second));
        if (static_cast<std::int64_t>(size) < length_range->first)
            throw s3_error("EntityTooSmall")
                .with("ProposedSize", std::to_string(size))
                .with("MinSizeAllowed", std::to_string(length_range->first));
    }

    std::string key = form.fields["key"];
    for (auto at = key.find("${filename}"); at != std::string::npos; at = key.find("${filename}", at)) {
        std::string filename = form.file->filename.value_or("");
        // Browsers send the base name; older ones a full path.
        if (auto slash = filename.find_last_of("/\\"); slash != std::string::npos) filename.erase(0, slash + 1);
        key.replace(at, 11, filename);
        at += filename.size();
    }
    if (key.empty()) throw invalid_argument("User key must have a length greater than 0.", "key", "");
    validate_key(key);
    core::Request as_put;
    if (auto acl = form.fields.find("acl"); acl != form.fields.end()) as_put.headers.add("x-amz-acl", acl->second);
    {
        auto b = ctx.store.env().read([&](core::lmdb::ReadTxn& txn) { return require_bucket(txn, ctx, call.bucket); });
        if (anonymous && !anonymous_allowed(b, key, "s3:PutObject", nullptr, call.req)) throw access_denied("Access Denied");
        // A form signed by a key pair other than the owner's: an IAM user (s3/access.hpp).
        if (ctx.keys && !signer.empty() && signer != ctx.keys->owner() &&
            !user_allowed(b, key, "s3:PutObject", nullptr, call.req, signer))
            throw access_denied("Access Denied");
        if (auto g = request_grants(as_put, false)) check_acl_allowed(b, *g);
    }

    // The object's headers and metadata come from the fields, as PutObject's from headers.
    for (auto& [name, value] : form.fields) {
        if (name.starts_with("x-amz-meta-") || name == "content-type" || name == "cache-control" ||
            name == "content-disposition" || name == "content-encoding" || name == "expires" ||
            name == "content-language" || name == "x-amz-storage-class" || name == "x-amz-website-redirect-location")
            as_put.headers.add(name, value);
    }
    Version v = version_from_headers(as_put);
    if (!v.headers.count("Content-Type") && !form.file->content_type.empty())
        v.headers["Content-Type"] = form.file->content_type;
    std::string md5_raw;
    v.size = size;
    // The full-object CRC64NVME S3 adds to objects uploaded without a checksum.
    auto crc = make_digest(ChecksumAlgorithm::crc64nvme);
    if (size > 0) {
        std::string tmp = spool_range(ctx, body.substr(form.file->offset, size), md5_raw, *crc);
        v.file = ctx.store.adopt(tmp);
    } else {
        md5_raw = crypto::md5("");
    }
    v.checksum_algorithm = "CRC64NVME";
    v.checksum_type = "FULL_OBJECT";
    v.checksum = base64_encode(crc->final());
    v.etag = "\"" + hex_encode(md5_raw) + "\"";
    Call object_call{call.req, call.bucket, key, ""};
    Version stored = commit_version(ctx, object_call, std::move(v), "ObjectCreated:Post");

    std::string location = fmt::format("http://{}.s3.localhost/{}", call.bucket, core::uri_encode(key, false));
    if (auto redirect = form.fields.count("success_action_redirect") ? form.fields["success_action_redirect"]
                                                                     : form.fields["redirect"];
        !redirect.empty()) {
        std::string url = redirect + (redirect.find('?') == std::string::npos ? "?" : "&") +
                          "bucket=" + core::uri_encode(call.bucket) + "&key=" + core::uri_encode(key) +
                          "&etag=" + core::uri_encode(stored.etag);
        auto r = empty_response(303);
        r.headers.set("Location", url);
        r.headers.set("ETag", stored.etag);
        return r;
    }
    std::string status = form.fields.count("success_action_status") ? form.fields["success_action_status"] : "";
    core::Response r;
    if (status == "201") {
        XmlWriter w("PostResponse", false);
        w.leaf("Location", location).leaf("Bucket", call.bucket).leaf("Key", key).leaf("ETag", stored.etag);
        r = xml_response(w.finish(), 201);
    } else {
        r = empty_response(status == "200" ? 200 : 204);
    }
    r.headers.set("ETag", stored.etag);
    r.headers.set("Location", location);
    if (stored.version_id != "null") r.headers.set("x-amz-version-id", stored.version_id);
    r.headers.set("x-amz-server-side-encryption", "AES256");
    return r;
}

}  // namespace stratus::s3
