// Qianmian's C++ API for services that embed the rules engine
// (docs/embedding.md is the guide).
//
//   auto rules = qianmian::RuleSet::FromFiles({"rules.qm"});
//   if (!rules.ok()) { for (auto& d : rules.diagnostics()) log(d.rendered); return; }
//   auto runner = qianmian::Runner::Create(rules, {.state_dir = "state/"},
//       [](const qianmian::Batch& batch) { return publish(batch.actions, batch.rejects); });
//   for (auto& message : queue) runner->Feed(message.text, message.next_offset);
//   runner->Commit();
//
// Actions and rejects are the JSON Lines of `qm run` (LANGUAGE.md section 5),
// delivered without the trailing newline, in processing order, one batch per
// call; a failed delivery takes the call back. Nothing here throws for bad
// rules or bad events: rule problems are diagnostics, event problems are
// rejects. A Runner keeps state in memory, or in a state directory with
// positions the host owns; RunStream runs a whole events file as `qm run`
// does (the `qm` command is a client of this API).
#ifndef QIANMIAN_QIANMIAN_HPP_
#define QIANMIAN_QIANMIAN_HPP_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qianmian {

enum class Language { kEnglish, kChinese };
enum class Engine { kJit, kInterpreter };

// One diagnostic of `qm check`, with its position (1-based; 0 when it is
// about no file, like an unreadable path).
struct Diagnostic {
  std::string file;
  int line = 0, column = 0, end_line = 0, end_column = 0;
  bool error = true;     // false: a warning
  std::string code;      // stable, e.g. "E0103"
  std::string message;   // in the requested language
  std::string help;      // empty when there is none
  // The text that replaces the diagnostic's range and fixes it, when the fix
  // is certain enough to offer (a did-you-mean name, ASCII for full-width
  // punctuation); empty otherwise. An editor's quick fix.
  std::string fix;
  std::string rendered;  // the text `qm check` prints, caret line included
  std::string json;      // the line `qm check --format json` prints, without '\n'
};

namespace internal {
struct RuleSetAccess;  // debugging views for `qm` (api/internal.h)
struct RunnerAccess;   // how RunStream keeps a Runner (api/internal.h)
}

// A checked, compiled rule set. Cheap to copy (shared, immutable); may be
// used by several Runners, one per thread.
class RuleSet {
 public:
  // Loads rule files in order, following imports. Warnings whose code is in
  // `allow` (e.g. "W0004") are left out, as `# qm: allow` comments leave out
  // those of their declaration or rule.
  static RuleSet FromFiles(const std::vector<std::string>& paths, Language language = Language::kEnglish,
                           const std::vector<std::string>& allow = {});
  // Compiles in-memory text, named `name` in diagnostics and rule names.
  static RuleSet FromText(const std::string& name, std::string text, Language language = Language::kEnglish);

  // True when there is no error (warnings allowed); only then can it run.
  bool ok() const;
  // Errors and warnings, in the order `qm check` prints them.
  const std::vector<Diagnostic>& diagnostics() const;
  int error_count() const;
  int warning_count() const;
  size_t rule_count() const;

  // The tag dictionary (`qm tags`): each declared tag and segment, in
  // declaration order, with the rules that set or clear it and the rules
  // whose trigger or condition reads it. Empty unless ok().
  struct Tag {
    std::string name;
    std::string description;
    bool segment = false;               // kept by the engine (D13)
    std::vector<std::string> set_by;    // rules with `tag X` or `untag X`
    std::vector<std::string> read_by;   // rules with `when tagged X`, `untagged X` or `has X`
  };
  std::vector<Tag> Tags() const;

  // Why the rules mean something else when customers are run apart (split
  // over processes by customer, docs/scale-out.md): identity keys merge
  // customers (D12), segments rank them all (D13). Empty when they may be
  // split; otherwise the reason, in the rule set's language.
  std::string WhyNotPartitioned() const;

 private:
  friend class Runner;
  friend class Router;
  friend struct internal::RuleSetAccess;
  struct Impl;
  explicit RuleSet(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// Where a line of events goes when the stream is split by customer over
// processes (`qm publish`, docs/scale-out.md): the customer it names, read
// as a run reads it, or the reject a run would write when it names none
// (A38's checks 1-7 failed: a run's reject then names no customer, D8).
// Lines that name a customer are routed even when a later check fails, so
// that the customer's worker writes the reject `qm run` writes. One Router
// per thread; it keeps the rule set alive.
class Router {
 public:
  explicit Router(const RuleSet& rules);  // rules.ok()
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  struct Route {
    enum class Kind { kBlank, kCustomer, kRejected };
    Kind kind = Kind::kBlank;  // kBlank: a run skips the line (A40)
    std::string_view text;     // the line as a run reads it (A40's trimming): a view of the line given
    std::string customer;      // kCustomer
    std::string reject;        // kRejected: the line `qm run` writes for it, without '\n'
  };
  // `line` without its '\n'; `line_number` counts from 1 (A40 drops a BOM
  // on line 1 only).
  Route Of(std::string_view line, int64_t line_number);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The partition of `customer` among `partitions` (> 0): FNV-1a 32 of its
// bytes, modulo `partitions`. The same split as `qm run --threads`, and as
// NATS's `partition()` subject mapping.
int PartitionOf(std::string_view customer, int partitions);

// A rule file in its canonical layout (`qm fmt`, docs/tooling.md): spacing,
// indentation, optional commas and full-width punctuation made canonical;
// tokens, comments and line breaks kept, so the rules mean the same and
// unnamed rules keep their names. False when the file cannot be read or has
// syntax errors, which are then in `diagnostics` (as `qm check` renders them).
bool FormatFile(const std::string& path, std::string& formatted, std::vector<Diagnostic>& diagnostics,
                Language language = Language::kEnglish);
// The same for in-memory text named `name`.
bool FormatText(const std::string& name, std::string text, std::string& formatted,
                std::vector<Diagnostic>& diagnostics, Language language = Language::kEnglish);

class Coverage;

struct RunOptions {
  Engine engine = Engine::kJit;
  std::string tz = "+08:00";  // the zone output times are written in (A39)
  // Events may arrive this much out of order (a duration such as "2h"; empty:
  // none): each waits until one that much later has been fed (D9).
  std::string lateness;
  // When set, the run reports what it exercised to this Coverage, which must
  // be of the same RuleSet and outlive the Runner (`qm test --coverage`).
  Coverage* coverage = nullptr;
  // When set, customers' states are kept in this directory (docs/state.md):
  // loaded when the Runner is created, written by Commit() together with the
  // host's position, so a restarted service continues exactly.
  std::string state_dir;
  // With a state directory: customers without an event or timer for this
  // long (a duration such as "30d", in event time) leave memory at each
  // Commit, and are read back from the directory when an event or a timer of
  // theirs comes. Output is the same; memory holds the active customers.
  std::string evict_idle;
};

using LineCallback = std::function<void(std::string_view line)>;

// The lines one call produced, in the order they were written (LANGUAGE.md
// section 5), each without its newline. The views are valid during the
// delivery only.
struct Batch {
  std::vector<std::string_view> actions;
  std::vector<std::string_view> rejects;
};

// Hands one call's lines on: to a queue, a message bus, a database. Returns
// true when they are delivered. Returning false, or throwing, fails the call:
// the Runner takes back everything the call did (customers' states, timers,
// held lines, counts), so the same call again delivers the same lines. Called
// only when a call wrote lines.
using Deliver = std::function<bool(const Batch& batch)>;

// Why a call did nothing; empty when it worked.
struct Status {
  std::string error;  // in the rule set's language
  bool ok() const { return error.empty(); }
};

// What became of one fed line.
struct FeedResult {
  enum class Outcome {
    kAccepted,  // its step ran
    kHeld,      // `lateness` holds it until an event that much later arrives (D9)
    kRejected,  // it was rejected: its reject line is in the batch
    kBlank,     // a blank line: nothing to read (A40)
    kFailed,    // the call did nothing: see `status`
  };
  Outcome outcome = Outcome::kFailed;
  // kRejected: A38's reason ("invalid_json", "late", ...), the field when the
  // reason names one, and the customer when the line named one (D8).
  std::string reason, field, customer;
  Status status;
  bool ok() const { return status.ok(); }
};

// One customer's state as a Runner holds it.
struct CustomerView {
  // Every profile field in declaration order, with its value spelled as a
  // `{field}` placeholder spells it (D6): enum members by name, money as
  // "12.50", times in the run's tz; nullopt when unset.
  std::vector<std::pair<std::string, std::optional<std::string>>> profile;
  std::vector<std::string> tags;  // the tags set, in declaration order
  std::string json;  // the line `qm state show` prints for the customer
};

// What a run has done so far.
struct Stats {
  int64_t lines = 0;
  int64_t events = 0;  // accepted
  int64_t timer_steps = 0;
  std::map<std::string, int64_t> actions;  // by kind: "tag", "push", ...
  std::map<std::string, int64_t> rejects;  // by reason: "invalid_json", ...
  // Attempts that emitted nothing, by reason: "once", "every" (already
  // sent), "cap" (a frequency cap was full), "quiet" (quiet hours, drop).
  std::map<std::string, int64_t> suppressed;
  int64_t pending_timers = 0;    // `no` timers and `after` actions still to fire
  int64_t pending_deferred = 0;  // actions held by quiet hours until they end
  // A Runner's own counts.
  int64_t customers = 0;         // customers in memory
  int64_t customers_evicted = 0; // customers in the state directory only (RunOptions::evict_idle)
  int64_t failed_deliveries = 0; // calls taken back because delivery failed
  int64_t commits = 0;
  double last_commit_seconds = 0, max_commit_seconds = 0;
};

// Runs a rule set over events fed one line at a time. Not thread-safe: one
// Runner per thread or per shard of customers. Calls made from inside a
// delivery are refused (docs/embedding.md).
class Runner {
 public:
  // A Runner, or null with `*error` (when not null) saying why: the rules
  // have errors, an option is wrong, the state directory cannot be used (its
  // rules changed in a way it cannot continue, E0501; another process holds
  // it), or the JIT failed.
  static std::unique_ptr<Runner> Create(const RuleSet& rules, const RunOptions& options, Deliver deliver,
                                        std::string* error = nullptr);
  // The same, delivering line by line; a callback that throws fails the
  // call as a failed Deliver does.
  static std::unique_ptr<Runner> Create(const RuleSet& rules, const RunOptions& options, LineCallback on_action,
                                        LineCallback on_reject, std::string* error = nullptr);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Processes one JSON Lines input line (without '\n'). `position` is where
  // the host's input stands after this line (an offset in a log, a message
  // sequence number): Commit() records the last one fed.
  FeedResult Feed(std::string_view line, std::string_view position = {});
  // The same, for a line whose number in the host's input is known (a
  // message that carries it): reject lines name `line_number`, and lines
  // fed after it without one count on from it.
  FeedResult Feed(std::string_view line, std::string_view position, int64_t line_number);
  // The input has ended: processes the events `lateness` still holds, as
  // `qm run` does at the end of its input. Call it before FireUntil.
  Status EndOfInput();
  // Fires the timers due at or before `time` (RFC 3339 or epoch seconds),
  // as `qm run --until`. Refuses an invalid time and a time before one
  // already fired to (timers never go back).
  Status FireUntil(std::string_view time);

  // A Runner with a state directory: makes every customer's state, the lines
  // `lateness` holds and a position durable, in one atomic, synced write, and
  // returns that position: `position` when given (a host whose own outputs
  // must be cut back on restart puts their lengths in it), else the one given
  // with the last fed line. A failed commit changes nothing and can be
  // retried.
  struct Committed {
    Status status;
    std::string position;
  };
  Committed Commit(std::optional<std::string> position = std::nullopt);
  // Where the state directory's last commit stands: the position to resume
  // the input from; nullopt when nothing was committed yet (start from the
  // beginning).
  std::optional<std::string> committed_position() const;

  // Continues with `rules` in place of the Runner's, keeping every
  // customer's state, pending timers, push history and held lines, remapped
  // by name as a durable rerun remaps them (docs/state.md, "Changing the
  // rules"); a state directory gets the new schema at the next Commit.
  // Refused, the old rules kept, when `rules` have errors, when a change
  // would lose what states keep (E0501, each change rendered in the error),
  // with a Coverage, or when the JIT fails. `notices`, when given, receives
  // the compatible changes worth telling (new aggregates start empty, ...).
  Status Reload(const RuleSet& rules, std::vector<std::string>* notices = nullptr);

  // Removes every trace of `customer`: their state, pending timers and held
  // lines leave memory now and, with a state directory, its files at the next
  // Commit (PIPL deletion requests). False when the Runner has no such
  // customer.
  bool Forget(std::string_view customer);

  Stats stats() const;
  // The state of `customer` now; false when no event of theirs was accepted.
  bool Customer(std::string_view customer, CustomerView& out) const;
  // Gives `customer` profile values and tags before their events (`qm test`'s
  // `given`), as if earlier rules had set them: values spelled as a `{field}`
  // placeholder spells them (money "12.50", enum members by name, times RFC
  // 3339), nullopt for unset. Returns why it cannot, or empty.
  std::string SetProfile(std::string_view customer,
                         const std::vector<std::pair<std::string, std::optional<std::string>>>& fields,
                         const std::vector<std::string>& tags);

 private:
  friend struct internal::RunnerAccess;
  struct Impl;
  Runner();
  std::unique_ptr<Impl> impl_;
};

// What of a rule set the Runners reporting to it exercised (`qm test
// --coverage`, docs/tooling.md): each rule held; each part of each condition
// seen true and seen false; each `no … for` timer fired, and re-armed before
// it fired; each `after` come due, and cancelled by its `unless`; each cap
// found full; each quiet-hours window holding an action.
class Coverage {
 public:
  explicit Coverage(const RuleSet& rules);
  ~Coverage();
  Coverage(const Coverage&) = delete;
  Coverage& operator=(const Coverage&) = delete;

  struct Item {
    std::string rule;  // empty for a declaration (cap, quiet)
    std::string what;  // what must happen, said as what never did ("`amount >= 500` never false")
    bool covered = false;
  };
  std::vector<Item> Items(Language language = Language::kEnglish) const;

  // How often each rule held and what became of its actions (the editor's
  // code lens), in rule file order.
  struct RuleActivity {
    std::string rule;
    int64_t matched = 0;  // steps in which its condition held
    // By action, in the rule's order: the action as written (`push 复购提醒`)
    // and the lines it wrote.
    std::vector<std::pair<std::string, int64_t>> emitted;
    // Attempts that wrote nothing, by reason as Stats names them: once, every, cap, quiet.
    std::map<std::string, int64_t> suppressed;
  };
  std::vector<RuleActivity> Activity() const;

 private:
  friend class Runner;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A run over a whole events stream into files, as `qm run` (LANGUAGE.md 6).
struct StreamOptions {
  std::string events = "-";  // a path, or "-" for standard input
  std::string out;           // actions; empty for standard output
  std::string rejects;       // empty for standard error
  // A state directory (docs/state.md): customers' states, the input position
  // and the outputs' lengths are committed together, so a run killed at any
  // moment and run again writes exactly what one run would. Needs `out` and
  // `rejects`.
  std::optional<std::string> state_dir;
  Engine engine = Engine::kJit;
  std::string tz = "+08:00";
  std::string until;  // when set: fire the timers due by then at the end (RFC 3339 or epoch seconds)
  // When set (a duration such as "2h"): events may arrive up to this much out
  // of order; each waits until an event that much later has been read (D9).
  std::string lateness;
  int64_t commit_every = 1000000;  // lines between commits of a durable run
  int64_t commit_ms = 1000;        // and at most this long between them
  // Customers are split over this many threads, the output byte for byte
  // that of one (docs/runtime.md, "Threads"); 0: one per core. Rules with
  // identity keys or segments stay on one.
  int threads = 0;
};

// Why options cannot be used (the message `qm run` prints for a usage
// error, in `language`), or empty. RunStream checks this first.
std::string CheckStreamOptions(const StreamOptions& options, Language language = Language::kEnglish);

struct StreamResult {
  bool ok() const { return error.empty(); }
  std::string error;        // why the run failed; empty on success
  bool usage_error = false; // the options contradict each other or the files (`qm` exits 2)
  std::vector<Diagnostic> state_changes;  // why these rules cannot continue the state
  bool finished = false;    // every event was processed (a later write may still have failed)
  Stats stats;
  double seconds = 0;
};

// Called every 100,000 lines with the lines read, the stats so far and the
// seconds since the first line.
using ProgressCallback = std::function<void(int64_t lines, const Stats& stats, double seconds)>;

// Runs `rules` (which must be ok()) over `options.events`. `on_message`
// receives lines for the person running it, as `qm` prints them: notes on
// state changes, where a resumed run continues, cascade warnings. Messages
// and the error are in the rule set's language.
StreamResult RunStream(const RuleSet& rules, const StreamOptions& options, LineCallback on_message = nullptr,
                       ProgressCallback on_progress = nullptr);

// `qm explain` (docs/tooling.md): one customer's steps over an events file,
// with the rules each step evaluated, why each did or did not hold (the first
// part of its condition that failed, with the values it saw), what became of
// each action (written, suppressed and why, deferred, scheduled), the
// customer's rejected lines and the timers still pending.
struct ExplainOptions {
  std::string events = "-";  // a path, or "-" for standard input
  std::string customer;
  std::string at;    // when set: only steps at or before this time (RFC 3339 or epoch seconds)
  std::string rule;  // when set: only this rule
  Engine engine = Engine::kJit;
  std::string tz = "+08:00";
  std::string lateness;  // as RunOptions::lateness
  std::string until;     // as StreamOptions::until
  // When set: start from the customers' states a durable run committed to
  // this directory (which is only read), the events being those that come
  // after it.
  std::string state_dir;
  bool json = false;     // the report as one JSON object instead of text
};
struct ExplainResult {
  bool ok() const { return error.empty(); }
  std::string error;         // in the rule set's language
  bool usage_error = false;  // a bad option (`qm` exits 2)
  std::string report;
};
// `rules` must be ok(). The report is in the rule set's language.
ExplainResult Explain(const RuleSet& rules, const ExplainOptions& options);

// Reads an events stream ("-": standard input) line by line as RunStream
// does (only a file, pipe, socket or terminal; overlong lines bounded; a read
// error is an error, not the end). Returns why it stopped early, or empty.
std::string ForEachEventLine(const std::string& events, const LineCallback& on_line,
                             Language language = Language::kEnglish);

// The library's version (`qm version` prints it).
const char* Version();

// Whether `tz` is an offset such as "+08:00", "-05:30" or "Z".
bool IsValidTz(std::string_view tz);
// Whether `time` is a time `--until` takes: RFC 3339 or epoch seconds.
bool IsValidTime(std::string_view time);

// Recency × frequency with monetary value, over the first whole-history sum
// of a money field the rules keep, `sum(E.f)`: frequency is how many E it
// summed, recency the days from a customer's last E to the latest E of anyone.
struct RfmGrid {
  std::string by;                      // `sum(order.amount)`
  std::vector<int64_t> recency_days;   // the rows' upper bounds in days; one more row: longer ago
  std::vector<int64_t> frequency;      // the columns' lower bounds
  std::vector<std::vector<int64_t>> customers;     // [row][column]
  std::vector<std::vector<std::string>> average;   // the sum per customer, as money is written; "" for none
  int64_t without = 0;                 // customers without any E
};

// What a state directory holds.
struct StateSummary {
  int64_t customers = 0;       // persons: ids merged into another are not counted
  int64_t merged = 0;          // ids merged into another person (D12)
  int64_t pending_timers = 0;  // `after` actions and armed `no` rules
  // Where the last commit stands.
  int64_t input_lines = 0, input_bytes = 0, actions_bytes = 0, rejects_bytes = 0;
  std::vector<std::pair<std::string, int64_t>> tags;  // customers per tag, in declaration order
  struct Field {
    std::string name;  // an enum-typed profile field
    std::vector<std::pair<std::string, int64_t>> members;  // customers per member
    int64_t unset = 0;
  };
  std::vector<Field> fields;
  // D13: each segment at its last refresh.
  struct Segment {
    std::string name;
    std::string last_refresh;  // as output spells times; empty before the first refresh
    std::string next_refresh;  // empty before the first accepted event
    int64_t ranked = 0;        // customers with a value to rank by
    int64_t members = 0;
    std::string threshold;     // the value of the last member taken; empty without members
  };
  std::vector<Segment> segments;
  // What the rules did since the state began, summed over every run that
  // committed to it (a directory written before v0.2's format 8 counts from
  // its first commit under it).
  std::map<std::string, int64_t> rules_fired;  // by rule: steps in which it held and ran
  std::map<std::string, int64_t> actions;      // lines written, by action kind
  std::map<std::string, int64_t> suppressed;   // attempts that wrote nothing, by reason: once, every, cap, quiet
  // Each tag's description as the last rules to commit declared it; empty when unknown.
  std::map<std::string, std::string> tag_descriptions;
  std::vector<std::string> rule_files;  // base names of the rule files that wrote it
  std::optional<RfmGrid> rfm;  // absent when the rules keep no such sum
};

// A state directory read without its rule set, as `qm state` does: states
// are decoded against the schema stored with them. Opening writes nothing
// and may run while no `qm run` holds the directory. A worker's directory
// (`qm worker --state DIR`, its partitions in DIR/partition-p) reads as one:
// customers partition by partition, counts summed.
class StateDirectory {
 public:
  // Null, with `error`, when `dir` is not a state directory or is damaged.
  // Messages are in `language`.
  static std::unique_ptr<StateDirectory> Open(const std::string& dir, std::string* error,
                                              Language language = Language::kEnglish);
  ~StateDirectory();
  StateDirectory(const StateDirectory&) = delete;
  StateDirectory& operator=(const StateDirectory&) = delete;

  // Each customer's state as one JSON line (`qm state show`, no '\n'), in
  // customer id byte order, times in `tz`. Returns an error message, empty
  // when every record was read.
  std::string ForEachCustomer(const std::string& tz, const LineCallback& on_customer);
  // One customer's line; false with an empty `error` when there is no such
  // customer.
  bool Customer(const std::string& id, const std::string& tz, std::string& line, std::string& error);
  // Counts over every customer (`qm state stats`). Returns an error message.
  std::string Summarize(StateSummary& summary);

 private:
  struct Impl;
  explicit StateDirectory(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Removes every trace of `customer` from a state directory that no run or
// Runner holds (`qm state forget`, PIPL deletion requests): their record,
// the lines `lateness` held for them, and the older versions of both in the
// directory's files. `*found` says whether the directory had anything of
// them. Messages are in `language`.
Status ForgetCustomer(const std::string& dir, const std::string& customer, bool* found,
                      Language language = Language::kEnglish);

// ------------------------------------------------------------------ editors
// What an editor asks of rule files (`qm lsp`, docs/tooling.md): the
// diagnostics as you type, what a name is, where it is declared and used,
// renames, the outline and completions. Positions are 1-based lines and
// columns counted in code points, as in Diagnostic.

struct Position {
  int line = 1, column = 1;
};
struct Range {
  std::string file;  // as named in diagnostics
  Position begin, end;
};

// A declared name, as an outline or a completion list shows it.
struct SymbolInfo {
  enum class Kind { kEvent, kEventField, kProfileField, kEnum, kMember, kTag, kSegment, kRule };
  Kind kind = Kind::kEvent;
  std::string name;
  std::string detail;     // one line: a field's type, a tag's description, a rule's trigger
  std::string container;  // an event field's event, a member's enum
  Range range;            // the name where it is declared
};

struct Completion {
  enum class Kind { kKeyword, kEvent, kField, kMember, kTag, kRule, kSnippet };
  Kind kind = Kind::kKeyword;
  std::string label;
  std::string detail;
  std::string insert;  // with ${1:…} placeholders when `snippet`
  bool snippet = false;
};

struct TextEdit {
  Range range;
  std::string text;
};

// One check of a rule file with its imports, and the answers about it.
class Analysis {
 public:
  // Errors and warnings of every file checked, in the order `qm check` prints them.
  const std::vector<Diagnostic>& diagnostics() const;
  // The files checked: the one asked for, then its imports, as diagnostics name them.
  std::vector<std::string> files() const;
  // What the name at `at` is (Markdown, in the workspace's language), with
  // any diagnostic there and its help; empty when there is nothing to say.
  std::string Hover(const std::string& file, Position at) const;
  // Where the name at `at` is declared.
  std::vector<Range> Definition(const std::string& file, Position at) const;
  // Every use of the name at `at`, and its declaration when asked.
  std::vector<Range> References(const std::string& file, Position at, bool include_declaration) const;
  // The edits that rename the name at `at` in every file checked; an
  // explanation (and no edits) when it cannot be renamed to `new_name`.
  std::string Rename(const std::string& file, Position at, const std::string& new_name,
                     std::vector<TextEdit>& edits) const;
  // The names `file` declares, in order.
  std::vector<SymbolInfo> Symbols(const std::string& file) const;
  // What may be written at `at`: event types after `when`, the triggering
  // event's and the profile's fields in conditions, members after `stage =`,
  // tags after `has` or `tag`, keywords and a rule snippet.
  std::vector<Completion> Complete(const std::string& file, Position at) const;

  struct Impl;
  explicit Analysis(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

 private:
  std::shared_ptr<const Impl> impl_;
};

// Rule files as an editor holds them: an open document's unsaved text wins
// over the file on disk, where it is checked and wherever it is imported.
class Workspace {
 public:
  explicit Workspace(Language language = Language::kEnglish) : language_(language) {}
  void SetLanguage(Language language) { language_ = language; }
  Language language() const { return language_; }
  void Open(const std::string& path, std::string text);
  void Close(const std::string& path);
  // Checks `path` and its imports, as `qm check` does.
  Analysis Check(const std::string& path) const;

 private:
  Language language_;
  std::map<std::string, std::string> open_;  // by canonical path
};

}  // namespace qianmian

#endif  // QIANMIAN_QIANMIAN_HPP_
