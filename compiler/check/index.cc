// The index of declared names and their uses (check.h: Index), for editors.
#include "compiler/check/internal/checker.h"

namespace qm::check_internal {

namespace {

// A name written as a string (`tag "VIP / 重点" …`, `"已购"`, D15) is the text inside the quotes.
Span NameSpan(const Source& source, Span span) {
  if (span.end - span.begin >= 2 && source.text()[span.begin] == '"') return {span.begin + 1, span.end - 1};
  return span;
}

}  // namespace

void Checker::Declare(SymbolKind kind, int32_t owner, int32_t index, const std::string& name, Span span) {
  span = NameSpan(*src_, span);
  auto [it, fresh] = symbol_of_.emplace(SymbolKey{kind, owner, index}, static_cast<int32_t>(index_.symbols.size()));
  if (!fresh) return;
  Symbol s{kind, name};
  s.source = src_;
  s.span = span;
  index_.symbols.push_back(std::move(s));
  key_of_.push_back(it->first);
}

void Checker::Used(SymbolKind kind, int32_t owner, int32_t index, Span span) {
  auto it = symbol_of_.find(SymbolKey{kind, owner, index});
  if (it == symbol_of_.end()) return;
  index_.uses.push_back(Use{it->second, src_, NameSpan(*src_, span)});
}

// Members() kept each name's first spelling, in order: the k-th new name is member k.
void Checker::DeclareMembers(int32_t enum_id, const std::vector<ast::Ident>& members) {
  std::unordered_set<std::string_view> seen;
  int32_t k = 0;
  for (const ast::Ident& m : members)
    if (seen.insert(m.text).second) Declare(SymbolKind::kMember, enum_id, k++, m.text, m.span);
}

void Checker::DescribeSymbols() {
  for (size_t i = 0; i < index_.symbols.size(); ++i) {
    Symbol& s = index_.symbols[i];
    auto [kind, owner, k] = key_of_[i];
    switch (kind) {
      case SymbolKind::kEvent: break;
      case SymbolKind::kEventField:
        s.container = p_.events[owner].name;
        s.type = p_.TypeName(p_.events[owner].fields[k].type);
        break;
      case SymbolKind::kProfileField: {
        const FieldInfo& f = p_.profile[k];
        s.container = "profile";
        s.type = p_.TypeName(f.type);
        if (f.default_value) s.default_value = p_.Spell(*f.default_value);
        break;
      }
      case SymbolKind::kEnum: s.members = p_.enums[k].members; break;
      case SymbolKind::kMember: s.container = p_.enums[owner].name; break;
      case SymbolKind::kTag:
        s.description = p_.tags[k].description;
        s.segment = p_.tags[k].segment >= 0;
        break;
      case SymbolKind::kRule: break;
    }
  }
}

}  // namespace qm::check_internal
