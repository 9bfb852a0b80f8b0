#include "core/regex.hpp"

#include <re2/re2.h>

#include <stdexcept>

namespace stratus::core {

Regex::Regex(std::string_view pattern) {
    RE2::Options options;
    options.set_log_errors(false);  // an invalid pattern is the caller's error to word, not a log line
    auto re = std::make_shared<const RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
    if (!re->ok()) throw std::invalid_argument(re->error());
    re_ = std::move(re);
}

Regex::~Regex() = default;

bool Regex::search(std::string_view text) const {
    return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *re_);
}

bool Regex::full_match(std::string_view text) const {
    return RE2::FullMatch(re2::StringPiece(text.data(), text.size()), *re_);
}

}  // namespace stratus::core
