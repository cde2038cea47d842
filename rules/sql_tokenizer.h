// The first stage of AWS IoT SQL: source text to tokens, each with the byte
// offset it starts at so that later stages can point at it in errors.
// Keywords are not told apart here: SELECT is an identifier that the parser
// recognizes, case-insensitively, where a keyword may stand.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace offcloud {

// Why a rule's SQL was refused, as CreateTopicRule's SqlParseException
// reports it: the message names the line and column ("Line 1:22 ...").
struct SqlParseError {
  std::string message;
  std::size_t position = 0;  // byte offset into the SQL
};

// "Line L:C <what>", with L 1-based and C 0-based as ANTLR (and so AWS)
// counts them.
SqlParseError make_parse_error(std::string_view sql, std::size_t position, std::string_view what);

enum class TokenKind {
  kIdentifier,        // name, or a keyword
  kQuotedIdentifier,  // `name`: any key, even a keyword or one with a hyphen
  kString,            // 'text' or "text"; `text` holds the unescaped value
  kInteger,
  kDecimal,
  kVariable,  // @name; `text` holds name without '@'
  kSymbol,  // punctuation and operators; `text` holds it: ( ) [ ] { } , . : * + - / % = <> != < <=
            // > >= # $
  kEnd,
};

struct Token {
  TokenKind kind;
  std::string text;
  std::size_t position;  // byte offset of the token's first character
};

// Throws SqlParseError on an unterminated string or an unexpected character.
// The last token is always kEnd.
std::vector<Token> tokenize_sql(std::string_view sql);

}  // namespace offcloud
