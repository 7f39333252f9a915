// Event decoding: one JSON Lines line -> a typed event record, or the reason
// it is rejected (SEMANTICS.md A37-A40, checks in the order of A38). Numbers
// are read exactly from their decimal text; nothing passes through binary
// floating point except `number` fields.
#ifndef QM_RUNTIME_EVENT_DECODE_H_
#define QM_RUNTIME_EVENT_DECODE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "compiler/ir/ir.h"
#include "compiler/source/source.h"

namespace qm::event {

// A decoded event. Text values view the line it was decoded from, or
// `texts` where the line spells them with escapes (or after Own()): an
// Event is used while its line is, and reused, not copied.
struct Event {
  int32_t type = -1;
  std::string customer;
  int64_t ts = 0;
  std::vector<Value> fields;  // one per declared field of `type`
  std::vector<std::string> texts;

  // Makes every text value the event's own, in `texts`, so that the event
  // outlives its line (a line held by --lateness, D9).
  void Own();
};

struct Reject {
  std::string_view reason;  // line_too_long, invalid_json, not_object, duplicate_field, missing_field, wrong_type,
                            // unknown_type, unknown_member, late
  std::string field;        // empty when the reject names no field
  std::string_view customer;  // the id as written, once check 7 of A38 passed (D8, E10); else empty.
                              // Valid until the next Decode.
};

// Decodes lines for one program. Reusable and cheap to call per line.
class Decoder {
 public:
  explicit Decoder(const ir::Program& program);
  // Returns true and fills `event`, or false and fills `reject` (checks 1-9
  // of A38; lateness, check 10, needs state and is the engine's).
  bool Decode(std::string_view line, Event& event, Reject& reject);

 private:
  const ir::Program& program_;
  // Names to ids in open addressing with a cheap hash: every key of a line,
  // its type and its enum values are looked up once each, so these are the
  // decoder's hottest lookups. The names view strings the program owns.
  class NameTable {
   public:
    // `names` distinct; each gets its index as id.
    explicit NameTable(const std::vector<std::string_view>& names);
    int64_t Find(std::string_view name) const;  // -1 when absent
    // The same, trying first the slot `hint` names, and leaving there the
    // slot of a name found: a stream's lines mostly repeat their keys'
    // order and values, so a guess by position costs one compare.
    int64_t Find(std::string_view name, uint32_t& hint) const {
      if (const auto& [slot, id] = slots_[hint]; id >= 0 && SameBytes(slot, name)) [[likely]]
        return id;
      return FindAndHint(name, hint);
    }
   private:
    int64_t FindAndHint(std::string_view name, uint32_t& hint) const;
    std::vector<std::pair<std::string_view, int64_t>> slots_;  // size a power of two; id -1: empty
  };
  NameTable types_;                 // event type name -> its index
  std::vector<NameTable> members_;  // per enum: member name -> index

  // Every name a line is read for (`type`, `customer`, `ts`, each event
  // field) has an id, so each key of a line is looked up once instead of
  // compared with every name.
  static constexpr int32_t kType = 0, kCustomer = 1, kTs = 2;
  NameTable names_;
  std::vector<uint32_t> order_;  // the line's keys sorted, reused from line to line
  std::vector<std::vector<int32_t>> field_names_;  // per event type, per field: its name's id
  size_t widest_ = 0;  // the most fields an event type has
  // Per name id: the line's member with that key, valid while `line` is
  // this line's number (no clearing between lines).
  struct Seen {
    uint64_t line = 0;
    uint32_t member = 0;
  };
  std::vector<Seen> seen_;
  uint64_t line_ = 0;
  // NameTable::Find's hints: for names_, per event type (the line's, once
  // its `type` was read; first row: not yet) and key position; for types_,
  // one; per enum, one.
  static constexpr size_t kPairwiseKeys = 16;  // lines with more keys are checked by sorting them
  std::vector<uint32_t> key_hints_;
  uint32_t type_hint_ = 0;
  std::vector<uint32_t> member_hints_;
};

// Lines longer than this are rejected as `line_too_long` without being
// parsed (docs/runtime.md, hostile input): memory per line stays bounded.
inline constexpr size_t kMaxLineBytes = 1 << 20;

// One physical input line as every reader of events takes it: too long
// (before anything is read), A40's trimming (a BOM on line 1, a final
// '\r'), skipped when blank, then A38's checks 1-9. `text` is the line
// trimmed (a view of `line`).
enum class LineKind { kBlank, kEvent, kRejected };
inline LineKind DecodeLine(Decoder& decoder, std::string_view line, int64_t line_number, std::string_view& text,
                           Event& event, Reject& reject) {
  text = line;
  if (line.size() > kMaxLineBytes) {  // before A40's trimming: nothing of it is read
    reject = Reject{.reason = "line_too_long"};
    return LineKind::kRejected;
  }
  if (line_number == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);  // A40
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  text = line;
  if (line.find_first_not_of(" \t") == std::string_view::npos) return LineKind::kBlank;
  return decoder.Decode(line, event, reject) ? LineKind::kEvent : LineKind::kRejected;
}

// Epoch milliseconds from a JSON number's text: seconds, floored to the
// millisecond, within A39's range (also used for `--until`). EpochMillisOf
// says false instead of nullopt: GCC returns an optional through the stack,
// and reading it back stalls (every line has a ts); the optional is
// assembled inline, where it stays in registers.
bool EpochMillisOf(std::string_view number_text, int64_t& ms);
inline std::optional<int64_t> EpochMillisFromNumber(std::string_view number_text) {
  int64_t ms;
  if (!EpochMillisOf(number_text, ms)) return std::nullopt;
  return ms;
}
// A38's reject line for input line `line` (D8: with the customer once
// check 7 passed), and its '\n', appended to `out`.
void AppendRejectLine(std::string& out, int64_t line, std::string_view reason, std::string_view field,
                      std::string_view customer);

// The customer id of a line that passed check 7 of A38 (a line --lateness
// holds); empty for any other line.
std::string CustomerOf(std::string_view line);

// A time given as an argument (`--until`, B8): RFC 3339, or epoch seconds as
// a JSON number, floored to the millisecond.
std::optional<int64_t> ParseTimeArgument(std::string_view text);
// The members of a JSON object line, in order, each value spelled so that
// equal JSON values are equal strings: a string as '"' and its decoded text,
// a number as written, true/false/null; an object or array as "{}" / "[]"
// (not compared). False when `line` is not one JSON object.
bool ObjectMembers(std::string_view line, std::vector<std::pair<std::string, std::string>>& members);
// A JSON number's exact value times 10^scale, when integral and within
// int64 (ScaledOf: false otherwise, as EpochMillisOf).
bool ScaledOf(std::string_view number_text, int scale, int64_t& out);
inline std::optional<int64_t> ScaledFromNumber(std::string_view number_text, int scale) {
  int64_t out;
  if (!ScaledOf(number_text, scale, out)) return std::nullopt;
  return out;
}

}  // namespace qm::event

#endif  // QM_RUNTIME_EVENT_DECODE_H_
