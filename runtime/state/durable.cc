// The durable store: customer states in memory, committed to RocksDB.
//
// Layout of a state directory (one RocksDB database):
//   m:version     format version, decimal text ("2")
//   m:schema      the Schema the states are encoded against
//   m:checkpoint  the last committed Checkpoint
//   c:<id>        one customer's state, encoded by position in m:schema
// A commit writes the touched customers and the checkpoint in one synced
// write batch: after a crash the directory holds exactly some commit.
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>
#include <system_error>
#include <thread>
#include <unordered_set>

#include "runtime/state/durable.h"
#include "runtime/event/decode.h"
#include "runtime/state/internal/codec.h"
#include "runtime/state/internal/schema_changes.h"

namespace qm::state {

void Tallies::Add(const Tallies& other) {
  for (auto [to, from] : {std::pair{&fired, &other.fired}, {&actions, &other.actions}, {&suppressed, &other.suppressed}})
    for (const auto& [key, n] : *from) (*to)[key] += n;
}

namespace {

using namespace state_internal;

// 2: since the reliability work of issue 9 (stricter record checks, D8).
// Format 1 as v0.1 released it has the same records and checkpoint: it is
// read and rewritten as 2 at the next commit. A format 1 directory from a
// development build before that release (its checkpoint had two more fields)
// is refused as older, not called corrupt (docs/state.md).
// 3: the rule zone and calendar windows (D1, D2) in the schema; 4: the
// checkpoint may hold a host's position (docs/embedding.md). 8: the
// checkpoint keeps what the rules did since the state began (Tallies).
constexpr int64_t kFormatVersion = 8;
constexpr std::string_view kVersionKey = "m:version";
constexpr std::string_view kSchemaKey = "m:schema";
constexpr std::string_view kCheckpointKey = "m:checkpoint";
constexpr std::string_view kCustomerPrefix = "c:";

// ------------------------------------------------------------ the database

std::string Describe(const rocksdb::Status& status) { return status.ToString(); }

struct Opened {
  std::unique_ptr<rocksdb::DB> db;
  std::optional<Schema> schema;  // none for a new directory
  std::string schema_bytes;
  std::optional<Checkpoint> checkpoint;
  int64_t version = kFormatVersion;  // as stored
  std::optional<Error> error;
};

// Why `dir` cannot hold a qm state: a file RocksDB would not have written,
// or one that is not a regular file (a FIFO there would block every reader).
std::optional<Error> ForeignEntry(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    auto starts = [&](std::string_view p) { return name.rfind(p, 0) == 0; };
    auto ends = [&](std::string_view s) { return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0; };
    if (!(name == "CURRENT" || name == "LOCK" || name == "IDENTITY" || starts("LOG") || starts("MANIFEST-") ||
          starts("OPTIONS-") || ends(".log") || ends(".sst") || ends(".dbtmp")))
      return Error::Of<ErrorKind::kForeignFiles>({dir, name});
    std::error_code type_ec;
    if (!entry.is_regular_file(type_ec) || entry.is_symlink(type_ec))
      return Error::Of<ErrorKind::kForeignNotRegular>({dir, name});
  }
  if (ec) return Error::Of<ErrorKind::kForeignUnreadable>({dir, ec.message()});
  return std::nullopt;
}

// Whether `dir` holds committed data: a table file or a non-empty
// write-ahead log. A creation killed before RocksDB wrote `CURRENT` leaves
// neither (qm writes nothing before its first commit), so such a directory is
// simply created anew; one that lost `CURRENT` after a commit is damaged.
bool HoldsCommittedData(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    auto ends = [&](std::string_view s) { return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0; };
    std::error_code size_ec;
    if (ends(".sst") || (ends(".log") && entry.file_size(size_ec) > 0)) return true;
  }
  return false;
}

class SilentLogger final : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char*, va_list) override {}
};

// kShow: an existing directory, read only (`qm state show`); kEdit: the
// same, writable (`qm state forget`); kInspect: read only, a missing
// directory is a new one; kWrite: a run's, created when missing.
enum class Access { kShow, kEdit, kInspect, kWrite };

// Opens `dir` and reads its metadata.
Opened OpenDatabase(const std::string& dir, Access access) {
  namespace fs = std::filesystem;
  const bool read_only = access == Access::kShow || access == Access::kInspect;
  const bool existing = access == Access::kShow || access == Access::kEdit;
  Opened o;
  std::error_code ec;
  bool exists = fs::exists(dir, ec);
  if (access == Access::kInspect && !exists && !ec) return o;  // a new directory
  if (existing && !exists) {
    o.error = Error::Of<ErrorKind::kNoStateDirectory>({dir});
    return o;
  }
  if (exists && !fs::is_directory(dir, ec)) {
    o.error = Error::Of<ErrorKind::kNotADirectory>({dir});
    return o;
  }
  bool has_database = exists && fs::exists(fs::path(dir) / "CURRENT", ec);
  if (ec) {
    o.error = Error::Of<ErrorKind::kCannotReadStateDirectory>({dir, ec.message()});
    return o;
  }
  if (exists) {
    if (std::optional<Error> foreign = ForeignEntry(dir)) {
      o.error = std::move(foreign);
      return o;
    }
    // Refused without writing: RocksDB would create a new, empty database
    // beside the old files, and the next run would start from scratch.
    if (!has_database && HoldsCommittedData(dir)) {
      o.error = Error::Of<ErrorKind::kStateDamaged>({dir});
      return o;
    }
  }
  if (access == Access::kInspect && !has_database) return o;  // nothing committed yet: a new directory
  if (existing && !has_database) {
    o.error = Error::Of<ErrorKind::kNoDatabase>({dir});
    return o;
  }
  rocksdb::Options options;
  options.create_if_missing = access == Access::kWrite;
  options.paranoid_checks = true;
  // No LOG file: on a full disk RocksDB's file logger asserts on its next
  // line (SIGABRT in a background thread). qm reports errors itself.
  options.info_log = std::make_shared<SilentLogger>();
  options.keep_log_file_num = 2;
  options.compression = rocksdb::kLZ4Compression;
  // A commit writes its customers in key order: each insert starts where the
  // last one ended instead of at the skip list's top (a third of a large
  // commit's memtable time). Hints need the one-writer memtable; qm has one
  // writer.
  options.allow_concurrent_memtable_write = false;
  options.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(kCustomerPrefix.size()));
  rocksdb::DB* db = nullptr;
  rocksdb::Status status = read_only ? rocksdb::DB::OpenForReadOnly(options, dir, &db)
                                     : rocksdb::DB::Open(options, dir, &db);
  if (!status.ok()) {
    if (status.IsIOError() && status.ToString().find("While lock file") != std::string::npos)
      o.error = Error::Of<ErrorKind::kStateInUse>({dir});
    else if (status.IsIOError() && status.ToString().find("lock hold by current process") != std::string::npos)
      o.error = Error::Of<ErrorKind::kStateOpenHere>({dir});
    else if (status.IsCorruption() || status.IsInvalidArgument())
      o.error = Error::Of<ErrorKind::kStateCorrupt>({dir, Describe(status)});
    else
      o.error = Error::Of<ErrorKind::kCannotOpenState>({dir, Describe(status)});
    return o;
  }
  o.db.reset(db);
  auto corrupt = [&](Error why) {
    o.error = std::move(why);
    o.db.reset();
  };
  std::string version;
  status = db->Get(rocksdb::ReadOptions(), rocksdb::Slice(kVersionKey.data(), kVersionKey.size()), &version);
  if (status.IsNotFound()) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    it->SeekToFirst();
    bool has_keys = it->Valid();
    it.reset();  // before the database
    if (has_keys) {
      o.error = Error::Of<ErrorKind::kNoMetadata>({dir});
      o.db.reset();
    } else if (existing) {
      o.error = Error::Of<ErrorKind::kStateEmpty>({dir});
      o.db.reset();
    }
    return o;  // a new directory
  }
  if (!status.ok()) {
    corrupt(Error::Of<ErrorKind::kStateCorrupt>({dir, Describe(status)}));
    return o;
  }
  char* end = nullptr;
  long long v = std::strtoll(version.c_str(), &end, 10);
  if (version.empty() || *end != '\0' || v < 1) {
    corrupt(Error::Of<ErrorKind::kBadFormatVersion>({dir, version}));
    return o;
  }
  if (v > kFormatVersion) {
    o.error = Error::Of<ErrorKind::kNewerFormat>({dir, version, std::to_string(kFormatVersion)});
    o.db.reset();
    return o;
  }
  std::string checkpoint;
  if (!db->Get(rocksdb::ReadOptions(), rocksdb::Slice(kSchemaKey.data(), kSchemaKey.size()), &o.schema_bytes).ok() ||
      !(o.schema = Schema::Decode(o.schema_bytes))) {
    corrupt(Error::Of<ErrorKind::kBadSchemaRecord>({dir}));
    return o;
  }
  if (!db->Get(rocksdb::ReadOptions(), rocksdb::Slice(kCheckpointKey.data(), kCheckpointKey.size()), &checkpoint).ok()) {
    corrupt(Error::Of<ErrorKind::kNoCheckpointRecord>({dir}));
    return o;
  }
  if (!(o.checkpoint = DecodeCheckpoint(checkpoint, v))) {
    if (v == 1) {
      o.error = Error::Of<ErrorKind::kPreReleaseFormat>({dir});
      o.db.reset();
    } else {
      corrupt(Error::Of<ErrorKind::kBadCheckpointRecord>({dir}));
    }
    return o;
  }
  o.version = v;
  return o;
}

// Visits every customer record in id order.
std::optional<Error> ForEachRecord(rocksdb::DB& db, const std::string& dir,
                                         const std::function<void(const std::string&, std::string_view)>& visit) {
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions()));
  rocksdb::Slice prefix(kCustomerPrefix.data(), kCustomerPrefix.size());
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    std::string id = it->key().ToString().substr(kCustomerPrefix.size());
    visit(id, std::string_view(it->value().data(), it->value().size()));
  }
  if (!it->status().ok()) return Error::Of<ErrorKind::kStateCorrupt>({dir, Describe(it->status())});
  return std::nullopt;
}

Error CorruptRecord(const std::string& dir, const std::string& id) {
  std::string quoted;
  AppendJsonString(quoted, id);
  return Error::Of<ErrorKind::kCorruptRecord>({dir, quoted});
}

// Makes deleted keys leave the directory's files (PIPL): the tables holding
// them are rewritten without them, down to the last level, and the database
// is reopened, which replaces the MANIFEST (it names tables' first and last
// keys, which may be a deleted id) and deletes the old one.
std::optional<Error> Scrub(std::unique_ptr<rocksdb::DB>& db, const std::string& dir, Access access,
                           const std::vector<std::string>& keys) {
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (const std::string& key : keys) {
    rocksdb::Slice k(key);
    rocksdb::Status status = db->CompactRange(compact, &k, &k);
    if (!status.ok()) return Error::Of<ErrorKind::kCommitFailed>({Describe(status)});
  }
  db.reset();
  Opened o = OpenDatabase(dir, access);
  if (!o.db) return o.error;
  db = std::move(o.db);
  return std::nullopt;
}

// States in memory and what changed among them since the last commit: all of
// a DurableStore's, or, split for a run over threads, one thread's share.
class Part final : public Store {
 public:
  explicit Part(std::unique_ptr<Store> memory) : memory(std::move(memory)) {}
  CustomerState* Find(const std::string& customer) override { return memory->Find(customer); }
  void Prefetch(std::string_view customer, int stage) const override { memory->Prefetch(customer, stage); }
  CustomerState& Create(const std::string& customer) override {
    CustomerState& s = memory->Create(customer);
    Touch(s);
    return s;
  }
  bool Erase(const std::string& customer) override { return Drop(customer, erased); }
  bool Absorb(const std::string& customer) override { return Drop(customer, absorbed); }
  size_t size() const override { return memory->size(); }
  void ForEach(const std::function<void(CustomerState&)>& visit) override { memory->ForEach(visit); }
  void Touch(CustomerState& s) override {
    if (!s.dirty) {
      s.dirty = true;
      dirty.push_back(&s);
    }
  }
  // A state leaving memory leaves the list of states the next commit writes.
  void Undirty(CustomerState& s) {
    if (s.dirty) dirty.erase(std::find(dirty.begin(), dirty.end(), &s));
  }
  // Removes `customer` from memory; its record is deleted at the next commit.
  bool Drop(const std::string& customer, std::vector<std::string>& deleted) {
    CustomerState* s = memory->Find(customer);
    if (s == nullptr) return false;
    Undirty(*s);
    deleted.push_back(customer);
    return memory->Erase(customer);
  }

  std::unique_ptr<Store> memory;
  std::vector<CustomerState*> dirty;
  std::vector<std::string> erased;    // since the last commit
  std::vector<std::string> absorbed;  // merged into another person since the last commit (D12)
};

// One part's changed states: each id and its encoded state, in id order.
class Encoded {
 public:
  // Encoded in the order the states lie in memory (a store makes them one
  // after another), then put in id order: the states are read front to
  // back instead of at random, and only the small records are sorted.
  void Of(const std::vector<CustomerState*>& dirty) {
    std::vector<const CustomerState*> by_address(dirty.begin(), dirty.end());
    std::sort(by_address.begin(), by_address.end(), std::less<>());
    records_.reserve(by_address.size());
    constexpr size_t kAhead = 4;  // parts on the heap (push history) lie elsewhere
    for (size_t i = 0; i < by_address.size(); ++i) {
      if (i + kAhead < by_address.size()) by_address[i + kAhead]->PrefetchParts();
      const CustomerState& s = *by_address[i];
      Record r{OrderPrefix(*s.id), bytes_.size(), 0, 0};
      bytes_ += *s.id;
      r.id_to = bytes_.size();
      EncodeState(s, bytes_);
      r.to = bytes_.size();
      records_.push_back(r);
    }
    std::sort(records_.begin(), records_.end(), [this](const Record& a, const Record& b) {
      return a.prefix != b.prefix ? a.prefix < b.prefix : IdOf(a) < IdOf(b);
    });
  }

  // Calls `put(id, value)` for every state of every part, in id order.
  template <typename Put>
  static void Merge(const std::vector<Encoded>& parts, Put put) {
    std::vector<size_t> at(parts.size(), 0);
    for (;;) {
      const Encoded* first = nullptr;
      size_t* first_at = nullptr;
      for (size_t p = 0; p < parts.size(); ++p) {
        if (at[p] == parts[p].records_.size()) continue;
        if (first == nullptr || parts[p].Before(at[p], *first, *first_at)) {
          first = &parts[p];
          first_at = &at[p];
        }
      }
      if (first == nullptr) return;
      const size_t r = (*first_at)++;
      put(first->id(r), first->value(r));
    }
  }

 private:
  // The id's first 16 bytes, big-endian, zero-padded: ids whose prefixes
  // differ are in the order of their prefixes, so only equal prefixes need
  // the ids themselves, which lie elsewhere in bytes_.
  using Prefix = std::pair<uint64_t, uint64_t>;
  static Prefix OrderPrefix(const std::string& id) {
    unsigned char bytes[16] = {};
    std::memcpy(bytes, id.data(), std::min<size_t>(id.size(), 16));
    auto word = [&](size_t from) {
      uint64_t w = 0;
      for (size_t i = 0; i < 8; ++i) w = (w << 8) | bytes[from + i];
      return w;
    };
    return {word(0), word(8)};
  }
  struct Record {
    Prefix prefix;
    size_t from, id_to, to;  // in bytes_: the id, then the encoded state
  };
  std::string_view IdOf(const Record& r) const { return std::string_view(bytes_).substr(r.from, r.id_to - r.from); }
  std::string_view id(size_t r) const { return IdOf(records_[r]); }
  std::string_view value(size_t r) const {
    return std::string_view(bytes_).substr(records_[r].id_to, records_[r].to - records_[r].id_to);
  }
  bool Before(size_t r, const Encoded& other, size_t o) const {
    if (records_[r].prefix != other.records_[o].prefix) return records_[r].prefix < other.records_[o].prefix;
    return id(r) < other.id(o);
  }

  std::vector<Record> records_;
  std::string bytes_;
};

class DurableStoreImpl final : public DurableStore {
 public:
  // `db` is open read-only (or null for a new directory) until BeginWriting.
  DurableStoreImpl(std::string dir, std::unique_ptr<rocksdb::DB> db, const ir::Program& program,
                   std::optional<Checkpoint> checkpoint, std::string schema_bytes, bool schema_changed)
      : dir_(std::move(dir)), db_(std::move(db)), program_(&program),
        checkpoint_(std::move(checkpoint)), schema_bytes_(std::move(schema_bytes)), write_schema_(schema_changed),
        schema_(Schema::Of(program)) {
    parts_.push_back(std::make_unique<Part>(MakeMemoryStore(program)));
  }

  // The committed state goes from the write-ahead log into a compressed
  // table, so the directory is compact and the next open replays no log.
  // Nothing is lost if this fails: the log holds every commit.
  // The flush runs on RocksDB's thread while the states are freed here, each
  // part on a thread of its own (tens of milliseconds for 100,000).
  ~DurableStoreImpl() override {
    if (writable_) {
      rocksdb::FlushOptions start;
      start.wait = false;
      db_->Flush(start);
    }
    {
      std::vector<std::jthread> freeing;
      for (size_t p = 1; p < parts_.size(); ++p) {
        try {
          freeing.emplace_back([part = std::move(parts_[p])]() mutable { part.reset(); });
        } catch (const std::system_error&) {  // no thread to be had: the part is freed here, with the lambda
        }
      }
      parts_.clear();
    }
    if (writable_) db_->Flush(rocksdb::FlushOptions());  // waits for the flush begun above
  }

  std::optional<Error> BeginWriting() override {
    db_.reset();  // the read-only handle
    Opened o = OpenDatabase(dir_, Access::kWrite);
    if (!o.db) return o.error;
    // Another process may have committed between the two opens.
    auto encoded = [](const std::optional<Checkpoint>& c) { return c ? EncodeCheckpoint(*c) : std::string(); };
    if (encoded(o.checkpoint) != encoded(checkpoint_))
      return Error::Of<ErrorKind::kStateChangedWhileOpening>({dir_});
    db_ = std::move(o.db);
    writable_ = true;
    return std::nullopt;
  }

  CustomerState* Find(const std::string& customer) override { return PartOf(customer).Find(customer); }
  void Prefetch(std::string_view customer, int stage) const override {
    if (parts_.size() == 1) parts_[0]->Prefetch(customer, stage);  // split, each thread's engine has its Part
  }
  CustomerState& Create(const std::string& customer) override { return PartOf(customer).Create(customer); }
  bool Evict(const std::string& customer) override {
    Part& part = PartOf(customer);
    CustomerState* s = part.Find(customer);
    if (s == nullptr) return false;
    part.Undirty(*s);
    evicted_.insert(customer);
    return part.memory->Erase(customer);
  }

  CustomerState* Wake(const std::string& customer) override {
    auto it = evicted_.find(customer);
    if (it == evicted_.end()) return nullptr;
    std::string value;
    rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), std::string(kCustomerPrefix) + customer, &value);
    evicted_.erase(it);
    if (!status.ok()) {
      if (!wake_error_) wake_error_ = Error::Of<ErrorKind::kStateCorrupt>({dir_, Describe(status)});
      return nullptr;
    }
    Store& memory = *PartOf(customer).memory;
    CustomerState& s = memory.Create(customer);
    if (!DecodeState(value, schema_, s)) {
      if (!wake_error_) wake_error_ = CorruptRecord(dir_, customer);
      memory.Erase(customer);
      return nullptr;
    }
    return &s;
  }

  std::vector<std::string> Evicted() const override { return {evicted_.begin(), evicted_.end()}; }
  size_t evicted() const override { return evicted_.size(); }

  bool Erase(const std::string& customer) override { return PartOf(customer).Erase(customer); }
  bool Absorb(const std::string& customer) override { return PartOf(customer).Absorb(customer); }
  size_t size() const override {
    size_t n = 0;
    for (const auto& part : parts_) n += part->size();
    return n;
  }
  void ForEach(const std::function<void(CustomerState&)>& visit) override {
    for (const auto& part : parts_) part->ForEach(visit);
  }
  void Touch(CustomerState& s) override { PartOf(*s.id).Touch(s); }

  std::vector<Store*> Split(size_t count, std::function<size_t(const std::string&)> part_of) override {
    std::vector<std::unique_ptr<Part>> split;
    for (size_t i = 0; i < count; ++i) split.push_back(std::make_unique<Part>(MakeMemoryStore(*program_)));
    for (const auto& part : parts_) {
      part->ForEach([&](CustomerState& from) {
        Part& to = *split[part_of(*from.id)];
        CustomerState& s = to.memory->Create(*from.id);
        const std::string* id = s.id;
        s = std::move(from);
        s.id = id;
        if (s.dirty) to.dirty.push_back(&s);
      });
      for (auto gone : {&Part::erased, &Part::absorbed})
        for (std::string& id : (*part).*gone) ((*split[0]).*gone).push_back(std::move(id));
    }
    parts_ = std::move(split);
    part_of_ = std::move(part_of);
    std::vector<Store*> out;
    for (const auto& part : parts_) out.push_back(part.get());
    return out;
  }

  const std::optional<Checkpoint>& checkpoint() const override { return checkpoint_; }

  std::optional<Error> Commit(const Checkpoint& checkpoint) override {
    if (wake_error_) return wake_error_;  // a customer could not be read back: their changes would be wrong
    // RocksDB counts every key comparison into a thread-local by default: a
    // sixth of a commit's write (perf, issue 15). Nothing reads the counts.
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
    // Each part's changed states are encoded on a thread of its own when the
    // states are split over threads (the threads that run them wait for the
    // commit), then written in key order: the memtable's skip list inserts
    // each key next to the previous one (a third of a commit's cost when
    // unsorted).
    std::vector<Encoded> encoded(parts_.size());
    {
      // A thread costs tens of microseconds to start: small parts (a host
      // committing every few events) are encoded here.
      constexpr size_t kStatesForAThread = 1024;
      std::vector<std::jthread> helpers;
      for (size_t p = 1; p < parts_.size(); ++p) {
        try {
          if (parts_[p]->dirty.size() >= kStatesForAThread) {
            helpers.emplace_back([this, &encoded, p] { encoded[p].Of(parts_[p]->dirty); });
            continue;
          }
        } catch (const std::system_error&) {  // no thread to be had: encoded here
        }
        encoded[p].Of(parts_[p]->dirty);
      }
      encoded[0].Of(parts_[0]->dirty);
    }
    rocksdb::WriteBatch batch(last_batch_bytes_ + last_batch_bytes_ / 4);
    std::string key(kCustomerPrefix);
    std::vector<std::string> erased;
    for (const auto& part : parts_) {
      erased.insert(erased.end(), part->erased.begin(), part->erased.end());
      for (const auto* gone : {&part->erased, &part->absorbed}) {  // before the states: one may have come back since
        for (const std::string& id : *gone) {
          key.resize(kCustomerPrefix.size());
          key += id;
          batch.Delete(key);
        }
      }
    }
    Encoded::Merge(encoded, [&](std::string_view id, std::string_view value) {
      key.resize(kCustomerPrefix.size());
      key += id;
      batch.Put(key, rocksdb::Slice(value.data(), value.size()));
    });
    if (write_schema_) {
      batch.Put(rocksdb::Slice(kVersionKey.data(), kVersionKey.size()), std::to_string(kFormatVersion));
      batch.Put(rocksdb::Slice(kSchemaKey.data(), kSchemaKey.size()), schema_bytes_);
    }
    batch.Put(rocksdb::Slice(kCheckpointKey.data(), kCheckpointKey.size()), EncodeCheckpoint(checkpoint));
    rocksdb::WriteOptions options;
    options.sync = true;
    rocksdb::Status status = db_->Write(options, &batch);
    if (!status.ok()) return Error::Of<ErrorKind::kCommitFailed>({Describe(status)});
    // Only now: a failed commit can be retried with everything still dirty.
    for (const auto& part : parts_) {
      for (CustomerState* s : part->dirty) s->dirty = false;
      part->dirty.clear();
      part->erased.clear();
      part->absorbed.clear();
    }
    last_batch_bytes_ = batch.GetDataSize();
    // A forgotten customer's older records leave the files now, not at some
    // later compaction: theirs, and the checkpoints that held their lines.
    if (!erased.empty()) {
      std::vector<std::string> keys{std::string(kCheckpointKey)};
      for (const std::string& id : erased) keys.push_back(std::string(kCustomerPrefix) + id);
      if (std::optional<Error> failed = Scrub(db_, dir_, Access::kWrite, keys)) return failed;
    }
    write_schema_ = false;
    checkpoint_ = checkpoint;
    return std::nullopt;
  }

  void Adopt(std::unique_ptr<Store> memory, const ir::Program& program) override {
    auto kept = std::make_unique<Part>(std::move(memory));  // the old dirty list pointed into the old memory
    kept->erased = std::move(parts_[0]->erased);
    kept->absorbed = std::move(parts_[0]->absorbed);
    parts_.clear();
    parts_.push_back(std::move(kept));
    part_of_ = nullptr;
    program_ = &program;
    parts_[0]->ForEach([&](CustomerState& s) {
      s.dirty = false;
      Touch(s);
    });
    schema_ = Schema::Of(program);
    schema_bytes_ = schema_.Encode();
    write_schema_ = true;
  }

  // Loads every stored customer, remapped when the schema changed.
  std::optional<Error> Load(const std::string& dir, const ir::Program& program, const Schema& old, bool changed,
                            std::map<std::string, std::string> target_keys, std::vector<Error>& notices) {
    Remap remap;
    if (changed) remap = MakeRemap(old, Schema::Of(program));
    remap.target_keys = std::move(target_keys);
    int64_t dropped = 0;
    std::optional<Error> error;
    CustomerState decoded;
    auto status = ForEachRecord(*db_, dir, [&](const std::string& id, std::string_view bytes) {
      if (error) return;
      CustomerState& s = parts_[0]->memory->Create(id);
      // Unchanged schema: decode in place, into the new state's vectors.
      if (!DecodeState(bytes, old, changed ? decoded : s)) {
        error = CorruptRecord(dir, id);
        return;
      }
      if (changed) {
        dropped += RemapState(std::move(decoded), remap, program, s);
        Touch(s);  // rewritten under the new schema at the next commit
      }
      if (!Runnable(s, program)) error = CorruptRecord(dir, id);
    });
    if (status) return status;
    if (error) return error;
    if (dropped > 0)
      notices.push_back(Error::Of<ErrorKind::kAftersDropped>({std::to_string(dropped)}));
    return std::nullopt;
  }

 private:
  Part& PartOf(const std::string& customer) { return parts_.size() == 1 ? *parts_[0] : *parts_[part_of_(customer)]; }

  std::string dir_;
  std::unique_ptr<rocksdb::DB> db_;
  bool writable_ = false;
  const ir::Program* program_;  // what new states are made for
  std::vector<std::unique_ptr<Part>> parts_;  // one, unless Split
  std::function<size_t(const std::string&)> part_of_;
  std::unordered_set<std::string> evicted_;  // committed, not in memory
  std::optional<Error> wake_error_;
  size_t last_batch_bytes_ = 0;
  std::optional<Checkpoint> checkpoint_;
  std::string schema_bytes_;
  bool write_schema_;
  Schema schema_;  // what the records are written with (schema_bytes_)
};

class StateReaderImpl final : public StateReader {
 public:
  StateReaderImpl(Opened o, std::string dir)
      : db_(std::move(o.db)), schema_(std::move(*o.schema)), checkpoint_(o.checkpoint), dir_(std::move(dir)) {}
  const Schema& schema() const override { return schema_; }
  const std::optional<Checkpoint>& checkpoint() const override { return checkpoint_; }

  std::optional<Error> ForEach(
      const std::function<void(const std::string&, const CustomerState&)>& visit) override {
    std::optional<Error> error;
    CustomerState s;
    auto status = ForEachRecord(*db_, dir_, [&](const std::string& id, std::string_view bytes) {
      if (error) return;
      if (!DecodeState(bytes, schema_, s)) error = CorruptRecord(dir_, id);
      else visit(id, s);
    });
    return status ? status : error;
  }

  std::optional<Error> Get(const std::string& id, std::optional<CustomerState>& state) override {
    std::string value;
    rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), std::string(kCustomerPrefix) + id, &value);
    state.reset();
    if (status.IsNotFound()) return std::nullopt;
    if (!status.ok()) return Error::Of<ErrorKind::kStateCorrupt>({dir_, Describe(status)});
    state.emplace();
    if (!DecodeState(value, schema_, *state)) return CorruptRecord(dir_, id);
    return std::nullopt;
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  Schema schema_;
  std::optional<Checkpoint> checkpoint_;
  std::string dir_;
};

}  // namespace

DurableStore::OpenResult DurableStore::Open(const std::string& dir, const ir::Program& program) {
  OpenResult result;
  // Everything a run may refuse is decided on a read-only handle, so a refused
  // directory is never written (BeginWriting opens it for writing).
  Opened o = OpenDatabase(dir, Access::kInspect);
  if (o.error) {
    result.error = o.error;
    return result;
  }
  Schema now = Schema::Of(program);
  std::string now_bytes = now.Encode();
  bool fresh = !o.schema.has_value();
  bool changed = !fresh && o.schema_bytes != now_bytes;
  std::map<std::string, std::string> target_keys;
  if (changed) {
    if (!SharesAnything(*o.schema, now)) {
      result.error = Error::Of<ErrorKind::kAnotherRuleSet>({dir, Join(o.schema->rule_files)});
      return result;
    }
    o.schema = Renamed(*o.schema, program, target_keys, result.notices);  // D14
    result.changes = IncompatibleChanges(*o.schema, program, dir);
    if (!result.changes.empty()) return result;
    DescribeChanges(*o.schema, now, result.notices);
  }
  // The format (and the schema) are written again when new, changed or older.
  auto store = std::make_unique<DurableStoreImpl>(dir, std::move(o.db), program, o.checkpoint, std::move(now_bytes),
                                                  fresh || changed || o.version < kFormatVersion);
  if (!fresh) {
    if (auto error = store->Load(dir, program, *o.schema, changed, target_keys, result.notices)) {
      result.error = std::move(error);
      return result;
    }
  }
  result.store = std::move(store);
  return result;
}

Migration Migrate(Store& from, const ir::Program& old, const ir::Program& now, const std::string& name) {
  Migration m;
  Schema is = Schema::Of(now);
  std::map<std::string, std::string> target_keys;
  Schema was = Renamed(Schema::Of(old), now, target_keys, m.notices);  // D14
  m.changes = IncompatibleChanges(was, now, name);
  if (!m.changes.empty()) return m;
  DescribeChanges(was, is, m.notices);
  Remap remap = MakeRemap(was, is);
  remap.target_keys = std::move(target_keys);
  m.store = MakeMemoryStore(now);
  int64_t dropped = 0;
  from.ForEach([&](CustomerState& s) {
    CustomerState& to = m.store->Create(*s.id);
    dropped += RemapState(std::move(s), remap, now, to);
  });
  if (dropped > 0) m.notices.push_back(Error::Of<ErrorKind::kAftersDropped>({std::to_string(dropped)}));
  return m;
}

std::optional<Error> ForgetCustomer(const std::string& dir, const std::string& id, bool& found) {
  found = false;
  Opened o = OpenDatabase(dir, Access::kEdit);
  if (!o.db) return o.error;
  std::string key = std::string(kCustomerPrefix) + id;
  std::string value;
  rocksdb::Status status = o.db->Get(rocksdb::ReadOptions(), key, &value);
  if (!status.ok() && !status.IsNotFound()) return Error::Of<ErrorKind::kStateCorrupt>({dir, Describe(status)});
  found = status.ok();
  // D12: one person, whichever of its ids is named: the survivor's record
  // holds every id merged into it.
  std::vector<std::string> ids{id};
  CustomerState person;
  if (found && o.schema && DecodeState(value, *o.schema, person)) {
    ids.insert(ids.end(), person.aliases.begin(), person.aliases.end());
  } else if (!found && o.schema) {
    std::unique_ptr<rocksdb::Iterator> it(o.db->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(kCustomerPrefix); it->Valid() && it->key().starts_with(kCustomerPrefix); it->Next()) {
      CustomerState s;
      if (!DecodeState(it->value().ToStringView(), *o.schema, s)) continue;
      if (std::find(s.aliases.begin(), s.aliases.end(), id) == s.aliases.end()) continue;
      key = it->key().ToString();
      ids.push_back(key.substr(kCustomerPrefix.size()));
      ids.insert(ids.end(), s.aliases.begin(), s.aliases.end());
      found = true;
      break;
    }
  }
  // Lines --lateness held for the customer are theirs too (D9).
  Checkpoint checkpoint = *o.checkpoint;
  auto theirs = [&](const HeldLine& h) {
    return std::find(ids.begin(), ids.end(), event::CustomerOf(h.text)) != ids.end();
  };
  size_t held = checkpoint.held.size();
  checkpoint.held.erase(std::remove_if(checkpoint.held.begin(), checkpoint.held.end(), theirs), checkpoint.held.end());
  found = found || checkpoint.held.size() != held;
  if (!found) return std::nullopt;
  rocksdb::WriteBatch batch;
  batch.Delete(key);
  batch.Put(rocksdb::Slice(kCheckpointKey.data(), kCheckpointKey.size()), EncodeCheckpoint(checkpoint));
  rocksdb::WriteOptions options;
  options.sync = true;
  status = o.db->Write(options, &batch);
  if (!status.ok()) return Error::Of<ErrorKind::kCommitFailed>({Describe(status)});
  std::optional<Error> failed = Scrub(o.db, dir, Access::kEdit, {key, std::string(kCheckpointKey)});
  if (o.db) o.db->Flush(rocksdb::FlushOptions());
  return failed;
}

std::unique_ptr<StateReader> StateReader::Open(const std::string& dir, Error* error) {
  Opened o = OpenDatabase(dir, Access::kShow);
  if (!o.db) {
    *error = o.error.value_or(Error{});
    return nullptr;
  }
  return std::make_unique<StateReaderImpl>(std::move(o), dir);
}

}  // namespace qm::state
