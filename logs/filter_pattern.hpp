// CloudWatch Logs filter patterns (FilterLogEvents' filterPattern, and metric / subscription
// filters), as AWS's user guide "Filter pattern syntax for metric filters, subscription
// filters, filter log events, and Live Tail" describes them:
//   ""                         every event
//   ERROR                      events holding the term (case-sensitive; substring)
//   ERROR ARGUMENTS            every term ("and")
//   "Failed to"                a phrase (quoted; \" and \\ escape)
//   ?ERROR ?WARN               any of the ?-terms ("or"); with plain terms beside: those too
//   ERROR -Exiting             the term, but not the excluded one (-"a phrase" too)
//   %ERR(OR)?%                 a regular expression (ECMAScript, the subset AWS documents)
//   { $.level = "error" }      JSON events: selectors $.a.b[0].c, = and != on strings with
//                              * wildcards, = != < <= > >= on numbers, IS TRUE / IS FALSE /
//                              IS NULL, NOT EXISTS, %regex% values, && || and parentheses
//   [ip, user, ..., status = 4*, bytes > 1000]
//                              space-delimited events: one name per field (a [bracketed] or
//                              "quoted" field counts as one), ... for any number of fields,
//                              conditions as in JSON patterns over the names, && and ||
// JSON patterns also match an event whose message has text before its JSON object (Lambda's
// "<time>\t<request id>\tINFO\t{...}" lines), from its first '{'.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace stratus::logs {

class FilterPattern {
public:
    // Throws std::invalid_argument (saying why) for text that is not a valid pattern.
    static FilterPattern parse(std::string_view text);
    bool matches(std::string_view message) const;
    // The empty pattern: every event matches.
    bool matches_everything() const { return root_ == nullptr; }
    // Text every matching message holds (the longest plain term; empty when there is none):
    // a scan need only look at the lines holding it.
    std::string_view required_text() const;

    struct Impl;  // filter_pattern.cpp

private:
    std::shared_ptr<const Impl> root_;
};

}  // namespace stratus::logs
