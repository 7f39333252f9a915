// Syntax errors: what the parser expected, phrased for people; lexical problems (E0002-E0006).
#include "compiler/parse/internal/parser.h"

#include <set>

namespace qm::parse_internal {

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
      case QmLexer::ZONE_OFFSET: parts.push_back("a zone such as `+08:00`"); break;
      case QmLexer::CLOCK_RANGE: parts.push_back("hours such as `22:00-08:00`"); break;
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
