#include "logs/filter_pattern.hpp"

#include "core/regex.hpp"
#include "core/text.hpp"

#include <string.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

namespace stratus::logs {

namespace {

using json = nlohmann::json;

[[noreturn]] void bad(const std::string& why) { throw std::invalid_argument(why); }

// AWS limits a pattern to 1024 characters and its regular expressions to a few; the nesting
// limit keeps the recursive parser's stack small whatever the input.
constexpr int max_depth = 32;

std::optional<double> number_of(std::string_view s) {
    if (s.empty()) return std::nullopt;
    double v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

bool glob(std::string_view pattern, std::string_view text) { return core::wildcard_match(pattern, text); }

// RE2 (core/regex.hpp): a user's pattern cannot make matching a log line take exponential
// time, as std::regex's backtracking did on (a*)*b.
core::Regex compile_regex(std::string_view body) {
    if (body.empty()) bad("empty regular expression");
    if (body.size() > 256) bad("regular expression too long");
    try {
        return core::Regex(body);
    } catch (const std::invalid_argument& e) {
        bad(std::string("invalid regular expression: ") + e.what());
    }
}

// ---- the terms of unstructured patterns ----

struct Term {
    enum Kind { must, any, exclude } kind = must;
    std::string text;                        // a term or phrase
    std::optional<core::Regex> regex;  // %...%
    bool found(std::string_view message) const {
        if (regex) return regex->search(message);
        // glibc's memmem: the scan of a million lines is mostly this (bench/logs.py). Never
        // with a null pointer (an empty view's data may be one: found by the fuzzer).
        if (message.size() < text.size() || message.empty()) return false;
        return ::memmem(message.data(), message.size(), text.data(), text.size()) != nullptr;
    }
};

// ---- structured patterns: tokens ----

enum class Tok { lbrace, rbrace, lparen, rparen, lbrack, rbrack, comma, and_, or_, op, string, word, regex, ellipsis, selector, end };

struct Token {
    Tok kind;
    std::string text;
};

bool word_char(char c) {
    return !std::isspace(static_cast<unsigned char>(c)) && std::string_view("{}()[],=!<>&|\"%").find(c) == std::string_view::npos;
}

std::string read_quoted(std::string_view s, std::size_t& i) {
    // s[i] == '"'
    std::string out;
    for (++i; i < s.size(); ++i) {
        char c = s[i];
        if (c == '\\' && i + 1 < s.size()) {
            out.push_back(s[++i]);
        } else if (c == '"') {
            ++i;
            return out;
        } else {
            out.push_back(c);
        }
    }
    bad("unterminated quoted string");
}

std::string read_regex(std::string_view s, std::size_t& i) {
    // s[i] == '%'
    std::string out;
    for (++i; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '%') {
            out.push_back('%');
            ++i;
        } else if (s[i] == '%') {
            ++i;
            return out;
        } else {
            out.push_back(s[i]);
        }
    }
    bad("unterminated regular expression");
}

std::vector<Token> tokenize(std::string_view s) {
    std::vector<Token> out;
    std::size_t i = 0;
    while (i < s.size()) {
        char c = s[i];
        if (std::isspace(static_cast<unsigned char>(c))) {
            ++i;
            continue;
        }
        auto two = s.substr(i, 2);
        if (two == "&&") out.push_back({Tok::and_, "&&"}), i += 2;
        else if (two == "||") out.push_back({Tok::or_, "||"}), i += 2;
        else if (two == "!=" || two == "<=" || two == ">=") out.push_back({Tok::op, std::string(two)}), i += 2;
        else if (c == '=' || c == '<' || c == '>') out.push_back({Tok::op, std::string(1, c)}), ++i;
        else if (c == '{') out.push_back({Tok::lbrace, "{"}), ++i;
        else if (c == '}') out.push_back({Tok::rbrace, "}"}), ++i;
        else if (c == '(') out.push_back({Tok::lparen, "("}), ++i;
        else if (c == ')') out.push_back({Tok::rparen, ")"}), ++i;
        else if (c == '[') out.push_back({Tok::lbrack, "["}), ++i;
        else if (c == ']') out.push_back({Tok::rbrack, "]"}), ++i;
        else if (c == ',') out.push_back({Tok::comma, ","}), ++i;
        else if (c == '"') out.push_back({Tok::string, read_quoted(s, i)});
        else if (c == '%') out.push_back({Tok::regex, read_regex(s, i)});
        else if (c == '$') {
            // A selector: $.a.b[0]['c'] up to a space or an operator.
            std::size_t j = i;
            while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j])) &&
                   std::string_view("=!<>)&|}").find(s[j]) == std::string_view::npos)
                ++j;
            out.push_back({Tok::selector, std::string(s.substr(i, j - i))});
            i = j;
        } else if (word_char(c)) {
            std::size_t j = i;
            while (j < s.size() && word_char(s[j])) ++j;
            std::string w(s.substr(i, j - i));
            out.push_back({w == "..." ? Tok::ellipsis : Tok::word, w});
            i = j;
        } else {
            bad(std::string("unexpected character '") + c + "'");
        }
    }
    out.push_back({Tok::end, ""});
    return out;
}

// ---- structured patterns: conditions ----

struct Step {
    std::string key;
    std::optional<std::size_t> index;
};

struct Value {
    enum Kind { text, regex, is_true, is_false, is_null, not_exists } kind = text;
    std::string literal;
    std::optional<double> number;  // the literal, when it is a number
    std::optional<core::Regex> re;
};

struct Expr {
    enum Kind { cond, and_, or_ } kind = cond;
    // cond
    std::string name;         // a space-delimited field's name
    std::vector<Step> path;   // a JSON selector's steps
    std::string op;
    Value value;
    // and / or
    std::unique_ptr<Expr> left, right;
};

std::vector<Step> parse_selector(std::string_view sel) {
    // "$" then .key, [n], ['key'] / ["key"] steps.
    std::vector<Step> steps;
    std::size_t i = 1;
    if (sel.size() < 2) bad("a selector needs at least one field: $.name");
    while (i < sel.size()) {
        if (sel[i] == '.' && i + 1 < sel.size() && sel[i + 1] == '[') {
            ++i;  // $.['key']
        } else if (sel[i] == '.') {
            std::size_t j = ++i;
            while (j < sel.size() && sel[j] != '.' && sel[j] != '[') ++j;
            if (j == i) bad("empty field name in selector " + std::string(sel));
            steps.push_back({std::string(sel.substr(i, j - i)), std::nullopt});
            i = j;
        } else if (sel[i] == '[') {
            auto close = sel.find(']', i);
            if (close == std::string_view::npos) bad("unclosed [ in selector " + std::string(sel));
            auto inner = sel.substr(i + 1, close - i - 1);
            if (inner.size() >= 2 && (inner.front() == '\'' || inner.front() == '"') && inner.back() == inner.front()) {
                steps.push_back({std::string(inner.substr(1, inner.size() - 2)), std::nullopt});
            } else {
                std::size_t n = 0;
                auto [end, ec] = std::from_chars(inner.data(), inner.data() + inner.size(), n);
                if (ec != std::errc() || end != inner.data() + inner.size()) bad("bad array index in selector " + std::string(sel));
                steps.push_back({"", n});
            }
            i = close + 1;
        } else {
            bad("bad selector " + std::string(sel));
        }
    }
    return steps;
}

class Parser {
public:
    Parser(std::vector<Token> toks, bool json) : t_(std::move(toks)), json_(json) {}

    const Token& peek() const { return t_[i_]; }
    Token take() { return t_[i_ < t_.size() - 1 ? i_++ : i_]; }
    void expect(Tok k, const char* what) {
        if (peek().kind != k) bad(std::string("expected ") + what + " near '" + peek().text + "'");
        ++i_;
    }
    std::size_t pos() const { return i_; }
    void seek(std::size_t p) { i_ = p; }

    std::unique_ptr<Expr> or_expr(int depth) {
        if (depth > max_depth) bad("pattern nested too deeply");
        auto left = and_expr(depth);
        while (peek().kind == Tok::or_) {
            take();
            auto e = std::make_unique<Expr>();
            e->kind = Expr::or_;
            e->left = std::move(left);
            e->right = and_expr(depth);
            left = std::move(e);
        }
        return left;
    }

    std::unique_ptr<Expr> and_expr(int depth) {
        auto left = primary(depth);
        while (peek().kind == Tok::and_) {
            take();
            auto e = std::make_unique<Expr>();
            e->kind = Expr::and_;
            e->left = std::move(left);
            e->right = primary(depth);
            left = std::move(e);
        }
        return left;
    }

    std::unique_ptr<Expr> primary(int depth) {
        if (peek().kind == Tok::lparen) {
            take();
            auto e = or_expr(depth + 1);
            expect(Tok::rparen, "')'");
            return e;
        }
        return condition();
    }

    std::unique_ptr<Expr> condition() {
        auto e = std::make_unique<Expr>();
        Token subject = take();
        if (json_) {
            if (subject.kind != Tok::selector) bad("expected a selector ($.field) near '" + subject.text + "'");
            e->path = parse_selector(subject.text);
        } else {
            if (subject.kind != Tok::word) bad("expected a field name near '" + subject.text + "'");
            e->name = subject.text;
        }
        Token op = take();
        if (op.kind == Tok::word && (op.text == "IS" || op.text == "NOT")) {
            Token what = take();
            if (op.text == "NOT" && what.text == "EXISTS") e->value.kind = Value::not_exists;
            else if (op.text == "IS" && what.text == "TRUE") e->value.kind = Value::is_true;
            else if (op.text == "IS" && what.text == "FALSE") e->value.kind = Value::is_false;
            else if (op.text == "IS" && what.text == "NULL") e->value.kind = Value::is_null;
            else bad("expected IS TRUE, IS FALSE, IS NULL or NOT EXISTS");
            e->op = op.text;
            return e;
        }
        if (op.kind != Tok::op) bad("expected a comparison after '" + subject.text + "'");
        e->op = op.text;
        Token v = take();
        if (v.kind == Tok::regex) {
            if (e->op != "=" && e->op != "!=") bad("regular expressions compare with = or != only");
            e->value.kind = Value::regex;
            e->value.re = compile_regex(v.text);
            return e;
        }
        // A quoted value, or a bare one (a number, a word with * wildcards, a negative number).
        if (v.kind != Tok::string && v.kind != Tok::word) bad("expected a value after " + e->op);
        e->value.literal = v.text;
        if (v.kind == Tok::word) e->value.number = number_of(v.text);
        if (e->op != "=" && e->op != "!=" && !e->value.number) bad("'" + e->op + "' compares numbers only");
        return e;
    }

private:
    std::vector<Token> t_;
    std::size_t i_ = 0;
    bool json_;
};

// ---- evaluation ----

// A field's value in a space-delimited event.
bool compare_text(const Expr& c, std::string_view field) {
    const Value& v = c.value;
    if (v.kind == Value::regex) return v.re->search(field) == (c.op == "=");
    if (v.kind != Value::text) return false;
    auto n = number_of(field);
    if (c.op == "=" || c.op == "!=") {
        bool eq = v.number && n ? *n == *v.number : glob(v.literal, field);
        return eq == (c.op == "=");
    }
    if (!n) return false;
    if (c.op == "<") return *n < *v.number;
    if (c.op == "<=") return *n <= *v.number;
    if (c.op == ">") return *n > *v.number;
    return *n >= *v.number;
}

const json* resolve(const json& root, const std::vector<Step>& path) {
    const json* cur = &root;
    for (auto& s : path) {
        if (s.index) {
            if (!cur->is_array() || *s.index >= cur->size()) return nullptr;
            cur = &(*cur)[*s.index];
        } else {
            if (!cur->is_object()) return nullptr;
            auto it = cur->find(s.key);
            if (it == cur->end()) return nullptr;
            cur = &*it;
        }
    }
    return cur;
}

bool compare_json(const Expr& c, const json* node) {
    const Value& v = c.value;
    switch (v.kind) {
        case Value::not_exists: return node == nullptr;
        case Value::is_null: return node && node->is_null();
        case Value::is_true: return node && node->is_boolean() && node->get<bool>();
        case Value::is_false: return node && node->is_boolean() && !node->get<bool>();
        default: break;
    }
    if (!node) return false;
    if (node->is_number()) {
        double n = node->get<double>();
        if (v.kind == Value::regex) return v.re->search(node->dump()) == (c.op == "=");
        if (v.number) {
            if (c.op == "=") return n == *v.number;
            if (c.op == "!=") return n != *v.number;
            if (c.op == "<") return n < *v.number;
            if (c.op == "<=") return n <= *v.number;
            if (c.op == ">") return n > *v.number;
            return n >= *v.number;
        }
        if (c.op != "=" && c.op != "!=") return false;
        return glob(v.literal, node->dump()) == (c.op == "=");
    }
    std::string text;
    if (node->is_string()) text = node->get<std::string>();
    else if (node->is_boolean()) text = node->get<bool>() ? "true" : "false";
    else return false;  // objects, arrays and null compare with nothing
    if (v.kind == Value::regex) return v.re->search(text) == (c.op == "=");
    if (c.op != "=" && c.op != "!=") return false;  // a string is never < a number
    return glob(v.literal, text) == (c.op == "=");
}

template <class Leaf>
bool eval(const Expr& e, const Leaf& leaf) {
    switch (e.kind) {
        case Expr::and_: return eval(*e.left, leaf) && eval(*e.right, leaf);
        case Expr::or_: return eval(*e.left, leaf) || eval(*e.right, leaf);
        case Expr::cond: return leaf(e);
    }
    return false;
}

// Splits a space-delimited event: a run inside [] or "" is one field (without them).
std::vector<std::string_view> split_fields(std::string_view m) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < m.size()) {
        if (m[i] == ' ' || m[i] == '\t') {
            ++i;
            continue;
        }
        if (m[i] == '[' || m[i] == '"') {
            char close = m[i] == '[' ? ']' : '"';
            auto end = m.find(close, i + 1);
            if (end != std::string_view::npos) {
                out.push_back(m.substr(i + 1, end - i - 1));
                i = end + 1;
                continue;
            }
        }
        std::size_t j = i;
        while (j < m.size() && m[j] != ' ' && m[j] != '\t') ++j;
        out.push_back(m.substr(i, j - i));
        i = j;
    }
    return out;
}

}  // namespace

struct FilterPattern::Impl {
    enum Kind { terms, json_pattern, space } kind = terms;
    std::vector<Term> must, any, exclude;
    std::unique_ptr<Expr> expr;                 // json_pattern; space (may be null: no conditions)
    std::vector<std::optional<std::string>> fields;  // space: names; nullopt is "..."

    bool match_space(const std::vector<std::string_view>& values, std::size_t fi, std::size_t vi,
                     std::map<std::string, std::string_view, std::less<>>& bound, std::size_t& budget) const {
        // Several "..." could try every split of a long event: bounded, a no-match beyond it.
        if (budget == 0) return false;
        --budget;
        if (fi == fields.size()) {
            if (vi != values.size()) return false;
            if (!expr) return true;
            return eval(*expr, [&](const Expr& c) {
                auto it = bound.find(c.name);
                return it != bound.end() && compare_text(c, it->second);
            });
        }
        if (!fields[fi]) {
            // "..." takes any number of fields, the fewest first.
            for (std::size_t k = vi; k <= values.size(); ++k)
                if (match_space(values, fi + 1, k, bound, budget)) return true;
            return false;
        }
        if (vi == values.size()) return false;
        bound[*fields[fi]] = values[vi];
        return match_space(values, fi + 1, vi + 1, bound, budget);
    }

    bool matches(std::string_view m) const {
        switch (kind) {
            case terms: {
                for (auto& t : must)
                    if (!t.found(m)) return false;
                for (auto& t : exclude)
                    if (t.found(m)) return false;
                if (any.empty()) return true;
                for (auto& t : any)
                    if (t.found(m)) return true;
                return false;
            }
            case json_pattern: {
                auto brace = m.find('{');
                if (brace == std::string_view::npos) return false;
                json doc = json::parse(m.substr(brace), nullptr, false);
                if (doc.is_discarded() || !doc.is_object()) return false;
                return eval(*expr, [&](const Expr& c) { return compare_json(c, resolve(doc, c.path)); });
            }
            case space: {
                auto values = split_fields(m);
                std::map<std::string, std::string_view, std::less<>> bound;
                std::size_t budget = 100000;
                return match_space(values, 0, 0, bound, budget);
            }
        }
        return false;
    }
};

FilterPattern FilterPattern::parse(std::string_view text) {
    if (text.size() > 1024) bad("a filter pattern is at most 1024 characters");
    std::size_t b = 0, e = text.size();
    while (b < e && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1]))) --e;
    std::string_view s = text.substr(b, e - b);
    FilterPattern out;
    if (s.empty() || s == "\"\"") return out;
    auto impl = std::make_shared<Impl>();
    if (s.front() == '{') {
        if (s.back() != '}') bad("a JSON pattern ends with '}'");
        Parser p(tokenize(s.substr(1, s.size() - 2)), true);
        impl->kind = Impl::json_pattern;
        impl->expr = p.or_expr(0);
        if (p.peek().kind != Tok::end) bad("unexpected '" + p.peek().text + "' in JSON pattern");
    } else if (s.front() == '[') {
        if (s.back() != ']') bad("a space-delimited pattern ends with ']'");
        Parser p(tokenize(s.substr(1, s.size() - 2)), false);
        impl->kind = Impl::space;
        std::map<std::string, bool> names;
        while (p.peek().kind != Tok::end) {
            Token t = p.take();
            if (t.kind == Tok::ellipsis) {
                impl->fields.push_back(std::nullopt);
            } else if (t.kind == Tok::word) {
                if (!names.emplace(t.text, true).second) bad("field name '" + t.text + "' used twice");
                impl->fields.push_back(t.text);
                if (p.peek().kind != Tok::comma && p.peek().kind != Tok::end) {
                    // Conditions: "status = 4*", "status >= 400 && status < 500".
                    p.seek(p.pos() - 1);
                    auto c = p.or_expr(0);
                    if (impl->expr) {
                        auto both = std::make_unique<Expr>();
                        both->kind = Expr::and_;
                        both->left = std::move(impl->expr);
                        both->right = std::move(c);
                        impl->expr = std::move(both);
                    } else {
                        impl->expr = std::move(c);
                    }
                }
            } else {
                bad("expected a field name or ... near '" + t.text + "'");
            }
            if (p.peek().kind == Tok::comma) {
                p.take();
                if (p.peek().kind == Tok::end) bad("a field name must follow ','");
            } else if (p.peek().kind != Tok::end) {
                bad("expected ',' near '" + p.peek().text + "'");
            }
        }
        if (impl->fields.empty()) bad("a space-delimited pattern names at least one field");
        // Conditions may only name fields of the pattern.
        if (impl->expr) {
            std::vector<const Expr*> stack{impl->expr.get()};
            while (!stack.empty()) {
                auto* x = stack.back();
                stack.pop_back();
                if (x->kind == Expr::cond) {
                    if (!names.count(x->name)) bad("condition on unknown field '" + x->name + "'");
                } else {
                    stack.push_back(x->left.get());
                    stack.push_back(x->right.get());
                }
            }
        }
    } else {
        // Terms: [?|-]word, [?|-]"phrase", [?|-]%regex%.
        std::size_t i = 0;
        while (i < s.size()) {
            if (std::isspace(static_cast<unsigned char>(s[i]))) {
                ++i;
                continue;
            }
            Term t;
            if (s[i] == '?' || s[i] == '-') {
                t.kind = s[i] == '?' ? Term::any : Term::exclude;
                if (++i == s.size() || std::isspace(static_cast<unsigned char>(s[i])))
                    bad("a term must follow '?' or '-'");
            }
            if (s[i] == '"') {
                t.text = read_quoted(s, i);
            } else if (s[i] == '%') {
                t.regex = compile_regex(read_regex(s, i));
            } else {
                std::size_t j = i;
                while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
                t.text = std::string(s.substr(i, j - i));
                i = j;
            }
            if (t.text.empty() && !t.regex) {
                if (t.kind != Term::must) bad("empty term");
                continue;  // "" beside other terms matches every event
            }
            (t.kind == Term::must ? impl->must : t.kind == Term::any ? impl->any : impl->exclude).push_back(std::move(t));
        }
        if (impl->must.empty() && impl->any.empty() && impl->exclude.empty()) return out;
    }
    out.root_ = std::move(impl);
    return out;
}

std::string_view FilterPattern::required_text() const {
    std::string_view best;
    if (!root_ || root_->kind != Impl::terms) return best;
    for (auto& t : root_->must)
        if (!t.regex && t.text.size() > best.size()) best = t.text;
    return best;
}

bool FilterPattern::matches(std::string_view message) const { return !root_ || root_->matches(message); }

}  // namespace stratus::logs
