// S3's encodings: checksums (check values of the CRC catalogue), base64, the XML
// writer and parser, Range parsing, Accept-Encoding and web content types.
#include <doctest/doctest.h>

#include "s3/checksum.hpp"
#include "s3/object_common.hpp"
#include "s3/website.hpp"
#include "s3/xml.hpp"

using namespace stratus::s3;

namespace {
std::string digest_hex(ChecksumAlgorithm a, std::string_view data) {
    auto d = make_digest(a);
    d->update(data.substr(0, 3));  // incremental updates give the same digest
    d->update(data.substr(3));
    return hex_encode(d->final());
}
}  // namespace

TEST_CASE("checksums match the catalogue check values for \"123456789\"") {
    CHECK(digest_hex(ChecksumAlgorithm::crc32, "123456789") == "cbf43926");
    CHECK(digest_hex(ChecksumAlgorithm::crc32c, "123456789") == "e3069283");
    CHECK(digest_hex(ChecksumAlgorithm::crc64nvme, "123456789") == "ae8b14860a799888");
    CHECK(digest_hex(ChecksumAlgorithm::sha1, "123456789") == "f7c3bc1d808e04732adf679965ccc34ca7ae3441");
    CHECK(hex_encode(md5_raw("")) == "d41d8cd98f00b204e9800998ecf8427e");
}

// The CRCs fold eight bytes per step: longer inputs, against RFC 3720's CRC32C vectors and
// against byte-at-a-time updates (which take the one-byte path only) at every alignment.
TEST_CASE("CRC32C and CRC64NVME over inputs longer than a step") {
    CHECK(digest_hex(ChecksumAlgorithm::crc32c, std::string(32, '\0')) == "8a9136aa");
    CHECK(digest_hex(ChecksumAlgorithm::crc32c, std::string(32, '\xff')) == "62a8ab43");
    std::string data;
    for (int i = 0; i < 1000; ++i) data += static_cast<char>((i * 131 + 7) & 0xFF);
    for (auto algorithm : {ChecksumAlgorithm::crc32c, ChecksumAlgorithm::crc64nvme}) {
        for (std::size_t skip : {0u, 1u, 3u, 7u}) {
            std::string_view part = std::string_view(data).substr(skip);
            auto whole = make_digest(algorithm);
            whole->update(part);
            auto bytes = make_digest(algorithm);
            for (char c : part) bytes->update(std::string_view(&c, 1));
            CHECK(hex_encode(whole->final()) == hex_encode(bytes->final()));
        }
    }
}

TEST_CASE("checksum algorithm names and headers") {
    CHECK(parse_algorithm("crc64nvme") == ChecksumAlgorithm::crc64nvme);
    CHECK(parse_algorithm("CRC32C") == ChecksumAlgorithm::crc32c);
    CHECK_FALSE(parse_algorithm("md5").has_value());
    CHECK(checksum_header(ChecksumAlgorithm::sha256) == "x-amz-checksum-sha256");
}

TEST_CASE("base64 round trips and rejects malformed input") {
    for (std::string s : {std::string(""), std::string("a"), std::string("ab"), std::string("abc"), std::string("abcd"), std::string("\0\xff\x10", 3)}) {
        auto back = base64_decode(base64_encode(s));
        REQUIRE(back.has_value());
        CHECK(*back == s);
    }
    CHECK(base64_encode("hello") == "aGVsbG8=");
    CHECK_FALSE(base64_decode("abc").has_value());
    CHECK_FALSE(base64_decode("ab!d").has_value());
    CHECK_FALSE(base64_decode("a=bc").has_value());
}

TEST_CASE("XML writer escapes text and closes elements") {
    XmlWriter w("Root");
    w.open("A").leaf("B", "x < y & \"z\"").close();
    std::string doc = w.finish();
    CHECK(doc.find("<A><B>x &lt; y &amp; &quot;z&quot;</B></A></Root>") != std::string::npos);
    CHECK(doc.starts_with("<?xml"));
}

TEST_CASE("XML parser: namespaces, entities, CDATA, comments; rejects malformed documents") {
    auto doc = parse_xml(R"(<?xml version="1.0"?><!-- c --><s3:Delete xmlns:s3="ns"><Object><Key>a&amp;b&#233;</Key></Object>)"
                         R"(<Object><Key><![CDATA[<raw>]]></Key></Object><Quiet>true</Quiet></s3:Delete>)");
    REQUIRE(doc.has_value());
    CHECK(doc->name == "Delete");
    auto objects = doc->all("Object");
    REQUIRE(objects.size() == 2);
    CHECK(objects[0]->child_text("Key") == "a&b\xc3\xa9");
    CHECK(objects[1]->child_text("Key") == "<raw>");
    CHECK(doc->child_text("Quiet") == "true");
    SUBCASE("malformed") {
        CHECK_FALSE(parse_xml("<a><b></a>").has_value());
        CHECK_FALSE(parse_xml("<a>").has_value());
        CHECK_FALSE(parse_xml("<a>&bogus;</a>").has_value());
        CHECK_FALSE(parse_xml("<a></a><b/>").has_value());
        CHECK_FALSE(parse_xml("").has_value());
        std::string deep;
        for (int i = 0; i < 100; ++i) deep += "<a>";
        CHECK_FALSE(parse_xml(deep).has_value());
    }
}

TEST_CASE("Range headers as S3 reads them") {
    auto r = parse_range("bytes=0-9", 100);
    CHECK((r.valid && r.first == 0 && r.last == 9));
    r = parse_range("bytes=90-", 100);
    CHECK((r.valid && r.first == 90 && r.last == 99));
    r = parse_range("bytes=-10", 100);
    CHECK((r.valid && r.first == 90 && r.last == 99));
    r = parse_range("bytes=-500", 100);
    CHECK((r.valid && r.first == 0 && r.last == 99));
    r = parse_range("bytes=50-500", 100);
    CHECK((r.valid && r.last == 99));
    CHECK(parse_range("bytes=100-", 100).unsatisfiable);
    CHECK(parse_range("bytes=-0", 100).unsatisfiable);
    SUBCASE("ignored: not satisfiable syntax means the whole object") {
        CHECK_FALSE(parse_range("bytes=9-3", 100).valid);
        CHECK_FALSE(parse_range("bytes=0-1,5-6", 100).valid);
        CHECK_FALSE(parse_range("items=0-1", 100).valid);
        CHECK_FALSE(parse_range("bytes=x-1", 100).valid);
    }
}

TEST_CASE("Accept-Encoding and content types") {
    CHECK(accepts_encoding("gzip, deflate, br", "br"));
    CHECK(accepts_encoding("GZIP", "gzip"));
    CHECK(accepts_encoding("*", "gzip"));
    CHECK_FALSE(accepts_encoding("gzip;q=0, br", "gzip"));
    CHECK_FALSE(accepts_encoding("identity", "gzip"));
    CHECK_FALSE(accepts_encoding("", "gzip"));
    CHECK(content_type_for("assets/app.3f2a.JS") == "text/javascript");
    CHECK(content_type_for("index.html") == "text/html");
    CHECK(content_type_for("font.woff2") == "font/woff2");
    CHECK(content_type_for("noext").empty());
}
