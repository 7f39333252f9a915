#include "compiler/parse/parse.h"

#include <charconv>
#include <mutex>
#include <unordered_map>
#include <set>

#include "antlr4-runtime.h"
#include "QmLexer.h"
#include "QmParser.h"

namespace qm::parse {
namespace {

using qm_parser_internal::QmLexer;
using qm_parser_internal::QmParser;
using antlr4::Token;

constexpr int kGuardNesting = 2 * kMaxNesting;  // pre-parse guard for the C++ stack

bool IsKeyword(size_t type) { return type >= QmLexer::ENUM && type <= QmLexer::FALSE; }

std::string Quote(std::string_view s) { return "`" + std::string(s) + "`"; }

// Human names for what the parser expected at an error (issue: "phrased for
// people"): sets of tokens that start a condition or an action are named as such.
std::string DescribeExpected(const antlr4::misc::IntervalSet& set, const antlr4::dfa::Vocabulary& vocab) {
  std::set<size_t> types;
  for (size_t t : set.toList()) types.insert(t);
  std::vector<std::string> parts;
  auto take_group = [&](std::initializer_list<size_t> markers, std::initializer_list<size_t> members,
                        const char* label) {
    for (size_t m : markers) if (!types.count(m)) return;
    for (size_t m : members) types.erase(m);
    parts.push_back(label);
  };
  take_group({QmLexer::HAS, QmLexer::COUNT},
             {QmLexer::HAS, QmLexer::COUNT, QmLexer::SUM, QmLexer::MIN, QmLexer::MAX, QmLexer::AVG,
              QmLexer::SINCE, QmLexer::NOT, QmLexer::LPAREN, QmLexer::IDENT, QmLexer::PROFILE,
              QmLexer::NUMBER, QmLexer::STRING, QmLexer::DURATION, QmLexer::TRUE, QmLexer::FALSE},
             "a condition");
  take_group({QmLexer::SET, QmLexer::PUSH},
             {QmLexer::SET, QmLexer::ADD, QmLexer::TAG, QmLexer::UNTAG, QmLexer::PUSH,
              QmLexer::INVITE, QmLexer::NOTIFY, QmLexer::AFTER},
             "an action");
  take_group({QmLexer::EQ, QmLexer::LT},
             {QmLexer::EQ, QmLexer::NE, QmLexer::LT, QmLexer::LE, QmLexer::GT, QmLexer::GE},
             "a comparison (`=`, `<`, ...)");
  take_group({QmLexer::COUNT, QmLexer::SINCE},
             {QmLexer::COUNT, QmLexer::SUM, QmLexer::MIN, QmLexer::MAX, QmLexer::AVG, QmLexer::SINCE,
              QmLexer::IDENT, QmLexer::PROFILE, QmLexer::NUMBER, QmLexer::STRING, QmLexer::DURATION,
              QmLexer::TRUE, QmLexer::FALSE},
             "a field, a value or an aggregate");
  take_group({QmLexer::STRING, QmLexer::NUMBER, QmLexer::IDENT},
             {QmLexer::STRING, QmLexer::NUMBER, QmLexer::DURATION, QmLexer::TRUE, QmLexer::FALSE,
              QmLexer::IDENT},
             "a value");
  for (size_t t : types) {
    switch (t) {
      case QmLexer::IDENT: parts.push_back("a name"); break;
      case QmLexer::NUMBER: parts.push_back("a number"); break;
      case QmLexer::DURATION: parts.push_back("a duration such as `7d`"); break;
      case QmLexer::STRING: parts.push_back("a string"); break;
      case Token::EOF: parts.push_back("the end of the item"); break;
      default: {
        std::string lit = vocab.getLiteralName(t);
        if (lit.size() >= 2) parts.push_back(Quote(lit.substr(1, lit.size() - 2)));
      }
    }
  }
  if (parts.empty()) return "something else";
  if (parts.size() > 6) {
    parts.resize(6);
    parts.back() = "...";
  }
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += i + 1 == parts.size() ? " or " : ", ";
    out += parts[i];
  }
  return out;
}

// A token as the lexer produced it, kept compact: the ANTLR token objects of
// a 3 MB file would cost more in fresh memory than the lexing itself.
struct Lexeme {
  uint16_t type;
  uint16_t channel;
  uint32_t start, stop;  // code point indices, as ANTLR counts
  uint32_t line, column;
  Span span;
};

// Positions: ANTLR counts code points; spans are bytes.
class Offsets {
 public:
  // `text` is what the lexer saw (after the BOM); `whole` the file, which
  // token texts are sliced from (the lexer sees a normalized copy).
  Offsets(std::string_view text, int32_t base, std::string_view whole) : whole_(whole) {
    byte_of_cp_.reserve(text.size() + 1);
    for (size_t i = 0; i < text.size(); ++i) {
      if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80)
        byte_of_cp_.push_back(static_cast<int32_t>(i) + base);
    }
    byte_of_cp_.push_back(static_cast<int32_t>(text.size()) + base);
  }
  int32_t Byte(size_t cp) const {
    return byte_of_cp_[std::min(cp, byte_of_cp_.size() - 1)];
  }
  Span Of(const Token* t) const {
    if (t->getType() == Token::EOF) return {Byte(t->getStartIndex()), Byte(t->getStartIndex())};
    return {Byte(t->getStartIndex()), Byte(t->getStopIndex() + 1)};
  }
  std::string Slice(Span s) const { return std::string(whole_.substr(s.begin, s.end - s.begin)); }
  std::string Text(const Token* t) const { return Slice(Of(t)); }
  std::string Text(const Lexeme& t) const { return Slice(t.span); }

 private:
  std::string_view whole_;
  std::vector<int32_t> byte_of_cp_;
};

// Reports the first syntax error of one item and stays silent after it: the
// rest of that item is noise caused by the first mistake.
class FirstErrorListener final : public antlr4::BaseErrorListener {
 public:
  FirstErrorListener(const Source& source, const Offsets& offsets, Diagnostics& diags)
      : source_(source), offsets_(offsets), diags_(diags) {}

  void Reset(std::string end_description, Span end_span) {
    failed_ = false;
    quiet_ = false;
    end_description_ = std::move(end_description);
    end_span_ = end_span;
  }
  void Silence() { quiet_ = true; }
  bool failed() const { return failed_; }
  void MarkFailed() { failed_ = true; }

  void syntaxError(antlr4::Recognizer* recognizer, Token* offending, size_t, size_t,
                   const std::string&, std::exception_ptr) override {
    if (failed_) return;
    failed_ = true;
    if (quiet_) return;
    // A full-width twin of `(`, `,` ... was reported already (E0003).
    if (offending->getType() != Token::EOF && offsets_.Text(offending).size() > 1 &&
        (offending->getType() == QmLexer::LPAREN || offending->getType() == QmLexer::RPAREN ||
         offending->getType() == QmLexer::COMMA || offending->getType() == QmLexer::COLON ||
         offending->getType() == QmLexer::EQ)) {
      return;
    }
    auto* parser = dynamic_cast<antlr4::Parser*>(recognizer);
    std::string expected = "something else";
    if (parser != nullptr) {
      try {
        expected = DescribeExpected(parser->getExpectedTokens(), parser->getVocabulary());
      } catch (...) {
        // getExpectedTokens can throw on a broken state; keep the generic text.
      }
    }
    Span span = offsets_.Of(offending);
    std::string found;
    if (offending->getType() == Token::EOF) {
      found = end_description_;
      span = end_span_;
    } else {
      found = Quote(offsets_.Text(offending));
    }
    Diagnostic& d = diags_.Add(DiagKind::kSyntaxError, &source_, span, {expected, found});
    if (IsKeyword(offending->getType()) && expected.find("name") != std::string::npos) {
      d.help = Help{HelpKind::kKeywordAsName, {offsets_.Text(offending)}};
    }
  }

 private:
  const Source& source_;
  const Offsets& offsets_;
  Diagnostics& diags_;
  bool failed_ = false;
  bool quiet_ = false;
  std::string end_description_;
  Span end_span_;
};

// Reports full-width punctuation, stray characters and unterminated strings;
// returns true when any was found.
// Returns the code point positions of the problems that also break the parse
// (stray characters, open strings), so the parse error they cause is not
// reported a second time.
std::vector<size_t> ReportLexicalProblems(const std::vector<Lexeme>& tokens, const Source& source,
                                          const Offsets& offsets, Diagnostics& diags, bool& any) {
  std::vector<size_t> breaking;
  static const std::pair<std::string_view, std::string_view> kFullWidth[] = {
      {"\uFF08", "("}, {"\uFF09", ")"}, {"\uFF0C", ","}, {"\uFF1A", ":"}, {"\uFF1D", "="},
      {"\u3000", " "}};
  for (size_t i = 0; i < tokens.size(); ++i) {
    const Lexeme& t = tokens[i];
    std::string text = offsets.Text(t);
    Span span = t.span;
    switch (t.type) {
      case QmLexer::LPAREN: case QmLexer::RPAREN: case QmLexer::COMMA: case QmLexer::COLON:
      case QmLexer::EQ: case QmLexer::IDEOGRAPHIC_SPACE:
        for (auto [wide, ascii] : kFullWidth) {
          if (text == wide) {
            diags.Add(DiagKind::kFullWidthPunctuation, &source, span,
                      {std::string(wide), std::string(ascii)});
            any = true;
          }
        }
        break;
      case QmLexer::STRING:
        if (text.rfind("\u201C", 0) == 0) {
          diags.Add(DiagKind::kFullWidthPunctuation, &source, span, {"\u201C\u201D", "\""});
          any = true;
        }
        break;
      case QmLexer::UNTERMINATED_STRING:
        diags.Add(DiagKind::kUnterminatedString, &source, span).help =
            Help{HelpKind::kCloseString, {}};
        breaking.push_back(t.start);
        any = true;
        break;
      case QmLexer::BAD_CHAR: {
        // A run of stray characters is one mistake.
        while (i + 1 < tokens.size() && tokens[i + 1].type == QmLexer::BAD_CHAR &&
               tokens[i + 1].start == tokens[i].stop + 1) {
          ++i;
          span.end = tokens[i].span.end;
        }
        std::string shown = source.text().substr(span.begin, span.end - span.begin);
        if (shown == "\u201C" || shown == "\u201D") {
          diags.Add(DiagKind::kFullWidthPunctuation, &source, span, {shown, "\""});
        } else {
          diags.Add(DiagKind::kUnexpectedCharacter, &source, span, {shown});
        }
        breaking.push_back(t.start);
        any = true;
        break;
      }
      default: break;
    }
  }
  return breaking;
}

// Where a new top-level item starts. Keywords that also occur inside rules
// (`when` after `rule X:`, `tag` as an action, `profile.x`, inline `enum {`)
// start an item only in their declaration form.
bool StartsItem(const std::vector<Lexeme>& toks, size_t i) {
  auto type_at = [&](size_t k) -> size_t { return k < toks.size() ? toks[k].type : Token::EOF; };
  switch (toks[i].type) {
    case QmLexer::EVENT: case QmLexer::IMPORT: case QmLexer::RULE: return true;
    case QmLexer::ENUM: return type_at(i + 1) == QmLexer::IDENT;
    case QmLexer::PROFILE: return type_at(i + 1) == QmLexer::LBRACE;
    case QmLexer::WHEN: return i == 0 || type_at(i - 1) != QmLexer::COLON;
    case QmLexer::TAG: {
      if (type_at(i + 1) == QmLexer::IDENT && type_at(i + 2) == QmLexer::STRING) return true;
      if (i == 0) return true;
      size_t prev = type_at(i - 1);
      return prev != QmLexer::COMMA && prev != QmLexer::THEN && prev != QmLexer::DURATION;
    }
    default: return false;
  }
}

// A conservative nesting estimate, so a 10,000-deep input never reaches the
// recursive parser; the exact A47 limit is checked while building the AST.
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

class Builder {
 public:
  Builder(const Source& source, const Offsets& offsets, Diagnostics& diags)
      : source_(source), offsets_(offsets), diags_(diags) {}

  // Returns false when the item was dropped (an error was reported).
  std::optional<ast::Item> BuildItem(QmParser::ItemContext* ctx) {
    ok_ = true;
    std::optional<ast::Item> item;
    if (auto* c = ctx->enumDecl()) item = ast::EnumDecl{Id(c->name()), Members(c->members())};
    else if (auto* c = ctx->eventDecl()) item = ast::EventDecl{Id(c->name()), Fields(c->fieldList())};
    else if (auto* c = ctx->profileDecl()) item = ast::ProfileDecl{SpanOf(c->PROFILE()), Fields(c->fieldList())};
    else if (auto* c = ctx->tagDecl()) item = ast::TagDecl{Id(c->name()), StringText(c->STRING())};
    else if (auto* c = ctx->importDecl()) item = ast::ImportDecl{StringText(c->STRING()), SpanOf(c)};
    else if (auto* c = ctx->ruleDecl()) item = RuleOf(c);
    if (!ok_) return std::nullopt;
    return item;
  }

 private:
  Span SpanOf(antlr4::tree::TerminalNode* n) const { return offsets_.Of(n->getSymbol()); }
  Span SpanOf(antlr4::ParserRuleContext* c) const {
    Span s = offsets_.Of(c->getStart());
    if (c->getStop() != nullptr && c->getStop()->getStopIndex() + 1 >= c->getStart()->getStartIndex()) {
      s.end = std::max(s.begin, offsets_.Of(c->getStop()).end);
    }
    return s;
  }
  ast::Ident Id(QmParser::NameContext* c) const { return {offsets_.Slice(SpanOf(c)), SpanOf(c)}; }
  ast::Ident IdOfToken(antlr4::tree::TerminalNode* n) const { return {offsets_.Text(n->getSymbol()), SpanOf(n)}; }

  void Fail(DiagKind kind, Span span, std::vector<std::string> args = {},
            std::optional<Help> help = std::nullopt) {
    if (!ok_) return;  // one mistake, one error
    ok_ = false;
    diags_.Add(kind, &source_, span, std::move(args)).help = std::move(help);
  }

  std::vector<ast::Ident> Members(QmParser::MembersContext* c) {
    std::vector<ast::Ident> out;
    for (auto* n : c->name()) out.push_back(Id(n));
    return out;
  }

  std::vector<ast::FieldDecl> Fields(QmParser::FieldListContext* c) {
    std::vector<ast::FieldDecl> out;
    if (c == nullptr) return out;
    for (auto* f : c->fieldDecl()) {
      ast::FieldDecl field{Id(f->name()), {}, std::nullopt};
      auto* t = f->typeRef();
      field.type.span = SpanOf(t);
      if (t->name() != nullptr) field.type.name = Id(t->name());
      else field.type.inline_members = Members(t->members());
      if (f->literal() != nullptr) field.default_value = ValueOf(f->literal());
      out.push_back(std::move(field));
    }
    return out;
  }

  // A string token's contents with escapes resolved (A4).
  std::string StringText(antlr4::tree::TerminalNode* n) {
    std::string raw = offsets_.Text(n->getSymbol());
    Span span = SpanOf(n);
    if (raw.rfind("\u201C", 0) == 0) return raw.substr(3, raw.size() - 6);  // reported by the lexer pass
    std::string out;
    for (size_t i = 1; i + 1 < raw.size(); ++i) {
      if (raw[i] != '\\') { out += raw[i]; continue; }
      char e = raw[++i];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        default: {
          size_t len = 1;
          while (i + len < raw.size() && (static_cast<unsigned char>(raw[i + len]) & 0xC0) == 0x80) ++len;
          Span at{span.begin + static_cast<int32_t>(i) - 1, span.begin + static_cast<int32_t>(i + len)};
          Fail(DiagKind::kInvalidEscape, at, {"\\" + raw.substr(i, len)}, Help{HelpKind::kEscapesAllowed, {}});
        }
      }
    }
    return out;
  }

  ast::Literal DurationOf(antlr4::tree::TerminalNode* n) {
    std::string text = offsets_.Text(n->getSymbol());
    ast::Literal lit{ast::Literal::Kind::kDuration, text, 0, false, SpanOf(n)};
    int64_t units = 0;
    std::string_view digits(text.data(), text.size() - 1);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), units);
    if (ec != std::errc() || units > 1'000'000'000) {
      Fail(DiagKind::kNumberOutOfRange, lit.span, {text}, Help{HelpKind::kRangeLimits, {}});
      return lit;
    }
    int64_t unit_ms = 1000;
    switch (text.back()) {
      case 'd': unit_ms = 86'400'000; break;
      case 'h': unit_ms = 3'600'000; break;
      case 'm': unit_ms = 60'000; break;
      default: break;
    }
    lit.duration_ms = units * unit_ms;
    return lit;
  }

  ast::Literal ConstantOf(QmParser::ConstantContext* c) {
    Span span = SpanOf(c);
    if (c->STRING()) return {ast::Literal::Kind::kString, StringText(c->STRING()), 0, false, span};
    if (c->DURATION()) return DurationOf(c->DURATION());
    if (c->TRUE()) return {ast::Literal::Kind::kBool, "true", 0, true, span};
    if (c->FALSE()) return {ast::Literal::Kind::kBool, "false", 0, false, span};
    std::string text = offsets_.Slice(span);
    // Literals are exact decimals (A15) of at most 36 digits, which 128-bit
    // arithmetic holds; whether one fits an int or money is the checker's call.
    size_t digits = 0;
    for (char ch : text) digits += (ch >= '0' && ch <= '9');
    if (digits > 36) Fail(DiagKind::kNumberOutOfRange, span, {text}, Help{HelpKind::kRangeLimits, {}});
    return {ast::Literal::Kind::kNumber, text, 0, false, span};
  }

  ast::Value ValueOf(QmParser::LiteralContext* c) {
    if (c->name() != nullptr) return Id(c->name());
    return ConstantOf(c->constant());
  }

  ast::Name NameOf(QmParser::RefContext* c) {
    ast::Name n;
    n.span = SpanOf(c);
    auto names = c->name();
    if (c->PROFILE() != nullptr) {
      n.profile_qualified = true;
      n.name = Id(names[0]);
    } else if (names.size() == 2) {
      n.qualifier = Id(names[0]);
      n.name = Id(names[1]);
    } else {
      n.name = Id(names[0]);
    }
    return n;
  }

  ast::Trigger TriggerOf(QmParser::TriggerContext* c) {
    if (dynamic_cast<QmParser::AnyTriggerContext*>(c)) return ast::AnyTrigger{};
    if (auto* t = dynamic_cast<QmParser::TaggedTriggerContext*>(c)) return ast::TagTrigger{Id(t->name()), false};
    if (auto* t = dynamic_cast<QmParser::UntaggedTriggerContext*>(c)) return ast::TagTrigger{Id(t->name()), true};
    if (auto* t = dynamic_cast<QmParser::BecomesTriggerContext*>(c))
      return ast::BecomesTrigger{Id(t->name()), ValueOf(t->literal())};
    if (auto* t = dynamic_cast<QmParser::QuietTriggerContext*>(c)) {
      std::optional<ast::Ident> event;
      if (t->name() != nullptr) event = Id(t->name());
      return ast::QuietTrigger{event, DurationOf(t->DURATION())};
    }
    auto* t = dynamic_cast<QmParser::EventTriggerContext*>(c);
    return ast::EventTrigger{Id(t->name())};
  }

  bool Deeper(Span at) {
    if (++depth_ > kMaxNesting) {
      Fail(DiagKind::kNestingTooDeep, at, {}, Help{HelpKind::kSplitNesting, {}});
      return false;
    }
    return true;
  }

  ast::ExprPtr Expr(QmParser::ExprContext* c) {
    auto ands = c->andExpr();
    if (ands.size() == 1) return AndExpr(ands[0]);
    ast::Or node;
    for (auto* a : ands) node.operands.push_back(AndExpr(a));
    return std::make_unique<ast::Expr>(ast::Expr{SpanOf(c), std::move(node)});
  }

  ast::ExprPtr AndExpr(QmParser::AndExprContext* c) {
    auto unaries = c->unary();
    if (unaries.size() == 1) return Unary(unaries[0]);
    ast::And node;
    for (auto* u : unaries) node.operands.push_back(Unary(u));
    return std::make_unique<ast::Expr>(ast::Expr{SpanOf(c), std::move(node)});
  }

  ast::ExprPtr Unary(QmParser::UnaryContext* c) {
    if (c->NOT() != nullptr) {
      int saved = depth_;
      ast::ExprPtr inner = Deeper(SpanOf(c->NOT())) ? Unary(c->unary()) : nullptr;
      depth_ = saved;
      if (!inner) return Placeholder(SpanOf(c));
      return std::make_unique<ast::Expr>(ast::Expr{SpanOf(c), ast::Not{std::move(inner)}});
    }
    return Primary(c->primary());
  }

  // Stands in for a part that failed; the item is dropped anyway.
  ast::ExprPtr Placeholder(Span span) {
    return std::make_unique<ast::Expr>(ast::Expr{span, ast::And{}});
  }

  ast::ExprPtr Primary(QmParser::PrimaryContext* c) {
    Span span = SpanOf(c);
    if (auto* p = dynamic_cast<QmParser::ParenExprContext*>(c)) {
      int saved = depth_;
      ast::ExprPtr inner = Deeper(SpanOf(p->LPAREN())) ? Expr(p->expr()) : Placeholder(span);
      depth_ = saved;
      if (inner) inner->span = span;  // the parentheses belong to the node's span
      return inner;
    }
    if (auto* h = dynamic_cast<QmParser::HasExprContext*>(c))
      return std::make_unique<ast::Expr>(ast::Expr{span, ast::Has{Id(h->name())}});
    auto* p = dynamic_cast<QmParser::PredicateExprContext*>(c);
    auto lhs = std::make_unique<ast::Operand>(OperandOf(p->operand()));
    auto* tail = p->predicateTail();
    if (tail == nullptr) {
      // A field alone (C6, B9); anything else alone is a syntax error.
      if (auto* name = std::get_if<ast::Name>(lhs.get())) {
        return std::make_unique<ast::Expr>(ast::Expr{span, ast::BoolField{*name}});
      }
      Fail(DiagKind::kSyntaxError, span, {"a comparison", Quote(offsets_.Slice(SpanOf(p->operand()))) + " alone"});
      return Placeholder(span);
    }
    if (auto* t = dynamic_cast<QmParser::CompareTailContext*>(tail)) {
      ast::CmpOp op = ast::CmpOp::kEq;
      auto* o = t->cmpOp();
      if (o->NE()) op = ast::CmpOp::kNe;
      else if (o->LT()) op = ast::CmpOp::kLt;
      else if (o->LE()) op = ast::CmpOp::kLe;
      else if (o->GT()) op = ast::CmpOp::kGt;
      else if (o->GE()) op = ast::CmpOp::kGe;
      auto rhs = std::make_unique<ast::Operand>(OperandOf(t->operand()));
      return std::make_unique<ast::Expr>(ast::Expr{span, ast::Compare{op, std::move(lhs), std::move(rhs)}});
    }
    if (auto* t = dynamic_cast<QmParser::ContainsTailContext*>(tail)) {
      return std::make_unique<ast::Expr>(ast::Expr{span, ast::Contains{std::move(lhs), ValueOf(t->literal())}});
    }
    std::vector<QmParser::LiteralContext*> items;
    bool negated = false;
    if (auto* t = dynamic_cast<QmParser::InTailContext*>(tail)) items = t->literal();
    if (auto* t = dynamic_cast<QmParser::NotInTailContext*>(tail)) { items = t->literal(); negated = true; }
    ast::InList list{std::move(lhs), {}, negated};
    for (auto* l : items) list.values.push_back(ValueOf(l));
    return std::make_unique<ast::Expr>(ast::Expr{span, std::move(list)});
  }

  ast::Operand OperandOf(QmParser::OperandContext* c) {
    if (c->ref() != nullptr) return NameOf(c->ref());
    if (c->constant() != nullptr) return ConstantOf(c->constant());
    if (auto* s = c->since()) {
      ast::Since since;
      if (s->name() != nullptr) since.name = Id(s->name());
      since.profile_qualified = s->PROFILE() != nullptr;
      return since;
    }
    ast::Aggregate agg;
    agg.span = SpanOf(c);
    auto where_and_within = [&](QmParser::WhereKwContext* w, QmParser::ExprContext* e,
                                antlr4::tree::TerminalNode* within) {
      if (w != nullptr) {
        int saved = depth_;
        agg.where = Deeper(SpanOf(w)) ? Expr(e) : Placeholder(SpanOf(w));
        depth_ = saved;
      }
      if (within != nullptr) agg.within = DurationOf(within);
    };
    if (auto* a = dynamic_cast<QmParser::CountAggContext*>(c->aggregate())) {
      agg.func = ast::AggFunc::kCount;
      if (a->ANY()) { agg.event = IdOfToken(a->ANY()); agg.is_any = true; }
      else agg.event = Id(a->name());
      where_and_within(a->whereKw(), a->expr(), a->DURATION());
      return agg;
    }
    auto* a = dynamic_cast<QmParser::ValueAggContext*>(c->aggregate());
    switch (a->aggFunc->getType()) {
      case QmLexer::SUM: agg.func = ast::AggFunc::kSum; break;
      case QmLexer::MIN: agg.func = ast::AggFunc::kMin; break;
      case QmLexer::MAX: agg.func = ast::AggFunc::kMax; break;
      default: agg.func = ast::AggFunc::kAvg; break;
    }
    auto names = a->name();
    if (a->ANY()) {
      agg.event = IdOfToken(a->ANY());
      agg.is_any = true;
      agg.field = Id(names[0]);
    } else {
      agg.event = Id(names[0]);
      agg.field = Id(names[1]);
    }
    where_and_within(a->whereKw(), a->expr(), a->DURATION());
    return agg;
  }

  ast::ActionValue ActionValueOf(QmParser::RefContext* ref, QmParser::ConstantContext* constant) {
    if (ref != nullptr) return NameOf(ref);
    return ConstantOf(constant);
  }

  ast::Action ActionOf(QmParser::ActionContext* c) {
    ast::Action action;
    action.span = SpanOf(c);
    QmParser::SimpleActionContext* simple;
    if (auto* d = dynamic_cast<QmParser::DelayedActionContext*>(c)) {
      action.after = DurationOf(d->DURATION());
      if (d->ANY()) { action.unless = IdOfToken(d->ANY()); action.unless_any = true; }
      else if (d->name()) action.unless = Id(d->name());
      simple = d->simpleAction();
    } else {
      simple = dynamic_cast<QmParser::ImmediateActionContext*>(c)->simpleAction();
    }
    if (auto* s = dynamic_cast<QmParser::SetActionContext*>(simple)) {
      auto refs = s->ref();
      action.action = ast::SetAction{NameOf(refs[0]), ActionValueOf(refs.size() > 1 ? refs[1] : nullptr, s->constant())};
    } else if (auto* s = dynamic_cast<QmParser::AddActionContext*>(simple)) {
      auto refs = s->ref();
      action.action = ast::AddAction{NameOf(refs[0]), ActionValueOf(refs.size() > 1 ? refs[1] : nullptr, s->constant())};
    } else if (auto* s = dynamic_cast<QmParser::TagActionContext*>(simple)) {
      action.action = ast::TagAction{Id(s->name()), false};
    } else if (auto* s = dynamic_cast<QmParser::UntagActionContext*>(simple)) {
      action.action = ast::TagAction{Id(s->name()), true};
    } else if (auto* s = dynamic_cast<QmParser::PushActionContext*>(simple)) {
      ast::PushAction push;
      push.invite = s->kind->getType() == QmLexer::INVITE;
      push.target = TargetText(s->target());
      push.target_span = SpanOf(s->target());
      if (s->DURATION()) push.every = DurationOf(s->DURATION());
      action.action = std::move(push);
    } else if (auto* s = dynamic_cast<QmParser::NotifyActionContext*>(simple)) {
      action.action = ast::NotifyAction{TargetText(s->target()), SpanOf(s->target()),
                                        StringText(s->STRING()), SpanOf(s->STRING())};
    }
    return action;
  }

  std::string TargetText(QmParser::TargetContext* t) {
    return t->name() != nullptr ? Id(t->name()).text : StringText(t->STRING());
  }

  ast::Rule RuleOf(QmParser::RuleDeclContext* c) {
    ast::Rule rule;
    if (c->name() != nullptr) rule.name = Id(c->name());
    rule.when_span = SpanOf(c->WHEN());
    rule.trigger_span = SpanOf(c->trigger());
    rule.trigger = TriggerOf(c->trigger());
    depth_ = 0;
    if (c->expr() != nullptr) rule.condition = Expr(c->expr());
    for (auto* a : c->action()) rule.actions.push_back(ActionOf(a));
    rule.span = SpanOf(c);
    return rule;
  }

  const Source& source_;
  const Offsets& offsets_;
  Diagnostics& diags_;
  bool ok_ = true;
  int depth_ = 0;
};

// The name a broken declaration would have declared, so its uses are not
// reported again as unknown.
void Poison(const std::vector<Lexeme>& toks, size_t begin, size_t end, const Offsets& offsets,
            ast::RuleFile& file) {
  if (end - begin < 2) return;
  size_t kind = toks[begin].type;
  if (kind == QmLexer::PROFILE) {
    file.profile_poisoned = true;
  } else if ((kind == QmLexer::ENUM || kind == QmLexer::EVENT || kind == QmLexer::TAG) &&
             toks[begin + 1].type == QmLexer::IDENT) {
    file.poisoned_names.push_back(offsets.Text(toks[begin + 1]));
  }
}

// The lexer caches DFA edges only for ASCII, so every CJK character would
// run the full ATN simulation (1 s for a 3 MB file). Each non-ASCII
// identifier character is lexed as `_` instead: `_` is an identifier
// character, no keyword or number contains it, and strings and comments take
// any character, so the token boundaries and types are unchanged; token
// texts are sliced from the original. Other non-ASCII characters (full-width
// punctuation, quotes, U+3000, emoji) are kept and take the slow path.
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

// An input stream over code points decoded once by us: the runtime's own
// UTF-8 decoding (std::wstring_convert) costs as much as lexing.
class CodePointStream final : public antlr4::ANTLRInputStream {
 public:
  explicit CodePointStream(std::u32string cps) {
    _data = std::move(cps);
    p = 0;
  }
};

}  // namespace

ast::RuleFile Parse(const Source& source, Diagnostics& diags) {
  ast::RuleFile file;
  file.source = &source;
  std::string_view text = source.text();
  int64_t bad = utf8::FirstInvalid(text);
  if (bad >= 0) {
    diags.Add(DiagKind::kInvalidUtf8, &source, {static_cast<int32_t>(bad), static_cast<int32_t>(bad) + 1})
        .help = Help{HelpKind::kInvalidByteAt, {std::to_string(bad)}};
    file.has_syntax_errors = true;
    return file;
  }
  int32_t base = text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;  // A2: a BOM is skipped
  text.remove_prefix(base);
  Offsets offsets(text, base, source.text());

  CodePointStream input(LexerView(text));
  QmLexer lexer(&input);
  lexer.removeErrorListeners();
  std::vector<Lexeme> all;
  all.reserve(text.size() / 4);
  for (;;) {
    std::unique_ptr<Token> t = lexer.nextToken();
    if (t->getType() == Token::EOF) break;
    all.push_back(Lexeme{static_cast<uint16_t>(t->getType()), static_cast<uint16_t>(t->getChannel()),
                         static_cast<uint32_t>(t->getStartIndex()), static_cast<uint32_t>(t->getStopIndex()),
                         static_cast<uint32_t>(t->getLine()), static_cast<uint32_t>(t->getCharPositionInLine()),
                         offsets.Of(t.get())});
  }
  bool lexical_errors = false;
  std::vector<size_t> breaking = ReportLexicalProblems(all, source, offsets, diags, lexical_errors);
  if (lexical_errors) file.has_syntax_errors = true;

  std::vector<Lexeme> toks;
  toks.reserve(all.size());
  for (const Lexeme& t : all) if (t.channel == Token::DEFAULT_CHANNEL) toks.push_back(t);
  std::vector<Lexeme>().swap(all);

  std::vector<size_t> starts;
  for (size_t i = 0; i < toks.size(); ++i) {
    if (i == 0 || StartsItem(toks, i)) starts.push_back(i);
  }
  starts.push_back(toks.size());

  FirstErrorListener errors(source, offsets, diags);
  Builder builder(source, offsets, diags);
  QmParser parser(nullptr);
  parser.removeErrorListeners();
  parser.addErrorListener(&errors);

  // Whether the previous item parsed cleanly: a `tag X` after a broken rule
  // is part of that rule's mistake.
  bool previous_ok = true;
  int errors_before = diags.error_count();
  size_t items_before = 0;
  for (size_t k = 0; k + 1 < starts.size(); ++k) {
    size_t begin = starts[k], end = starts[k + 1];
    if (k > 0) previous_ok = diags.error_count() == errors_before && file.items.size() > items_before;
    errors_before = diags.error_count();
    items_before = file.items.size();
    std::string end_description = end < toks.size() ? Quote(offsets.Text(toks[end])) : "the end of the file";
    Span end_span = end < toks.size() ? toks[end].span
                                      : Span{static_cast<int32_t>(source.text().size()),
                                             static_cast<int32_t>(source.text().size())};
    errors.Reset(end_description, end_span);
    size_t chunk_from = toks[begin].start;
    size_t chunk_to = end < toks.size() ? toks[end].start : SIZE_MAX;
    auto first_breaking = std::lower_bound(breaking.begin(), breaking.end(), chunk_from);
    if (first_breaking != breaking.end() && *first_breaking < chunk_to) errors.Silence();
    if (auto deep = TooDeep(toks, begin, end)) {
      diags.Add(DiagKind::kNestingTooDeep, &source, toks[*deep].span).help =
          Help{HelpKind::kSplitNesting, {}};
      file.has_syntax_errors = true;
      Poison(toks, begin, end, offsets, file);
      continue;
    }
    // `then a, b tag X`: the missing comma makes `tag X` a declaration
    // without a description; say what probably happened.
    bool after_rule = k > 0 && (toks[starts[k - 1]].type == QmLexer::RULE ||
                                toks[starts[k - 1]].type == QmLexer::WHEN);
    if (toks[begin].type == QmLexer::TAG && after_rule && begin + 1 < end &&
        toks[begin + 1].type == QmLexer::IDENT &&
        (begin + 2 >= end || toks[begin + 2].type != QmLexer::STRING)) {
      if (previous_ok) {
        Span span{toks[begin].span.begin, toks[begin + 1].span.end};
        diags.Add(DiagKind::kTagWithoutComma, &source, span, {offsets.Text(toks[begin + 1])});
      }
      file.has_syntax_errors = true;
      continue;
    }
    std::vector<std::unique_ptr<Token>> chunk;
    for (size_t i = begin; i < end; ++i) {
      // Tokens without text: getText() reads the input stream when needed.
      const Lexeme& t = toks[i];
      auto token = std::make_unique<antlr4::CommonToken>(
          std::make_pair(static_cast<antlr4::TokenSource*>(&lexer), static_cast<antlr4::CharStream*>(&input)),
          t.type, t.channel, t.start, t.stop);
      token->setLine(t.line);
      token->setCharPositionInLine(t.column);
      chunk.push_back(std::move(token));
    }
    antlr4::ListTokenSource token_source(std::move(chunk));
    antlr4::CommonTokenStream stream(&token_source);
    parser.setTokenStream(&stream);
    QmParser::ItemContext* tree = parser.item();
    if (errors.failed()) {
      file.has_syntax_errors = true;
      Poison(toks, begin, end, offsets, file);
      continue;
    }
    std::optional<ast::Item> item = builder.BuildItem(tree);
    if (!item) {
      file.has_syntax_errors = true;
      Poison(toks, begin, end, offsets, file);
      continue;
    }
    file.items.push_back(std::move(*item));
  }
  return file;
}

}  // namespace qm::parse
