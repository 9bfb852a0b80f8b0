// DynamoDB's N: an exact decimal, never a double.
//
// Limits (DynamoDB developer guide, "Supported data types", Number): "Numbers can have up
// to 38 digits of precision ... Positive range: 1E-130 to 9.9999999999999999999999999999999999999E+125,
// Negative range: -9.9999999999999999999999999999999999999E+125 to -1E-130". Leading and
// trailing zeros are trimmed and do not count as significant ("Item sizes and formats").
#include "dynamo/model/value.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

namespace stratus::dynamo {

namespace {

constexpr std::size_t max_digits = 38;
// In our form 0.d1d2... * 10^exponent: 9.99...E+125 is 0.999... * 10^126 and 1E-130 is
// 0.1 * 10^-129.
constexpr std::int64_t max_exponent = 126;
constexpr std::int64_t min_exponent = -129;
// Exponents in the text saturate here: far outside the range either way, and no int64
// overflow however many digits a hostile request sends.
constexpr std::int64_t exponent_clamp = std::int64_t{1} << 50;

// AWS's wording, as dynalite (written against DynamoDB) and moto have it: the text follows
// unless it is empty. The same for item values, key values and expression values (these
// get ExpressionAttributeValues' prefix, ops/items_common.cpp).
[[noreturn]] void malformed(std::string_view text) {
    if (text.empty()) throw core::AwsError::validation("The parameter cannot be converted to a numeric value");
    throw core::AwsError::validation("The parameter cannot be converted to a numeric value: " + std::string(text));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Compares magnitudes of two non-zero numbers given as (digits, exponent).
std::strong_ordering compare_magnitude(const std::string& da, int ea, const std::string& db, int eb) {
    if (ea != eb) return ea <=> eb;
    // No trailing zeros, so plain lexicographic order is numeric order ("12" < "123").
    int c = da.compare(db);
    return c < 0 ? std::strong_ordering::less : c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal;
}

// Digits of |x| laid out over the positions 10^(high-1) down to 10^low, zero padded.
std::string aligned(const std::string& digits, int exponent, int high, int low) {
    std::string out(static_cast<std::size_t>(high - low), '0');
    std::copy(digits.begin(), digits.end(), out.begin() + (high - exponent));
    return out;
}

}  // namespace

Number Number::from_parts(bool negative, std::string_view digits, std::int64_t exponent) {
    std::size_t first = digits.find_first_not_of('0');
    if (first == std::string_view::npos) return Number{};  // "-0" and "0E+999" are zero
    std::size_t last = digits.find_last_not_of('0');
    exponent -= static_cast<std::int64_t>(first);
    std::size_t count = last - first + 1;
    // Precision is checked before range (a 39-digit number beyond the range reports the
    // digits); AWS's order for numbers breaking both is not documented.
    if (count > max_digits)
        throw core::AwsError::validation("Attempting to store more than 38 significant digits in a Number");
    if (exponent > max_exponent)
        throw core::AwsError::validation(
            "Number overflow. Attempting to store a number with magnitude larger than supported range");
    if (exponent < min_exponent)
        throw core::AwsError::validation(
            "Number underflow. Attempting to store a number with magnitude smaller than supported range");
    Number n;
    n.negative_ = negative;
    n.digits_.assign(digits.substr(first, count));
    n.exponent_ = static_cast<int>(exponent);
    return n;
}

// Syntax: that of Java's BigDecimal(String), which DynamoDB's front end uses: an optional
// '+' or '-', digits with an optional '.', at least one digit before or after the point
// (so "5.", ".5" and "+5" are numbers, "." and "" are not), then optionally 'e' or 'E',
// an optional sign and at least one digit. No whitespace, "NaN", "Infinity", hex or
// digit separators. BigDecimal also accepts non-ASCII Unicode digits; we do not.
Number Number::parse(std::string_view text) {
    std::size_t i = 0;
    bool negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
    const std::size_t mantissa_start = i;

    std::string digits;
    std::int64_t point = 0;  // digits before the decimal point
    bool seen_point = false;
    for (; i < text.size(); ++i) {
        char c = text[i];
        if (is_digit(c)) {
            // Leading zeros carry no information; skip them here so a long run of "0.000…"
            // costs no memory. Before the point they also do not move it.
            if (digits.empty() && c == '0') {
                if (seen_point) --point;
                continue;
            }
            digits.push_back(c);
            if (!seen_point) ++point;
        } else if (c == '.' && !seen_point) {
            seen_point = true;
        } else {
            break;
        }
    }
    // At least one mantissa digit, zero or not: "", "-", "." and ".e1" are malformed.
    if (i - mantissa_start == (seen_point ? 1u : 0u)) malformed(text);

    std::int64_t exponent = 0;
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        bool exp_negative = false;
        if (i < text.size() && (text[i] == '+' || text[i] == '-')) exp_negative = text[i++] == '-';
        if (i == text.size()) malformed(text);
        for (; i < text.size() && is_digit(text[i]); ++i)
            exponent = std::min(exponent * 10 + (text[i] - '0'), exponent_clamp);
        if (exp_negative) exponent = -exponent;
    }
    if (i != text.size()) malformed(text);
    // Trailing zeros of the mantissa are trimmed by from_parts; count only matters after.
    return from_parts(negative, digits, point + exponent);
}

Number Number::from_int(std::int64_t v) {
    if (v == 0) return Number{};
    // Through unsigned so INT64_MIN negates without overflow.
    std::uint64_t magnitude = v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
    std::string digits = std::to_string(magnitude);
    auto length = static_cast<std::int64_t>(digits.size());
    return from_parts(v < 0, digits, length);
}

std::string Number::to_string() const {
    if (is_zero()) return "0";
    std::string out = negative_ ? "-" : "";
    auto count = static_cast<int>(digits_.size());
    if (exponent_ <= 0) {
        out += "0.";
        out.append(static_cast<std::size_t>(-exponent_), '0');
        out += digits_;
    } else if (exponent_ >= count) {
        out += digits_;
        out.append(static_cast<std::size_t>(exponent_ - count), '0');
    } else {
        out.append(digits_, 0, static_cast<std::size_t>(exponent_));
        out += '.';
        out.append(digits_, static_cast<std::size_t>(exponent_));
    }
    return out;
}

Number Number::operator-() const {
    Number n = *this;
    if (!n.is_zero()) n.negative_ = !n.negative_;
    return n;
}

// Exact: both operands are laid out digit by digit over the union of their positions (at
// most 126 + 129 + 38 of them), added or subtracted, and the result goes through
// from_parts, which rejects more than 38 significant digits rather than rounding.
// DynamoDB does the same for SET a = a + :v and ADD ("Attempting to store more than 38
// significant digits in a Number"); it never rounds silently.
Number Number::operator+(const Number& o) const {
    if (is_zero()) return o;
    if (o.is_zero()) return *this;
    int high = std::max(exponent_, o.exponent_);
    int low = std::min(exponent_ - static_cast<int>(digits_.size()), o.exponent_ - static_cast<int>(o.digits_.size()));
    std::string a = aligned(digits_, exponent_, high, low);
    std::string b = aligned(o.digits_, o.exponent_, high, low);

    bool result_negative = negative_;
    if (negative_ == o.negative_) {
        std::string sum(a.size() + 1, '0');
        int carry = 0;
        for (std::size_t k = a.size(); k-- > 0;) {
            int d = (a[k] - '0') + (b[k] - '0') + carry;
            sum[k + 1] = static_cast<char>('0' + d % 10);
            carry = d / 10;
        }
        sum[0] = static_cast<char>('0' + carry);
        return from_parts(result_negative, sum, static_cast<std::int64_t>(high) + 1);
    }
    auto order = compare_magnitude(digits_, exponent_, o.digits_, o.exponent_);
    if (order == 0) return Number{};
    if (order < 0) {
        std::swap(a, b);
        result_negative = o.negative_;
    }
    std::string diff(a.size(), '0');
    int borrow = 0;
    for (std::size_t k = a.size(); k-- > 0;) {
        int d = (a[k] - '0') - (b[k] - '0') - borrow;
        borrow = d < 0;
        diff[k] = static_cast<char>('0' + (d + 10) % 10);
    }
    return from_parts(result_negative, diff, high);
}

Number Number::operator-(const Number& o) const { return *this + (-o); }

std::strong_ordering Number::operator<=>(const Number& o) const {
    auto sign = [](const Number& n) { return n.is_zero() ? 0 : n.negative_ ? -1 : 1; };
    int sa = sign(*this), sb = sign(o);
    if (sa != sb || sa == 0) return sa <=> sb;
    auto magnitude = compare_magnitude(digits_, exponent_, o.digits_, o.exponent_);
    return sa > 0 ? magnitude : 0 <=> magnitude;
}

}  // namespace stratus::dynamo
