#include "compiler/diag/diag.h"

#include <algorithm>
#include <cstdint>
#include <unordered_map>

#include "compiler/value/value.h"

namespace qm {
namespace {

struct HelpInfo {
  std::string_view en;
  std::string_view zh;
};

const std::vector<HelpInfo>& AllHelps() {
  static const std::vector<HelpInfo> helps = {
#define QM_DIAG(name, severity, code, en, zh)
#define QM_HELP(name, en, zh) {en, zh},
#include "compiler/diag/kinds.def"
#undef QM_DIAG
#undef QM_HELP
  };
  return helps;
}

// At most `max_bytes` of `text`, cut at a code point boundary, with `…` when cut.
std::string Shortened(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "…";
}

// A quoted source line longer than kMaxQuotedBytes is cut to a window around the span.
constexpr size_t kMaxQuotedBytes = 300, kContextBefore = 120, kContextAfter = 180;

// Arguments quote user text (names, lines); a 100 KB name is shown by its start.
constexpr size_t kMaxArgBytes = 200;

constexpr char kEnglishMark = '\x1E', kChineseMark = '\x1F';

// A Bilingual argument in `lang`; any other argument as it is.
std::string_view In(std::string_view arg, Lang lang) {
  if (arg.empty() || arg[0] != kEnglishMark) return arg;
  size_t zh = arg.find(kChineseMark);
  if (zh == std::string_view::npos) return arg.substr(1);
  return lang == Lang::kZh ? arg.substr(zh + 1) : arg.substr(1, zh - 1);
}

std::string Format(std::string_view pattern, const std::vector<std::string>& args, Lang lang,
                   size_t max_arg_bytes = kMaxArgBytes) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '{' && i + 2 < pattern.size() && pattern[i + 2] == '}' &&
        pattern[i + 1] >= '0' && pattern[i + 1] <= '9') {
      size_t k = pattern[i + 1] - '0';
      if (k < args.size()) out += Shortened(In(args[k], lang), max_arg_bytes);
      else out += pattern.substr(i, 3);  // a missing argument shows, never vanishes
      i += 2;
    } else {
      out += pattern[i];
    }
  }
  return out;
}

}  // namespace

std::string Bilingual(std::string_view en, std::string_view zh) {
  std::string out(1, kEnglishMark);
  out += en;
  out += kChineseMark;
  out += zh;
  return out;
}

const std::vector<DiagInfo>& AllDiagKinds() {
  static const std::vector<DiagInfo> kinds = {
#define QM_DIAG(name, severity, code, en, zh) {#name, Severity::k##severity, code, en, zh},
#define QM_HELP(name, en, zh)
#include "compiler/diag/kinds.def"
#undef QM_DIAG
#undef QM_HELP
  };
  return kinds;
}

const DiagInfo& InfoOf(DiagKind kind) { return AllDiagKinds()[static_cast<size_t>(kind)]; }

const std::vector<ErrorInfo>& AllErrorKinds() {
  static const std::vector<ErrorInfo> kinds = {
#define QM_ERROR(name, en, zh) {#name, en, zh},
#include "compiler/diag/errors.def"
#undef QM_ERROR
  };
  return kinds;
}

std::string Error::Message(Lang lang) const {
  const ErrorInfo& info = AllErrorKinds()[static_cast<size_t>(kind)];
  return Format(lang == Lang::kZh ? info.zh : info.en, args, lang, SIZE_MAX);  // a path or a system's reason, whole
}

std::string Diagnostic::Message(Lang lang) const {
  const DiagInfo& info = InfoOf(kind);
  return Format(lang == Lang::kZh ? info.zh : info.en, args, lang);
}

std::string Diagnostic::HelpText(Lang lang) const {
  if (!help) return {};
  const HelpInfo& info = AllHelps()[static_cast<size_t>(help->kind)];
  return Format(lang == Lang::kZh ? info.zh : info.en, help->args, lang);
}

Diagnostic& Diagnostics::Add(DiagKind kind, const Source* source, Span span,
                             std::vector<std::string> args) {
  ++(InfoOf(kind).severity == Severity::kError ? errors_ : warnings_);
  if (kept_[source] == kMaxPerFile) {
    Dropped& dropped = dropped_[source];
    if (dropped.count++ == 0) dropped.first = span;
    scratch_ = Diagnostic{kind, source, span, {}, std::nullopt};
    return scratch_;
  }
  ++kept_[source];
  items_.push_back(Diagnostic{kind, source, span, std::move(args), std::nullopt});
  return items_.back();
}

void Diagnostics::DropWarnings(const std::function<bool(const Diagnostic&)>& silenced) {
  std::erase_if(items_, [&](const Diagnostic& d) {
    if (d.severity() != Severity::kWarning || !silenced(d)) return false;
    --warnings_;
    return true;
  });
}

void Diagnostics::SortBy(const std::vector<const Source*>& file_order) {
  for (auto& [source, dropped] : dropped_)
    items_.push_back(Diagnostic{DiagKind::kTooManyDiagnostics, source, dropped.first,
                                {std::to_string(dropped.count), std::to_string(kMaxPerFile)}, std::nullopt});
  dropped_.clear();
  std::unordered_map<const Source*, size_t> rank;
  for (size_t i = 0; i < file_order.size(); ++i) rank.emplace(file_order[i], i + 1);
  std::stable_sort(items_.begin(), items_.end(), [&](const Diagnostic& a, const Diagnostic& b) {
    size_t ra = rank.count(a.source) ? rank[a.source] : 0;
    size_t rb = rank.count(b.source) ? rank[b.source] : 0;
    if (ra != rb) return ra < rb;
    return a.span.begin < b.span.begin;
  });
}

std::string RenderText(const Diagnostic& d, Lang lang) {
  const DiagInfo& info = InfoOf(d.kind);
  std::string severity = d.severity() == Severity::kError ? "error" : "warning";
  std::string out;
  if (d.source == nullptr) {
    out = "qm: " + severity + "[" + std::string(info.code) + "]: " + d.Message(lang) + "\n";
  } else {
    LineCol at = d.source->Locate(d.span.begin);
    out = d.source->name() + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) +
          ": " + severity + "[" + std::string(info.code) + "]: " + d.Message(lang) + "\n";
    std::string number = std::to_string(at.line);
    std::string gutter(number.size(), ' ');
    std::string_view line = d.source->Line(at.line);
    // Byte offset of the span start within the line.
    size_t col_bytes = 0;
    for (size_t cps = at.column - 1; cps > 0 && col_bytes < line.size(); --cps) {
      ++col_bytes;
      while (col_bytes < line.size() && (static_cast<unsigned char>(line[col_bytes]) & 0xC0) == 0x80) ++col_bytes;
    }
    // A long line is quoted as a window around the span, `…` marking the cuts.
    auto boundary = [&](size_t at_byte) {
      while (at_byte > 0 && at_byte < line.size() && (static_cast<unsigned char>(line[at_byte]) & 0xC0) == 0x80)
        --at_byte;
      return std::min(at_byte, line.size());
    };
    size_t from = 0, to = line.size();
    if (line.size() > kMaxQuotedBytes) {
      from = col_bytes > kContextBefore ? boundary(col_bytes - kContextBefore) : 0;
      to = boundary(col_bytes + kContextAfter);
    }
    std::string lead = from > 0 ? "…" : "", trail = to < line.size() ? "…" : "";
    // Tabs would make the caret drift; show them as one space.
    std::string shown = lead + utf8::Sanitize(line.substr(from, to - from)) + trail;
    std::replace(shown.begin(), shown.end(), '\t', ' ');
    out += gutter + " |\n" + number + " | " + shown + "\n";
    // The underline covers the span's part on its first shown line (at least one column).
    size_t span_len = static_cast<size_t>(std::max(0, d.span.end - d.span.begin));
    std::string_view marked = line.substr(col_bytes, std::min(span_len, to - std::min(to, col_bytes)));
    int pad = utf8::DisplayWidth(lead) + utf8::DisplayWidth(line.substr(from, col_bytes - from));
    int width = std::max(1, utf8::DisplayWidth(marked));
    out += gutter + " | " + std::string(pad, ' ') + std::string(width, '^') + "\n";
  }
  if (d.help) out += "  = help: " + d.HelpText(lang) + "\n";
  return out;
}


std::string RenderJson(const Diagnostic& d, Lang lang) {
  const DiagInfo& info = InfoOf(d.kind);
  std::string out = "{\"file\":";
  if (d.source == nullptr) {
    out += "null,\"line\":null,\"column\":null,\"end_line\":null,\"end_column\":null";
  } else {
    LineCol from = d.source->Locate(d.span.begin);
    LineCol to = d.source->Locate(std::max(d.span.begin, d.span.end));
    AppendJsonString(out, d.source->name());
    out += ",\"line\":" + std::to_string(from.line) + ",\"column\":" + std::to_string(from.column) +
           ",\"end_line\":" + std::to_string(to.line) + ",\"end_column\":" + std::to_string(to.column);
  }
  out += ",\"severity\":";
  out += d.severity() == Severity::kError ? "\"error\"" : "\"warning\"";
  out += ",\"code\":";
  AppendJsonString(out, info.code);
  out += ",\"message\":";
  AppendJsonString(out, d.Message(lang));
  out += ",\"help\":";
  if (d.help) AppendJsonString(out, d.HelpText(lang)); else out += "null";
  out += "}";
  return out;
}

std::optional<Help> Suggest(std::string_view name, const std::vector<std::string>& candidates) {
  std::u32string target = utf8::Decode(name);
  int best = -1;
  const std::string* choice = nullptr;
  for (const std::string& c : candidates) {
    std::u32string cand = utf8::Decode(c);
    int d = utf8::EditDistance(target, cand);
    int longest = static_cast<int>(std::max(target.size(), cand.size()));
    if (d == 0 || d > std::max(1, longest / 2) || d >= longest) continue;
    if (best < 0 || d < best) { best = d; choice = &c; }
  }
  if (choice == nullptr) return std::nullopt;
  return Help::Of<HelpKind::kDidYouMean>({*choice});
}

}  // namespace qm
