// Durable state: customer states kept in a RocksDB directory with atomic
// checkpoints, so a run killed at any moment and rerun writes exactly what
// one uninterrupted run writes (docs/state.md). Its own library (qm_durable):
// hosts that never keep state do not link RocksDB.
#ifndef QM_RUNTIME_STATE_DURABLE_H_
#define QM_RUNTIME_STATE_DURABLE_H_

#include <functional>
#include <memory>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "compiler/diag/diag.h"
#include "runtime/state/state.h"

namespace qm::state {

// Where a durable run stands. It is committed in the same atomic batch as the
// states it produced, so state, input position and output lengths always
// agree (docs/state.md).
// What the rules did since a state directory began, summed over every run
// that committed to it (`qm report`): by name, so a rule set that changes
// keeps the counts of what it keeps.
struct Tallies {
  std::map<std::string, int64_t> fired;       // by rule: steps in which it held and ran
  std::map<std::string, int64_t> actions;     // lines written, by action kind
  std::map<std::string, int64_t> suppressed;  // attempts that wrote nothing, by reason (once, every, cap, quiet)
  // The tags' descriptions as the last rules to commit declared them.
  std::vector<std::pair<std::string, std::string>> tag_descriptions;

  // `base` and then what one run counted.
  void Add(const Tallies& other);
};

struct Checkpoint {
  int64_t input_bytes = 0;           // consumed, always whole lines
  int64_t input_lines = 0;           // physical lines consumed
  bool input_ends_mid_line = false;  // the last consumed line had no '\n' (end of input)
  uint64_t input_head_hash = 0;      // of the first min(input_bytes, kHeadBytes) bytes
  uint64_t input_tail_hash = 0;      // of the last min(input_bytes, kTailBytes) bytes
  int64_t actions_bytes = 0;         // of the actions output
  int64_t rejects_bytes = 0;         // of the rejects output
  int32_t tz_minutes = 0;            // --tz: a resumed run must print times alike
  // D9: --lateness (a resumed run must hold lines alike), the greatest ts
  // accepted so far, and the lines not yet released.
  int64_t lateness_ms = 0;
  int64_t high_mark = kNever;
  std::vector<HeldLine> held;
  // A directory a host keeps through the API (docs/embedding.md): the
  // position the host gave with the last line committed; then the input and
  // output fields above are unused.
  std::optional<std::string> host_position;
  // D13, format 5: each segment's schedule and last refresh, by name.
  std::vector<SegmentStatus> segments;
  // Format 8: what the rules did since the state began (`qm report`).
  Tallies tallies;

  static constexpr int64_t kHeadBytes = 64 << 10;
  static constexpr int64_t kTailBytes = 4 << 10;
};

// What a rule set keeps in state, by name, so that state written under one
// version of a rule set is read under the next: states are encoded by
// position in the schema they were written with and remapped by name.
struct Schema {
  struct Field {
    std::string name;
    std::string type;  // as check::Program::TypeName spells it; enums by that name
  };
  struct Enum {
    std::string name;  // the type's spelling (`Stage`, `enum of 等级`)
    std::vector<std::string> members;
  };
  struct Rule {
    std::string name;
    std::vector<std::string> actions;  // what each action does, to match pending `after`s
  };
  std::vector<std::string> rule_files;  // base names, for messages
  std::vector<std::string> events;
  std::vector<Field> fields;
  std::vector<Enum> enums;
  std::vector<std::string> tags;
  std::vector<std::string> aggregates;   // spelling and value type
  std::vector<int64_t> aggregate_windows;  // `within`, ms; 0 for whole history; -1 - Period for `within this` (D2)
  int64_t zone_minutes = check::kDefaultZoneMinutes;  // the rule zone (D1)

  // Whether aggregate `a` is a count(distinct …) (D10), by its spelling.
  bool IsDistinct(size_t a) const { return aggregates[a].rfind("count(distinct ", 0) == 0; }
  // The first instant of aggregate `a`'s window at `now`; kNever for none.
  int64_t WindowFrom(size_t a, int64_t now) const {
    int64_t w = aggregate_windows[a];
    if (w > 0) return now - w;
    if (w < 0) return PeriodStart(static_cast<Period>(-1 - w), now, static_cast<int>(zone_minutes));
    return kNever;
  }
  std::vector<std::string> quiet_rules;  // rule name and trigger
  std::vector<std::string> targets;      // push/invite targets (ir::Program::targets)
  std::vector<Rule> rules;

  static Schema Of(const ir::Program& program);
  std::string Encode() const;
  static std::optional<Schema> Decode(std::string_view bytes);
  const Enum* FindEnum(std::string_view name) const;
};

// Customer states kept in memory, loaded from and committed to a RocksDB
// directory. One process at a time (RocksDB's lock).
class DurableStore : public Store {
 public:
  struct OpenResult {
    std::unique_ptr<DurableStore> store;
    std::optional<Error> error;         // set when the directory cannot be used
    std::vector<Diagnostic> changes;    // incompatible schema changes (E0501), each one
    std::vector<Error> notices;         // compatible changes worth telling
  };
  // Reads `dir` for `program` without writing anything: format, schema
  // (E0501) and every record are checked and loaded. A missing or empty
  // directory is a new one. Call BeginWriting before the first Commit.
  static OpenResult Open(const std::string& dir, const ir::Program& program);

  // Opens the directory for writing (creating it when new), once the caller
  // has made its own checks (input, outputs, --tz): a refused run writes
  // nothing.
  virtual std::optional<Error> BeginWriting() = 0;

  // The last committed checkpoint; none for a new directory.
  virtual const std::optional<Checkpoint>& checkpoint() const = 0;
  // Writes every state touched since the last commit and `checkpoint` in one
  // atomic, synced batch.
  virtual std::optional<Error> Commit(const Checkpoint& checkpoint) = 0;

  // Splits the states in memory over `count` stores by `part_of(id)`, for a
  // run over threads (runtime/shard): each part is a Store of its own that
  // one thread uses, and Commit writes every part's changes in its one batch
  // (call it while no thread runs). The parts live as long as this store,
  // which stays a view of them all.
  virtual std::vector<Store*> Split(size_t count, std::function<size_t(const std::string&)> part_of) = 0;

  // Continues with the states of `memory`, kept for `program` (Migrate's):
  // the next commit writes them all, with the new schema. Not after Split.
  virtual void Adopt(std::unique_ptr<Store> memory, const ir::Program& program) = 0;
};

// Moving customers' states to another version of a rule set in memory (a
// service reloading its rules): the same check and remapping by name as a
// durable rerun makes (docs/state.md, "Changing the rules").
struct Migration {
  std::unique_ptr<Store> store;  // the states under `now`; null when refused
  std::vector<Diagnostic> changes;  // why `now` cannot continue them (E0501)
  std::vector<Error> notices;       // compatible changes worth telling
};
// Moves every state of `from` (kept for `old`) into a new memory store for
// `now`; `from` is left empty of them. Refused, touching nothing, when a
// change would lose what states keep; `name` names the states in messages.
Migration Migrate(Store& from, const ir::Program& old, const ir::Program& now, const std::string& name);

// Removes every trace of customer `id` from a state directory no run holds
// (`qm state forget`): its record, the lines --lateness held for it, and
// their older versions in the directory's files. `found` says whether there
// was anything.
std::optional<Error> ForgetCustomer(const std::string& dir, const std::string& id, bool& found);

// Read-only access to a state directory without its rule set (`qm state`):
// states decoded against the stored schema.
class StateReader {
 public:
  static std::unique_ptr<StateReader> Open(const std::string& dir, Error* error);
  virtual ~StateReader() = default;
  virtual const Schema& schema() const = 0;
  virtual const std::optional<Checkpoint>& checkpoint() const = 0;
  // Customers in id byte order; an error for a record that cannot be read.
  virtual std::optional<Error> ForEach(
      const std::function<void(const std::string& id, const CustomerState& state)>& visit) = 0;
  virtual std::optional<Error> Get(const std::string& id, std::optional<CustomerState>& state) = 0;
};

}  // namespace qm::state

#endif  // QM_RUNTIME_STATE_DURABLE_H_
