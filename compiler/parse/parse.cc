#include "compiler/parse/parse.h"

#include <set>

#include "compiler/parse/internal/parser.h"

namespace qm::parse {

using namespace parse_internal;

namespace {

ast::TokenKind KindOf(size_t type) {
  switch (type) {
    case QmLexer::IDENT: return ast::TokenKind::kName;
    case QmLexer::STRING: return ast::TokenKind::kString;
    case QmLexer::NUMBER: return ast::TokenKind::kNumber;
    case QmLexer::DURATION: return ast::TokenKind::kDuration;
    case QmLexer::ZONE_OFFSET: return ast::TokenKind::kOffset;
    case QmLexer::CLOCK_RANGE: return ast::TokenKind::kClockRange;
    case QmLexer::LBRACE: return ast::TokenKind::kLBrace;
    case QmLexer::RBRACE: return ast::TokenKind::kRBrace;
    case QmLexer::LPAREN: return ast::TokenKind::kLParen;
    case QmLexer::RPAREN: return ast::TokenKind::kRParen;
    case QmLexer::COMMA: return ast::TokenKind::kComma;
    case QmLexer::COLON: return ast::TokenKind::kColon;
    case QmLexer::DOT: return ast::TokenKind::kDot;
    case QmLexer::EQ: case QmLexer::NE: case QmLexer::LT: case QmLexer::LE: case QmLexer::GT: case QmLexer::GE:
      return ast::TokenKind::kOperator;
    default: return ast::TokenKind::kKeyword;
  }
}

}  // namespace

ast::RuleFile Parse(const Source& source, Diagnostics& diags, Options options) {
  ast::RuleFile file;
  file.source = &source;
  std::string_view text = source.text();
  int64_t bad = utf8::FirstInvalid(text);
  if (bad >= 0) {
    diags.Add<DiagKind::kInvalidUtf8>(&source, {static_cast<int32_t>(bad), static_cast<int32_t>(bad) + 1})
        .help = Help::Of<HelpKind::kInvalidByteAt>({std::to_string(bad)});
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
  all.reserve(text.size() / 2 + 16);  // pages never written cost nothing
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

  // Hidden tokens dropped in place: a second array would be as big again in fresh pages.
  std::vector<Lexeme> toks = std::move(all);
  std::erase_if(toks, [](const Lexeme& t) { return t.channel != Token::DEFAULT_CHANNEL; });

  std::vector<size_t> starts;
  for (size_t i = 0; i < toks.size(); ++i) {
    if (i == 0 || StartsItem(toks, i, offsets)) starts.push_back(i);
  }
  if (options.keep_tokens) {
    file.tokens.reserve(toks.size());
    size_t next_start = 0;
    for (size_t i = 0; i < toks.size(); ++i) {
      bool starts_item = next_start < starts.size() && starts[next_start] == i;
      next_start += starts_item;
      file.tokens.push_back({KindOf(toks[i].type), starts_item, toks[i].span});
    }
  }
  starts.push_back(toks.size());

  FirstErrorListener errors(source, offsets, diags);
  Builder builder(source, offsets, diags);
  QmParser parser(nullptr);
  parser.setBuildParseTree(false);  // the builder reads labels (grammar/Qm.g4)
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
    std::string end_description = end < toks.size() ? Quote(offsets.Text(toks[end])) : Bilingual("the end of the file", "文件结尾");
    Span end_span = end < toks.size() ? toks[end].span
                                      : Span{static_cast<int32_t>(source.text().size()),
                                             static_cast<int32_t>(source.text().size())};
    errors.Reset(end_description, end_span);
    size_t chunk_from = toks[begin].start;
    size_t chunk_to = end < toks.size() ? toks[end].start : SIZE_MAX;
    auto first_breaking = std::lower_bound(breaking.begin(), breaking.end(), chunk_from);
    if (first_breaking != breaking.end() && *first_breaking < chunk_to) errors.Silence();
    if (auto deep = TooDeep(toks, begin, end)) {
      diags.Add<DiagKind::kNestingTooDeep>(&source, toks[*deep].span).help =
          Help::Of<HelpKind::kSplitNesting>({});
      file.has_syntax_errors = true;
      Poison(toks, begin, end, offsets, file);
      continue;
    }
    // `then a, b tag X`: the missing comma makes `tag X` a declaration
    // without a description; say what probably happened.
    bool after_rule = k > 0 && (toks[starts[k - 1]].type == QmLexer::RULE ||
                                toks[starts[k - 1]].type == QmLexer::WHEN);
    if (toks[begin].type == QmLexer::TAG && after_rule && begin + 1 < end &&
        (toks[begin + 1].type == QmLexer::IDENT || toks[begin + 1].type == QmLexer::STRING) &&
        (begin + 2 >= end || toks[begin + 2].type != QmLexer::STRING)) {
      if (previous_ok) {
        Span span{toks[begin].span.begin, toks[begin + 1].span.end};
        diags.Add<DiagKind::kTagWithoutComma>(&source, span, {offsets.Text(toks[begin + 1])});
      }
      file.has_syntax_errors = true;
      continue;
    }
    // `tag 高意向` alone: the missing description is reported at the tag, not
    // at whatever the next line starts with.
    if (toks[begin].type == QmLexer::TAG && end == begin + 2 &&
        (toks[begin + 1].type == QmLexer::IDENT || toks[begin + 1].type == QmLexer::STRING)) {
      Span span{toks[begin].span.begin, toks[begin + 1].span.end};
      std::string name = offsets.Text(toks[begin + 1]);
      diags.Add<DiagKind::kTagWithoutDescription>(&source, span, {name}).help = Help::Of<HelpKind::kTagDescription>({name});
      file.has_syntax_errors = true;
      Poison(toks, begin, end, offsets, file);
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
    file.item_spans.push_back({toks[begin].span.begin, toks[end - 1].span.end});
  }
  return file;
}

}  // namespace qm::parse
