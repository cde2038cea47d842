#include "rules/sql_parser.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <string>

#include "rules/sql_functions.h"
#include "rules/topic_filter.h"

namespace offcloud {
namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    return lower(x) == lower(y);
  });
}

// Words that cannot name a field without backticks.
bool is_reserved(std::string_view word) {
  static constexpr std::string_view kReserved[] = {
      "select", "from", "where", "as",  "and",  "or",    "not",  "in",  "case",
      "when",   "then", "else",  "end", "true", "false", "null", "set",
  };
  for (std::string_view reserved : kReserved) {
    if (equals_ignoring_case(word, reserved)) return true;
  }
  return false;
}

constexpr std::size_t kMaxVariableName = 64;
// How deeply expressions may nest (parentheses, calls, NOT NOT, - -):
// each level is a dozen stack frames here and in the evaluator, so without
// a bound a pasted "((((..." would overflow the stack.
constexpr int kMaxNesting = 200;

class Parser {
 public:
  Parser(std::string_view sql, SqlVersion version)
      : sql_(sql), version_(version), tokens_(tokenize_sql(sql)) {}

  SqlStatement statement() {
    SqlStatement statement;
    statement.version = version_;
    if (keyword("SET")) {
      do {
        statement.variables.push_back(assignment());
      } while (symbol(","));
    }
    statement.select = select(/*nested=*/false);
    expect_end();
    return statement;
  }

  std::unique_ptr<SqlExpr> standalone_expression(const std::vector<std::string>& variables) {
    variables_ = variables;
    std::unique_ptr<SqlExpr> result = expression();
    expect_end();
    return result;
  }

 private:
  // Token access -------------------------------------------------------------

  const Token& peek(std::size_t ahead = 0) const {
    return tokens_[std::min(at_ + ahead, tokens_.size() - 1)];
  }
  const Token& advance() { return tokens_[at_ < tokens_.size() - 1 ? at_++ : at_]; }

  bool is_keyword(const Token& token, std::string_view word) const {
    return token.kind == TokenKind::kIdentifier && equals_ignoring_case(token.text, word);
  }
  bool is_symbol(const Token& token, std::string_view text) const {
    return token.kind == TokenKind::kSymbol && token.text == text;
  }
  bool keyword(std::string_view word) {
    if (!is_keyword(peek(), word)) return false;
    ++at_;
    return true;
  }
  bool symbol(std::string_view text) {
    if (!is_symbol(peek(), text)) return false;
    ++at_;
    return true;
  }

  [[noreturn]] void fail(const Token& token, std::string_view what) const {
    throw make_parse_error(sql_, token.position, what);
  }
  std::string describe(const Token& token) const {
    if (token.kind == TokenKind::kEnd) return "<EOF>";
    return "'" + std::string(sql_.substr(token.position, token_length(token))) + "'";
  }
  std::size_t token_length(const Token& token) const {
    std::size_t next = sql_.size();
    for (std::size_t i = 0; i + 1 < tokens_.size(); ++i) {
      if (&tokens_[i] == &token) next = tokens_[i + 1].position;
    }
    std::size_t length = next - token.position;
    while (length > 0 &&
           (sql_[token.position + length - 1] == ' ' || sql_[token.position + length - 1] == '\n' ||
            sql_[token.position + length - 1] == '\t' ||
            sql_[token.position + length - 1] == '\r')) {
      --length;
    }
    return length;
  }
  [[noreturn]] void fail_expecting(std::string_view expected) const {
    fail(peek(), "mismatched input " + describe(peek()) + " expecting " + std::string(expected));
  }
  void expect_keyword(std::string_view word) {
    if (!keyword(word)) fail_expecting(std::string(word));
  }
  void expect_symbol(std::string_view text) {
    if (!symbol(text)) fail_expecting("'" + std::string(text) + "'");
  }
  void expect_end() {
    if (peek().kind != TokenKind::kEnd) {
      fail(peek(), "extraneous input " + describe(peek()) + " expecting <EOF>");
    }
  }

  // Clauses ------------------------------------------------------------------

  SqlAssignment assignment() {
    const Token& name = peek();
    if (name.kind != TokenKind::kVariable) fail_expecting("a variable such as @name");
    ++at_;
    if (name.text.size() > kMaxVariableName) {
      fail(name, "variable name @" + name.text + " is longer than 64 characters");
    }
    if (std::find(variables_.begin(), variables_.end(), name.text) != variables_.end()) {
      fail(name, "variable @" + name.text + " is already assigned; variables are immutable");
    }
    expect_symbol("=");
    // The variable is not in scope in its own definition.
    std::unique_ptr<SqlExpr> value = expression();
    variables_.push_back(name.text);
    return SqlAssignment{name.text, std::move(value)};
  }

  SqlSelect select(bool nested) {
    expect_keyword("SELECT");
    SqlSelect result;
    // VALUE is a keyword only where an expression follows it, so that a
    // field named "value" still selects as one.
    if (is_keyword(peek(), "VALUE") && starts_expression(peek(1))) {
      ++at_;
      result.select_value = true;
    }
    do {
      result.items.push_back(select_item(result.items.size()));
    } while (symbol(","));
    if (result.select_value && result.items.size() != 1) {
      fail(peek(), "SELECT VALUE takes exactly one expression");
    }
    expect_keyword("FROM");
    if (nested) {
      result.source = postfix();
    } else {
      result.topic_filter = topic_filter();
    }
    if (keyword("WHERE")) result.where = expression();
    return result;
  }

  bool starts_expression(const Token& token) const {
    switch (token.kind) {
      case TokenKind::kEnd:
        return false;
      case TokenKind::kSymbol:
        return token.text != "," && token.text != ")" && token.text != "]" && token.text != "}" &&
               token.text != "." && token.text != "=" && token.text != "<" && token.text != ">" &&
               token.text != "/" && token.text != "%" && token.text != "<>" && token.text != "!=" &&
               token.text != "<=" && token.text != ">=";
      case TokenKind::kIdentifier:
        return !is_keyword(token, "FROM") && !is_keyword(token, "AS");
      default:
        return true;
    }
  }

  SqlSelectItem select_item(std::size_t index) {
    SqlSelectItem item;
    if (is_symbol(peek(), "*") && (is_symbol(peek(1), ",") || is_keyword(peek(1), "FROM"))) {
      item.expr = node(SqlExprKind::kWildcard, advance());
      return item;
    }
    item.expr = expression();
    if (keyword("AS")) {
      item.output_name = alias();
    } else {
      item.output_name = default_name(*item.expr, index);
    }
    return item;
  }

  // AS takes a name, a quoted name, or a dotted path such as bar.baz (AWS's
  // JSON extensions page shows one), which names the output key as written.
  std::string alias() {
    std::string name = alias_part();
    while (symbol(".")) name += "." + alias_part();
    return name;
  }
  std::string alias_part() {
    const Token& token = peek();
    if (token.kind == TokenKind::kIdentifier || token.kind == TokenKind::kQuotedIdentifier ||
        token.kind == TokenKind::kString) {
      ++at_;
      return token.text;
    }
    fail_expecting("a name after AS");
  }

  static std::string default_name(const SqlExpr& expr, std::size_t index) {
    switch (expr.kind) {
      case SqlExprKind::kField:
      case SqlExprKind::kMember:
      case SqlExprKind::kVariable:
        return expr.name;
      case SqlExprKind::kIndex:
        return default_name(*expr.operands[0], index);
      case SqlExprKind::kCall:
        return std::string(expr.name);
      default:
        return "_" + std::to_string(index + 1);
    }
  }

  // FROM 'a/+/c', FROM "a/b", or, as old AWS examples write it, FROM a/#.
  std::string topic_filter() {
    const Token& token = peek();
    std::string filter;
    if (token.kind == TokenKind::kString) {
      ++at_;
      filter = token.text;
    } else if (token.kind == TokenKind::kEnd) {
      fail_expecting("a topic filter");
    } else {
      std::size_t end = token.position;
      while (end < sql_.size() && sql_[end] != ' ' && sql_[end] != '\t' && sql_[end] != '\n' &&
             sql_[end] != '\r') {
        ++end;
      }
      filter = std::string(sql_.substr(token.position, end - token.position));
      while (peek().kind != TokenKind::kEnd && peek().position < end) ++at_;
    }
    std::string problem = validate_topic_filter(filter);
    if (!problem.empty()) fail(token, "invalid topic filter '" + filter + "': " + problem);
    return filter;
  }

  // Expressions, loosest binding first ---------------------------------------

  std::unique_ptr<SqlExpr> expression() {
    Nesting nesting(this);
    return disjunction();
  }

  // Counts one level of nesting while alive; fails past kMaxNesting.
  struct Nesting {
    explicit Nesting(Parser* parser) : parser(parser) {
      if (++parser->depth_ > kMaxNesting) {
        parser->fail(parser->peek(),
                     "expression nested more than " + std::to_string(kMaxNesting) + " levels deep");
      }
    }
    ~Nesting() { --parser->depth_; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;
    Parser* parser;
  };

  std::unique_ptr<SqlExpr> disjunction() {
    std::unique_ptr<SqlExpr> left = conjunction();
    while (is_keyword(peek(), "OR")) {
      const Token& token = advance();
      left = binary(SqlOperator::kOr, token, std::move(left), conjunction());
    }
    return left;
  }

  std::unique_ptr<SqlExpr> conjunction() {
    std::unique_ptr<SqlExpr> left = negation();
    while (is_keyword(peek(), "AND")) {
      const Token& token = advance();
      left = binary(SqlOperator::kAnd, token, std::move(left), negation());
    }
    return left;
  }

  std::unique_ptr<SqlExpr> negation() {
    if (is_keyword(peek(), "NOT")) {
      const Token& token = advance();
      Nesting nesting(this);
      return unary(SqlOperator::kNot, token, negation());
    }
    return comparison();
  }

  std::unique_ptr<SqlExpr> comparison() {
    std::unique_ptr<SqlExpr> left = additive();
    struct Entry {
      std::string_view text;
      SqlOperator op;
    };
    static constexpr Entry kComparisons[] = {
        {"=", SqlOperator::kEqual},         {"<>", SqlOperator::kNotEqual},
        {"!=", SqlOperator::kNotEqual},     {"<", SqlOperator::kLess},
        {"<=", SqlOperator::kLessEqual},    {">", SqlOperator::kGreater},
        {">=", SqlOperator::kGreaterEqual},
    };
    for (const Entry& entry : kComparisons) {
      if (is_symbol(peek(), entry.text)) {
        const Token& token = advance();
        return binary(entry.op, token, std::move(left), additive());
      }
    }
    if (is_keyword(peek(), "IN")) {
      const Token& token = advance();
      return binary(SqlOperator::kIn, token, std::move(left), additive());
    }
    return left;
  }

  std::unique_ptr<SqlExpr> additive() {
    std::unique_ptr<SqlExpr> left = multiplicative();
    while (is_symbol(peek(), "+") || is_symbol(peek(), "-")) {
      const Token& token = advance();
      SqlOperator op = token.text == "+" ? SqlOperator::kAdd : SqlOperator::kSubtract;
      left = binary(op, token, std::move(left), multiplicative());
    }
    return left;
  }

  std::unique_ptr<SqlExpr> multiplicative() {
    std::unique_ptr<SqlExpr> left = prefix();
    while (is_symbol(peek(), "*") || is_symbol(peek(), "/") || is_symbol(peek(), "%")) {
      const Token& token = advance();
      SqlOperator op = token.text == "*"   ? SqlOperator::kMultiply
                       : token.text == "/" ? SqlOperator::kDivide
                                           : SqlOperator::kModulo;
      left = binary(op, token, std::move(left), prefix());
    }
    return left;
  }

  std::unique_ptr<SqlExpr> prefix() {
    if (is_symbol(peek(), "-")) {
      const Token& token = advance();
      Nesting nesting(this);
      std::unique_ptr<SqlExpr> operand = prefix();
      // Fold -5 into a literal so that it prints and compares as one.
      if (operand->kind == SqlExprKind::kLiteral && operand->literal.is_int() &&
          operand->literal.as_int() != INT64_MIN) {
        operand->literal = SqlValue::integer(-operand->literal.as_int());
        operand->position = token.position;
        return operand;
      }
      if (operand->kind == SqlExprKind::kLiteral && operand->literal.is_decimal()) {
        operand->literal = SqlValue::decimal(-operand->literal.as_decimal());
        operand->position = token.position;
        return operand;
      }
      return unary(SqlOperator::kNegate, token, std::move(operand));
    }
    return postfix();
  }

  std::unique_ptr<SqlExpr> postfix() {
    std::unique_ptr<SqlExpr> base = primary();
    while (true) {
      if (is_symbol(peek(), ".")) {
        const Token& dot = advance();
        const Token& name = peek();
        if (name.kind != TokenKind::kIdentifier && name.kind != TokenKind::kQuotedIdentifier) {
          fail_expecting("a key name after '.'");
        }
        ++at_;
        std::unique_ptr<SqlExpr> member = node(SqlExprKind::kMember, dot);
        member->name = name.text;
        member->operands.push_back(std::move(base));
        base = std::move(member);
      } else if (is_symbol(peek(), "[")) {
        const Token& bracket = advance();
        std::unique_ptr<SqlExpr> index = node(SqlExprKind::kIndex, bracket);
        index->operands.push_back(std::move(base));
        index->operands.push_back(expression());
        expect_symbol("]");
        base = std::move(index);
      } else {
        return base;
      }
    }
  }

  std::unique_ptr<SqlExpr> primary() {
    const Token& token = peek();
    switch (token.kind) {
      case TokenKind::kInteger: {
        ++at_;
        std::int64_t value = 0;
        auto [end, error] =
            std::from_chars(token.text.data(), token.text.data() + token.text.size(), value);
        (void)end;
        if (error != std::errc())
          return literal(token, SqlValue::decimal(std::strtod(token.text.c_str(), nullptr)));
        return literal(token, SqlValue::integer(value));
      }
      case TokenKind::kDecimal:
        // Literals keep their type in both versions: 2016-03-23's reading of
        // 10.0 as an Int applies to message data, and `x / 9.0` must divide
        // as Decimals.
        ++at_;
        return literal(token, SqlValue::decimal(std::strtod(token.text.c_str(), nullptr)));
      case TokenKind::kString:
        ++at_;
        return literal(token, SqlValue::string(token.text));
      case TokenKind::kVariable: {
        ++at_;
        auto found = std::find(variables_.begin(), variables_.end(), token.text);
        if (found == variables_.end()) {
          fail(token, "variable @" + token.text + " is not defined by the SET clause");
        }
        std::unique_ptr<SqlExpr> variable = node(SqlExprKind::kVariable, token);
        variable->name = token.text;
        variable->variable_slot = static_cast<std::size_t>(found - variables_.begin());
        return variable;
      }
      case TokenKind::kQuotedIdentifier: {
        ++at_;
        std::unique_ptr<SqlExpr> field = node(SqlExprKind::kField, token);
        field->name = token.text;
        return field;
      }
      case TokenKind::kSymbol:
        if (token.text == "*") {
          ++at_;
          return node(SqlExprKind::kWildcard, token);
        }
        if (token.text == "(") return parenthesized();
        if (token.text == "[") return array_literal();
        if (token.text == "{") return object_literal();
        break;
      case TokenKind::kIdentifier:
        if (is_keyword(token, "TRUE")) return literal(advance(), SqlValue::boolean(true));
        if (is_keyword(token, "FALSE")) return literal(advance(), SqlValue::boolean(false));
        if (is_keyword(token, "NULL")) return literal(advance(), SqlValue::null());
        if (is_keyword(token, "CASE")) return case_expression();
        if (is_symbol(peek(1), "(")) return call();
        if (is_reserved(token.text)) break;
        {
          ++at_;
          std::unique_ptr<SqlExpr> field = node(SqlExprKind::kField, token);
          field->name = token.text;
          return field;
        }
      case TokenKind::kEnd:
        break;
    }
    fail(token, "no viable alternative at input " + describe(token));
  }

  // ( expr ), ( SELECT ... ), or ( a, b, c ): a list for IN.
  std::unique_ptr<SqlExpr> parenthesized() {
    const Token& open = advance();
    if (is_keyword(peek(), "SELECT")) {
      if (version_ == SqlVersion::k2015_10_08) {
        fail(peek(), "nested SELECT queries need SQL version 2016-03-23");
      }
      std::unique_ptr<SqlExpr> subquery = node(SqlExprKind::kSubquery, open);
      subquery->subquery = std::make_unique<SqlSelect>(select(/*nested=*/true));
      expect_symbol(")");
      return subquery;
    }
    std::unique_ptr<SqlExpr> inner = expression();
    if (!is_symbol(peek(), ",")) {
      expect_symbol(")");
      return inner;
    }
    std::unique_ptr<SqlExpr> list = node(SqlExprKind::kArray, open);
    list->operands.push_back(std::move(inner));
    while (symbol(",")) list->operands.push_back(expression());
    expect_symbol(")");
    return list;
  }

  std::unique_ptr<SqlExpr> array_literal() {
    std::unique_ptr<SqlExpr> array = node(SqlExprKind::kArray, advance());
    if (!symbol("]")) {
      do {
        array->operands.push_back(expression());
      } while (symbol(","));
      expect_symbol("]");
    }
    return array;
  }

  std::unique_ptr<SqlExpr> object_literal() {
    std::unique_ptr<SqlExpr> object = node(SqlExprKind::kObject, advance());
    if (!symbol("}")) {
      do {
        const Token& key = peek();
        if (key.kind != TokenKind::kString && key.kind != TokenKind::kIdentifier &&
            key.kind != TokenKind::kQuotedIdentifier) {
          fail_expecting("an object key");
        }
        ++at_;
        expect_symbol(":");
        object->keys.push_back(key.text);
        object->operands.push_back(expression());
      } while (symbol(","));
      expect_symbol("}");
    }
    return object;
  }

  // CASE [subject] WHEN a THEN b ... [ELSE c] END
  std::unique_ptr<SqlExpr> case_expression() {
    std::unique_ptr<SqlExpr> result = node(SqlExprKind::kCase, advance());
    if (!is_keyword(peek(), "WHEN")) {
      result->has_case_subject = true;
      result->operands.push_back(expression());
    }
    if (!is_keyword(peek(), "WHEN")) fail_expecting("WHEN");
    while (keyword("WHEN")) {
      result->operands.push_back(expression());
      expect_keyword("THEN");
      result->operands.push_back(expression());
    }
    if (keyword("ELSE")) {
      result->has_else = true;
      result->operands.push_back(expression());
    }
    expect_keyword("END");
    return result;
  }

  std::unique_ptr<SqlExpr> call() {
    const Token& name = advance();
    if (is_aws_service_function(name.text)) {
      fail(name, "function " + name.text +
                     " is not supported offline: it calls another AWS service, which offcloud "
                     "does not reach");
    }
    const SqlFunctionSpec* function = find_sql_function(name.text);
    if (function == nullptr) fail(name, "undefined function " + name.text);
    if (function->since_2016_03_23 && version_ == SqlVersion::k2015_10_08) {
      fail(name, "function " + std::string(function->name) + " needs SQL version 2016-03-23");
    }
    std::unique_ptr<SqlExpr> result = node(SqlExprKind::kCall, name);
    result->name = std::string(function->name);
    result->function = function;
    expect_symbol("(");
    if (function->name == "cast") {
      // cast(expr AS Type): the type travels as a string argument.
      result->operands.push_back(expression());
      expect_keyword("AS");
      const Token& type = peek();
      if (type.kind != TokenKind::kIdentifier) fail_expecting("a type name");
      ++at_;
      result->operands.push_back(literal(type, SqlValue::string(type.text)));
      expect_symbol(")");
      return result;
    }
    if (!symbol(")")) {
      do {
        result->operands.push_back(expression());
      } while (symbol(","));
      expect_symbol(")");
    }
    return result;
  }

  // Node builders ------------------------------------------------------------

  static std::unique_ptr<SqlExpr> node(SqlExprKind kind, const Token& token) {
    auto result = std::make_unique<SqlExpr>();
    result->kind = kind;
    result->position = token.position;
    return result;
  }
  static std::unique_ptr<SqlExpr> literal(const Token& token, SqlValue value) {
    std::unique_ptr<SqlExpr> result = node(SqlExprKind::kLiteral, token);
    result->literal = std::move(value);
    return result;
  }
  static std::unique_ptr<SqlExpr> unary(SqlOperator op, const Token& token,
                                        std::unique_ptr<SqlExpr> operand) {
    std::unique_ptr<SqlExpr> result = node(SqlExprKind::kUnary, token);
    result->op = op;
    result->operands.push_back(std::move(operand));
    return result;
  }
  static std::unique_ptr<SqlExpr> binary(SqlOperator op, const Token& token,
                                         std::unique_ptr<SqlExpr> left,
                                         std::unique_ptr<SqlExpr> right) {
    std::unique_ptr<SqlExpr> result = node(SqlExprKind::kBinary, token);
    result->op = op;
    result->operands.push_back(std::move(left));
    result->operands.push_back(std::move(right));
    return result;
  }

  std::string_view sql_;
  SqlVersion version_;
  std::vector<Token> tokens_;
  std::size_t at_ = 0;
  int depth_ = 0;  // expression levels open (Nesting)
  std::vector<std::string> variables_;
};

}  // namespace

SqlStatement parse_sql(std::string_view sql, SqlVersion version) {
  return Parser(sql, version).statement();
}

std::unique_ptr<SqlExpr> parse_sql_expression(std::string_view text, SqlVersion version,
                                              const std::vector<std::string>& variables) {
  return Parser(text, version).standalone_expression(variables);
}

bool parse_sql_version(std::string_view text, SqlVersion* version) {
  if (text.empty() || text == "2016-03-23") {
    *version = SqlVersion::k2016_03_23;
    return true;
  }
  if (text == "2015-10-08") {
    *version = SqlVersion::k2015_10_08;
    return true;
  }
  return false;
}

const char* sql_version_name(SqlVersion version) {
  return version == SqlVersion::k2015_10_08 ? "2015-10-08" : "2016-03-23";
}

}  // namespace offcloud
