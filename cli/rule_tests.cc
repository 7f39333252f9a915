#include "cli/rule_tests.h"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/debug.h"
#include "cli/flags.h"
#include "cli/line_diff.h"

namespace qm::cli {
namespace fs = std::filesystem;
namespace {

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  return std::string(s.substr(b, e - b));
}

size_t Indent(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return i;
}

// The first word of `line` and the rest, trimmed.
std::pair<std::string, std::string> Word(const std::string& line) {
  size_t space = line.find_first_of(" \t");
  if (space == std::string::npos) return {line, ""};
  return {line.substr(0, space), Trim(std::string_view(line).substr(space))};
}

// Test files and the files they name are read whole: only regular files, at
// most this large (a `events /dev/zero` must not hang `qm test`).
constexpr uintmax_t kMaxTestFileBytes = 64 << 20;

std::optional<std::string> ReadWhole(const fs::path& path, std::string& error) {
  std::error_code ec;
  fs::file_status status = fs::status(path, ec);
  if (!ec && fs::exists(status) && !fs::is_regular_file(status)) {
    error = fs::is_directory(status) ? Bilingual("it is a directory", "这是一个目录") : Bilingual("not a regular file", "不是普通文件");
    return std::nullopt;
  }
  if (!ec && fs::exists(status) && fs::file_size(path, ec) > kMaxTestFileBytes) {
    error = Bilingual("larger than 64 MiB", "大于 64 MiB");
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  return text.str();
}

// Names in a list such as `tags 已购, "满 100"`: split at ASCII or
// full-width commas, each trimmed, surrounding quotes dropped (D15).
std::vector<std::string> Names(const std::string& list) {
  std::vector<std::string> names;
  std::string current;
  auto flush = [&] {
    std::string name = Trim(current);
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
    if (!name.empty()) names.push_back(name);
    current.clear();
  };
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i] == ',') flush();
    else if (list.compare(i, 3, "，") == 0) {
      flush();
      i += 2;
    } else {
      current += list[i];
    }
  }
  flush();
  return names;
}

class Reader {
 public:
  Reader(std::string path, Lang lang) : lang_(lang) { file_.path = std::move(path); }

  TestFile Read() {
    std::string why;
    std::optional<std::string> text = ReadWhole(file_.path, why);
    if (!text) return Fail(Error::Of<ErrorKind::kTestCannotRead>({file_.path, why}));
    return Parse(*text);
  }

  TestFile Parse(std::string_view text) {
    std::vector<std::string> lines = SplitLines(std::string(text));
    for (size_t i = 0; i < lines.size() && !file_.error; ++i) Line(lines[i], static_cast<int>(i + 1));
    if (file_.error) return file_;
    if (file_.cases.empty()) return Fail(Error::Of<ErrorKind::kTestNoCases>({file_.path}));
    if (rules_.empty()) {
      fs::path own = fs::path(file_.path).replace_extension(".qm");
      fs::path folder = fs::path(file_.path).parent_path() / "rules.qm";
      if (fs::is_regular_file(own)) rules_.push_back(own.string());
      else if (fs::is_regular_file(folder)) rules_.push_back(folder.string());
      else return Fail(Error::Of<ErrorKind::kTestNoRules>({file_.path, own.filename().string()}));
    }
    for (TestCase& c : file_.cases)
      if (c.rules.empty()) c.rules = rules_;
    return file_;
  }

 private:
  enum class Block { kNone, kEvents, kActions, kRejects, kHas, kLacks, kCustomer, kGiven };

  TestFile Fail(const Error& error) {
    file_.error = error.Message(lang_);
    return file_;
  }

  fs::path Near(const std::string& name) const { return fs::path(file_.path).parent_path() / name; }

  void Line(const std::string& raw, int number) {
    std::string line = Trim(raw);
    if (line.empty() || line[0] == '#') return;
    size_t indent = Indent(raw);
    if (block_ != Block::kNone && indent > block_indent_) return Content(line, number);
    block_ = Block::kNone;
    auto [word, rest] = Word(line);
    const std::string n = std::to_string(number);
    if (word == "case") {
      file_.cases.emplace_back();
      TestCase& c = file_.cases.back();
      c.file = file_.path;
      c.line = number;
      c.name = rest.empty() ? "#" + std::to_string(file_.cases.size()) : rest;
      c.until = until_, c.lateness = lateness_, c.tz = tz_;
      return;
    }
    if (word == "rules" || word == "until" || word == "lateness" || word == "tz") {
      if (rest.empty()) return (void)Fail(Error::Of<ErrorKind::kTestNeedsValue>({file_.path, n, word}));
      TestCase* c = file_.cases.empty() ? nullptr : &file_.cases.back();
      if (word == "rules") {
        std::vector<std::string>& into = c ? c->rules : rules_;
        std::istringstream paths(rest);
        for (std::string p; paths >> p;) into.push_back(Near(p).string());
      } else {
        std::string& into = word == "until" ? (c ? c->until : until_)
                            : word == "lateness" ? (c ? c->lateness : lateness_)
                                                 : (c ? c->tz : tz_);
        into = rest;
      }
      return;
    }
    static const std::pair<const char*, Block> kBlocks[] = {
        {"events", Block::kEvents}, {"actions", Block::kActions}, {"rejects", Block::kRejects},
        {"has", Block::kHas},       {"lacks", Block::kLacks},     {"customer", Block::kCustomer},
        {"given", Block::kGiven}};
    for (const auto& [name, block] : kBlocks) {
      if (word != name) continue;
      if (file_.cases.empty()) return (void)Fail(Error::Of<ErrorKind::kTestOutsideCase>({file_.path, n, word}));
      TestCase& c = file_.cases.back();
      block_ = block;
      block_indent_ = indent;
      if (block == Block::kActions && !c.actions) c.actions.emplace();
      if (block == Block::kCustomer || block == Block::kGiven) {
        if (rest.empty()) return (void)Fail(Error::Of<ErrorKind::kTestNeedsValue>({file_.path, n, word}));
        (block == Block::kCustomer ? c.customers : c.given).push_back({.line = number, .customer = rest});
      } else if (!rest.empty()) {  // the lines are in a file: `events events.jsonl`
        std::string why;
        std::optional<std::string> text = ReadWhole(Near(rest), why);
        if (!text) return (void)Fail(Error::Of<ErrorKind::kTestCannotReadFile>({file_.path, n, rest, why}));
        if (block == Block::kEvents) {
          for (std::string& l : SplitLines(*text)) c.events.push_back(std::move(l));
        } else {
          for (const std::string& l : SplitLines(*text))
            if (!Trim(l).empty() && Trim(l)[0] != '#') Content(Trim(l), number);
        }
        block_ = Block::kNone;
      }
      return;
    }
    Fail(Error::Of<ErrorKind::kTestBadLine>({file_.path, n, line}));
  }

  void Content(const std::string& line, int number) {
    TestCase& c = file_.cases.back();
    const std::string n = std::to_string(number);
    if (block_ == Block::kEvents) {  // as given: a bad line is the test of a reject
      c.events.push_back(line);
      return;
    }
    if (block_ == Block::kCustomer) return CustomerLine(c.customers.back(), line, n);
    if (block_ == Block::kGiven) return CustomerLine(c.given.back(), line, n);
    static const char* const kNames[] = {"", "events", "actions", "rejects", "has", "lacks", "customer", "given"};
    std::vector<std::pair<std::string, std::string>> members;
    if (!qianmian::debug::ObjectMembers(line, members))
      return (void)Fail(Error::Of<ErrorKind::kTestNotJson>({file_.path, n, kNames[static_cast<int>(block_)], line}));
    switch (block_) {
      case Block::kActions: c.actions->push_back(line); break;
      case Block::kRejects: c.rejects.push_back(line); break;
      case Block::kHas: c.has.push_back(line); break;
      default: c.lacks.push_back(line); break;
    }
  }

  void CustomerLine(CustomerExpectation& e, const std::string& line, const std::string& n) {
    auto [word, rest] = Word(line);
    if (word == "tags") {
      e.tags = Names(rest);
      return;
    }
    if (word == "tag" && !rest.empty()) {
      for (std::string& t : Names(rest)) e.has_tags.push_back(std::move(t));
      return;
    }
    if (word == "no" && rest.rfind("tag ", 0) == 0) {
      for (std::string& t : Names(rest.substr(4))) e.lacks_tags.push_back(std::move(t));
      return;
    }
    if (rest == "unset") {
      e.fields.emplace_back(word, std::nullopt);
      return;
    }
    size_t eq = line.find('=');
    if (eq != std::string::npos && eq > 0) {
      std::string value = Trim(std::string_view(line).substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      e.fields.emplace_back(Trim(std::string_view(line).substr(0, eq)), value);
      return;
    }
    Fail(Error::Of<ErrorKind::kTestCustomerLine>({file_.path, n, line}));
  }

  Lang lang_;
  TestFile file_;
  std::vector<std::string> rules_;
  std::string until_, lateness_, tz_ = "+08:00";
  Block block_ = Block::kNone;
  size_t block_indent_ = 0;
};

// Whether the members of `pattern` are all in `line`, with equal values.
bool Matches(const std::vector<std::pair<std::string, std::string>>& pattern, std::string_view line) {
  std::vector<std::pair<std::string, std::string>> members;
  if (!qianmian::debug::ObjectMembers(line, members)) return false;
  for (const auto& want : pattern) {
    bool found = false;
    for (const auto& have : members) found = found || have == want;
    if (!found) return false;
  }
  return true;
}

// Equal values as a rule author means them: the same text, or two numbers
// of equal value (`100` and `100.00` for money).
bool SameValue(const std::string& expected, const std::string& actual) {
  if (expected == actual) return true;
  auto number = [](const std::string& s) -> std::optional<double> {
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    return *end == '\0' && std::isfinite(d) ? std::optional(d) : std::nullopt;
  };
  std::optional<double> a = number(expected), b = number(actual);
  return a && b && *a == *b;
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

void CheckCustomer(const CustomerExpectation& e, qianmian::Runner& runner, Lang lang, std::vector<Failure>& out) {
  qianmian::CustomerView view;
  if (!runner.Customer(e.customer, view)) {
    out.push_back({Error::Of<ErrorKind::kTestNoCustomer>({e.customer}).Message(lang), ""});
    return;
  }
  const std::string unset = Error::Of<ErrorKind::kTestUnset>().Message(lang);
  for (const auto& [name, want] : e.fields) {
    const std::optional<std::string>* have = nullptr;
    for (const auto& [field, value] : view.profile)
      if (field == name) have = &value;
    if (have == nullptr) {
      out.push_back({Error::Of<ErrorKind::kTestNoField>({e.customer, name}).Message(lang), ""});
    } else if (want.has_value() != have->has_value() || (want && !SameValue(*want, **have))) {
      out.push_back({Error::Of<ErrorKind::kTestFieldDiffers>(
                         {e.customer, name, *have ? **have : unset, want ? *want : unset})
                         .Message(lang),
                     ""});
    }
  }
  auto has = [&](const std::string& tag) {
    for (const std::string& t : view.tags)
      if (t == tag) return true;
    return false;
  };
  if (e.tags) {
    std::vector<std::string> want = *e.tags, have = view.tags;
    std::sort(want.begin(), want.end());
    std::sort(have.begin(), have.end());
    if (want != have)
      out.push_back(
          {Error::Of<ErrorKind::kTestTagsDiffer>({e.customer, Join(view.tags), Join(*e.tags)}).Message(lang), ""});
  }
  for (const std::string& t : e.has_tags)
    if (!has(t)) out.push_back({Error::Of<ErrorKind::kTestTagMissing>({e.customer, t}).Message(lang), ""});
  for (const std::string& t : e.lacks_tags)
    if (has(t)) out.push_back({Error::Of<ErrorKind::kTestTagPresent>({e.customer, t}).Message(lang), ""});
}

}  // namespace

TestFile ReadTestFile(const std::string& path, Lang lang) { return Reader(path, lang).Read(); }
TestFile ParseTestFile(const std::string& path, std::string_view text, Lang lang) {
  return Reader(path, lang).Parse(text);
}

bool IsExampleFolder(const std::string& dir) {
  return fs::is_regular_file(fs::path(dir) / "rules.qm") && fs::is_regular_file(fs::path(dir) / "events.jsonl") &&
         fs::is_regular_file(fs::path(dir) / "expected.jsonl");
}

TestFile ReadExampleFolder(const std::string& dir, Lang lang) {
  TestFile file;
  file.path = dir;
  TestCase c;
  c.file = dir;
  c.name = fs::path(dir).filename().string();
  if (c.name.empty()) c.name = fs::path(dir).parent_path().filename().string();
  c.rules = {(fs::path(dir) / "rules.qm").string()};
  auto read = [&](const char* name, bool optional) -> std::optional<std::vector<std::string>> {
    fs::path path = fs::path(dir) / name;
    if (optional && !fs::exists(path)) return std::vector<std::string>{};
    std::string why;
    std::optional<std::string> text = ReadWhole(path, why);
    if (!text) {
      file.error = Error::Of<ErrorKind::kTestCannotRead>({path.string(), why}).Message(lang);
      return std::nullopt;
    }
    return SplitLines(*text);
  };
  std::optional<std::vector<std::string>> events = read("events.jsonl", false), actions = read("expected.jsonl", false),
                                          rejects = read("expected_rejects.jsonl", true),
                                          args = read("args", true);
  if (!events || !actions || !rejects || !args) return file;
  c.events = std::move(*events);
  c.actions = std::move(*actions);
  c.rejects = std::move(*rejects);
  std::vector<std::string> words;
  for (const std::string& line : *args) {
    std::istringstream in(line);
    for (std::string w; in >> w;) words.push_back(w);
  }
  Flags flags;
  if (std::optional<Error> wrong = SplitFlags(words, {"--until", "--lateness", "--tz"}, {}, "run", flags)) {
    file.error = Error::Of<ErrorKind::kTestBadArgs>({(fs::path(dir) / "args").string(), wrong->Message(lang)}).Message(lang);
    return file;
  }
  if (const std::string* v = flags.Get("--until")) c.until = *v;
  if (const std::string* v = flags.Get("--lateness")) c.lateness = *v;
  if (const std::string* v = flags.Get("--tz")) c.tz = *v;
  file.cases.push_back(std::move(c));
  return file;
}

CaseResult RunCase(const TestCase& test, const qianmian::RuleSet& rules, qianmian::Engine engine, Lang lang,
                   qianmian::Coverage* coverage) {
  auto start = std::chrono::steady_clock::now();
  CaseResult result;
  std::vector<Failure>& out = result.failures;
  if (!rules.ok()) {
    std::string detail;
    for (const qianmian::Diagnostic& d : rules.diagnostics())
      if (d.error) detail += d.rendered;
    out.push_back({Error::Of<ErrorKind::kTestRulesHaveErrors>().Message(lang), detail});
    return result;
  }
  std::vector<std::string> actions, rejects;
  std::string refused;
  std::unique_ptr<qianmian::Runner> made = qianmian::Runner::Create(
      rules, {.engine = engine, .tz = test.tz, .lateness = test.lateness, .coverage = coverage},
      [&](std::string_view line) { actions.emplace_back(line); },
      [&](std::string_view line) { rejects.emplace_back(line); }, &refused);
  if (!made) {
    out.push_back({refused, ""});
    return result;
  }
  qianmian::Runner& runner = *made;
  for (const CustomerExpectation& g : test.given) {
    std::vector<std::string> tags = g.tags.value_or(std::vector<std::string>{});
    tags.insert(tags.end(), g.has_tags.begin(), g.has_tags.end());
    if (std::string wrong = runner.SetProfile(g.customer, g.fields, tags); !wrong.empty()) {
      out.push_back({test.file + ":" + std::to_string(g.line) + ": " + wrong, ""});
      return result;
    }
  }
  for (const std::string& line : test.events) runner.Feed(line);
  runner.EndOfInput();
  if (!test.until.empty() && !runner.FireUntil(test.until).ok()) {
    out.push_back({Error::Of<ErrorKind::kBadUntil>({test.until}).Message(lang), ""});
    return result;
  }

  if (test.actions && *test.actions != actions)
    out.push_back({Error::Of<ErrorKind::kTestActionsDiffer>({std::to_string(test.actions->size()),
                                                             std::to_string(actions.size())})
                       .Message(lang),
                   RenderDiff(DiffLines(*test.actions, actions), "")});
  if (test.rejects != rejects)
    out.push_back({Error::Of<ErrorKind::kTestRejectsDiffer>({std::to_string(test.rejects.size()),
                                                             std::to_string(rejects.size())})
                       .Message(lang),
                   RenderDiff(DiffLines(test.rejects, rejects), "")});
  std::vector<std::pair<std::string, std::string>> pattern;
  for (const std::string& want : test.has) {
    qianmian::debug::ObjectMembers(want, pattern);
    bool found = false;
    for (const std::string& line : actions) found = found || Matches(pattern, line);
    if (!found) out.push_back({Error::Of<ErrorKind::kTestMissingLine>({want}).Message(lang), ""});
  }
  for (const std::string& unwanted : test.lacks) {
    qianmian::debug::ObjectMembers(unwanted, pattern);
    for (const std::string& line : actions)
      if (Matches(pattern, line)) {
        out.push_back({Error::Of<ErrorKind::kTestUnwantedLine>({unwanted, line}).Message(lang), ""});
        break;
      }
  }
  for (const CustomerExpectation& e : test.customers) CheckCustomer(e, runner, lang, out);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace qm::cli
