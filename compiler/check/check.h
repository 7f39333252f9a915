// Check: parsed files -> a resolved, typed Program plus diagnostics.
// The Program is a new structure (the AST is never annotated): every name is
// resolved to a slot, every expression node carries its type, and equal
// aggregates are shared, so lowering and both engines start from it.
#ifndef QM_COMPILER_CHECK_CHECK_H_
#define QM_COMPILER_CHECK_CHECK_H_

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compiler/ast/ast.h"
#include "compiler/diag/diag.h"
#include "compiler/value/value.h"

namespace qm::check {

// An index into one table of the Program, typed by the table: an EventId is
// not accepted where a TagId is expected, and an int becomes an id only when
// written out (`EventId{i}`). It reads as its index, so tables are indexed
// with it directly.
template <class Table>
class Id {
 public:
  constexpr Id() = default;
  constexpr explicit Id(int32_t index) : index_(index) {}
  constexpr operator int32_t() const { return index_; }  // NOLINT: an index by design

 private:
  int32_t index_ = -1;
};
using EnumId = Id<struct EnumTable>;
using EventId = Id<struct EventTable>;
using FieldId = Id<struct FieldTable>;  // of an event's fields or of the profile, as the owner says
using TagId = Id<struct TagTable>;
using AggregateId = Id<struct AggregateTable>;

enum class TypeKind : uint8_t {
  kError,    // an already-reported mistake; suppresses follow-on errors
  kInt, kNumber, kMoney, kBool, kText, kTime, kDuration, kEnum,
  kDecimal,  // a numeric literal, exact until it meets a field (A15)
};

struct Type {
  TypeKind kind = TypeKind::kError;
  EnumId enum_id;
  bool operator==(const Type&) const = default;
  bool IsNumeric() const {
    return kind == TypeKind::kInt || kind == TypeKind::kNumber || kind == TypeKind::kMoney ||
           kind == TypeKind::kDecimal;
  }
};

// A constant after resolution. `i` holds int, cents, epoch ms, duration ms,
// an enum member index or a bool; `exact` every numeric literal's value.
struct Constant {
  Type type;
  int64_t i = 0;
  double d = 0;
  std::string text;
  Decimal exact;
  bool operator==(const Constant& o) const;
};

struct EnumInfo {
  std::string name;  // `field` name for an inline enum
  std::vector<std::string> members;
  bool is_inline = false;
  const Source* source = nullptr;
  Span span;
};

struct FieldInfo {
  std::string name;
  Type type;
  std::optional<Constant> default_value;  // profile only
  const Source* source = nullptr;
  Span span;
  ast::MergePolicy merge = ast::MergePolicy::kKeep;  // profile only (D12)
};

struct EventInfo {
  std::string name;
  std::vector<FieldInfo> fields;
  const Source* source = nullptr;
  Span span;
  std::vector<FieldId> keys;  // per identity key (Program::identity): this event's field, or none (D11)
};

struct TagInfo {
  std::string name;
  std::string description;
  const Source* source = nullptr;
  Span span;
  int32_t segment = -1;  // a segment's tag (D13): its index in Program::segments
};

// `segment NAME "…" top|bottom P% by X every D at HH:MM` (D13): a tag the
// engine keeps, refreshed at A + k·D (A = 2024-01-01T00:00 in the rule zone
// plus `at`).
struct Segment {
  TagId tag;
  bool top = true;
  int64_t share_micro = 0;  // P × 10^6, in (0, 10^8]
  int32_t by = -1;          // NodeId: a ProfileField, Aggregate, Since or SinceField node
  int64_t every_ms = 0;
  int64_t at_ms = 0;        // into the local day
  const Source* source = nullptr;
  Span span;
};

using NodeId = int32_t;
inline constexpr NodeId kNoNode = -1;
// An event type, or one of these where a rule may name any event or none.
inline constexpr EventId kAnyEvent{-1};   // `any`, `since(any)`, `unless any`
inline constexpr EventId kNoUnless{-2};   // an `after` without `unless` (kept in state: do not renumber)

enum class NodeKind : uint8_t {
#define QM_NODE(name) k##name,
#include "compiler/check/nodes.def"
#undef QM_NODE
};

enum class CmpOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };
enum class AggFunc : uint8_t { kCount, kSum, kMin, kMax, kAvg };

// One expression node. Operands are other nodes' ids (children come first
// in `nodes`, so a forward pass evaluates bottom-up).
struct Node {
  NodeKind kind;
  Type type;
  Span span;
  const Source* source = nullptr;
  CmpOp op = CmpOp::kEq;          // kCompare
  bool negated = false;           // kIn
  EventId event = kAnyEvent;      // kEventField; kSince (kAnyEvent: any event)
  FieldId field;                  // kEventField: a field of `event`; kProfileField, kSinceField: a profile field
  AggregateId aggregate;          // kAggregate
  ClockPart clock = ClockPart::kHour;  // kClock
  TagId tag;                      // kHas
  std::vector<NodeId> operands;   // kCompare (2), kIn/kContains (1), kNot (1), kAnd/kOr (n)
  std::vector<Constant> constants;  // kConstant (1), kIn (list), kContains (1)
};

// A windowed aggregate, shared by every rule that writes it the same way.
struct AggregateInfo {
  AggFunc func;
  EventId event = kAnyEvent;  // event type or kAnyEvent (count only)
  FieldId field;              // sum/min/max/avg, count(distinct …)
  bool distinct = false;      // count(distinct E.f …) (D10)
  NodeId where = kNoNode;     // evaluated once per accepted event (C1)
  int64_t within_ms = 0;      // `within D`; 0: no such window
  std::optional<Period> within_this;  // `within this month` (D2)
  std::string spelling;       // canonical text, the sharing key

  bool Windowed() const { return within_ms > 0 || within_this.has_value(); }
  // The type of the aggregate's value: a count is an int; sum/min/max/avg
  // have their field's type.
  Type ValueType(const struct Program& p) const;
  // The window's first instant at `now` (A18, D2); the window ends at now.
  int64_t WindowFrom(int64_t now, int zone_minutes) const {
    return within_this ? PeriodStart(*within_this, now, zone_minutes) : now - within_ms;
  }
};

// kMerged: `when merged` without an event type of that name (D12, E9).
enum class TriggerKind : uint8_t { kEvent, kAny, kTagged, kUntagged, kBecomes, kQuiet, kMerged };
struct Trigger {
  TriggerKind kind;
  EventId event = kAnyEvent;  // kEvent; kQuiet (kAnyEvent: any event)
  TagId tag;                  // kTagged, kUntagged
  FieldId field;              // kBecomes: a profile field
  Constant value;             // kBecomes
  int64_t duration_ms = 0;    // kQuiet
};

enum class ActionKind : uint8_t { kSet, kAdd, kTag, kUntag, kPush, kInvite, kNotify };
// The language's word for an action (`set`, `push`, ...), as rules write it
// and output lines spell it (A28).
std::string_view Spelling(ActionKind kind);
// A push or invite target as push histories and state keep it: `p:VIP群`,
// `i:…` (A26: de-duplication is per kind and target).
// AssignTargetKey writes it into `key`, reusing its storage.
inline void AssignTargetKey(std::string& key, ActionKind kind, std::string_view target) {
  key = kind == ActionKind::kInvite ? "i:" : "p:";
  key += target;
}
inline std::string TargetKey(ActionKind kind, std::string_view target) {
  std::string key;
  AssignTargetKey(key, kind, target);
  return key;
}
// Whether `key` is TargetKey(kind, target), without building it (a step
// looks a push up in the history before it knows whether it sends it).
inline bool IsTargetKey(std::string_view key, ActionKind kind, std::string_view target) {
  return key.size() == target.size() + 2 && key[0] == (kind == ActionKind::kInvite ? 'i' : 'p') && key[1] == ':' &&
         key.substr(2) == target;
}
// The value of set/add: a constant, a field of the triggering event, a
// profile field, or the step time (`set vip_since ts`).
struct ActionValue {
  enum class Kind : uint8_t { kConstant, kEventField, kProfileField, kTs, kCustomer } kind = Kind::kConstant;
  Constant constant;
  EventId event;
  FieldId field;
  Type type;
};
// A string target or notify message with placeholders (D6, E5): texts and
// the values between them (texts.size() == values.size() + 1). A fixed text
// has no values and is its one text, `{{` and `}}` already made braces.
struct Template {
  std::vector<std::string> texts;
  std::vector<ActionValue> values;
  bool fixed() const { return values.empty(); }
};

struct Action {
  ActionKind kind;
  FieldId field;               // set/add: a profile field
  TagId tag;                   // tag/untag
  ActionValue value;           // set/add
  std::string text;            // push/invite/notify target as written (the text, when fixed)
  std::string message;         // notify, as written
  Template target, body;       // push/invite/notify target and notify message (D6)
  int64_t every_ms = 0;        // push/invite; 0 = once ever
  int64_t after_ms = 0;        // 0 = immediate
  EventId unless = kNoUnless;  // or kAnyEvent, or an event type
  NodeId unless_where = kNoNode;  // `unless E where COND` (D7)
  const Source* source = nullptr;
  Span span;
};

struct Rule {
  std::string name;
  Trigger trigger;
  NodeId condition = kNoNode;
  std::vector<Action> actions;
  const Source* source = nullptr;
  Span span;
  std::string meaning;  // ast::DebugString of the rule: what it says, not its layout
  Span name_span;     // the name, or `when` for an unnamed rule
  Span trigger_span;
};

inline constexpr int kDefaultZoneMinutes = 8 * 60;  // D1: +08:00

// `cap push N per D [for (…)]` (D4, E21).
struct Cap {
  ActionKind kind;  // kPush or kInvite
  int64_t count = 0;
  int64_t per_ms = 0;
  std::vector<std::string> targets;  // fixed texts; empty: every target of the kind
  const Source* source = nullptr;
  Span span;
  bool Covers(ActionKind k, std::string_view target) const {
    return k == kind && (targets.empty() || std::find(targets.begin(), targets.end(), target) != targets.end());
  }
};

// `quiet push 22:00-08:00 [defer|drop]` (D5, E7).
struct Quiet {
  ActionKind kind;  // kPush, kInvite or kNotify
  int start_minute = 0, end_minute = 0;  // local minutes of the day; start != end
  bool drop = false;
  const Source* source = nullptr;
  Span span;
  // [start, end), wrapping midnight when start > end.
  bool Holds(int minute) const {
    return start_minute < end_minute ? minute >= start_minute && minute < end_minute
                                     : minute >= start_minute || minute < end_minute;
  }
};

// `renamed …` (D14): a name a state directory may hold under its old
// spelling. Members are renamed within `enum_name`.
struct Rename {
  enum class Kind { kTag, kField, kMember, kTarget };
  Kind kind = Kind::kTag;
  std::string enum_name;  // members only
  std::string from, to;
};

// The checked rule set. Immutable once built; rules are in file order (A9).
struct Program {
  std::vector<std::string> identity;  // identity keys in declaration order (D11, E14)
  std::vector<Rename> renames;    // declaration order (D14)
  std::vector<Segment> segments;  // declaration order (D13)
  int zone_minutes = kDefaultZoneMinutes;  // the rule zone (D1), minutes east of UTC
  std::vector<Cap> caps;       // declaration order (D4)
  std::vector<Quiet> quiets;   // declaration order (D5, E7)
  std::vector<EnumInfo> enums;
  std::vector<EventInfo> events;
  std::vector<FieldInfo> profile;
  std::vector<TagInfo> tags;
  std::vector<AggregateInfo> aggregates;
  std::vector<Node> nodes;
  std::vector<Rule> rules;

  std::string TypeName(const Type& t) const;
  // The members of an enum type; none for other types.
  const std::vector<std::string>& MembersOf(const Type& t) const {
    static const std::vector<std::string> kNone;
    return t.kind == TypeKind::kEnum ? enums[t.enum_id].members : kNone;
  }
  EventId FindEvent(std::string_view name) const;
  FieldId FindProfileField(std::string_view name) const;
  TagId FindTag(std::string_view name) const;
  // A constant as the language writes it (`已购`, `199.00`, `7d`).
  std::string Spell(const Constant& c) const;
};

// One parsed item and the file it came from, in spliced file order (A9).
struct SourceItem {
  const ast::Item* item;
  const ast::RuleFile* file;
};

// Every declared name and every use of one, also when the rules have errors:
// what an editor shows on hover and follows to a definition, to references
// or through a rename (`qm lsp`).
enum class SymbolKind : uint8_t { kEvent, kEventField, kProfileField, kEnum, kMember, kTag, kRule };
struct Symbol {
  SymbolKind kind;
  std::string name;
  std::string container;      // an event field's event, a member's enum (an inline enum: its field)
  const Source* source = nullptr;
  Span span;                  // the name where it is declared
  std::string type;           // a field's type as rules spell it
  std::string default_value;  // a profile field's default, spelled; empty when it has none
  std::string description;    // a tag's or a segment's
  bool segment = false;
  std::vector<std::string> members;  // an enum's
  std::string trigger;        // a rule's trigger as written
};
struct Use {
  int32_t symbol;  // index into Index::symbols
  const Source* source = nullptr;
  Span span;       // the name only (`amount` of `order.amount`)
};
struct Index {
  std::vector<Symbol> symbols;  // in declaration order
  std::vector<Use> uses;
};

struct CheckResult {
  std::optional<Program> program;  // present iff no error was reported
  Index index;
};

// Resolves and type-checks the items; reports every error it can find (per
// rule, with recovery) and the warnings of the lints in lint.h. Never throws.
CheckResult Check(const std::vector<SourceItem>& items,
                  const std::vector<const ast::RuleFile*>& files, Diagnostics& diags);

}  // namespace qm::check

#endif  // QM_COMPILER_CHECK_CHECK_H_
