// EventBridge schedule expressions (Amazon EventBridge user guide, "Schedule expressions for
// rules"): rate(value unit) and cron(minutes hours day-of-month month day-of-week year),
// always in UTC.
//
// rate: a positive whole value and minute(s) / hour(s) / day(s), singular for 1
// ("rate(1 minute)") and plural otherwise ("rate(5 minutes)"). It fires every period from
// the moment the rule was created.
//
// cron: six fields. Minutes 0-59 and hours 0-23 (, - * /), day-of-month 1-31
// (, - * ? / L W: "L" the month's last day, "15W" the weekday nearest the 15th, "LW" the
// last weekday), month 1-12 or JAN-DEC (, - * /), day-of-week 1-7 or SUN-SAT with 1 = SUN
// (, - * ? L #: "6L" the month's last Friday, "2#1" its first Monday, "L" alone Saturday),
// year 1970-2199 (, - * /). One of day-of-month and day-of-week must be "?", the other
// not. Ranges may wrap (FRI-MON).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace stratus::lambda {

class ScheduleExpression {
public:
    // Throws std::invalid_argument with the reason.
    static ScheduleExpression parse(std::string_view text);

    // The first firing strictly after `after` (Unix epoch seconds, UTC); `anchor` is when the
    // rule was created (rate expressions count from it). nullopt: never again.
    std::optional<std::int64_t> next(std::int64_t after, std::int64_t anchor) const;

    bool is_rate() const { return rate_seconds_ > 0; }
    const std::string& text() const { return text_; }

private:
    struct Cron {
        std::vector<bool> minutes, hours, days, months, weekdays, years;  // indexed by value
        bool any_day = true;       // day-of-month is "*" (or "?")
        bool day_question = false;  // day-of-month is "?"
        bool last_day = false;      // L
        bool last_weekday = false;  // LW
        std::vector<int> nearest_weekday;  // nW
        bool weekday_question = false;     // day-of-week is "?"
        std::vector<int> last_of_weekday;  // 6L: the last Friday
        std::vector<std::pair<int, int>> nth_weekday;  // 2#1: (weekday, n)
        bool day_matches(int year, int month, int day, int weekday) const;
    };

    std::string text_;
    std::int64_t rate_seconds_ = 0;
    Cron cron_;
};

// Days since 1970-01-01 for a civil date, and back (proleptic Gregorian, UTC).
std::int64_t days_from_civil(int year, int month, int day);
void civil_from_days(std::int64_t days, int& year, int& month, int& day);

}  // namespace stratus::lambda
