#include "rules/sql_tokenizer.h"

namespace offcloud {

SqlParseError make_parse_error(std::string_view sql, std::size_t position, std::string_view what) {
  std::size_t line = 1, column = 0;
  for (std::size_t i = 0; i < position && i < sql.size(); ++i) {
    if (sql[i] == '\n') {
      ++line;
      column = 0;
    } else {
      ++column;
    }
  }
  return SqlParseError{
      "Line " + std::to_string(line) + ":" + std::to_string(column) + " " + std::string(what),
      position};
}

namespace {

bool is_identifier_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_identifier_part(char c) {
  return is_identifier_start(c) || is_digit(c);
}

class Tokenizer {
 public:
  explicit Tokenizer(std::string_view sql) : sql_(sql) {}

  std::vector<Token> run() {
    std::vector<Token> tokens;
    while (true) {
      skip_space();
      if (at_ >= sql_.size()) break;
      tokens.push_back(next());
    }
    tokens.push_back(Token{TokenKind::kEnd, "", sql_.size()});
    return tokens;
  }

 private:
  // No comments: AWS's SQL reference says they are not supported, so "--"
  // is two minus signs, never the start of one.
  void skip_space() {
    while (at_ < sql_.size()) {
      char c = sql_[at_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
      ++at_;
    }
  }

  Token next() {
    std::size_t start = at_;
    char c = sql_[at_];
    if (is_identifier_start(c)) {
      while (at_ < sql_.size() && is_identifier_part(sql_[at_])) ++at_;
      return Token{TokenKind::kIdentifier, std::string(sql_.substr(start, at_ - start)), start};
    }
    if (is_digit(c)) return number(start);
    if (c == '\'' || c == '"') return quoted(start, TokenKind::kString);
    if (c == '`') return quoted(start, TokenKind::kQuotedIdentifier);
    if (c == '@') {
      ++at_;
      while (at_ < sql_.size() && is_identifier_part(sql_[at_])) ++at_;
      if (at_ == start + 1)
        throw make_parse_error(sql_, start, "expected a variable name after '@'");
      return Token{TokenKind::kVariable, std::string(sql_.substr(start + 1, at_ - start - 1)),
                   start};
    }
    static constexpr std::string_view kTwoCharSymbols[] = {"<>", "!=", "<=", ">="};
    for (std::string_view symbol : kTwoCharSymbols) {
      if (sql_.substr(at_, 2) == symbol) {
        at_ += 2;
        return Token{TokenKind::kSymbol, std::string(symbol), start};
      }
    }
    // # and $ only appear in unquoted FROM topics, which the parser reads raw.
    static constexpr std::string_view kOneCharSymbols = "()[]{},.:*+-/%=<>#$";
    if (kOneCharSymbols.find(c) != std::string_view::npos) {
      ++at_;
      return Token{TokenKind::kSymbol, std::string(1, c), start};
    }
    throw make_parse_error(sql_, start, "token recognition error at: '" + std::string(1, c) + "'");
  }

  Token number(std::size_t start) {
    bool decimal = false;
    while (at_ < sql_.size() && is_digit(sql_[at_])) ++at_;
    if (at_ + 1 < sql_.size() && sql_[at_] == '.' && is_digit(sql_[at_ + 1])) {
      decimal = true;
      ++at_;
      while (at_ < sql_.size() && is_digit(sql_[at_])) ++at_;
    }
    if (at_ < sql_.size() && (sql_[at_] == 'e' || sql_[at_] == 'E')) {
      std::size_t exponent = at_ + 1;
      if (exponent < sql_.size() && (sql_[exponent] == '-' || sql_[exponent] == '+')) ++exponent;
      if (exponent < sql_.size() && is_digit(sql_[exponent])) {
        decimal = true;
        at_ = exponent;
        while (at_ < sql_.size() && is_digit(sql_[at_])) ++at_;
      }
    }
    return Token{decimal ? TokenKind::kDecimal : TokenKind::kInteger,
                 std::string(sql_.substr(start, at_ - start)), start};
  }

  // The quote character doubled, or after a backslash, stands for itself
  // ('it''s', "say \"hi\""). Other backslashes stay, so that regular
  // expressions such as '\d+' reach the regex functions unchanged.
  Token quoted(std::size_t start, TokenKind kind) {
    char quote = sql_[at_++];
    std::string text;
    while (true) {
      if (at_ >= sql_.size()) throw make_parse_error(sql_, start, "unterminated quoted text");
      char c = sql_[at_++];
      if (c == quote) {
        if (at_ < sql_.size() && sql_[at_] == quote) {
          text.push_back(quote);
          ++at_;
          continue;
        }
        break;
      }
      if (c == '\\' && at_ < sql_.size() && sql_[at_] == quote) {
        text.push_back(quote);
        ++at_;
        continue;
      }
      text.push_back(c);
    }
    return Token{kind, std::move(text), start};
  }

  std::string_view sql_;
  std::size_t at_ = 0;
};

}  // namespace

std::vector<Token> tokenize_sql(std::string_view sql) {
  return Tokenizer(sql).run();
}

}  // namespace offcloud
