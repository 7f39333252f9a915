#include "compiler/format/format.h"

#include <algorithm>
#include <string_view>
#include <vector>

#include "compiler/parse/parse.h"

namespace qm::format {
namespace {

using ast::Token;
using ast::TokenKind;

// A token or a comment, in file order, with the line breaks before it.
struct Piece {
  int newlines = 0;
  const Token* token = nullptr;  // null: a comment
  std::string_view comment;      // `# …` or `// …`, without trailing blanks
};

constexpr std::string_view kIdeographicSpace = "\u3000";

// Splits the text between tokens into line breaks and comments. False when
// it holds anything else (a stray character: a syntax error).
bool ScanGap(std::string_view text, size_t begin, size_t end, int& newlines, std::vector<Piece>& out) {
  size_t i = begin;
  while (i < end) {
    char c = text[i];
    if (c == '\n') {
      ++newlines, ++i;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      ++i;
    } else if (text.substr(i, kIdeographicSpace.size()) == kIdeographicSpace) {
      i += kIdeographicSpace.size();
    } else if (c == '#' || text.substr(i, 2) == "//") {
      size_t eol = text.find('\n', i);
      if (eol == std::string_view::npos || eol > end) eol = end;
      size_t last = eol;
      while (last > i && (text[last - 1] == ' ' || text[last - 1] == '\t' || text[last - 1] == '\r')) --last;
      out.push_back({newlines, nullptr, text.substr(i, last - i)});
      newlines = 0;
      i = eol;
    } else {
      return false;
    }
  }
  return true;
}

class Printer {
 public:
  Printer(std::string_view text, const std::vector<Token>& tokens) : text_(text), tokens_(tokens) {}

  std::string Print(std::vector<Piece> pieces) {
    int carried = 0;  // line breaks before a dropped comma stay
    for (size_t p = 0; p < pieces.size(); ++p) {
      Piece& piece = pieces[p];
      piece.newlines += carried;
      carried = 0;
      const Token* next_token = piece.token;
      for (size_t q = p; next_token == nullptr && q < pieces.size(); ++q) next_token = pieces[q].token;
      if (piece.token != nullptr && piece.token->starts_item) StartItem(*piece.token);
      if (piece.token != nullptr && piece.token->kind == TokenKind::kComma && InList()) {  // optional here
        carried = piece.newlines;
        continue;
      }
      if (piece.newlines > 0 || out_.empty()) {
        out_.append(piece.newlines, '\n');
        if (piece.token != nullptr) {
          out_.append(Indent(*piece.token), ' ');
        } else if (previous_ != nullptr && next_token != nullptr && !next_token->starts_item) {
          out_.append(Indent(*next_token), ' ');  // a comment inside an item, indented as what follows it
        }
      } else if (piece.token == nullptr) {
        size_t line_start = out_.rfind('\n') + 1;  // npos + 1 == 0
        trailing_.push_back({Lines(), out_.size() - line_start});
        out_ += "  ";
      } else {
        out_ += Separator(*piece.token);
      }
      if (piece.token == nullptr) {
        out_ += piece.comment;
        continue;
      }
      Emit(*piece.token);
    }
    while (!out_.empty() && (out_.back() == '\n' || out_.back() == ' ')) out_.pop_back();
    if (!out_.empty()) out_ += '\n';
    return AlignTrailingComments();
  }

 private:
  int Lines() const { return static_cast<int>(std::count(out_.begin(), out_.end(), '\n')); }

  // Trailing comments on consecutive lines start in one column, two spaces
  // past the longest code among them (as gofmt aligns them).
  std::string AlignTrailingComments() const {
    if (trailing_.empty()) return out_;
    std::vector<std::string_view> lines;
    for (size_t start = 0; start < out_.size();) {
      size_t end = out_.find('\n', start);
      lines.push_back(std::string_view(out_).substr(start, end - start));
      start = end + 1;
    }
    std::vector<int> column(lines.size(), -1);
    for (size_t i = 0; i < trailing_.size();) {
      size_t j = i;
      int widest = 0;
      while (j < trailing_.size() && trailing_[j].line == trailing_[i].line + static_cast<int>(j - i)) {
        widest = std::max(widest, utf8::DisplayWidth(lines[trailing_[j].line].substr(0, trailing_[j].offset)));
        ++j;
      }
      for (size_t k = i; k < j; ++k) column[trailing_[k].line] = widest + 2;
      i = j;
    }
    std::string out;
    out.reserve(out_.size() + 64);
    size_t next = 0;
    for (size_t l = 0; l < lines.size(); ++l) {
      if (column[l] < 0) {
        out += lines[l];
      } else {
        size_t offset = trailing_[next++].offset;
        std::string_view code = lines[l].substr(0, offset);
        out += code;
        out.append(column[l] - utf8::DisplayWidth(code), ' ');
        out += lines[l].substr(offset + 2);
      }
      out += '\n';
    }
    return out;
  }

  std::string_view Text(const Token& t) const { return text_.substr(t.span.begin, t.span.end - t.span.begin); }

  void StartItem(const Token& t) {
    std::string_view word = Text(t);
    item_ = word == "profile" ? Item::kProfile : word == "enum" ? Item::kEnum : word == "event" ? Item::kEvent
            : word == "rule" || word == "when" ? Item::kRule : Item::kOther;
    depth_ = 0;
  }

  // Inside the braces of an enum, event or profile, where commas are optional.
  bool InList() const { return depth_ > 0 && (item_ == Item::kEnum || item_ == Item::kEvent || item_ == Item::kProfile); }

  // Whether `t` begins an element of such a list: an enum member, or a field (`name:`).
  bool StartsElement(const Token& t) const {
    if (!InList() || t.kind != TokenKind::kName) return false;
    if (item_ == Item::kEnum || depth_ > 1) return true;  // members, also of `enum { … }` in a field type
    const Token* next = &t + 1;
    return next < tokens_.data() + tokens_.size() && next->kind == TokenKind::kColon;
  }

  int Indent(const Token& t) const {
    if (t.starts_item) return 0;
    if (depth_ > 0) return 2 * (t.kind == TokenKind::kRBrace ? depth_ - 1 : depth_);
    if (item_ == Item::kRule) {
      std::string_view word = Text(t);
      return word == "when" || word == "then" ? 2 : 4;
    }
    return 2;
  }

  // What goes between the previous token and `t` on one line.
  std::string Separator(const Token& t) const {
    if (previous_ == nullptr) return "";
    if (StartsElement(t) && previous_->kind != TokenKind::kLBrace) return ", ";
    switch (t.kind) {
      case TokenKind::kComma: case TokenKind::kRParen: case TokenKind::kColon: case TokenKind::kDot: return "";
      default: break;
    }
    if (previous_->kind == TokenKind::kLParen || previous_->kind == TokenKind::kDot) return "";
    if (previous_->kind == TokenKind::kLBrace && t.kind == TokenKind::kRBrace) return "";
    if (t.kind == TokenKind::kLParen) {  // a call: `count(`, `since(`, `hour(`
      std::string_view word = Text(*previous_);
      if (previous_->kind == TokenKind::kName || word == "count" || word == "sum" || word == "min" || word == "max" ||
          word == "avg" || word == "since")
        return "";
    }
    return " ";
  }

  void Emit(const Token& t) {
    switch (t.kind) {  // full-width forms lex as their ASCII twins (E0003): write the twin
      case TokenKind::kLParen: out_ += '('; break;
      case TokenKind::kRParen: out_ += ')'; break;
      case TokenKind::kComma: out_ += ','; break;
      case TokenKind::kColon: out_ += ':'; break;
      case TokenKind::kOperator: out_ += Text(t) == "\uFF1D" ? std::string_view("=") : Text(t); break;
      case TokenKind::kString: {
        std::string_view s = Text(t);
        std::string_view open = "\u201C", close = "\u201D";
        bool curly = s.size() >= open.size() + close.size() && s.substr(0, open.size()) == open;  // `""` is shorter
        std::string_view inner = curly ? s.substr(open.size(), s.size() - open.size() - close.size()) : s;
        if (curly && inner.find_first_of("\"\\") == std::string_view::npos) {
          out_ += '"';
          out_ += inner;
          out_ += '"';
        } else {
          out_ += s;
        }
        break;
      }
      case TokenKind::kLBrace: ++depth_; out_ += '{'; break;
      case TokenKind::kRBrace: depth_ = depth_ > 0 ? depth_ - 1 : 0; out_ += '}'; break;
      default: out_ += Text(t);
    }
    previous_ = &t;
  }

  enum class Item { kProfile, kEnum, kEvent, kRule, kOther };

  std::string_view text_;
  const std::vector<Token>& tokens_;
  std::string out_;
  struct Trailing {
    int line;       // in out_
    size_t offset;  // of the comment's two leading spaces in that line
  };
  std::vector<Trailing> trailing_;
  const Token* previous_ = nullptr;
  Item item_ = Item::kOther;
  int depth_ = 0;
};

}  // namespace

namespace {

// Whether a parse reported an error other than full-width punctuation (E0003).
bool HasSyntaxError(const Diagnostics& diags, size_t from = 0) {
  for (size_t i = from; i < diags.all().size(); ++i) {
    const Diagnostic& d = diags.all()[i];
    if (InfoOf(d.kind).severity == Severity::kError && d.kind != DiagKind::kFullWidthPunctuation) return true;
  }
  return false;
}

// The text with full-width punctuation tokens written as their ASCII twins
// and everything else as it is.
std::string WithAsciiTwins(std::string_view text, const std::vector<Token>& tokens) {
  std::string out;
  size_t at = 0;
  for (const Token& t : tokens) {
    out.append(text.substr(at, t.span.begin - at));
    std::string_view s = text.substr(t.span.begin, t.span.end - t.span.begin);
    switch (t.kind) {
      case TokenKind::kLParen: out += '('; break;
      case TokenKind::kRParen: out += ')'; break;
      case TokenKind::kComma: out += ','; break;
      case TokenKind::kColon: out += ':'; break;
      case TokenKind::kOperator: out += s == "\uFF1D" ? std::string_view("=") : s; break;
      default: out += s;
    }
    at = t.span.end;
  }
  out.append(text.substr(at));
  return out;
}

}  // namespace

std::optional<std::string> Format(const Source& source, Diagnostics& diags) {
  size_t errors_before = diags.all().size();
  ast::RuleFile file = parse::Parse(source, diags, {.keep_tokens = true});
  if (HasSyntaxError(diags, errors_before)) return std::nullopt;
  bool full_width = diags.all().size() > errors_before;
  // Full-width punctuation is reported alone: the same text with its ASCII
  // twins must parse cleanly too (`time,＝ x` is `time,= x`, an error), or the
  // printer would drop or keep tokens the parse never accepted.
  if (full_width) {
    Source twins(source.name(), WithAsciiTwins(source.text(), file.tokens));
    Diagnostics checked;
    parse::Parse(twins, checked);
    if (HasSyntaxError(checked)) return std::nullopt;
  }
  std::string_view text = source.text();
  size_t at = text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;  // a BOM is dropped (A2)
  std::vector<Piece> pieces;
  int newlines = 0;
  for (const Token& t : file.tokens) {
    if (!ScanGap(text, at, t.span.begin, newlines, pieces)) return std::nullopt;
    pieces.push_back({newlines, &t, {}});
    newlines = 0;
    at = t.span.end;
  }
  if (!ScanGap(text, at, text.size(), newlines, pieces)) return std::nullopt;
  std::string formatted = Printer(text, file.tokens).Print(pieces);
  // Full-width punctuation can hide a syntax error behind it (`event order（`
  // reports only the `（`): the result must parse as cleanly as it claims.
  Source again(source.name(), formatted);
  Diagnostics checked;
  parse::Parse(again, checked);
  if (HasSyntaxError(checked)) return std::nullopt;
  return formatted;
}

}  // namespace qm::format
