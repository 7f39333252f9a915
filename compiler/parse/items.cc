// Splitting a file into top-level items before parsing, the nesting guard, and the lexer's view of the text.
#include "compiler/parse/internal/parser.h"

#include <mutex>
#include <unordered_map>

namespace qm::parse_internal {

namespace {

// Whether an item may end with a token of this type, so that a contextual
// word after it (E1: `zone`, `cap`, `quiet`, ...) can start a declaration.
bool EndsItem(size_t type) {
  switch (type) {
    case QmLexer::IDENT: case QmLexer::STRING: case QmLexer::NUMBER: case QmLexer::DURATION:
    case QmLexer::RBRACE: case QmLexer::RPAREN: case QmLexer::TRUE: case QmLexer::FALSE:
    case QmLexer::ZONE_OFFSET: case QmLexer::CLOCK_RANGE: case QmLexer::CLOCK_TIME:
    case QmLexer::ANY:  // `… unless any`
      return true;
    default:
      return false;
  }
}

}  // namespace

bool StartsItem(const std::vector<Lexeme>& toks, size_t i, const Offsets& offsets) {
  auto type_at = [&](size_t k) -> size_t { return k < toks.size() ? toks[k].type : Token::EOF; };
  switch (toks[i].type) {
    case QmLexer::IDENT: {
      if (i > 0 && !EndsItem(toks[i - 1].type)) return false;
      std::string word = offsets.Text(toks[i]);
      size_t next = type_at(i + 1);
      if (word == "zone") return next == QmLexer::ZONE_OFFSET || next == QmLexer::IDENT;
      if (word == "cap") return next == QmLexer::PUSH || next == QmLexer::INVITE;
      if (word == "quiet") return next == QmLexer::PUSH || next == QmLexer::INVITE || next == QmLexer::NOTIFY;
      if (word == "renamed") return next == QmLexer::TAG || next == QmLexer::IDENT;
      if (word == "identity") return next == QmLexer::IDENT && type_at(i + 2) != QmLexer::COLON && type_at(i + 2) != QmLexer::DOT;
      if (word == "segment") return (next == QmLexer::IDENT || next == QmLexer::STRING) && type_at(i + 2) == QmLexer::STRING;
      return false;
    }
    case QmLexer::EVENT: case QmLexer::IMPORT: case QmLexer::RULE: return true;
    case QmLexer::ENUM: return type_at(i + 1) == QmLexer::IDENT;
    case QmLexer::PROFILE: return type_at(i + 1) == QmLexer::LBRACE;
    case QmLexer::WHEN: return i == 0 || type_at(i - 1) != QmLexer::COLON;
    case QmLexer::TAG: {
      if (i > 0 && toks[i - 1].type == QmLexer::IDENT && offsets.Text(toks[i - 1]) == "renamed") return false;  // D14
      bool named = type_at(i + 1) == QmLexer::IDENT || type_at(i + 1) == QmLexer::STRING;  // D15
      if (named && type_at(i + 2) == QmLexer::STRING) return true;
      if (i == 0) return true;
      size_t prev = type_at(i - 1);
      return prev != QmLexer::COMMA && prev != QmLexer::THEN && prev != QmLexer::DURATION;
    }
    default: return false;
  }
}

std::optional<size_t> TooDeep(const std::vector<Lexeme>& toks, size_t begin, size_t end) {
  std::vector<int> stack;
  int depth = 0;
  for (size_t i = begin; i < end; ++i) {
    switch (toks[i].type) {
      case QmLexer::LPAREN:
        stack.push_back(depth);
        ++depth;
        break;
      case QmLexer::RPAREN:
        if (!stack.empty()) { depth = stack.back(); stack.pop_back(); }
        break;
      case QmLexer::NOT: ++depth; break;
      case QmLexer::AND: case QmLexer::OR: depth = stack.empty() ? 0 : stack.back() + 1; break;
      default: break;
    }
    if (depth > kGuardNesting) return i;
  }
  return std::nullopt;
}

void Poison(const std::vector<Lexeme>& toks, size_t begin, size_t end, const Offsets& offsets,
            ast::RuleFile& file) {
  if (end - begin < 2) return;
  size_t kind = toks[begin].type;
  if (kind == QmLexer::PROFILE) {
    file.profile_poisoned = true;
  } else if ((kind == QmLexer::ENUM || kind == QmLexer::EVENT || kind == QmLexer::TAG) &&
             toks[begin + 1].type == QmLexer::IDENT) {
    file.poisoned_names.push_back(offsets.Text(toks[begin + 1]));
  } else if (kind == QmLexer::TAG && toks[begin + 1].type == QmLexer::STRING) {
    // A quoted tag name (D15); one with escapes is left unpoisoned, its uses
    // are then reported as unknown, which is still true.
    std::string quoted = offsets.Text(toks[begin + 1]);
    if (quoted.size() >= 2 && quoted.front() == '"' && quoted.find('\\') == std::string::npos)
      file.poisoned_names.push_back(quoted.substr(1, quoted.size() - 2));
  }
}

std::u32string LexerView(std::string_view text) {
  static std::unordered_map<char32_t, bool> is_ident;  // asked of the lexer itself, once per code point
  static std::mutex mutex;
  std::u32string cps = utf8::Decode(text);
  std::lock_guard<std::mutex> lock(mutex);
  for (char32_t& cp : cps) {
    if (cp < 0x80) continue;
    auto [it, fresh] = is_ident.try_emplace(cp, false);
    if (fresh) {
      std::string one;
      utf8::Append(one, cp);
      antlr4::ANTLRInputStream in(one);
      QmLexer lexer(&in);
      lexer.removeErrorListeners();
      std::unique_ptr<Token> t = lexer.nextToken();
      it->second = t->getType() == QmLexer::IDENT && t->getStopIndex() == 0;
    }
    if (it->second) cp = U'_';
  }
  return cps;
}

}  // namespace qm::parse_internal
