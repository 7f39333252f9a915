// `qm lsp` driven over standard input and output as an editor drives it:
// framing, the lifecycle, diagnostics as text changes, and every request the
// server answers, on files that import each other and on broken input.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "gtest/gtest.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// A client of one `qm lsp` process.
class Client {
 public:
  explicit Client(std::vector<std::string> args = {}) {
    int to_child[2], from_child[2];
    EXPECT_EQ(pipe(to_child), 0);
    EXPECT_EQ(pipe(from_child), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(to_child[0], 0);
      dup2(from_child[1], 1);
      close(to_child[1]);
      close(from_child[0]);
      std::vector<char*> argv{const_cast<char*>(QM_BINARY), const_cast<char*>("lsp")};
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      setenv("LANG", "C", 1);
      execv(QM_BINARY, argv.data());
      _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    in_ = to_child[1];
    out_ = from_child[0];
    signal(SIGPIPE, SIG_IGN);
  }
  ~Client() {
    close(in_);
    close(out_);
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  void SendRaw(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = write(in_, bytes.data() + done, bytes.size() - done);
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  }
  void Send(const json& message) {
    std::string body = message.dump();
    SendRaw("Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  }
  void Notify(const std::string& method, const json& params) {
    Send({{"jsonrpc", "2.0"}, {"method", method}, {"params", params}});
  }
  // Sends a request and returns its reply; notifications that arrive first are kept.
  json Request(const std::string& method, const json& params) {
    int id = ++next_id_;
    Send({{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}});
    for (;;) {
      std::optional<json> m = Next();
      if (!m) return json{{"error", "no reply"}};
      if (m->contains("id") && (*m)["id"] == id) return *m;
      notifications_.push_back(*m);
    }
  }
  // The diagnostics published last for `uri`, waiting for them if needed.
  json DiagnosticsOf(const std::string& uri) {
    // A request is a barrier: the server publishes pending diagnostics before it reads on.
    Request("textDocument/documentSymbol", {{"textDocument", {{"uri", uri}}}});
    json found;
    for (const json& n : notifications_)
      if (n.value("method", "") == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri)
        found = n["params"]["diagnostics"];
    return found;
  }
  // The next message within 20 s; nullopt when the server closed its output or is stuck.
  std::optional<json> Next() {
    for (;;) {
      size_t header_end = buffer_.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        size_t length = std::stoul(buffer_.substr(buffer_.find(':') + 1, header_end));
        if (buffer_.size() >= header_end + 4 + length) {
          std::string body = buffer_.substr(header_end + 4, length);
          buffer_.erase(0, header_end + 4 + length);
          return json::parse(body);
        }
      }
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, 20000) <= 0) return std::nullopt;
      char chunk[65536];
      ssize_t n = read(out_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }
  int Wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  const std::vector<json>& notifications() const { return notifications_; }

 private:
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
  bool reaped_ = false;
  int next_id_ = 0;
  std::string buffer_;
  std::vector<json> notifications_;
};

std::string UriOf(const fs::path& p) { return "file://" + p.string(); }

json Pos(int line, int character) { return {{"line", line}, {"character", character}}; }
json At(const std::string& uri, int line, int character) {
  return {{"textDocument", {{"uri", uri}}}, {"position", Pos(line, character)}};
}

class LspTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("qm-lsp-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // Declarations in one file, rules in another that imports it (A9).
    Write("decls.qm",
          "enum 阶段 { 陌生, 意向, 已购 }\n"
          "event order { amount: money, channel: text }\n"
          "event 浏览 { page: text }\n"
          "profile { stage: 阶段 = 陌生, spend: money = 0 }\n"
          "tag 高意向 \"近期多次浏览\"\n");
    Write("rules.qm",
          "import \"decls.qm\"\n"
          "rule 首购: when order and stage = 陌生 then set stage 已购, add spend amount\n"
          "rule 意向: when 浏览 and stage != 已购 then tag 高意向\n"
          "rule 跟进: when tagged 高意向 and stage in (陌生, 意向) then push 顾问\n");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  std::string Read(const std::string& name) {
    std::ifstream in(dir_ / name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  json Initialize(Client& c, const std::string& locale = "en") {
    json reply = c.Request("initialize", {{"processId", nullptr}, {"rootUri", UriOf(dir_)}, {"locale", locale},
                                          {"capabilities", json::object()}});
    c.Notify("initialized", json::object());
    return reply;
  }
  void Open(Client& c, const std::string& name, const std::string& text) {
    c.Notify("textDocument/didOpen",
             {{"textDocument", {{"uri", UriOf(dir_ / name)}, {"languageId", "qianmian"}, {"version", 1}, {"text", text}}}});
  }

  fs::path dir_;
};

TEST_F(LspTest, LifecycleAndCapabilities) {
  Client c;
  json init = Initialize(c);
  const json& caps = init["result"]["capabilities"];
  for (const char* cap : {"hoverProvider", "definitionProvider", "referencesProvider", "renameProvider",
                          "documentSymbolProvider", "documentFormattingProvider"})
    EXPECT_EQ(caps[cap], true) << cap;
  EXPECT_TRUE(caps["completionProvider"].is_object());
  EXPECT_EQ(init["result"]["serverInfo"]["name"], "qm");
  EXPECT_EQ(c.Request("shutdown", nullptr)["result"], nullptr);
  c.Notify("exit", nullptr);
  EXPECT_EQ(c.Wait(), 0);
}

TEST_F(LspTest, ExitWithoutShutdownIsAnError) {
  Client c;
  Initialize(c);
  c.Notify("exit", nullptr);
  EXPECT_EQ(c.Wait(), 1);
}

TEST_F(LspTest, RequestsBeforeInitializeAndUnknownMethodsAreErrors) {
  Client c;
  EXPECT_EQ(c.Request("textDocument/hover", At(UriOf(dir_ / "rules.qm"), 0, 0))["error"]["code"], -32002);
  Initialize(c);
  EXPECT_EQ(c.Request("qm/nonsense", json::object())["error"]["code"], -32601);
  EXPECT_EQ(c.Request("textDocument/hover", {{"textDocument", 5}})["error"]["code"], -32602);
  // A method that is not a string, and a reply the server did not ask for: an error, then nothing.
  c.Send({{"jsonrpc", "2.0"}, {"id", 99}, {"method", 5}});
  std::optional<json> error = c.Next();
  ASSERT_TRUE(error);
  EXPECT_EQ((*error)["id"], 99);
  EXPECT_EQ((*error)["error"]["code"], -32600);
  c.Send({{"jsonrpc", "2.0"}, {"id", "x"}, {"result", nullptr}});
  EXPECT_EQ(c.Request("shutdown", nullptr)["result"], nullptr);
}

TEST_F(LspTest, DiagnosticsFollowEditsAsYouType) {
  Client c;
  Initialize(c);
  std::string uri = UriOf(dir_ / "rules.qm");
  std::string text = Read("rules.qm");
  Open(c, "rules.qm", text);
  EXPECT_EQ(c.DiagnosticsOf(uri), json::array());

  // A misspelt member: E0103 at its place, with did-you-mean in the message.
  std::string broken = text;
  broken.replace(broken.find("stage = 陌生"), std::string("stage = 陌生").size(), "stage = 陌声");
  c.Notify("textDocument/didChange", {{"textDocument", {{"uri", uri}, {"version", 2}}},
                                      {"contentChanges", {{{"text", broken}}}}});
  json diags = c.DiagnosticsOf(uri);
  ASSERT_EQ(diags.size(), 1u) << diags.dump(2);
  EXPECT_EQ(diags[0]["code"], "E0103");
  EXPECT_EQ(diags[0]["severity"], 1);
  EXPECT_EQ(diags[0]["range"]["start"], Pos(1, 32));  // UTF-16 units: 首购 is two
  EXPECT_EQ(diags[0]["range"]["end"], Pos(1, 34));
  EXPECT_NE(diags[0]["message"].get<std::string>().find("陌生"), std::string::npos);

  // An incremental edit puts it right again.
  c.Notify("textDocument/didChange",
           {{"textDocument", {{"uri", uri}, {"version", 3}}},
            {"contentChanges", {{{"range", {{"start", Pos(1, 33)}, {"end", Pos(1, 34)}}}, {"text", "生"}}}}});
  EXPECT_EQ(c.DiagnosticsOf(uri), json::array());

  // Unsaved text of an imported file wins over the file on disk.
  std::string decls = Read("decls.qm");
  decls.replace(decls.find("陌生, "), std::string("陌生, ").size(), "");
  Open(c, "decls.qm", decls);
  diags = c.DiagnosticsOf(uri);
  ASSERT_FALSE(diags.empty());
  EXPECT_EQ(diags[0]["code"], "E0103");
  c.Notify("textDocument/didClose", {{"textDocument", {{"uri", UriOf(dir_ / "decls.qm")}}}});
  EXPECT_EQ(c.DiagnosticsOf(uri), json::array());
}

TEST_F(LspTest, DiagnosticsInChineseForAChineseClient) {
  Client c;
  Initialize(c, "zh-cn");
  std::string uri = UriOf(dir_ / "rules.qm");
  Open(c, "rules.qm", "import \"decls.qm\"\nrule R: when order and stage = 已买 then tag 高意向\n");
  json diags = c.DiagnosticsOf(uri);
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_NE(diags[0]["message"].get<std::string>().find("不是枚举"), std::string::npos) << diags[0]["message"];
}

TEST_F(LspTest, HoverDefinitionReferences) {
  Client c;
  Initialize(c);
  std::string uri = UriOf(dir_ / "rules.qm"), decls = UriOf(dir_ / "decls.qm");
  Open(c, "rules.qm", Read("rules.qm"));
  // `stage` in rule 首购 (line 1): a profile field of enum 阶段 with a default.
  json hover = c.Request("textDocument/hover", At(uri, 1, 25));
  std::string text = hover["result"]["contents"]["value"];
  EXPECT_NE(text.find("profile field"), std::string::npos) << text;
  EXPECT_NE(text.find("阶段"), std::string::npos);
  EXPECT_NE(text.find("default `陌生`"), std::string::npos) << text;
  // The tag's description.
  text = c.Request("textDocument/hover", At(uri, 2, 43))["result"]["contents"]["value"];
  EXPECT_NE(text.find("近期多次浏览"), std::string::npos) << text;
  // Nothing to say on a keyword.
  EXPECT_EQ(c.Request("textDocument/hover", At(uri, 1, 10))["result"], nullptr);

  json def = c.Request("textDocument/definition", At(uri, 1, 25))["result"];
  ASSERT_EQ(def.size(), 1u);
  EXPECT_EQ(def[0]["uri"], decls);
  EXPECT_EQ(def[0]["range"]["start"], Pos(3, 10));
  EXPECT_EQ(def[0]["range"]["end"], Pos(3, 15));

  // 高意向: declared in decls.qm, used twice in rules.qm.
  json refs = c.Request("textDocument/references",
                        {{"textDocument", {{"uri", uri}}}, {"position", Pos(2, 43)}, {"context", {{"includeDeclaration", true}}}});
  ASSERT_EQ(refs["result"].size(), 3u) << refs.dump(2);
  EXPECT_EQ(refs["result"][0]["uri"], decls);
  // The member 陌生 across files: its declaration, the default and two conditions.
  refs = c.Request("textDocument/references",
                   {{"textDocument", {{"uri", uri}}}, {"position", Pos(1, 33)}, {"context", {{"includeDeclaration", false}}}});
  EXPECT_EQ(refs["result"].size(), 3u) << refs.dump(2);
}

TEST_F(LspTest, RenameAcrossImportedFiles) {
  Client c;
  Initialize(c);
  std::string uri = UriOf(dir_ / "rules.qm"), decls = UriOf(dir_ / "decls.qm");
  Open(c, "rules.qm", Read("rules.qm"));
  json reply = c.Request("textDocument/rename", {{"textDocument", {{"uri", uri}}}, {"position", Pos(2, 43)},
                                                 {"newName", "强意向"}});
  const json& changes = reply["result"]["changes"];
  ASSERT_EQ(changes[decls].size(), 1u) << reply.dump(2);
  ASSERT_EQ(changes[uri].size(), 2u);
  EXPECT_EQ(changes[uri][0]["newText"], "强意向");
  // An event field may take a name another event's field has.
  json amount = c.Request("textDocument/rename", {{"textDocument", {{"uri", decls}}}, {"position", Pos(1, 16)},
                                                  {"newName", "page"}});
  EXPECT_TRUE(amount.contains("result")) << amount.dump();
  // A keyword, a taken name and a non-name are refused with a reason.
  for (const char* bad : {"when", "意向", "a b"}) {
    json refused = c.Request("textDocument/rename", {{"textDocument", {{"uri", uri}}}, {"position", Pos(1, 33)},
                                                     {"newName", bad}});
    EXPECT_EQ(refused["error"]["code"], -32803) << bad << refused.dump();
  }
}

TEST_F(LspTest, SymbolsFormattingAndCompletion) {
  Client c;
  Initialize(c);
  std::string uri = UriOf(dir_ / "rules.qm"), decls = UriOf(dir_ / "decls.qm");
  Open(c, "decls.qm", Read("decls.qm"));
  json symbols = c.Request("textDocument/documentSymbol", {{"textDocument", {{"uri", decls}}}})["result"];
  std::vector<std::string> names;
  for (const json& s : symbols) names.push_back(s["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"阶段", "order", "浏览", "stage", "spend", "高意向"}));
  EXPECT_EQ(symbols[0]["children"].size(), 3u);  // the members
  EXPECT_EQ(symbols[1]["children"].size(), 2u);  // the fields

  std::string messy = "import \"decls.qm\"\nrule  A :  when order  and amount>=100  then tag 高意向\n";
  Open(c, "rules.qm", messy);
  json edits = c.Request("textDocument/formatting", {{"textDocument", {{"uri", uri}}}, {"options", json::object()}});
  ASSERT_EQ(edits["result"].size(), 1u) << edits.dump();
  EXPECT_EQ(edits["result"][0]["newText"], "import \"decls.qm\"\nrule A: when order and amount >= 100 then tag 高意向\n");

  auto labels = [&](int line, int character) {
    std::set<std::string> out;
    json reply = c.Request("textDocument/completion", At(uri, line, character));
    EXPECT_TRUE(reply.contains("result")) << reply.dump();
    for (const json& item : reply["result"]["items"])
      out.insert(item["label"].get<std::string>());
    return out;
  };
  auto has = [](const std::set<std::string>& set, const char* label) { return set.count(label) > 0; };
  std::string text = "import \"decls.qm\"\nrule A: when \nrule B: when order and stage = \nrule C: when order and \n"
                     "rule D: when order then tag \n";
  c.Notify("textDocument/didChange", {{"textDocument", {{"uri", uri}, {"version", 2}}},
                                      {"contentChanges", {{{"text", text}}}}});
  std::set<std::string> after_when = labels(1, 13);
  EXPECT_TRUE(has(after_when, "order") && has(after_when, "浏览") && has(after_when, "tagged"));
  std::set<std::string> members = labels(2, 31);
  EXPECT_EQ(members, (std::set<std::string>{"陌生", "意向", "已购"}));
  std::set<std::string> condition = labels(3, 23);
  EXPECT_TRUE(has(condition, "amount") && has(condition, "stage") && has(condition, "has"));
  EXPECT_FALSE(has(condition, "page"));  // a field of another event
  EXPECT_EQ(labels(4, 28), (std::set<std::string>{"高意向"}));
}

TEST_F(LspTest, CodeLensCountsWhatEachRuleDidOnTheEventsBesideIt) {
  Write("rules.qm", Read("rules.qm") + "rule 再提醒: when 浏览 and has 高意向 then push 顾问\n");
  Write("events.jsonl",
        "{\"type\":\"order\",\"customer\":\"c1\",\"ts\":\"2024-11-11T10:00:00+08:00\",\"amount\":100,\"channel\":\"天猫\"}\n"
        "{\"type\":\"浏览\",\"customer\":\"c1\",\"ts\":\"2024-11-11T11:00:00+08:00\",\"page\":\"p\"}\n"
        "{\"type\":\"浏览\",\"customer\":\"c2\",\"ts\":\"2024-11-11T12:00:00+08:00\",\"page\":\"p\"}\n"
        "{\"type\":\"浏览\",\"customer\":\"c2\",\"ts\":\"2024-11-11T13:00:00+08:00\",\"page\":\"p\"}\n");
  for (const char* locale : {"en", "zh-cn"}) {
    Client c;
    Initialize(c, locale);
    std::string uri = UriOf(dir_ / "rules.qm");
    Open(c, "rules.qm", Read("rules.qm"));
    json lenses = c.Request("textDocument/codeLens", {{"textDocument", {{"uri", uri}}}})["result"];
    ASSERT_EQ(lenses.size(), 4u) << lenses.dump(2);
    std::vector<std::string> titles;
    for (const json& l : lenses) titles.push_back(l["command"]["title"]);
    if (std::string(locale) == "en") {
      EXPECT_EQ(titles, (std::vector<std::string>{"matched 1 time: set stage ×1, add spend ×1",
                                                  "matched 2 times: tag 高意向 ×1", "matched 1 time: push 顾问 ×1",
                                                  "matched 1 time: 1 already sent once"}));
      EXPECT_EQ(lenses[0]["range"]["start"], Pos(1, 5));
    } else {
      EXPECT_EQ(titles[3], "命中 1 次：1次因只发一次未发");
    }
  }
  // A client that can refresh code lenses is asked to after a save.
  {
    Client c;
    c.Request("initialize", {{"processId", nullptr}, {"locale", "en"},
                             {"capabilities", {{"workspace", {{"codeLens", {{"refreshSupport", true}}}}}}}});
    std::string uri = UriOf(dir_ / "rules.qm");
    Open(c, "rules.qm", Read("rules.qm"));
    c.Notify("textDocument/didSave", {{"textDocument", {{"uri", uri}}}});
    std::optional<json> asked;
    do asked = c.Next();  // diagnostics may come first
    while (asked && asked->value("method", "") == "textDocument/publishDiagnostics");
    ASSERT_TRUE(asked);
    EXPECT_EQ((*asked)["method"], "workspace/codeLens/refresh");
    c.Send({{"jsonrpc", "2.0"}, {"id", (*asked)["id"]}, {"result", nullptr}});
    EXPECT_EQ(c.Request("textDocument/codeLens", {{"textDocument", {{"uri", uri}}}})["result"].size(), 4u);
  }
  // Without events beside the rules there are no lenses.
  fs::remove(dir_ / "events.jsonl");
  Client c;
  Initialize(c);
  Open(c, "rules.qm", Read("rules.qm"));
  EXPECT_EQ(c.Request("textDocument/codeLens", {{"textDocument", {{"uri", UriOf(dir_ / "rules.qm")}}}})["result"],
            json::array());
}

TEST_F(LspTest, QuickFixesForDidYouMeanAndFullWidthPunctuation) {
  Client c;
  Initialize(c);
  std::string uri = UriOf(dir_ / "rules.qm");
  Open(c, "rules.qm", "import \"decls.qm\"\nrule A: when order and stage = 已够 then tag 高意向\nrule B（: when order\n");
  json actions = c.Request("textDocument/codeAction",
                           {{"textDocument", {{"uri", uri}}},
                            {"range", {{"start", Pos(0, 0)}, {"end", Pos(3, 0)}}},
                            {"context", {{"diagnostics", json::array()}}}})["result"];
  ASSERT_EQ(actions.size(), 2u) << actions.dump(2);
  EXPECT_EQ(actions[0]["kind"], "quickfix");
  const json& edit = actions[0]["edit"]["changes"][uri][0];
  EXPECT_EQ(edit["newText"], "已购");
  EXPECT_EQ(edit["range"]["start"], Pos(1, 31));
  EXPECT_EQ(actions[1]["edit"]["changes"][uri][0]["newText"], "(");
  // Only those in the asked range.
  actions = c.Request("textDocument/codeAction", {{"textDocument", {{"uri", uri}}},
                                                  {"range", {{"start", Pos(2, 0)}, {"end", Pos(2, 3)}}},
                                                  {"context", {{"diagnostics", json::array()}}}})["result"];
  EXPECT_EQ(actions.size(), 1u);
}

// Random edits of the examples must never crash or hang the server.
TEST_F(LspTest, SurvivesRandomEdits) {
  std::vector<std::string> corpus;
  for (const auto& entry : fs::recursive_directory_iterator(fs::path(QM_SOURCE_DIR) / "rules-examples"))
    if (entry.path().extension() == ".qm") {
      std::ifstream in(entry.path());
      corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  ASSERT_FALSE(corpus.empty());
  Client c;
  Initialize(c);
  std::string uri = UriOf(dir_ / "fuzz.qm");
  std::mt19937 rng(20261205);
  std::string text = corpus[0];
  Open(c, "fuzz.qm", text);
  const char* pieces[] = {"when ", "(", ")", "\"", "，", "and ", "{", "}", "已购", "\n", ".", "=", "  ", "\xF0\x9F\x98\x80"};
  for (int step = 0; step < 300; ++step) {
    if (step % 50 == 0) text = corpus[rng() % corpus.size()];
    int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
    json start = Pos(static_cast<int>(rng() % (lines + 2)), static_cast<int>(rng() % 80));
    json end = Pos(start["line"].get<int>() + static_cast<int>(rng() % 2), static_cast<int>(rng() % 80));
    std::string insert = rng() % 3 ? pieces[rng() % std::size(pieces)] : "";
    c.Notify("textDocument/didChange", {{"textDocument", {{"uri", uri}, {"version", step + 2}}},
                                        {"contentChanges", {{{"range", {{"start", start}, {"end", end}}}, {"text", insert}}}}});
    json at = At(uri, static_cast<int>(rng() % (lines + 1)), static_cast<int>(rng() % 60));
    const char* methods[] = {"textDocument/hover", "textDocument/definition", "textDocument/completion",
                             "textDocument/documentSymbol", "textDocument/formatting"};
    json reply = c.Request(methods[rng() % std::size(methods)], at);
    ASSERT_TRUE(reply.contains("result") || reply.contains("error")) << "step " << step << ": " << reply.dump();
  }
  // Garbage framing and bodies: errors, not a crash.
  c.SendRaw("Content-Length: 5\r\n\r\n{oops");
  c.SendRaw("Content-Length: 2\r\n\r\n[]");
  EXPECT_EQ(c.Request("shutdown", nullptr)["result"], nullptr);
}

}  // namespace
