// Syntax errors: what the parser expected, phrased for people; lexical problems (E0002-E0006).
#include "compiler/parse/internal/parser.h"

#include <set>

namespace qm::parse_internal {

std::string DescribeExpected(const antlr4::misc::IntervalSet& set, const antlr4::dfa::Vocabulary& vocab) {
  std::set<size_t> types;
  for (size_t t : set.toList()) types.insert(t);
  std::vector<std::pair<std::string, std::string>> parts;  // English, Chinese
  auto take_group = [&](std::initializer_list<size_t> markers, std::initializer_list<size_t> members,
                        const char* en, const char* zh) {
    for (size_t m : markers) if (!types.count(m)) return;
    for (size_t m : members) types.erase(m);
    parts.emplace_back(en, zh);
  };
  take_group({QmLexer::HAS, QmLexer::COUNT},
             {QmLexer::HAS, QmLexer::COUNT, QmLexer::SUM, QmLexer::MIN, QmLexer::MAX, QmLexer::AVG,
              QmLexer::SINCE, QmLexer::NOT, QmLexer::LPAREN, QmLexer::IDENT, QmLexer::PROFILE,
              QmLexer::NUMBER, QmLexer::STRING, QmLexer::DURATION, QmLexer::TRUE, QmLexer::FALSE},
             "a condition", "条件");
  take_group({QmLexer::SET, QmLexer::PUSH},
             {QmLexer::SET, QmLexer::ADD, QmLexer::TAG, QmLexer::UNTAG, QmLexer::PUSH,
              QmLexer::INVITE, QmLexer::NOTIFY, QmLexer::AFTER},
             "an action", "动作");
  take_group({QmLexer::EQ, QmLexer::LT},
             {QmLexer::EQ, QmLexer::NE, QmLexer::LT, QmLexer::LE, QmLexer::GT, QmLexer::GE},
             "a comparison (`=`, `<`, ...)", "比较符（`=`、`<` 等）");
  take_group({QmLexer::COUNT, QmLexer::SINCE},
             {QmLexer::COUNT, QmLexer::SUM, QmLexer::MIN, QmLexer::MAX, QmLexer::AVG, QmLexer::SINCE,
              QmLexer::IDENT, QmLexer::PROFILE, QmLexer::NUMBER, QmLexer::STRING, QmLexer::DURATION,
              QmLexer::TRUE, QmLexer::FALSE},
             "a field, a value or an aggregate", "字段、值或聚合");
  take_group({QmLexer::STRING, QmLexer::NUMBER, QmLexer::IDENT},
             {QmLexer::STRING, QmLexer::NUMBER, QmLexer::DURATION, QmLexer::TRUE, QmLexer::FALSE,
              QmLexer::IDENT},
             "a value", "值");
  for (size_t t : types) {
    switch (t) {
      case QmLexer::IDENT: parts.emplace_back("a name", "名称"); break;
      case QmLexer::NUMBER: parts.emplace_back("a number", "数字"); break;
      case QmLexer::DURATION: parts.emplace_back("a duration such as `7d`", "时长（如 `7d`）"); break;
      case QmLexer::STRING: parts.emplace_back("a string", "字符串"); break;
      case QmLexer::ZONE_OFFSET: parts.emplace_back("a zone such as `+08:00`", "时区（如 `+08:00`）"); break;
      case QmLexer::CLOCK_RANGE: parts.emplace_back("hours such as `22:00-08:00`", "时段（如 `22:00-08:00`）"); break;
      case Token::EOF: parts.emplace_back("the end of the item", "该项的结尾"); break;
      default: {
        std::string lit = vocab.getLiteralName(t);
        if (lit.size() >= 2) parts.emplace_back(Quote(lit.substr(1, lit.size() - 2)), Quote(lit.substr(1, lit.size() - 2)));
      }
    }
  }
  if (parts.empty()) return Bilingual("something else", "其他内容");
  if (parts.size() > 6) {
    parts.resize(6);
    parts.back() = {"...", "……"};
  }
  std::string en, zh;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) {
      en += i + 1 == parts.size() ? " or " : ", ";
      zh += i + 1 == parts.size() ? "或" : "、";
    }
    en += parts[i].first;
    zh += parts[i].second;
  }
  return Bilingual(en, zh);
}

void FirstErrorListener::Reset(std::string end_description, Span end_span) {
  failed_ = false;
  quiet_ = false;
  end_description_ = std::move(end_description);
  end_span_ = end_span;
}

void FirstErrorListener::syntaxError(antlr4::Recognizer* recognizer, Token* offending, size_t, size_t, const std::string&, std::exception_ptr) {
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
  std::string expected = Bilingual("something else", "其他内容");
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
  if (parser != nullptr && offending->getType() != Token::EOF) {
    // A name directly followed by `(` where a value goes: a function we do not have.
    antlr4::TokenStream* stream = parser->getTokenStream();
    size_t next = offending->getTokenIndex() + 1;
    if (offending->getType() == QmLexer::IDENT && next < stream->size() && stream->get(next)->getType() == QmLexer::LPAREN &&
        expected.find("a field, a value or an aggregate") != std::string::npos) {
      diags_.Add<DiagKind::kUnknownFunction>(&source_, span, {offsets_.Text(offending)});
      return;
    }
    // Inside `count(…)`, the parser's expectations read as noise: say what an aggregate takes.
    std::vector<std::string> rules = parser->getRuleInvocationStack();
    for (const std::string& rule : rules) {
      if (rule != "aggregate" && rule != "window") continue;
      antlr4::ParserRuleContext* ctx = parser->getContext();
      while (ctx != nullptr && parser->getRuleNames()[ctx->getRuleIndex()] != "aggregate")
        ctx = dynamic_cast<antlr4::ParserRuleContext*>(ctx->parent);
      std::string func = ctx != nullptr && ctx->getStart() != nullptr ? offsets_.Text(ctx->getStart()) : "count";
      diags_.Add<DiagKind::kAggregateSyntax>(&source_, span, {func, found}).help =
          Help::Of<HelpKind::kAggregateExample>({});
      return;
    }
  }
  Diagnostic& d = diags_.Add<DiagKind::kSyntaxError>(&source_, span, {expected, found});
  if (IsKeyword(offending->getType()) && expected.find("name") != std::string::npos) {
    d.help = Help::Of<HelpKind::kKeywordAsName>({offsets_.Text(offending)});
  }
}

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
            diags.Add<DiagKind::kFullWidthPunctuation>(&source, span,
                      {std::string(wide), std::string(ascii)});
            any = true;
          }
        }
        break;
      case QmLexer::STRING:
        if (text.rfind("\u201C", 0) == 0) {
          diags.Add<DiagKind::kFullWidthPunctuation>(&source, span, {"\u201C\u201D", "\""});
          any = true;
        }
        break;
      case QmLexer::UNTERMINATED_STRING:
        diags.Add<DiagKind::kUnterminatedString>(&source, span).help =
            Help::Of<HelpKind::kCloseString>({});
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
          diags.Add<DiagKind::kFullWidthPunctuation>(&source, span, {shown, "\""});
        } else {
          diags.Add<DiagKind::kUnexpectedCharacter>(&source, span, {shown});
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

}  // namespace qm::parse_internal
