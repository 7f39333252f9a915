// `qm publish`: JSON Lines events into the partition streams of a NATS
// JetStream stream, each line to its customer's partition, for `qm worker`s
// to run (docs/scale-out.md).
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "broker/broker.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "compiler/source/source.h"
#include "compiler/value/value.h"

namespace qm::cli {
namespace {

struct PublishOptions {
  std::vector<std::string> rules;
  std::string events, nats, stream, rejects;
  std::string until;  // after the events: fire the timers due by then, in every partition
  int partitions = 0;
  int replicas = 1;
  int64_t window_ms = 2 * 60 * 1000;  // NATS's own default
  int64_t patience_ms = 60 * 1000;
  bool json = false;
};

std::optional<int> ParsePublishArgs(const std::vector<std::string>& args, PublishOptions& o,
                                    qianmian::Language& lang) {
  lang = LangOfArgs(args, lang);
  Flags flags;
  if (auto usage = SplitFlags(args,
                              {"--events", "--nats", "--stream", "--partitions", "--replicas", "--dedupe-window",
                               "--patience", "--rejects", "--until", "--format", "--lang"},
                              {}, "publish", flags))
    return Usage(*usage, lang);
  o.rules = flags.positional;
  o.events = "-";
  o.nats = "nats://127.0.0.1:4222";
  for (const auto& [flag, v] : flags.values) {
    if (flag == "--events") o.events = v;
    else if (flag == "--nats") o.nats = v;
    else if (flag == "--stream") o.stream = v;
    else if (flag == "--rejects") o.rejects = v;
    else if (flag == "--until") {
      if (!qianmian::IsValidTime(v)) return Usage(Error::Of<ErrorKind::kBadTime>({v}), lang);
      o.until = v;
    }
    else if (flag == "--partitions") {
      std::optional<int64_t> n = WholeNumber(v, 1, 4096);
      if (!n) return Usage(Error::Of<ErrorKind::kNeedsPartitionCount>({v}), lang);
      o.partitions = static_cast<int>(*n);
    } else if (flag == "--replicas") {
      std::optional<int64_t> n = WholeNumber(v, 1, 5);
      if (!n) return Usage(Error::Of<ErrorKind::kNeedsPositiveValue>({flag, v}), lang);
      o.replicas = static_cast<int>(*n);
    } else if (flag == "--dedupe-window" || flag == "--patience") {
      std::optional<int64_t> ms = ParseDuration(v);
      if (!ms || *ms <= 0) return Usage(Error::Of<ErrorKind::kNeedsDuration>({flag, v}), lang);
      (flag == "--dedupe-window" ? o.window_ms : o.patience_ms) = *ms;
    } else if (flag == "--format") {
      if (v != "text" && v != "json") return Usage(Error::Of<ErrorKind::kFormatTakes>(), lang);
      o.json = v == "json";
    } else {  // --lang
      std::optional<qianmian::Language> chosen = ParseLang(v);
      if (!chosen) return Usage(Error::Of<ErrorKind::kLangTakes>(), lang);
      lang = *chosen;
    }
  }
  if (o.rules.empty()) return Usage(Error::Of<ErrorKind::kNeedsRuleFile>({"publish"}), lang);
  if (o.stream.empty()) return Usage(Error::Of<ErrorKind::kNeedsOption>({"publish", "--stream S"}), lang);
  if (std::optional<Error> bad = broker::CheckStreamName(o.stream)) return Usage(*bad, lang);
  if (o.partitions == 0) return Usage(Error::Of<ErrorKind::kNeedsOption>({"publish", "--partitions N"}), lang);
  return std::nullopt;
}

// A line's id in its stream: where it is and what it says, so that the
// same file published again gives the same ids (the server drops them)
// while two equal lines at two places stay two events.
std::string MessageId(int64_t line, std::string_view text) {
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016" PRIx64, StableHash(text));
  return std::to_string(line) + "-" + hash;
}

}  // namespace

int PublishCommand(const std::vector<std::string>& args, qianmian::Language lang) {
  PublishOptions o;
  if (std::optional<int> usage = ParsePublishArgs(args, o, lang)) return *usage;
  const Lang l = LangOf(lang);
  auto fail = [&](const Error& e) {
    std::fprintf(stderr, "qm publish: %s\n", e.Message(l).c_str());
    return kExitErrors;
  };

  qianmian::RuleSet rules = qianmian::RuleSet::FromFiles(o.rules, lang);
  for (const qianmian::Diagnostic& d : rules.diagnostics()) std::fputs(d.rendered.c_str(), stderr);
  if (!rules.ok()) return kExitErrors;
  if (std::string why = rules.WhyNotPartitioned(); !why.empty())
    return fail(Error::Of<ErrorKind::kNotPartitioned>({why}));

  std::FILE* rejects = stderr;
  if (!o.rejects.empty()) {
    rejects = std::fopen(o.rejects.c_str(), "w");
    if (rejects == nullptr) return fail(Error::Of<ErrorKind::kCannotWrite>({o.rejects, std::strerror(errno)}));
  }
  auto close_rejects = [&]() -> bool {
    if (rejects == stderr) return true;
    bool ok = std::fclose(rejects) == 0;
    rejects = stderr;
    return ok;
  };

  Error error;
  broker::Connection::Events events{
      .lost = [&](const std::string& url) {
        std::fprintf(stderr, "qm publish: %s\n", Error::Of<ErrorKind::kNatsLost>({url}).Message(l).c_str());
      },
      .back = [&](const std::string& url, double away) {
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%.1f", away);
        std::fprintf(stderr, "qm publish: %s\n", Error::Of<ErrorKind::kNatsBack>({url, seconds}).Message(l).c_str());
      }};
  std::unique_ptr<broker::Connection> connection = broker::Connection::Open(o.nats, "qm publish", events, error);
  if (!connection) {
    close_rejects();
    return fail(error);
  }
  int64_t window_ms = 0;
  if (std::optional<Error> failed = connection->EnsurePartitions(o.stream, o.partitions, o.replicas, o.window_ms, window_ms)) {
    close_rejects();
    return fail(*failed);
  }

  auto start = std::chrono::steady_clock::now();
  qianmian::Router router(rules);
  broker::Publisher publisher(*connection, /*max_pending=*/4096, /*ack_wait_ms=*/5000, o.patience_ms);
  std::vector<std::string> subjects;
  for (int p = 0; p < o.partitions; ++p) subjects.push_back(broker::PartitionSubject(o.stream, p));
  int64_t lines = 0, published = 0, rejected = 0, heartbeats = 0;
  std::optional<Error> failed;
  broker::Publisher::Message message;
  std::string read_error = qianmian::ForEachEventLine(
      o.events,
      [&](std::string_view line) {
        ++lines;
        if (failed) return;  // the rest is not sent: the run fails, and says how far it got
        qianmian::Router::Route route = router.Of(line, lines);
        if (route.kind == qianmian::Router::Route::Kind::kBlank) return;
        if (route.kind == qianmian::Router::Route::Kind::kRejected) {
          std::fprintf(rejects, "%s\n", route.reject.c_str());
          ++rejected;
          return;
        }
        message.subject = subjects[qianmian::PartitionOf(route.customer, o.partitions)];
        message.id = MessageId(lines, line);
        message.data = route.text;
        message.line = lines;
        failed = publisher.Publish(message);
        if (!failed) ++published;
      },
      lang);
  // The heartbeat: each partition's timers fire up to `until` when its
  // worker reaches this message, as `qm run --until` fires them at the end.
  for (int p = 0; p < o.partitions && !o.until.empty() && !failed && read_error.empty(); ++p) {
    message.subject = subjects[p];
    message.id = "until-" + o.until;
    message.headers = {{"Qm-Until", o.until}};
    message.data = {};
    message.line = lines + 1 + p;
    failed = publisher.Publish(message);
    if (!failed) ++heartbeats;
  }
  if (!failed) failed = publisher.Finish();
  const broker::Publisher::Counts counts = publisher.counts();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!close_rejects() && !failed) failed = Error::Of<ErrorKind::kCannotWrite>({o.rejects, std::strerror(errno)});

  if (o.json) {
    std::printf(
        "{\"stream\":\"%s\",\"partitions\":%d,\"lines\":%" PRId64 ",\"published\":%" PRId64 ",\"stored\":%" PRId64
        ",\"duplicates\":%" PRId64 ",\"resent\":%" PRId64 ",\"rejects\":%" PRId64 ",\"heartbeats\":%" PRId64
        ",\"dedupe_window_ms\":%" PRId64
        ",\"seconds\":%.3f,\"ok\":%s}\n",
        o.stream.c_str(), o.partitions, lines, published, counts.stored, counts.duplicates, counts.resent, rejected,
        heartbeats, window_ms, seconds, failed || !read_error.empty() ? "false" : "true");
  } else if (l == Lang::kZh) {
    std::fprintf(stderr,
                 "qm publish：%" PRId64 " 行，%" PRId64 " 行发布到 `%s` 的 %d 个分区（新存储 %" PRId64 "，已存在 %" PRId64
                 "，重发 %" PRId64 " 次），拒收 %" PRId64 " 行，心跳 %" PRId64 " 条，用时 %.2f 秒；去重窗口 %s\n",
                 lines, published, o.stream.c_str(), o.partitions, counts.stored, counts.duplicates, counts.resent,
                 rejected, heartbeats, seconds, FormatDuration(window_ms).c_str());
  } else {
    std::fprintf(stderr,
                 "qm publish: %" PRId64 " lines, %" PRId64 " published to %d partitions of `%s` (%" PRId64
                 " stored, %" PRId64 " already there, %" PRId64 " sent again), %" PRId64
                 " rejects, %" PRId64 " heartbeats, in %.2f s; duplicates dropped within %s\n",
                 lines, published, o.partitions, o.stream.c_str(), counts.stored, counts.duplicates, counts.resent,
                 rejected, heartbeats, seconds, FormatDuration(window_ms).c_str());
  }
  if (!read_error.empty()) {
    std::fprintf(stderr, "qm publish: %s\n", read_error.c_str());
    return kExitErrors;
  }
  if (failed) return fail(*failed);
  return kExitOk;
}

}  // namespace qm::cli
