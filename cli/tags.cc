// `qm tags RULES... [--state DIR]`: the tag dictionary, for the periodic
// tag review the seed articles ask for: each tag's description, the rules
// that set and read it, and with a state directory how many customers carry it.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/table.h"
#include "compiler/value/value.h"

namespace qm::cli {
namespace {

std::string Join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? separator : "") + items[i];
  return out;
}

// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
std::string Csv(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string JsonArray(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ",";
    AppendJsonString(out, items[i]);
  }
  return out + "]";
}

std::string Share(int64_t part, int64_t whole) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : 0.0);
  return buf;
}

}  // namespace

int TagsCommand(const std::vector<std::string>& args, qianmian::Language lang) {
  Flags flags;
  qianmian::Language language = LangOfArgs(args, lang);
  if (std::optional<Error> e = SplitFlags(args, {"--state", "--format", "--lang"}, {}, "tags", flags))
    return Usage(*e, language);
  if (flags.positional.empty()) return Usage(Error::Of<ErrorKind::kNeedsRuleFile>({"tags"}), language);
  std::string format = flags.Get("--format") ? *flags.Get("--format") : "text";
  if (format != "text" && format != "csv" && format != "json") return Usage(Error::Of<ErrorKind::kTagsFormatTakes>(), language);
  bool zh = language == qianmian::Language::kChinese;

  qianmian::RuleSet rules = qianmian::RuleSet::FromFiles(flags.positional, language);
  if (!rules.ok()) {
    for (const qianmian::Diagnostic& d : rules.diagnostics())
      if (d.error) std::fputs(d.rendered.c_str(), stderr);
    return kExitErrors;
  }
  // Customers per tag, when a state directory is given.
  bool with_state = flags.Get("--state") != nullptr;
  std::map<std::string, int64_t> carrying;
  int64_t customers = 0;
  if (with_state) {
    std::string error;
    std::unique_ptr<qianmian::StateDirectory> state = qianmian::StateDirectory::Open(*flags.Get("--state"), &error, language);
    qianmian::StateSummary summary;
    if (state) error = state->Summarize(summary);
    if (!error.empty()) {
      std::fprintf(stderr, "qm: %s\n", error.c_str());
      return kExitErrors;
    }
    customers = summary.customers;
    for (const auto& [tag, n] : summary.tags) carrying[tag] = n;
  }

  std::vector<qianmian::RuleSet::Tag> tags = rules.Tags();
  std::string out;
  if (format == "json") {
    for (const qianmian::RuleSet::Tag& t : tags) {
      out += "{\"tag\":";
      AppendJsonString(out, t.name);
      out += ",\"description\":";
      AppendJsonString(out, t.description);
      out += std::string(",\"segment\":") + (t.segment ? "true" : "false");
      out += ",\"set_by\":" + JsonArray(t.set_by) + ",\"read_by\":" + JsonArray(t.read_by);
      if (with_state)
        out += ",\"customers\":" + std::to_string(carrying[t.name]) + ",\"share\":" + Share(carrying[t.name], customers);
      out += "}\n";
    }
  } else if (format == "csv") {
    out = with_state ? "tag,description,segment,set_by,read_by,customers,share\r\n"
                     : "tag,description,segment,set_by,read_by\r\n";
    for (const qianmian::RuleSet::Tag& t : tags) {
      out += Csv(t.name) + "," + Csv(t.description) + "," + (t.segment ? "true" : "false") + "," +
             Csv(Join(t.set_by, ";")) + "," + Csv(Join(t.read_by, ";"));
      if (with_state) out += "," + std::to_string(carrying[t.name]) + "," + Share(carrying[t.name], customers);
      out += "\r\n";
    }
  } else {
    // Columns sized to their longest cell; a tag no rule sets or reads is flagged.
    std::vector<std::vector<std::string>> rows;
    rows.push_back(zh ? std::vector<std::string>{"标签", "说明", "设置它的规则", "读取它的规则"}
                      : std::vector<std::string>{"tag", "description", "set by", "read by"});
    if (with_state) {
      rows[0].insert(rows[0].begin() + 1, zh ? "客户数" : "customers");
      rows[0].insert(rows[0].begin() + 2, zh ? "占比" : "share");
    }
    for (const qianmian::RuleSet::Tag& t : tags) {
      std::string name = t.name + (t.segment ? (zh ? "（分群）" : " (segment)") : "");
      std::string set_by = t.segment ? (zh ? "（引擎）" : "(engine)") : t.set_by.empty() ? "-" : Join(t.set_by, ", ");
      std::string read_by = t.read_by.empty() ? "-" : Join(t.read_by, ", ");
      std::vector<std::string> row{name, t.description, set_by, read_by};
      if (with_state) {
        row.insert(row.begin() + 1, std::to_string(carrying[t.name]));
        row.insert(row.begin() + 2, Percent(carrying[t.name], customers));
      }
      rows.push_back(std::move(row));
    }
    std::vector<int> width(rows[0].size());
    for (const auto& row : rows)
      for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], utf8::DisplayWidth(row[c]));
    for (const auto& row : rows) {
      std::string line;
      for (size_t c = 0; c < row.size(); ++c) line += c + 1 < row.size() ? Pad(row[c], width[c]) + "  " : row[c];
      out += line + "\n";
    }
    if (with_state)
      out += zh ? "\n共 " + std::to_string(customers) + " 位客户。\n"
                : "\n" + std::to_string(customers) + " customers.\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

}  // namespace qm::cli
