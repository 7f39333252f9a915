// StateDirectory: `qm state` for every host.
#include <algorithm>
#include <filesystem>
#include <map>

#include "compiler/value/value.h"
#include "qianmian/qianmian.hpp"
#include "runtime/event/decode.h"
#include "runtime/state/durable.h"
#include "runtime/state/inspect.h"

namespace qianmian {

bool IsValidTz(std::string_view tz) { return qm::ParseOffset(tz).has_value(); }
bool IsValidTime(std::string_view time) { return qm::event::ParseTimeArgument(time).has_value(); }

struct StateDirectory::Impl {
  // One state directory; or a worker's, one per partition, in partition order.
  std::vector<std::unique_ptr<qm::state::StateReader>> readers;
  qm::Lang lang = qm::Lang::kEn;
  std::string Say(const qm::Error& error) const { return error.Message(lang); }
};

StateDirectory::StateDirectory(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StateDirectory::~StateDirectory() = default;

std::unique_ptr<StateDirectory> StateDirectory::Open(const std::string& dir, std::string* error,
                                                     Language language) {
  auto impl = std::make_unique<Impl>();
  impl->lang = language == Language::kChinese ? qm::Lang::kZh : qm::Lang::kEn;
  qm::Error why;
  if (auto reader = qm::state::StateReader::Open(dir, &why)) {
    impl->readers.push_back(std::move(reader));
    return std::unique_ptr<StateDirectory>(new StateDirectory(std::move(impl)));
  }
  // A worker's directory (`qm worker --state DIR`): DIR/partition-p each.
  std::map<int64_t, std::filesystem::path> partitions;
  std::error_code failed;
  for (const auto& entry : std::filesystem::directory_iterator(dir, failed)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("partition-") || !entry.is_directory()) continue;
    const std::string number = name.substr(10);
    if (!number.empty() && number.size() < 6 && number.find_first_not_of("0123456789") == std::string::npos)
      partitions[std::stoll(number)] = entry.path();
  }
  if (partitions.empty()) {
    if (error != nullptr) *error = impl->Say(why);
    return nullptr;
  }
  for (const auto& [p, path] : partitions) {
    auto reader = qm::state::StateReader::Open(path.string(), &why);
    if (!reader) {
      if (error != nullptr) *error = impl->Say(why);
      return nullptr;
    }
    impl->readers.push_back(std::move(reader));
  }
  return std::unique_ptr<StateDirectory>(new StateDirectory(std::move(impl)));
}

std::string StateDirectory::ForEachCustomer(const std::string& tz, const LineCallback& on_customer) {
  std::optional<int> offset = qm::ParseOffset(tz);
  if (!offset) return impl_->Say(qm::Error::Of<qm::ErrorKind::kBadTz>({tz}));
  for (const auto& reader : impl_->readers) {
    const qm::state::Schema& schema = reader->schema();
    std::optional<qm::Error> error = reader->ForEach([&](const std::string& id, const qm::state::CustomerState& s) {
      on_customer(qm::state::CustomerJson(schema, id, s, *offset));
    });
    if (error) return impl_->Say(*error);
  }
  return "";
}

bool StateDirectory::Customer(const std::string& id, const std::string& tz, std::string& line, std::string& error) {
  error.clear();
  std::optional<int> offset = qm::ParseOffset(tz);
  if (!offset) {
    error = impl_->Say(qm::Error::Of<qm::ErrorKind::kBadTz>({tz}));
    return false;
  }
  for (const auto& reader : impl_->readers) {
    std::optional<qm::state::CustomerState> s;
    if (std::optional<qm::Error> failed = reader->Get(id, s)) {
      error = impl_->Say(*failed);
      return false;
    }
    std::string person = id;
    if (!s) {  // D11: an id merged into another person shows that person
      std::optional<qm::Error> failed = reader->ForEach([&](const std::string& survivor, const qm::state::CustomerState& c) {
        if (!s && std::find(c.aliases.begin(), c.aliases.end(), id) != c.aliases.end()) s = c, person = survivor;
      });
      if (failed) {
        error = impl_->Say(*failed);
        return false;
      }
    }
    if (!s) continue;
    line = qm::state::CustomerJson(reader->schema(), person, *s, *offset);
    return true;
  }
  return false;
}

std::string StateDirectory::Summarize(StateSummary& out) {
  qm::state::Summary summary;
  std::vector<qm::state::StateReader*> readers;
  for (const auto& reader : impl_->readers) readers.push_back(reader.get());
  if (std::optional<qm::Error> error = qm::state::Summarize(readers, summary)) return impl_->Say(*error);
  const qm::state::Schema& schema = readers.front()->schema();
  out = StateSummary{};
  out.customers = summary.customers;
  out.merged = summary.merged;
  out.pending_timers = summary.pending_timers;
  out.input_lines = summary.checkpoint.input_lines;
  out.input_bytes = summary.checkpoint.input_bytes;
  out.actions_bytes = summary.checkpoint.actions_bytes;
  out.rejects_bytes = summary.checkpoint.rejects_bytes;
  for (size_t t = 0; t < schema.tags.size(); ++t) out.tags.emplace_back(schema.tags[t], summary.tagged[t]);
  for (const qm::state::Summary::Members& m : summary.fields) {
    StateSummary::Field field{schema.fields[m.field].name, {}, m.counts.back()};
    const qm::state::Schema::Enum* e = schema.FindEnum(schema.fields[m.field].type);
    for (size_t k = 0; k < e->members.size(); ++k) field.members.emplace_back(e->members[k], m.counts[k]);
    out.fields.push_back(std::move(field));
  }
  const qm::state::Checkpoint& at = summary.checkpoint;
  auto spell = [&](int64_t ms) { return ms == qm::state::kNever ? "" : qm::FormatTime(ms, at.tz_minutes); };
  for (const qm::state::SegmentStatus& s : at.segments)
    out.segments.push_back({s.name, spell(s.last), spell(s.next), s.ranked, s.members, s.threshold});
  out.rules_fired = at.tallies.fired;
  out.actions = at.tallies.actions;
  out.suppressed = at.tallies.suppressed;
  for (const auto& [tag, description] : at.tallies.tag_descriptions) out.tag_descriptions[tag] = description;
  out.rule_files = schema.rule_files;
  if (summary.rfm) {
    using R = qm::state::RfmGrid;
    RfmGrid& rfm = out.rfm.emplace();
    rfm.by = summary.rfm->by;
    rfm.recency_days.assign(std::begin(R::kRecencyDays), std::end(R::kRecencyDays));
    rfm.frequency.assign(std::begin(R::kFrequency), std::end(R::kFrequency));
    rfm.without = summary.rfm->without;
    for (int r = 0; r < R::kBuckets; ++r) {
      rfm.customers.emplace_back();
      rfm.average.emplace_back();
      for (int f = 0; f < R::kBuckets; ++f) {
        int64_t n = summary.rfm->customers[r][f];
        rfm.customers[r].push_back(n);
        rfm.average[r].push_back(n > 0 ? qm::FormatMoney(summary.rfm->cents[r][f] / n) : "");
      }
    }
  }
  return "";
}

Status ForgetCustomer(const std::string& dir, const std::string& customer, bool* found, Language language) {
  bool any = false;
  std::optional<qm::Error> failed = qm::state::ForgetCustomer(dir, customer, any);
  if (found != nullptr) *found = any;
  return {failed ? failed->Message(language == Language::kChinese ? qm::Lang::kZh : qm::Lang::kEn) : ""};
}

}  // namespace qianmian
