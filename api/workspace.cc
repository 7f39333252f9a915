// Workspace and Analysis: what an editor asks of rule files (`qm lsp`).
// Names and their uses come from the checker's index (check::Index), so a
// definition, a reference and a rename mean what the checker resolved.
#include <algorithm>

#include "api/internal.h"
#include "compiler/driver/driver.h"
#include "compiler/parse/parse.h"

namespace qianmian {

using qm::check::SymbolKind;

struct Analysis::Impl {
  std::unique_ptr<qm::driver::Compilation> c;
  qm::Lang lang = qm::Lang::kEn;
  std::vector<Diagnostic> diagnostics;

  std::string T(std::string_view en, std::string_view zh) const {
    return std::string(lang == qm::Lang::kZh ? zh : en);
  }

  const qm::Source* SourceOf(const std::string& file) const {
    std::string key = qm::driver::CanonicalPath(file);
    for (const auto& s : c->sources)
      if (s->name() == file || qm::driver::CanonicalPath(s->name()) == key) return s.get();
    return nullptr;
  }

  // The byte offset of a line and code-point column; past the end of a line
  // is its end.
  static int32_t OffsetOf(const qm::Source& s, Position at) {
    if (at.line < 1) return 0;
    if (at.line > s.line_count()) return static_cast<int32_t>(s.text().size());
    std::string_view line = s.Line(at.line);
    size_t i = 0;
    for (int col = 1; col < at.column && i < line.size(); ++col) {
      ++i;
      while (i < line.size() && (static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) ++i;
    }
    return static_cast<int32_t>(line.data() - s.text().data() + i);
  }

  static Range RangeOf(const qm::Source* s, qm::Span span) {
    Range r;
    if (s == nullptr) return r;
    r.file = s->name();
    qm::LineCol b = s->Locate(span.begin), e = s->Locate(span.end);
    r.begin = {b.line, b.column};
    r.end = {e.line, e.column};
    return r;
  }

  // The symbol whose declaration or use covers `offset` (the cursor may sit
  // right after the name), or -1.
  int32_t SymbolAt(const qm::Source* s, int32_t offset) const {
    auto covers = [&](const qm::Source* src, qm::Span span) {
      return src == s && offset >= span.begin && offset <= span.end;
    };
    const qm::check::Index& index = c->index;
    for (const qm::check::Use& u : index.uses)
      if (covers(u.source, u.span)) return u.symbol;
    for (size_t i = 0; i < index.symbols.size(); ++i)
      if (covers(index.symbols[i].source, index.symbols[i].span)) return static_cast<int32_t>(i);
    return -1;
  }

  std::string Describe(const qm::check::Symbol& s) const {
    auto code = [](const std::string& text) { return "`" + text + "`"; };
    switch (s.kind) {
      case SymbolKind::kEvent: {
        std::string out = T("**event** ", "**事件** ") + code(s.name);
        std::string fields;
        for (const qm::check::Symbol& f : c->index.symbols)
          if (f.kind == SymbolKind::kEventField && f.container == s.name)
            fields += "\n- " + code(f.name) + ": " + f.type;
        return fields.empty() ? out : out + "\n" + fields;
      }
      case SymbolKind::kEventField:
        return T("**event field** ", "**事件字段** ") + code(s.container + "." + s.name) + ": " + s.type;
      case SymbolKind::kProfileField: {
        std::string out = T("**profile field** ", "**档案字段** ") + code(s.name) + ": " + s.type;
        if (!s.default_value.empty()) out += T(", default ", "，默认 ") + code(s.default_value);
        for (const qm::check::Symbol& e : c->index.symbols)
          if (e.kind == SymbolKind::kEnum && e.name == s.type) {
            out += "\n\n";
            for (size_t i = 0; i < e.members.size(); ++i) out += (i ? " → " : "") + e.members[i];
          }
        return out;
      }
      case SymbolKind::kEnum: {
        std::string out = T("**enum** ", "**枚举** ") + code(s.name) + "\n\n";
        for (size_t i = 0; i < s.members.size(); ++i) out += (i ? " → " : "") + s.members[i];
        return out;
      }
      case SymbolKind::kMember:
        return T("**member** ", "**成员** ") + code(s.name) + T(" of enum ", "，属于枚举 ") + code(s.container);
      case SymbolKind::kTag: {
        std::string out = (s.segment ? T("**segment** ", "**分层标签** ") : T("**tag** ", "**标签** ")) + code(s.name);
        if (s.segment) out += T(" (kept by the engine: rules may read it, not set it)", "（由引擎维护：规则可读，不可设置）");
        if (!s.description.empty()) out += "\n\n" + s.description;
        return out;
      }
      case SymbolKind::kRule:
        return T("**rule** ", "**规则** ") + code(s.name) + "\n\n" + code(s.trigger);
    }
    return {};
  }

  std::string SymbolDetail(const qm::check::Symbol& s) const {
    switch (s.kind) {
      case SymbolKind::kEventField: case SymbolKind::kProfileField: return s.type;
      case SymbolKind::kTag: return s.description;
      case SymbolKind::kRule: return s.trigger;
      case SymbolKind::kMember: return s.container;
      case SymbolKind::kEnum: {
        std::string out;
        for (size_t i = 0; i < s.members.size(); ++i) out += (i ? ", " : "") + s.members[i];
        return out;
      }
      case SymbolKind::kEvent: return {};
    }
    return {};
  }
};

namespace {

SymbolInfo::Kind PublicKind(const qm::check::Symbol& s) {
  switch (s.kind) {
    case SymbolKind::kEvent: return SymbolInfo::Kind::kEvent;
    case SymbolKind::kEventField: return SymbolInfo::Kind::kEventField;
    case SymbolKind::kProfileField: return SymbolInfo::Kind::kProfileField;
    case SymbolKind::kEnum: return SymbolInfo::Kind::kEnum;
    case SymbolKind::kMember: return SymbolInfo::Kind::kMember;
    case SymbolKind::kTag: return s.segment ? SymbolInfo::Kind::kSegment : SymbolInfo::Kind::kTag;
    case SymbolKind::kRule: return SymbolInfo::Kind::kRule;
  }
  return SymbolInfo::Kind::kEvent;
}

// Whether `name` is one name token of the language (not a keyword, nothing
// else around it): the lexer decides, as it does for rule files.
bool IsName(const std::string& name) {
  qm::Source source("name", name);
  qm::Diagnostics diags;
  qm::ast::RuleFile file = qm::parse::Parse(source, diags, {.keep_tokens = true});
  return file.tokens.size() == 1 && file.tokens[0].kind == qm::ast::TokenKind::kName &&
         file.tokens[0].span.begin == 0 && file.tokens[0].span.end == static_cast<int32_t>(name.size());
}

}  // namespace

const std::vector<Diagnostic>& Analysis::diagnostics() const { return impl_->diagnostics; }

std::vector<std::string> Analysis::files() const {
  std::vector<std::string> out;
  for (const auto& s : impl_->c->sources) out.push_back(s->name());
  return out;
}

std::string Analysis::Hover(const std::string& file, Position at) const {
  const qm::Source* s = impl_->SourceOf(file);
  if (s == nullptr) return {};
  int32_t offset = Impl::OffsetOf(*s, at);
  std::string out;
  int32_t symbol = impl_->SymbolAt(s, offset);
  if (symbol >= 0) out = impl_->Describe(impl_->c->index.symbols[symbol]);
  for (const qm::Diagnostic& d : impl_->c->diags.all()) {
    if (d.source != s || offset < d.span.begin || offset > std::max(d.span.end, d.span.begin + 1)) continue;
    if (!out.empty()) out += "\n\n---\n\n";
    out += std::string(d.severity() == qm::Severity::kError ? "error" : "warning") + "[" +
           std::string(qm::InfoOf(d.kind).code) + "]: " + d.Message(impl_->lang);
    std::string help = d.HelpText(impl_->lang);
    if (!help.empty()) out += "\n\n" + impl_->T("help: ", "提示：") + help;
  }
  return out;
}

std::vector<Range> Analysis::Definition(const std::string& file, Position at) const {
  const qm::Source* s = impl_->SourceOf(file);
  if (s == nullptr) return {};
  int32_t symbol = impl_->SymbolAt(s, Impl::OffsetOf(*s, at));
  if (symbol < 0) return {};
  const qm::check::Symbol& sym = impl_->c->index.symbols[symbol];
  return {Impl::RangeOf(sym.source, sym.span)};
}

std::vector<Range> Analysis::References(const std::string& file, Position at, bool include_declaration) const {
  const qm::Source* s = impl_->SourceOf(file);
  if (s == nullptr) return {};
  int32_t symbol = impl_->SymbolAt(s, Impl::OffsetOf(*s, at));
  if (symbol < 0) return {};
  std::vector<Range> out;
  const qm::check::Symbol& sym = impl_->c->index.symbols[symbol];
  if (include_declaration) out.push_back(Impl::RangeOf(sym.source, sym.span));
  for (const qm::check::Use& u : impl_->c->index.uses)
    if (u.symbol == symbol) out.push_back(Impl::RangeOf(u.source, u.span));
  return out;
}

std::string Analysis::Rename(const std::string& file, Position at, const std::string& new_name,
                             std::vector<TextEdit>& edits) const {
  edits.clear();
  const qm::Source* s = impl_->SourceOf(file);
  int32_t symbol = s != nullptr ? impl_->SymbolAt(s, Impl::OffsetOf(*s, at)) : -1;
  if (symbol < 0) return impl_->T("there is no declared name here to rename", "此处没有可重命名的已声明名称");
  const qm::check::Index& index = impl_->c->index;
  const qm::check::Symbol& sym = index.symbols[symbol];
  if (sym.kind == SymbolKind::kRule)
    return impl_->T("rules are renamed by editing their name (nothing refers to a rule)",
                    "规则名直接修改即可（没有其他地方引用规则）");
  if (!IsName(new_name))
    return impl_->T("`" + new_name + "` is not a name (a keyword, or characters a name cannot hold)",
                    "`" + new_name + "` 不是合法名称（是关键字，或含有名称不能包含的字符）");
  for (const qm::check::Symbol& other : index.symbols) {
    // Names share a namespace by kind; fields also with the profile (a bare name reads either, A13).
    bool fields = (sym.kind == SymbolKind::kEventField || sym.kind == SymbolKind::kProfileField) &&
                  (other.kind == SymbolKind::kEventField || other.kind == SymbolKind::kProfileField) &&
                  (other.kind == SymbolKind::kProfileField || sym.kind == SymbolKind::kProfileField ||
                   other.container == sym.container);
    // Members and event fields are named within their enum and event.
    bool scoped = sym.kind == SymbolKind::kMember || sym.kind == SymbolKind::kEventField;
    bool same = other.kind == sym.kind && (!scoped || other.container == sym.container);
    if (other.name == new_name && (fields || same))
      return impl_->T("`" + new_name + "` is already declared", "`" + new_name + "` 已经声明过了");
  }
  edits.push_back({Impl::RangeOf(sym.source, sym.span), new_name});
  for (const qm::check::Use& u : index.uses)
    if (u.symbol == symbol) edits.push_back({Impl::RangeOf(u.source, u.span), new_name});
  return {};
}

std::vector<SymbolInfo> Analysis::Symbols(const std::string& file) const {
  const qm::Source* s = impl_->SourceOf(file);
  std::vector<SymbolInfo> out;
  if (s == nullptr) return out;
  for (const qm::check::Symbol& sym : impl_->c->index.symbols) {
    if (sym.source != s) continue;
    out.push_back({PublicKind(sym), sym.name, impl_->SymbolDetail(sym), sym.container, Impl::RangeOf(s, sym.span)});
  }
  return out;
}

std::vector<Completion> Analysis::Complete(const std::string& file, Position at) const {
  const qm::Source* s = impl_->SourceOf(file);
  if (s == nullptr) return {};
  int32_t offset = Impl::OffsetOf(*s, at);
  qm::Diagnostics diags;
  qm::Source copy(s->name(), s->text());
  qm::ast::RuleFile parsed = qm::parse::Parse(copy, diags, {.keep_tokens = true});
  // The tokens before the cursor, leaving out the name being typed.
  std::vector<qm::ast::Token> before;
  for (const qm::ast::Token& t : parsed.tokens) {
    if (t.span.end > offset || (t.span.end == offset && t.kind == qm::ast::TokenKind::kName)) break;
    before.push_back(t);
  }
  auto text = [&](size_t back) -> std::string {
    if (back >= before.size()) return {};
    qm::Span sp = before[before.size() - 1 - back].span;
    return s->text().substr(sp.begin, sp.end - sp.begin);
  };
  // The item the cursor is in: from its first token.
  size_t item_start = before.size();
  while (item_start > 0 && !before[item_start - 1].starts_item) --item_start;
  std::string item_word = item_start > 0 ? s->text().substr(before[item_start - 1].span.begin,
                                                            before[item_start - 1].span.end - before[item_start - 1].span.begin)
                                         : "";
  bool in_rule = item_word == "rule" || item_word == "when";

  const qm::check::Index& index = impl_->c->index;
  std::vector<Completion> out;
  auto add_symbols = [&](SymbolKind kind, Completion::Kind as, const std::string& container = {}) {
    for (const qm::check::Symbol& sym : index.symbols)
      if (sym.kind == kind && (container.empty() || sym.container == container))
        out.push_back({as, sym.name, impl_->SymbolDetail(sym), sym.name, false});
  };
  auto keywords = [&](std::initializer_list<const char*> words) {
    for (const char* w : words) out.push_back({Completion::Kind::kKeyword, w, "", w, false});
  };
  auto events = [&] {
    add_symbols(SymbolKind::kEvent, Completion::Kind::kEvent);
    keywords({"any"});
  };

  std::string prev = text(0), prev2 = text(1);
  if (prev == ".") {
    if (prev2 == "profile") add_symbols(SymbolKind::kProfileField, Completion::Kind::kField);
    else add_symbols(SymbolKind::kEventField, Completion::Kind::kField, prev2);
    return out;
  }
  if (prev == "when") {
    events();
    keywords({"tagged", "untagged", "no"});
    for (const qm::check::Symbol& sym : index.symbols)
      if (sym.kind == SymbolKind::kProfileField)
        out.push_back({Completion::Kind::kSnippet, sym.name + " becomes", sym.type, sym.name + " becomes ${1}", true});
    return out;
  }
  if (prev == "no" || prev == "unless" || prev == "since" ||
      ((prev == "(" || prev == "（") && (prev2 == "count" || prev2 == "sum" || prev2 == "min" || prev2 == "max" ||
                                       prev2 == "avg" || prev2 == "since"))) {
    events();
    return out;
  }
  if (prev == "has" || prev == "tag" || prev == "untag" || prev == "tagged" || prev == "untagged") {
    if (in_rule) {
      add_symbols(SymbolKind::kTag, Completion::Kind::kTag);
      return out;
    }
  }
  if (in_rule && (prev == "set" || prev == "add")) {
    add_symbols(SymbolKind::kProfileField, Completion::Kind::kField);
    return out;
  }
  // After `stage =`, `stage in (…,` or `set stage`: the field's members.
  {
    size_t back = 0;
    if (prev == "," || prev == "，") {
      while (back < before.size() && text(back) != "(" && text(back) != "（" && text(back) != ")") ++back;
      if (text(back) == "(" || text(back) == "（") back += (text(back + 1) == "in" ? 1 : 0) + (text(back + 2) == "not" ? 1 : 0);
      else back = before.size();
    } else if (prev == "(" || prev == "（") {
      back = text(1) == "in" ? 1 : before.size();
    }
    bool op = prev == "=" || prev == "!=" || prev == "＝" || prev == "<" || prev == "<=" || prev == ">" || prev == ">=";
    std::string field = op ? prev2 : (back < before.size() && text(back) == "in") ? text(back + 1)
                              : (prev2 == "set" ? prev : "");
    if (!field.empty()) {
      for (const qm::check::Symbol& f : index.symbols) {
        if ((f.kind != SymbolKind::kProfileField && f.kind != SymbolKind::kEventField) || f.name != field) continue;
        for (const qm::check::Symbol& e : index.symbols)
          if (e.kind == SymbolKind::kEnum && e.name == f.type) {
            add_symbols(SymbolKind::kMember, Completion::Kind::kMember, e.name);
            return out;
          }
        for (const qm::check::Symbol& m : index.symbols)  // an inline enum is named after its field
          if (m.kind == SymbolKind::kMember && m.container == f.name)
            out.push_back({Completion::Kind::kMember, m.name, m.container, m.name, false});
        if (!out.empty()) return out;
      }
    }
  }
  if (!in_rule || before.empty() || (before.back().starts_item && item_start == before.size())) {
    keywords({"event", "profile", "enum", "tag", "import", "rule", "when", "zone", "cap", "quiet", "identity",
              "segment", "renamed"});
    out.push_back({Completion::Kind::kSnippet, "rule", impl_->T("a named rule", "具名规则"),
                   "rule ${1:名称}: when ${2:event} and ${3:条件} then ${4:tag 标签}", true});
    out.push_back({Completion::Kind::kSnippet, "tag", impl_->T("a tag with its description", "标签及说明"),
                   "tag ${1:标签} \"${2:说明}\"", true});
    if (!in_rule) return out;
  }
  // In a rule's condition or actions: the triggering event's fields, the profile's, keywords.
  std::string trigger;
  for (size_t i = item_start; i + 1 < before.size(); ++i) {
    std::string w = s->text().substr(before[i].span.begin, before[i].span.end - before[i].span.begin);
    if (w == "when") {
      trigger = s->text().substr(before[i + 1].span.begin, before[i + 1].span.end - before[i + 1].span.begin);
      break;
    }
  }
  if (!trigger.empty()) add_symbols(SymbolKind::kEventField, Completion::Kind::kField, trigger);
  add_symbols(SymbolKind::kProfileField, Completion::Kind::kField);
  keywords({"and", "or", "not", "has", "in", "contains", "then", "count", "sum", "min", "max", "avg", "since", "within",
            "where", "set", "add", "tag", "untag", "push", "invite", "notify", "after", "unless", "every", "ts",
            "customer"});
  return out;
}

void Workspace::Open(const std::string& path, std::string text) {
  open_[qm::driver::CanonicalPath(path)] = std::move(text);
}

void Workspace::Close(const std::string& path) { open_.erase(qm::driver::CanonicalPath(path)); }

Analysis Workspace::Check(const std::string& path) const {
  auto impl = std::make_shared<Analysis::Impl>();
  impl->lang = language_ == Language::kChinese ? qm::Lang::kZh : qm::Lang::kEn;
  impl->c = qm::driver::CompileFiles({path}, {}, &open_);
  for (const qm::Diagnostic& d : impl->c->diags.all()) impl->diagnostics.push_back(internal::Convert(d, impl->lang));
  return Analysis(std::move(impl));
}

}  // namespace qianmian
