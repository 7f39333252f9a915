// The parser's parts (compiler/parse/*.cc): tokens and their positions,
// item splitting, syntax errors, and the builder from ANTLR's parse tree to
// the AST. ANTLR types appear in no header outside parse/internal/.
#ifndef QM_COMPILER_PARSE_INTERNAL_PARSER_H_
#define QM_COMPILER_PARSE_INTERNAL_PARSER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "antlr4-runtime.h"
#include "QmLexer.h"
#include "QmParser.h"
#include "compiler/parse/parse.h"

namespace qm::parse_internal {

using parse::kMaxNesting;
using qm_parser_internal::QmLexer;
using qm_parser_internal::QmParser;
using antlr4::Token;

inline constexpr int kGuardNesting = 2 * kMaxNesting;  // pre-parse guard for the C++ stack

inline bool IsKeyword(size_t type) { return type >= QmLexer::ENUM && type <= QmLexer::FALSE; }

inline std::string Quote(std::string_view s) { return "`" + std::string(s) + "`"; }

// Human names for what the parser expected at an error (issue: "phrased for
// people"): sets of tokens that start a condition or an action are named as such.
std::string DescribeExpected(const antlr4::misc::IntervalSet& set, const antlr4::dfa::Vocabulary& vocab);

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

  void Reset(std::string end_description, Span end_span);
  void Silence() { quiet_ = true; }
  bool failed() const { return failed_; }
  void MarkFailed() { failed_ = true; }

  void syntaxError(antlr4::Recognizer* recognizer, Token* offending, size_t, size_t,
                   const std::string&, std::exception_ptr) override;

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
                                          const Offsets& offsets, Diagnostics& diags, bool& any);

// Where a new top-level item starts. Keywords that also occur inside rules
// (`when` after `rule X:`, `tag` as an action, `profile.x`, inline `enum {`)
// start an item only in their declaration form.
bool StartsItem(const std::vector<Lexeme>& toks, size_t i, const Offsets& offsets);

// A conservative nesting estimate, so a 10,000-deep input never reaches the
// recursive parser; the exact A47 limit is checked while building the AST.
std::optional<size_t> TooDeep(const std::vector<Lexeme>& toks, size_t begin, size_t end);

class Builder {
 public:
  Builder(const Source& source, const Offsets& offsets, Diagnostics& diags)
      : source_(source), offsets_(offsets), diags_(diags) {}

  // Returns false when the item was dropped (an error was reported).
  std::optional<ast::Item> BuildItem(QmParser::ItemContext* ctx);

 private:
  Span SpanOf(const Token* t) const { return offsets_.Of(t); }
  Span SpanOf(antlr4::ParserRuleContext* c) const;
  ast::Ident Id(QmParser::NameContext* c) const { return {offsets_.Slice(SpanOf(c)), SpanOf(c)}; }
  ast::Ident IdOfToken(const Token* t) const { return {offsets_.Text(t), SpanOf(t)}; }

  template <DiagKind K>
  void Fail(Span span, DiagArgs<ArgCount(K)> args = {}, std::optional<Help> help = std::nullopt) {
    Fail(K, span, std::move(args.values), std::move(help));
  }
  void Fail(DiagKind kind, Span span, std::vector<std::string> args, std::optional<Help> help);

  // D15: `来源天猫` and `"来源天猫"` name the same tag.
  ast::Ident TagName(QmParser::TagNameContext* c);

  std::vector<ast::Ident> Members(QmParser::MembersContext* c);

  std::vector<ast::FieldDecl> Fields(QmParser::FieldListContext* c);

  // A string token's contents with escapes resolved (A4).
  std::string StringText(const Token* t);

  ast::Literal DurationOf(const Token* t);

  ast::Literal ConstantOf(QmParser::ConstantContext* c);

  ast::Value ValueOf(QmParser::LiteralContext* c);

  ast::Name NameOf(QmParser::RefContext* c);

  ast::Trigger TriggerOf(QmParser::TriggerContext* c);

  bool Deeper(Span at);

  ast::ExprPtr Expr(QmParser::ExprContext* c);

  ast::ExprPtr AndExpr(QmParser::AndExprContext* c);

  ast::ExprPtr Unary(QmParser::UnaryContext* c);

  // Stands in for a part that failed; the item is dropped anyway.
  ast::ExprPtr Placeholder(Span span);

  ast::ExprPtr Primary(QmParser::PrimaryContext* c);

  ast::Operand OperandOf(QmParser::OperandContext* c);

  ast::ZoneDecl ZoneOf(QmParser::ZoneDeclContext* c);
  ast::CapDecl CapOf(QmParser::CapDeclContext* c);
  ast::QuietDecl QuietOf(QmParser::QuietDeclContext* c);
  ast::IdentityDecl IdentityOf(QmParser::IdentityDeclContext* c);
  ast::SegmentDecl SegmentOf(QmParser::SegmentDeclContext* c);
  ast::RenamedDecl RenamedOf(QmParser::RenamedDeclContext* c);

  ast::ActionValue ActionValueOf(QmParser::RefContext* ref, QmParser::ConstantContext* constant);

  ast::Action ActionOf(QmParser::ActionContext* c);

  std::string TargetText(QmParser::TargetContext* t);

  ast::Rule RuleOf(QmParser::RuleDeclContext* c);

  const Source& source_;
  const Offsets& offsets_;
  Diagnostics& diags_;
  bool ok_ = true;
  int depth_ = 0;
};

// The name a broken declaration would have declared, so its uses are not
// reported again as unknown.
void Poison(const std::vector<Lexeme>& toks, size_t begin, size_t end, const Offsets& offsets,
            ast::RuleFile& file);

// The lexer caches DFA edges only for ASCII, so every CJK character would
// run the full ATN simulation (1 s for a 3 MB file). Each non-ASCII
// identifier character is lexed as `_` instead: `_` is an identifier
// character, no keyword or number contains it, and strings and comments take
// any character, so the token boundaries and types are unchanged; token
// texts are sliced from the original. Other non-ASCII characters (full-width
// punctuation, quotes, U+3000, emoji) are kept and take the slow path.
std::u32string LexerView(std::string_view text);

// An input stream over code points decoded once by us: the runtime's own
// UTF-8 decoding (std::wstring_convert) costs as much as lexing.
class CodePointStream final : public antlr4::ANTLRInputStream {
 public:
  explicit CodePointStream(std::u32string cps) {
    _data = std::move(cps);
    p = 0;
  }
};

}  // namespace qm::parse_internal

#endif  // QM_COMPILER_PARSE_INTERNAL_PARSER_H_
