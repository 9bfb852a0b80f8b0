// PartiQL tokenizer, recursive-descent parser, parameter binding and rendering into the
// expression language (see partiql.hpp). Recursion happens only through parentheses,
// NOT, function arguments and nested list / map / bag literals, each counted against
// expr::max_nesting before descending, and AND / OR chains are flattened, so hostile
// statements cannot exhaust the stack.
#include "dynamo/expr/partiql.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include <fmt/format.h>

#include "core/error.hpp"

namespace stratus::dynamo::partiql {

using core::AwsError;

namespace {

[[noreturn]] void malformed(std::string_view why) {
    throw AwsError::validation(fmt::format("Statement wasn't well formed, can't be processed: {}", why));
}

// ---- tokens

enum class Tok : std::uint8_t {
    ident, quoted, string, number, question,
    lparen, rparen, lbracket, rbracket, lbrace, rbrace, lbag, rbag,
    comma, dot, colon, semicolon, star, plus, minus,
    eq, ne, lt, le, gt, ge,
    eof,
};

struct Token {
    Tok kind = Tok::eof;
    std::size_t pos = 0;
    std::size_t len = 0;
    std::string text;  // ident as written; quoted / string unescaped; number as written
};

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$'; }
bool digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// A whole UTF-8 character for messages.
std::string_view character_at(std::string_view s, std::size_t i) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return s.substr(i, std::min(n, s.size() - i));
}

std::vector<Token> tokenize(std::string_view s) {
    std::vector<Token> out;
    std::size_t i = 0;
    const std::size_t n = s.size();
    while (i < n) {
        char c = s[i];
        if (std::isspace(static_cast<unsigned char>(c))) {
            ++i;
            continue;
        }
        if (c == '-' && i + 1 < n && s[i + 1] == '-') {  // -- comment to the end of the line
            while (i < n && s[i] != '\n') ++i;
            continue;
        }
        Token t;
        t.pos = i;
        if (ident_start(c)) {
            while (i < n && ident_char(s[i])) ++i;
            t.kind = Tok::ident;
            t.text = std::string(s.substr(t.pos, i - t.pos));
        } else if (c == '"' || c == '\'') {
            // "identifier" and 'string'; a doubled quote stands for itself.
            ++i;
            bool closed = false;
            while (i < n) {
                if (s[i] == c) {
                    if (i + 1 < n && s[i + 1] == c) {
                        t.text += c;
                        i += 2;
                        continue;
                    }
                    ++i;
                    closed = true;
                    break;
                }
                t.text += s[i++];
            }
            if (!closed) malformed(c == '"' ? "Unterminated quoted identifier" : "Unterminated string literal");
            t.kind = c == '"' ? Tok::quoted : Tok::string;
        } else if (digit(c) || (c == '.' && i + 1 < n && digit(s[i + 1]))) {
            while (i < n && digit(s[i])) ++i;
            if (i < n && s[i] == '.') {
                ++i;
                while (i < n && digit(s[i])) ++i;
            }
            if (i < n && (s[i] == 'e' || s[i] == 'E')) {
                std::size_t j = i + 1;
                if (j < n && (s[j] == '+' || s[j] == '-')) ++j;
                if (j < n && digit(s[j])) {
                    i = j;
                    while (i < n && digit(s[i])) ++i;
                }
            }
            if (i < n && ident_char(s[i]))
                malformed(fmt::format("Unexpected token: {}", character_at(s, i)));
            t.kind = Tok::number;
            t.text = std::string(s.substr(t.pos, i - t.pos));
        } else {
            ++i;
            auto next = [&](char x) {
                if (i < n && s[i] == x) {
                    ++i;
                    return true;
                }
                return false;
            };
            switch (c) {
            case '(': t.kind = Tok::lparen; break;
            case ')': t.kind = Tok::rparen; break;
            case '[': t.kind = Tok::lbracket; break;
            case ']': t.kind = Tok::rbracket; break;
            case '{': t.kind = Tok::lbrace; break;
            case '}': t.kind = Tok::rbrace; break;
            case ',': t.kind = Tok::comma; break;
            case '.': t.kind = Tok::dot; break;
            case ':': t.kind = Tok::colon; break;
            case ';': t.kind = Tok::semicolon; break;
            case '*': t.kind = Tok::star; break;
            case '+': t.kind = Tok::plus; break;
            case '-': t.kind = Tok::minus; break;
            case '?': t.kind = Tok::question; break;
            case '=': t.kind = Tok::eq; break;
            case '!':
                if (!next('=')) malformed("Unexpected token: !");
                t.kind = Tok::ne;
                break;
            case '<':
                t.kind = next('=') ? Tok::le : next('>') ? Tok::ne : next('<') ? Tok::lbag : Tok::lt;
                break;
            case '>':
                t.kind = next('=') ? Tok::ge : next('>') ? Tok::rbag : Tok::gt;
                break;
            default: malformed(fmt::format("Unexpected token: {}", character_at(s, t.pos)));
            }
        }
        t.len = i - t.pos;
        out.push_back(std::move(t));
    }
    Token eof;
    eof.pos = n;
    out.push_back(std::move(eof));
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::toupper(static_cast<unsigned char>(x)) == std::toupper(static_cast<unsigned char>(y));
           });
}

// Words the grammar uses: never a bare attribute or table name (quote them: "value").
constexpr std::array<std::string_view, 27> keywords = {
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "BETWEEN", "IS", "MISSING", "NULL", "TRUE", "FALSE",
    "INSERT", "INTO", "VALUE", "VALUES", "UPDATE", "SET", "REMOVE", "DELETE", "RETURNING", "ORDER", "BY",
    "EXISTS", "LIMIT", "AS"};

bool is_keyword(std::string_view w) {
    return std::any_of(keywords.begin(), keywords.end(), [&](std::string_view k) { return iequals(k, w); });
}

struct FunctionInfo {
    std::string_view name;
    std::size_t arity;
    bool condition;  // a condition of its own (begins_with, ...) rather than a value
    bool update;     // only on the right of SET
};
constexpr std::array<FunctionInfo, 8> functions = {{
    {"begins_with", 2, true, false},
    {"contains", 2, true, false},
    {"attribute_type", 2, true, false},
    {"size", 1, false, false},
    {"list_append", 2, false, true},
    {"set_add", 2, false, true},
    {"set_delete", 2, false, true},
    {"if_not_exists", 2, false, true},
}};

const FunctionInfo* find_function(std::string_view name) {
    for (const auto& f : functions)
        if (iequals(f.name, name)) return &f;
    return nullptr;
}

class Parser {
public:
    Parser(std::string_view src, bool allow_exists) : src_(src), allow_exists_(allow_exists), toks_(tokenize(src)) {}

    Statement statement() {
        Statement st;
        const Token& t = cur();
        if (keyword("SELECT")) {
            select(st);
        } else if (keyword("INSERT")) {
            insert(st);
        } else if (keyword("UPDATE")) {
            update(st);
        } else if (keyword("DELETE")) {
            del(st);
        } else if (keyword("EXISTS")) {
            if (!allow_exists_)
                throw AwsError::validation("EXISTS is only supported in ExecuteTransaction");  // AWS wording unknown
            ++i_;
            expect(Tok::lparen, "(");
            if (!keyword("SELECT")) unexpected();
            select(st);
            expect(Tok::rparen, ")");
            st.kind = Kind::exists;
        } else if (t.kind == Tok::eof) {
            malformed("Unexpected end of statement");
        } else {
            unexpected();
        }
        if (cur().kind == Tok::semicolon) ++i_;
        if (cur().kind != Tok::eof) unexpected();
        st.parameters = params_;
        return st;
    }

private:
    std::string_view src_;
    bool allow_exists_;
    std::vector<Token> toks_;
    std::size_t i_ = 0;
    std::size_t depth_ = 0;
    std::size_t params_ = 0;
    std::size_t operators_ = 0;

    class Nest {
    public:
        explicit Nest(Parser& p) : p_(p) {
            if (++p_.depth_ > expr::max_nesting)
                malformed(fmt::format("The statement has too many nesting levels; nesting levels: {}", p_.depth_));
        }
        ~Nest() { --p_.depth_; }
        Nest(const Nest&) = delete;
        Nest& operator=(const Nest&) = delete;

    private:
        Parser& p_;
    };

    const Token& cur() const { return toks_[i_]; }
    const Token& ahead(std::size_t k) const { return toks_[std::min(i_ + k, toks_.size() - 1)]; }
    bool keyword(std::string_view kw) const { return cur().kind == Tok::ident && iequals(cur().text, kw); }

    [[noreturn]] void unexpected() const {
        const Token& t = cur();
        if (t.kind == Tok::eof) malformed("Unexpected end of statement");
        std::string_view text = src_.substr(t.pos, t.len);
        if (t.kind == Tok::ident && is_keyword(t.text)) malformed(fmt::format("Unexpected keyword: {}", text));
        malformed(fmt::format("Unexpected token: {}", text));
    }
    void expect(Tok k, std::string_view) {
        if (cur().kind != k) unexpected();
        ++i_;
    }
    void expect_keyword(std::string_view kw) {
        if (!keyword(kw)) unexpected();
        ++i_;
    }
    void count_operator() {
        // AWS's 300-operator limit of expressions; PartiQL's own limit is undocumented.
        if (++operators_ > expr::max_operators)
            malformed(fmt::format("The statement contains too many operators; operator count: {}", operators_));
    }

    // A table, index or attribute name: an identifier that is not a keyword, or "quoted".
    std::string name() {
        const Token& t = cur();
        if (t.kind == Tok::quoted) {
            if (t.text.empty()) malformed("Empty quoted identifier");  // AWS wording unknown
            ++i_;
            return t.text;
        }
        if (t.kind != Tok::ident || is_keyword(t.text)) unexpected();
        ++i_;
        return t.text;
    }

    expr::Path path() {
        expr::Path p;
        p.push_back({false, name(), 0});
        for (;;) {
            if (cur().kind == Tok::dot) {
                ++i_;
                p.push_back({false, name(), 0});
            } else if (cur().kind == Tok::lbracket) {
                ++i_;
                const Token& t = cur();
                if (t.kind == Tok::number && std::all_of(t.text.begin(), t.text.end(), digit)) {
                    std::uint64_t index = 0;
                    for (char c : t.text) {
                        index = index * 10 + static_cast<unsigned>(c - '0');
                        if (index > 0xFFFFFFFFu) malformed(fmt::format("List index is too large: {}", t.text));
                    }
                    p.push_back({true, {}, static_cast<std::uint32_t>(index)});
                } else if (t.kind == Tok::string) {
                    p.push_back({false, t.text, 0});  // a['b'] is a.b
                } else {
                    unexpected();
                }
                ++i_;
                expect(Tok::rbracket, "]");
            } else {
                break;
            }
            if (p.size() > expr::max_path_depth)
                malformed(fmt::format("The document path has too many nesting levels; nesting levels: {}", p.size()));
        }
        return p;
    }

    // ---- statements

    void select(Statement& st) {
        st.kind = Kind::select;
        ++i_;  // SELECT
        if (cur().kind == Tok::star) {
            ++i_;
            st.select_all = true;
        } else {
            st.select_all = false;
            for (;;) {
                st.projection.push_back(path());
                if (cur().kind != Tok::comma) break;
                ++i_;
            }
        }
        expect_keyword("FROM");
        source(st, true);
        if (keyword("WHERE")) {
            ++i_;
            st.where = condition();
        }
        if (keyword("ORDER")) {
            ++i_;
            expect_keyword("BY");
            for (;;) {
                OrderBy o;
                o.name = name();
                if (keyword("ASC")) {
                    ++i_;
                } else if (keyword("DESC")) {
                    ++i_;
                    o.descending = true;
                }
                st.order_by.push_back(std::move(o));
                if (cur().kind != Tok::comma) break;
                ++i_;
            }
        }
    }

    void source(Statement& st, bool index_allowed) {
        st.table = name();
        if (cur().kind == Tok::dot) {
            if (!index_allowed) unexpected();
            ++i_;
            st.index = name();
        }
    }

    void insert(Statement& st) {
        st.kind = Kind::insert;
        ++i_;
        expect_keyword("INTO");
        source(st, false);
        if (!keyword("VALUE")) unexpected();  // DynamoDB's form is VALUE {...}, not VALUES
        ++i_;
        st.value = operand();
        if (st.value.kind != ExprKind::map && st.value.kind != ExprKind::param)
            malformed("The value of an INSERT statement must be a tuple");  // AWS wording unknown
    }

    void update(Statement& st) {
        st.kind = Kind::update;
        ++i_;
        source(st, false);
        bool any = false;
        for (;;) {
            if (keyword("SET")) {
                ++i_;
                for (;;) {
                    SetAction a;
                    a.path = path();
                    expect(Tok::eq, "=");
                    a.value = set_value();
                    st.actions.push_back(std::move(a));
                    if (cur().kind != Tok::comma) break;
                    ++i_;
                }
            } else if (keyword("REMOVE")) {
                ++i_;
                for (;;) {
                    SetAction a;
                    a.remove = true;
                    a.path = path();
                    st.actions.push_back(std::move(a));
                    if (cur().kind != Tok::comma) break;
                    ++i_;
                }
            } else {
                break;
            }
            any = true;
        }
        if (!any) unexpected();
        expect_keyword("WHERE");
        st.where = condition();
        returning(st, true);
    }

    void del(Statement& st) {
        st.kind = Kind::del;
        ++i_;
        expect_keyword("FROM");
        source(st, false);
        expect_keyword("WHERE");
        st.where = condition();
        returning(st, false);
    }

    void returning(Statement& st, bool update) {
        if (!keyword("RETURNING")) return;
        ++i_;
        bool all = keyword("ALL");
        if (!all && !(update && keyword("MODIFIED"))) unexpected();
        ++i_;
        bool old = keyword("OLD");
        if (!old && !(update && keyword("NEW"))) unexpected();
        ++i_;
        expect(Tok::star, "*");
        st.returning = all ? (old ? Returning::all_old : Returning::all_new)
                           : (old ? Returning::modified_old : Returning::modified_new);
    }

    // ---- conditions

    Expr condition() {
        Nest nest(*this);
        Expr first = conjunction();
        if (!keyword("OR")) return first;
        Expr n;
        n.kind = ExprKind::logical_or;
        n.pos = first.pos;
        n.children.push_back(std::move(first));
        while (keyword("OR")) {
            ++i_;
            count_operator();
            n.children.push_back(conjunction());
        }
        return n;
    }

    Expr conjunction() {
        Expr first = negation();
        if (!keyword("AND")) return first;
        Expr n;
        n.kind = ExprKind::logical_and;
        n.pos = first.pos;
        n.children.push_back(std::move(first));
        while (keyword("AND")) {
            ++i_;
            count_operator();
            n.children.push_back(negation());
        }
        return n;
    }

    Expr negation() {
        if (!keyword("NOT")) return predicate();
        Expr n;
        n.kind = ExprKind::logical_not;
        n.pos = cur().pos;
        ++i_;
        count_operator();
        Nest nest(*this);
        n.children.push_back(negation());
        return n;
    }

    bool comparator(Cmp& out) const {
        switch (cur().kind) {
        case Tok::eq: out = Cmp::eq; return true;
        case Tok::ne: out = Cmp::ne; return true;
        case Tok::lt: out = Cmp::lt; return true;
        case Tok::le: out = Cmp::le; return true;
        case Tok::gt: out = Cmp::gt; return true;
        case Tok::ge: out = Cmp::ge; return true;
        default: return false;
        }
    }

    Expr predicate() {
        if (cur().kind == Tok::lparen) {
            ++i_;
            Expr n = condition();
            expect(Tok::rparen, ")");
            return n;
        }
        std::size_t pos = cur().pos;
        Expr left = operand();
        Expr n;
        n.pos = pos;
        Cmp cmp;
        if (comparator(cmp)) {
            ++i_;
            count_operator();
            n.kind = ExprKind::compare;
            n.cmp = cmp;
            n.children.push_back(std::move(left));
            n.children.push_back(operand());
            check_value_operands(n);
            return n;
        }
        bool negated = false;
        if (keyword("NOT") && (iequals(ahead(1).text, "BETWEEN") || iequals(ahead(1).text, "IN")) &&
            ahead(1).kind == Tok::ident) {
            negated = true;
            ++i_;
        }
        if (keyword("BETWEEN")) {
            ++i_;
            count_operator();
            n.kind = ExprKind::between;
            n.negated = negated;
            n.children.push_back(std::move(left));
            n.children.push_back(operand());
            expect_keyword("AND");
            n.children.push_back(operand());
            check_value_operands(n);
            return n;
        }
        if (keyword("IN")) {
            ++i_;
            count_operator();
            n.kind = ExprKind::in;
            n.negated = negated;
            n.children.push_back(std::move(left));
            Tok close = cur().kind == Tok::lbracket ? Tok::rbracket : Tok::rparen;
            if (cur().kind != Tok::lbracket && cur().kind != Tok::lparen) unexpected();
            ++i_;
            for (;;) {
                n.children.push_back(operand());
                if (cur().kind != Tok::comma) break;
                ++i_;
            }
            expect(close, "]");
            // AWS documents 100 values for IN in expressions; the same here.
            if (n.children.size() - 1 > expr::max_in_operands)
                malformed(fmt::format("The IN operator is provided with too many operands; number of operands: {}",
                                      n.children.size() - 1));
            check_value_operands(n);
            return n;
        }
        if (keyword("IS")) {
            ++i_;
            n.negated = keyword("NOT");
            if (n.negated) ++i_;
            if (keyword("MISSING")) n.kind = ExprKind::is_missing;
            else if (keyword("NULL")) n.kind = ExprKind::is_null;
            else unexpected();
            ++i_;
            count_operator();
            if (left.kind != ExprKind::path) malformed("IS MISSING and IS NULL apply to attribute paths");  // ours
            n.children.push_back(std::move(left));
            return n;
        }
        if (left.kind == ExprKind::function) {
            const FunctionInfo* f = find_function(left.name);
            if (f && f->condition) return left;
        }
        unexpected();
    }

    // size() is the only function that is a value in a condition.
    void check_value_operands(const Expr& n) const {
        for (const Expr& c : n.children)
            if (c.kind == ExprKind::function && c.name != "size")
                malformed(fmt::format("Function {} can not be used as an operand", c.name));  // ours
    }

    // ---- values

    Expr set_value() {
        std::size_t pos = cur().pos;
        Expr left = operand();
        if (cur().kind != Tok::plus && cur().kind != Tok::minus) return left;
        Expr n;
        n.kind = cur().kind == Tok::plus ? ExprKind::plus : ExprKind::minus;
        n.pos = pos;
        ++i_;
        count_operator();
        n.children.push_back(std::move(left));
        n.children.push_back(operand());
        return n;
    }

    Expr operand() {
        const Token& t = cur();
        Expr n;
        n.pos = t.pos;
        switch (t.kind) {
        case Tok::question:
            n.kind = ExprKind::param;
            n.param = params_++;
            ++i_;
            return n;
        case Tok::string:
            n.kind = ExprKind::literal;
            n.value = AttributeValue::string(t.text);
            ++i_;
            return n;
        case Tok::number:
            n.kind = ExprKind::literal;
            n.value = AttributeValue::number(Number::parse(t.text));
            ++i_;
            return n;
        case Tok::minus:
        case Tok::plus:
            // A signed number literal.
            if (ahead(1).kind == Tok::number && ahead(1).pos == t.pos + 1) {
                n.kind = ExprKind::literal;
                std::string text = (t.kind == Tok::minus ? "-" : "") + ahead(1).text;
                n.value = AttributeValue::number(Number::parse(text));
                i_ += 2;
                return n;
            }
            unexpected();
        case Tok::lbracket: return collection(ExprKind::list, Tok::rbracket);
        case Tok::lbag: return collection(ExprKind::bag, Tok::rbag);
        case Tok::lbrace: return tuple();
        case Tok::ident:
            if (iequals(t.text, "TRUE") || iequals(t.text, "FALSE")) {
                n.kind = ExprKind::literal;
                n.value = AttributeValue::boolean_value(iequals(t.text, "TRUE"));
                ++i_;
                return n;
            }
            if (iequals(t.text, "NULL")) {
                n.kind = ExprKind::literal;
                n.value = AttributeValue::null();
                ++i_;
                return n;
            }
            if (ahead(1).kind == Tok::lparen && !is_keyword(t.text)) return call();
            break;
        default: break;
        }
        n.kind = ExprKind::path;
        n.path = path();
        return n;
    }

    Expr collection(ExprKind kind, Tok close) {
        Nest nest(*this);
        Expr n;
        n.kind = kind;
        n.pos = cur().pos;
        ++i_;
        if (cur().kind != close) {
            for (;;) {
                n.children.push_back(element());
                if (cur().kind != Tok::comma) break;
                ++i_;
            }
        }
        expect(close, "]");
        return n;
    }

    Expr tuple() {
        Nest nest(*this);
        Expr n;
        n.kind = ExprKind::map;
        n.pos = cur().pos;
        ++i_;
        if (cur().kind != Tok::rbrace) {
            for (;;) {
                // Keys are string literals ('k'); DynamoDB also takes "k".
                const Token& k = cur();
                if (k.kind != Tok::string && k.kind != Tok::quoted) unexpected();
                n.keys.push_back(k.text);
                ++i_;
                expect(Tok::colon, ":");
                n.children.push_back(element());
                if (cur().kind != Tok::comma) break;
                ++i_;
            }
        }
        expect(Tok::rbrace, "}");
        return n;
    }

    // Inside a literal collection: literals and parameters only.
    Expr element() {
        Expr e = operand();
        if (e.kind == ExprKind::path || e.kind == ExprKind::function)
            malformed("Collection literals can only contain literals and parameters");  // ours
        return e;
    }

    Expr call() {
        const Token& t = cur();
        const FunctionInfo* f = find_function(t.text);
        if (!f) malformed(fmt::format("Unknown function: {}", t.text));  // AWS wording unknown
        count_operator();
        Nest nest(*this);
        Expr n;
        n.kind = ExprKind::function;
        n.name = std::string(f->name);
        n.pos = t.pos;
        i_ += 2;  // name (
        if (cur().kind != Tok::rparen) {
            for (;;) {
                n.children.push_back(operand());
                if (cur().kind != Tok::comma) break;
                ++i_;
            }
        }
        expect(Tok::rparen, ")");
        if (n.children.size() != f->arity)
            malformed(fmt::format("Incorrect number of arguments for function {}: {}", n.name, n.children.size()));
        if (n.name != "list_append" && n.children[0].kind != ExprKind::path)
            malformed(fmt::format("The first argument of function {} must be an attribute path", n.name));
        return n;
    }
};

// ---- binding

AttributeValue bound_value(Expr& e, const std::vector<AttributeValue>& params);

AttributeValue bag_value(Expr& e, const std::vector<AttributeValue>& params) {
    if (e.children.empty()) malformed("An empty set is not supported");  // AWS: sets cannot be empty
    std::vector<AttributeValue> members;
    for (Expr& c : e.children) members.push_back(bound_value(c, params));
    Type t = members[0].type;
    for (const AttributeValue& m : members)
        if (m.type != t || (t != Type::S && t != Type::N && t != Type::B))
            throw AwsError::validation(
                "One or more parameter values were invalid: A set must contain values of one type: strings, numbers or "
                "binaries");  // AWS wording unknown
    if (t == Type::N) {
        std::vector<Number> v;
        for (auto& m : members) v.push_back(std::move(m.n));
        return AttributeValue::number_set(std::move(v));
    }
    std::vector<std::string> v;
    for (auto& m : members) v.push_back(std::move(m.s));
    return t == Type::S ? AttributeValue::string_set(std::move(v)) : AttributeValue::binary_set(std::move(v));
}

AttributeValue bound_value(Expr& e, const std::vector<AttributeValue>& params) {
    switch (e.kind) {
    case ExprKind::literal: return e.value;
    case ExprKind::param: return params.at(e.param);
    case ExprKind::list: {
        List l;
        for (Expr& c : e.children) l.push_back(bound_value(c, params));
        return AttributeValue::list(std::move(l));
    }
    case ExprKind::map: {
        Map m;
        for (std::size_t k = 0; k < e.children.size(); ++k) {
            if (!m.emplace(e.keys[k], bound_value(e.children[k], params)).second)
                malformed(fmt::format("Duplicate key in tuple: {}", e.keys[k]));  // AWS wording unknown
        }
        return AttributeValue::map(std::move(m));
    }
    case ExprKind::bag: return bag_value(e, params);
    default: malformed("Unexpected expression in a literal");
    }
}

bool is_constant(ExprKind k) {
    return k == ExprKind::literal || k == ExprKind::param || k == ExprKind::list || k == ExprKind::map ||
           k == ExprKind::bag;
}

void bind_expr(Expr& e, const std::vector<AttributeValue>& params) {
    if (is_constant(e.kind)) {
        e.value = bound_value(e, params);
        e.kind = ExprKind::literal;
        e.children.clear();
        e.keys.clear();
        return;
    }
    for (Expr& c : e.children) bind_expr(c, params);
}

std::string_view cmp_text(Cmp c) {
    switch (c) {
    case Cmp::eq: return "=";
    case Cmp::ne: return "<>";
    case Cmp::lt: return "<";
    case Cmp::le: return "<=";
    case Cmp::gt: return ">";
    case Cmp::ge: return ">=";
    }
    return "=";
}

}  // namespace

Statement parse(std::string_view text, bool allow_exists) {
    // The botocore model's 1..8192 is checked by the operation (it knows the member name).
    return Parser(text, allow_exists).statement();
}

void bind(Statement& st, const std::vector<AttributeValue>& parameters) {
    if (parameters.size() != st.parameters)
        throw AwsError::validation("Number of parameters in request and statement don't match.");
    if (st.where) bind_expr(*st.where, parameters);
    if (st.kind == Kind::insert) {
        bind_expr(st.value, parameters);
        if (st.value.value.type != Type::M)
            malformed("The value of an INSERT statement must be a tuple");  // AWS wording unknown
    }
    for (SetAction& a : st.actions)
        if (!a.remove) bind_expr(a.value, parameters);
}

std::vector<const Expr*> conjuncts(const Expr& where) {
    std::vector<const Expr*> out;
    std::vector<const Expr*> todo{&where};
    while (!todo.empty()) {
        const Expr* e = todo.back();
        todo.pop_back();
        if (e->kind == ExprKind::logical_and) {
            for (auto it = e->children.rbegin(); it != e->children.rend(); ++it) todo.push_back(&*it);
        } else {
            out.push_back(e);
        }
    }
    return out;
}

std::optional<std::pair<std::string, const Expr*>> equality(const Expr& e) {
    if (e.kind != ExprKind::compare || e.cmp != Cmp::eq) return std::nullopt;
    const Expr& a = e.children[0];
    const Expr& b = e.children[1];
    if (a.kind == ExprKind::path && a.path.size() == 1 && b.kind == ExprKind::literal) return {{a.path[0].name, &b}};
    if (b.kind == ExprKind::path && b.path.size() == 1 && a.kind == ExprKind::literal) return {{b.path[0].name, &a}};
    return std::nullopt;
}

// ---- rendering

std::string Renderer::name(const std::string& n) {
    auto [it, fresh] = name_refs_.try_emplace(n);
    if (fresh) {
        it->second = fmt::format("#p{}", name_refs_.size() - 1);
        names_[it->second] = n;
    }
    return it->second;
}

std::string Renderer::value(const AttributeValue& v) {
    std::string ref = fmt::format(":v{}", values_.size());
    values_.emplace(ref, v);
    return ref;
}

std::string Renderer::path(const expr::Path& p) {
    std::string out;
    for (const expr::PathStep& s : p) {
        if (s.is_index) {
            out += fmt::format("[{}]", s.index);
        } else {
            if (!out.empty()) out += '.';
            out += name(s.name);
        }
    }
    return out;
}

std::string Renderer::operand(const Expr& e) {
    switch (e.kind) {
    case ExprKind::path: return path(e.path);
    case ExprKind::literal: return value(e.value);
    case ExprKind::function: {
        std::string out = e.name + "(";
        for (std::size_t k = 0; k < e.children.size(); ++k) {
            if (k) out += ", ";
            out += operand(e.children[k]);
        }
        return out + ")";
    }
    case ExprKind::plus:
    case ExprKind::minus:
        return operand(e.children[0]) + (e.kind == ExprKind::plus ? " + " : " - ") + operand(e.children[1]);
    default: malformed("Unexpected expression where a value was expected");
    }
}

namespace {
// Conditions rendered as AND / OR groups: parenthesised where they are an operand.
bool group(const Expr& e) {
    return e.kind == ExprKind::logical_or || e.kind == ExprKind::logical_and || e.kind == ExprKind::is_null;
}
}  // namespace

std::string Renderer::logical(const Expr& e, std::string_view word) {
    std::string out;
    for (const Expr& c : e.children) {
        if (!out.empty()) out += word;
        out += group(c) ? "(" + condition(c) + ")" : condition(c);
    }
    return out;
}

// Parentheses only around AND / OR groups inside another group or under NOT, so the text
// never has the redundant parentheses the expression parser refuses.
std::string Renderer::condition(const Expr& e) {
    switch (e.kind) {
    case ExprKind::logical_and: return logical(e, " AND ");
    case ExprKind::logical_or: return logical(e, " OR ");
    case ExprKind::logical_not: {
        const Expr& c = e.children[0];
        return group(c) ? "NOT (" + condition(c) + ")" : "NOT " + condition(c);
    }
    case ExprKind::compare:
        return operand(e.children[0]) + " " + std::string(cmp_text(e.cmp)) + " " + operand(e.children[1]);
    case ExprKind::between: {
        std::string s = operand(e.children[0]) + " BETWEEN " + operand(e.children[1]) + " AND " + operand(e.children[2]);
        return e.negated ? "NOT " + s : s;
    }
    case ExprKind::in: {
        std::string s = operand(e.children[0]) + " IN (";
        for (std::size_t k = 1; k < e.children.size(); ++k) {
            if (k > 1) s += ", ";
            s += operand(e.children[k]);
        }
        s += ")";
        return e.negated ? "NOT " + s : s;
    }
    case ExprKind::is_missing:
        return (e.negated ? "attribute_exists(" : "attribute_not_exists(") + path(e.children[0].path) + ")";
    case ExprKind::is_null: {
        // PartiQL: a missing attribute IS NULL too. (DynamoDB's documentation does not say.)
        std::string p = path(e.children[0].path);
        std::string v = value(AttributeValue::string("NULL"));
        if (e.negated) return "attribute_exists(" + p + ") AND NOT attribute_type(" + p + ", " + v + ")";
        return "attribute_not_exists(" + p + ") OR attribute_type(" + p + ", " + v + ")";
    }
    case ExprKind::function: return operand(e);
    default: malformed("Unexpected expression where a condition was expected");
    }
}

std::string Renderer::update(const std::vector<SetAction>& actions) {
    std::string set, remove, add, del;
    auto append = [](std::string& clause, const std::string& part) { clause += (clause.empty() ? "" : ", ") + part; };
    for (const SetAction& a : actions) {
        if (a.remove) {
            append(remove, path(a.path));
            continue;
        }
        const Expr& v = a.value;
        if (v.kind == ExprKind::function && (v.name == "set_add" || v.name == "set_delete")) {
            // SET s = set_add(s, <<...>>) is ADD s :v; set_delete is DELETE.
            if (v.children[0].path != a.path)
                malformed(fmt::format("The first argument of {} must be the attribute being set", v.name));  // ours
            if (v.children[1].kind != ExprKind::literal)
                malformed(fmt::format("The second argument of {} must be a set", v.name));  // ours
            append(v.name == "set_add" ? add : del, path(a.path) + " " + value(v.children[1].value));
            continue;
        }
        append(set, path(a.path) + " = " + operand(v));
    }
    std::string out;
    if (!set.empty()) out += "SET " + set;
    if (!remove.empty()) out += (out.empty() ? "" : " ") + std::string("REMOVE ") + remove;
    if (!add.empty()) out += (out.empty() ? "" : " ") + std::string("ADD ") + add;
    if (!del.empty()) out += (out.empty() ? "" : " ") + std::string("DELETE ") + del;
    return out;
}

}  // namespace stratus::dynamo::partiql
