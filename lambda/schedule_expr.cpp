#include "lambda/schedule_expr.hpp"

#include <algorithm>
#include <charconv>

namespace stratus::lambda {

namespace {

[[noreturn]] void bad_schedule(const std::string& why) { throw std::invalid_argument(why); }

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    for (;;) {
        auto j = s.find(sep, i);
        out.push_back(s.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i));
        if (j == std::string_view::npos) return out;
        i = j + 1;
    }
}

std::optional<int> number(std::string_view s) {
    if (s.empty() || s.size() > 9) return std::nullopt;
    int v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

struct FieldSpec {
    const char* name;
    int lo, hi;
    const char* const* names;  // names for lo.. (JAN.., SUN..), or nullptr
};

constexpr const char* month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char* day_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

int value_of(const FieldSpec& f, std::string_view token) {
    if (auto n = number(token)) {
        if (*n < f.lo || *n > f.hi) bad_schedule(std::string("value out of range in the ") + f.name + " field: " + std::string(token));
        return *n;
    }
    if (f.names) {
        std::string u = upper(token);
        for (int i = 0; i <= f.hi - f.lo; ++i)
            if (u == f.names[i]) return f.lo + i;
    }
    bad_schedule(std::string("invalid value in the ") + f.name + " field: " + std::string(token));
}

// One field's plain part: "*", "a", "a-b", with "/step", comma separated. Marks `set`.
void plain_part(const FieldSpec& f, std::string_view part, std::vector<bool>& set) {
    int step = 1;
    bool stepped = false;
    if (auto slash = part.find('/'); slash != std::string_view::npos) {
        stepped = true;
        auto s = number(part.substr(slash + 1));
        if (!s || *s < 1) bad_schedule(std::string("invalid step in the ") + f.name + " field");
        step = *s;
        part = part.substr(0, slash);
    }
    int a, b;
    if (part == "*") {
        a = f.lo;
        b = f.hi;
    } else if (auto dash = part.find('-'); dash != std::string_view::npos) {
        a = value_of(f, part.substr(0, dash));
        b = value_of(f, part.substr(dash + 1));
    } else {
        a = value_of(f, part);
        b = stepped ? f.hi : a;  // "0/15": from 0 every 15
    }
    int span = f.hi - f.lo + 1;
    int count = b >= a ? b - a : b + span - a;  // a wrapping range (FRI-MON)
    for (int i = 0; i <= count; i += step) set[static_cast<std::size_t>(f.lo + (a - f.lo + i) % span)] = true;
}

std::vector<bool> parse_set(const FieldSpec& f, std::string_view text) {
    std::vector<bool> set(static_cast<std::size_t>(f.hi + 1), false);
    for (auto part : split(text, ',')) {
        if (part.empty()) bad_schedule(std::string("empty value in the ") + f.name + " field");
        plain_part(f, part, set);
    }
    return set;
}

int weekday_of(std::int64_t days) {
    // 1970-01-01 was a Thursday; 1 = Sunday .. 7 = Saturday.
    return static_cast<int>(((days % 7) + 7 + 4) % 7) + 1;
}

int days_in_month(int year, int month) {
    static constexpr int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : d[month - 1];
}

constexpr FieldSpec minute_field{"minutes", 0, 59, nullptr};
constexpr FieldSpec hour_field{"hours", 0, 23, nullptr};
constexpr FieldSpec day_field{"day-of-month", 1, 31, nullptr};
constexpr FieldSpec month_field{"month", 1, 12, month_names};
constexpr FieldSpec weekday_field{"day-of-week", 1, 7, day_names};
constexpr FieldSpec year_field{"year", 1970, 2199, nullptr};

}  // namespace

std::int64_t days_from_civil(int y, int m, int d) {
    // Howard Hinnant's algorithm.
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = static_cast<unsigned>((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, int& year, int& month, int& day) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    year = static_cast<int>(y + (month <= 2));
}

bool ScheduleExpression::Cron::day_matches(int year, int month, int day, int weekday) const {
    int last = days_in_month(year, month);
    if (!weekday_question) {
        // Day-of-week decides (day-of-month is "?").
        if (weekdays[static_cast<std::size_t>(weekday)]) return true;
        for (int w : last_of_weekday)
            if (w == weekday && day + 7 > last) return true;
        for (auto [w, n] : nth_weekday)
            if (w == weekday && (day - 1) / 7 + 1 == n) return true;
        return false;
    }
    if (any_day) return true;
    if (days[static_cast<std::size_t>(day)]) return true;
    if (last_day && day == last) return true;
    auto is_weekday = [](int w) { return w >= 2 && w <= 6; };
    if (last_weekday) {
        int d = last;
        int w = weekday_of(days_from_civil(year, month, d));
        while (!is_weekday(w)) {
            --d;
            w = weekday_of(days_from_civil(year, month, d));
        }
        if (day == d) return true;
    }
    for (int target : nearest_weekday) {
        // The weekday nearest `target` within the month (Quartz's W: never crosses months).
        int t = std::min(target, last);
        int w = weekday_of(days_from_civil(year, month, t));
        int d = t;
        if (w == 7) d = t == 1 ? t + 2 : t - 1;       // Saturday: Friday, or Monday on the 1st
        else if (w == 1) d = t == last ? t - 2 : t + 1;  // Sunday: Monday, or Friday at month's end
        if (day == d) return true;
    }
    return false;
}

ScheduleExpression ScheduleExpression::parse(std::string_view text) {
    ScheduleExpression e;
    e.text_ = std::string(text);
    auto body = [&](std::string_view head) -> std::optional<std::string_view> {
        if (!text.starts_with(head) || !text.ends_with(")")) return std::nullopt;
        return text.substr(head.size(), text.size() - head.size() - 1);
    };
    if (auto r = body("rate(")) {
        auto parts = split(*r, ' ');
        if (parts.size() != 2) bad_schedule("rate() takes a value and a unit: rate(5 minutes)");
        auto v = number(parts[0]);
        if (!v || *v < 1) bad_schedule("the value of rate() must be a positive whole number");
        std::string_view unit = parts[1];
        std::int64_t seconds = 0;
        if (unit == "minute" || unit == "minutes") seconds = 60;
        else if (unit == "hour" || unit == "hours") seconds = 3600;
        else if (unit == "day" || unit == "days") seconds = 86400;
        else bad_schedule("the unit of rate() must be minute(s), hour(s) or day(s)");
        bool plural = unit.ends_with('s');
        if (*v == 1 && plural) bad_schedule("rate(1 ...) takes a singular unit: rate(1 " + std::string(unit.substr(0, unit.size() - 1)) + ")");
        if (*v > 1 && !plural) bad_schedule("rate() with a value above 1 takes a plural unit: rate(" + std::to_string(*v) + " " + std::string(unit) + "s)");
        e.rate_seconds_ = *v * seconds;
        return e;
    }
    auto c = body("cron(");
    if (!c) bad_schedule("a schedule expression is rate(...) or cron(...)");
    std::vector<std::string_view> f;
    for (auto p : split(*c, ' '))
        if (!p.empty()) f.push_back(p);
    if (f.size() != 6) bad_schedule("cron() takes six fields: minutes hours day-of-month month day-of-week year");
    Cron& k = e.cron_;
    k.minutes = parse_set(minute_field, f[0]);
    k.hours = parse_set(hour_field, f[1]);
    k.months = parse_set(month_field, f[3]);
    k.years = parse_set(year_field, f[5]);
    // Day-of-month.
    k.days.assign(32, false);
    k.day_question = f[2] == "?";
    k.any_day = f[2] == "*" || k.day_question;
    if (!k.any_day) {
        for (auto part : split(f[2], ',')) {
            if (part == "L") k.last_day = true;
            else if (part == "LW") k.last_weekday = true;
            else if (part.size() > 1 && part.back() == 'W') {
                auto n = number(part.substr(0, part.size() - 1));
                if (!n || *n < 1 || *n > 31) bad_schedule("invalid W in the day-of-month field");
                k.nearest_weekday.push_back(*n);
            } else {
                if (part.find_first_of("LW?#") != std::string_view::npos) bad_schedule("invalid day-of-month field");
                plain_part(day_field, part, k.days);
            }
        }
    }
    // Day-of-week.
    k.weekdays.assign(8, false);
    k.weekday_question = f[4] == "?";
    if (!k.weekday_question) {
        for (auto part : split(f[4], ',')) {
            if (part == "L") {
                k.weekdays[7] = true;  // the last day of the week: Saturday
            } else if (part.size() > 1 && part.back() == 'L') {
                k.last_of_weekday.push_back(value_of(weekday_field, part.substr(0, part.size() - 1)));
            } else if (auto hash = part.find('#'); hash != std::string_view::npos) {
                int w = value_of(weekday_field, part.substr(0, hash));
                auto n = number(part.substr(hash + 1));
                if (!n || *n < 1 || *n > 5) bad_schedule("the n of day-of-week's # must be 1-5");
                k.nth_weekday.emplace_back(w, *n);
            } else {
                if (part.find_first_of("LW?#") != std::string_view::npos) bad_schedule("invalid day-of-week field");
                plain_part(weekday_field, part, k.weekdays);
            }
        }
    }
    if (k.day_question == k.weekday_question)
        bad_schedule("one of day-of-month and day-of-week must be ?, and only one");
    return e;
}

std::optional<std::int64_t> ScheduleExpression::next(std::int64_t after, std::int64_t anchor) const {
    if (rate_seconds_ > 0) {
        if (after < anchor) return anchor + rate_seconds_;
        std::int64_t k = (after - anchor) / rate_seconds_ + 1;
        return anchor + k * rate_seconds_;
    }
    // The next whole minute after `after`, then day by day.
    std::int64_t t = (after >= 0 ? after / 60 : (after - 59) / 60) * 60 + 60;
    std::int64_t day = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int start_minute = static_cast<int>((t - day * 86400) / 60);
    const Cron& k = cron_;
    for (std::int64_t d = day;; ++d) {
        int y, m, dd;
        civil_from_days(d, y, m, dd);
        if (y > 2199) return std::nullopt;
        if (y < 1970 || !k.years[static_cast<std::size_t>(y)] || !k.months[static_cast<std::size_t>(m)] ||
            !k.day_matches(y, m, dd, weekday_of(d))) {
            start_minute = 0;
            continue;
        }
        for (int minute_of_day = start_minute; minute_of_day < 24 * 60; ++minute_of_day) {
            int h = minute_of_day / 60, mi = minute_of_day % 60;
            if (!k.hours[static_cast<std::size_t>(h)]) {
                minute_of_day = h * 60 + 59;
                continue;
            }
            if (k.minutes[static_cast<std::size_t>(mi)]) return d * 86400 + minute_of_day * 60;
        }
        start_minute = 0;
    }
}

}  // namespace stratus::lambda
