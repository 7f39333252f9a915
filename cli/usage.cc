// The usage text (`qm help`, and after every usage error) and each
// command's help (`qm CMD --help`), in English and Chinese.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/flags.h"

namespace qm::cli {
namespace {

struct CommandText {
  const char* name;
  const char* synopsis;  // the same in both languages
  const char* en;        // what it does, then its options
  const char* zh;
};

const CommandText kCommands[] = {
    {"check", "check RULES.qm... [--format text|json] [--allow W0004,...] [--lang zh|en]",
     "Type-checks rule files (imports followed) and prints errors and warnings.\n"
     "Exit 0 when there is no error (warnings allowed), 1 when there is one.\n"
     "  --format text|json  text for people (stderr), or one JSON object per diagnostic (stdout)\n"
     "  --allow CODES       leave out these warnings (`# qm: allow CODE` does it per declaration or rule)\n"
     "  --lang zh|en        the language of every message (default: from LANG)\n",
     "检查规则文件（含其导入的文件），列出错误和警告。\n"
     "没有错误时退出码为 0（允许有警告），有错误时为 1。\n"
     "  --format text|json  text 给人看（写到 stderr），json 每条诊断一行 JSON（写到 stdout）\n"
     "  --allow 代码        不显示这些警告（`# qm: allow 代码` 可按声明或规则关闭）\n"
     "  --lang zh|en        所有消息的语言（默认取自 LANG）\n"},
    {"run",
     "run RULES.qm... --events EVENTS.jsonl|- [--out ACTIONS.jsonl] [--rejects REJECTS.jsonl]\n"
     "      [--engine jit|interp] [--threads N] [--tz +08:00] [--until TIME] [--lateness 2h] [--lang zh|en]\n"
     "      [--state DIR [--commit-every LINES] [--commit-ms MS]] [--allow W0004,...] | --dump-ir",
     "Runs the rules over an event stream (JSON Lines): actions to stdout, rejects to stderr,\n"
     "a summary to stderr.\n"
     "  --events FILE|-        the events; - reads standard input\n"
     "  --out, --rejects FILE  write actions / rejects to files instead\n"
     "  --engine jit|interp    the LLVM JIT (default) or the reference interpreter: same output\n"
     "  --threads N            split customers over N threads (default: one per core): same output\n"
     "  --tz +08:00            the zone output times are written in\n"
     "  --until TIME           at the end, fire the timers due by TIME (RFC 3339 or epoch seconds)\n"
     "  --lateness 2h          events may arrive this much out of order; each waits until then\n"
     "  --state DIR            keep customers' state in DIR; a rerun continues exactly where the\n"
     "                         last commit (every --commit-every lines, 1000000, or --commit-ms, 1000) left off\n"
     "  --dump-ir              print the LLVM IR the JIT generates, read no events\n",
     "在事件流（JSON Lines）上运行规则：动作写到 stdout，拒收行和运行摘要写到 stderr。\n"
     "  --events 文件|-        事件；- 表示从标准输入读\n"
     "  --out、--rejects 文件  把动作 / 拒收行写到文件\n"
     "  --engine jit|interp    LLVM JIT（默认）或参考解释器：输出相同\n"
     "  --threads N            把客户分到 N 个线程上（默认每核一个）：输出相同\n"
     "  --tz +08:00            输出时间所用的时区\n"
     "  --until 时间           结束时触发到该时间为止到期的计时器（RFC 3339 或纪元秒数）\n"
     "  --lateness 2h          事件最多可以乱序这么久；每个事件等到那时再处理\n"
     "  --state 目录           把客户状态保存在该目录；重跑时从上次提交处（每 --commit-every 行，\n"
     "                         默认 1000000，或每 --commit-ms 毫秒，默认 1000）精确接续\n"
     "  --dump-ir              打印 JIT 生成的 LLVM IR，不读事件\n"},
    {"publish",
     "publish RULES.qm... --stream S --partitions N [--events EVENTS.jsonl|-] [--nats URL]\n"
     "      [--until TIME] [--rejects REJECTS.jsonl] [--replicas R] [--dedupe-window 2m] [--patience 1m]\n"
     "      [--format text|json] [--lang zh|en]",
     "Publishes events to NATS JetStream for `qm worker`s (docs/scale-out.md): each line to the\n"
     "partition of its customer (FNV-1a 32 of the id, mod N), partition p being stream S_p with\n"
     "subject S.p. Each message's id is the line's number and a hash of its bytes, so publishing a\n"
     "file again stores nothing twice within the duplicate window. Lines that name no customer are\n"
     "rejected here, as `qm run` would; a line the server does not confirm is sent again.\n"
     "Exit 0 when every line was stored, 1 when the server refused or never confirmed one.\n"
     "  --stream S            the stream's name: letters, digits, - and _\n"
     "  --partitions N        fixed by the first publish; another count is refused\n"
     "  --events FILE|-       the events (default: standard input)\n"
     "  --nats URL            the server(s), comma-separated (default: nats://127.0.0.1:4222)\n"
     "  --rejects FILE        write rejects to a file instead of stderr\n"
     "  --until TIME          then a heartbeat in every partition: its worker fires the timers due\n"
     "                        by TIME, as `qm run --until` (with --events /dev/null: a heartbeat alone)\n"
     "  --replicas R          copies of each partition stream in a cluster (default 1; 3 in production)\n"
     "  --dedupe-window 2m    how long the server remembers message ids (new streams only)\n"
     "  --patience 1m         give up when nothing was confirmed for this long (the server is down)\n"
     "  --format text|json    the summary for people (stderr), or one JSON object (stdout)\n",
     "把事件发布到 NATS JetStream，供 `qm worker` 处理（见 docs/scale-out.md）：每行发到其客户的\n"
     "分区（客户 ID 的 FNV-1a 32 取模 N），分区 p 为流 S_p，主题 S.p。每条消息的 ID 由行号和该行\n"
     "字节的哈希组成，因此在去重窗口内重新发布同一文件不会重复存储。没有客户的行在这里拒收，\n"
     "与 `qm run` 相同；服务器未确认的行会重发。\n"
     "每行都存储成功时退出码为 0，服务器拒收或始终未确认某行时为 1。\n"
     "  --stream S            流名称：字母、数字、- 和 _\n"
     "  --partitions N        由第一次发布确定；之后换一个分区数会被拒绝\n"
     "  --events 文件|-       事件（默认从标准输入读）\n"
     "  --nats URL            服务器地址，多个用逗号分隔（默认 nats://127.0.0.1:4222）\n"
     "  --rejects 文件        把拒收行写到文件，而不是 stderr\n"
     "  --until 时间          之后向每个分区发一条心跳：其工作进程触发到该时间为止到期的计时器，\n"
     "                        与 `qm run --until` 相同（配合 --events /dev/null：只发心跳）\n"
     "  --replicas R          集群中每个分区流的副本数（默认 1；生产环境用 3）\n"
     "  --dedupe-window 2m    服务器记住消息 ID 的时长（仅对新建的流）\n"
     "  --patience 1m         这么久没有任何确认时放弃（服务器已停止）\n"
     "  --format text|json    摘要给人看（stderr），或一个 JSON 对象（stdout）\n"},
    {"worker",
     "worker RULES.qm... --stream S --out-stream O --state DIR [--partitions all|0-3,6] [--nats URL]\n"
     "      [--name NAME] [--drain] [--lease 30s] [--commit-interval 1s] [--batch 1000] [--engine jit|interp]\n"
     "      [--tz +08:00] [--lateness 2h] [--replicas R] [--dedupe-window 2m] [--patience 5m]\n"
     "      [--progress-every 10s] [--format text|json] [--lang zh|en]",
     "Runs the rules over partitions of stream S (filled by `qm publish`), a thread and a state\n"
     "directory (DIR/partition-p) per partition, and publishes actions and rejects to stream O's\n"
     "partitions (O_p, subject O.p, header Qm-Kind: action|reject), see docs/scale-out.md. Each\n"
     "commit makes the state, the sequence run and the last output durable at once, after the\n"
     "server confirmed the outputs; killed and started again, it continues exactly. A lease per\n"
     "partition keeps a second worker off it. Progress and lag go to stderr every --progress-every.\n"
     "SIGTERM or Ctrl-C: commit and exit 0. Exit 1 when a partition fails (its lease lost, the\n"
     "server gone for --patience), 2 on a usage error.\n"
     "  --partitions LIST     the partitions to run (default: all)\n"
     "  --name NAME           the owner its leases carry (default: host:state directory); a worker\n"
     "                        started again with the same name takes its partitions back at once\n"
     "  --drain               exit once every partition has run all its stream holds\n"
     "  --lease 30s           another worker may take a partition this long after its last renewal\n"
     "  --commit-interval 1s  at most this long between commits (and whenever a partition is idle)\n"
     "  --batch 1000          messages fetched at a time\n"
     "  --replicas, --dedupe-window   as in `qm publish`, for the output streams\n"
     "  --patience 5m         give up when the server confirms nothing for this long\n"
     "  --format text|json    progress lines for people, or JSON Lines (stderr)\n",
     "在流 S（由 `qm publish` 填充）的分区上运行规则，每个分区一个线程、一个状态目录（DIR/partition-p），\n"
     "把动作和拒收行发布到流 O 的分区（O_p，主题 O.p，消息头 Qm-Kind: action|reject），见\n"
     "docs/scale-out.md。每次提交在服务器确认输出之后，把状态、已处理的序号和最后一条输出一起持久化；\n"
     "被杀掉后重启，会精确接续。每个分区一个租约，防止第二个工作进程处理同一分区。每隔\n"
     "--progress-every 在 stderr 报告进度和积压。\n"
     "SIGTERM 或 Ctrl-C：提交后以 0 退出。某个分区失败（租约丢失、服务器 --patience 内无响应）时为 1，\n"
     "用法错误时为 2。\n"
     "  --partitions 列表     要运行的分区（默认 all）\n"
     "  --name 名称           租约上的所有者名称（默认：主机:状态目录）；同名工作进程重启后立即收回分区\n"
     "  --drain               所有分区都处理完流中现有消息后退出\n"
     "  --lease 30s           分区最后一次续约这么久之后，其他工作进程可以接管\n"
     "  --commit-interval 1s  两次提交最多相隔这么久（分区空闲时也会提交）\n"
     "  --batch 1000          每次拉取的消息数\n"
     "  --replicas, --dedupe-window   与 `qm publish` 相同，用于输出流\n"
     "  --patience 5m         服务器这么久没有任何确认时放弃\n"
     "  --format text|json    给人看的进度行，或 JSON Lines（stderr）\n"},
    {"test", "test [PATH...] [--engine jit|interp|both] [--format text|json|junit] [--coverage] [--lang zh|en]",
     "Runs rule tests: .qmtest files and example folders (rules.qm, events.jsonl, expected.jsonl),\n"
     "in PATH (default: the current directory), see docs/tooling.md.\n"
     "Exit 0 when all pass, 1 when one fails or a test file cannot be read.\n"
     "  --engine jit|interp|both   both: every case must pass on both engines\n"
     "  --format text|json|junit   a report for people, JSON Lines, or JUnit XML for CI\n"
     "  --coverage                 per rule set: what no case exercised (rules never held, conditions\n"
     "                             never true or never false, timers, caps and quiet hours never hit)\n",
     "运行规则测试：PATH 中的 .qmtest 文件和示例目录（rules.qm、events.jsonl、expected.jsonl），\n"
     "默认为当前目录，见 docs/tooling.md。\n"
     "全部通过时退出码为 0，有失败或测试文件无法读取时为 1。\n"
     "  --engine jit|interp|both   both：每个用例都要在两个引擎上通过\n"
     "  --format text|json|junit   给人看的报告、JSON Lines，或给 CI 的 JUnit XML\n"
     "  --coverage                 按规则集列出没有用例覆盖到的部分（从未成立的规则、从未为真或\n"
     "                             从未为假的条件、从未触发的计时器、从未满额的频控和免打扰时段）\n"},
    {"explain",
     "explain RULES.qm... --events EVENTS.jsonl|- --customer ID [--at TIME] [--rule NAME] [--state DIR]\n"
     "      [--until TIME] [--lateness 2h] [--tz +08:00] [--engine jit|interp] [--format text|json] [--lang zh|en]",
     "Explains one customer's steps: the rules each step evaluated, why each did or did not hold\n"
     "(the first part of its condition that failed, with the values it saw), what became of each\n"
     "action (written, or not sent and why, deferred, scheduled), the customer's rejected lines,\n"
     "and the timers still pending.\n"
     "  --customer ID     the customer to explain\n"
     "  --at TIME         only the steps up to TIME; the timers due by then fire\n"
     "  --rule NAME       only this rule\n"
     "  --state DIR       start from the states a durable run committed to DIR (only read);\n"
     "                    the events are those that come after\n"
     "  --until, --lateness, --tz, --engine   as for run\n"
     "  --format text|json\n",
     "解释一位客户的每个处理步骤：每步检查了哪些规则，各自为什么成立或不成立（条件中第一个\n"
     "不满足的部分及其取值），每个动作的结果（已写出，或未发出及原因、推迟、已安排），\n"
     "该客户被拒收的行，以及仍待执行的计时器。\n"
     "  --customer 客户   要解释的客户\n"
     "  --at 时间         只看到该时间为止的步骤；到那时到期的计时器会触发\n"
     "  --rule 规则名     只看这一条规则\n"
     "  --state 目录      从持久运行提交到该目录的状态开始（只读）；事件为其后到来的事件\n"
     "  --until、--lateness、--tz、--engine   与 run 相同\n"
     "  --format text|json\n"},
    {"diff",
     "diff OLD.qm NEW.qm --events EVENTS.jsonl|- [--until TIME] [--lateness 2h] [--tz +08:00]\n"
     "      [--engine jit|interp] [--format text|json] [--lang zh|en]",
     "Backtests a rule change: runs both rule sets over the same events and reports how the\n"
     "actions change per rule, action and target, how many customers get different actions,\n"
     "and the first differing lines of a few of them. Exit 0 when both ran, whatever changed.\n"
     "  --events, --until, --lateness, --tz, --engine   as for run, applied to both rule sets\n"
     "  --format text|json   a report for people, or one JSON object\n",
     "回测一次规则改动：两套规则跑同一批事件，按规则、动作和对象报告动作数量的变化、\n"
     "有多少客户得到的动作不同，并列出其中几位最先不同的行。两套都跑完即退出码 0，不论有无变化。\n"
     "  --events、--until、--lateness、--tz、--engine   与 run 相同，两套规则都用\n"
     "  --format text|json   给人看的报告，或一个 JSON 对象\n"},
    {"fmt", "fmt [-w|--check] FILE.qm...|- [--lang zh|en]",
     "Lays rule files out canonically (docs/tooling.md): spacing, indentation, optional commas and\n"
     "full-width punctuation; tokens, comments and line breaks stay, so the rules mean the same.\n"
     "Prints the result, or with -w rewrites each file that changes. Exit 1 when a file has syntax errors.\n"
     "  -w        rewrite the files in place\n"
     "  --check   change nothing; print a diff and exit 1 when a file is not formatted (for CI)\n",
     "把规则文件整理成统一的格式（见 docs/tooling.md）：空格、缩进、可省略的逗号和全角符号；\n"
     "记号、注释和换行都不变，因此规则的含义不变。输出结果，或用 -w 改写有变化的文件。有语法错误时退出码为 1。\n"
     "  -w        直接改写文件\n"
     "  --check   不做改动；文件未格式化时打印差异并以 1 退出（用于 CI）\n"},
    {"state", "state show DIR [--customer ID] [--tz +08:00] | state stats DIR [--format text|json] | "
              "state forget DIR --customer ID [--lang zh|en]",
     "Reads a state directory without its rules.\n"
     "  show    each customer's state, one JSON object per line (--customer: only that one)\n"
     "  stats   customers, pending timers, customers per tag and per value of each enum field\n"
     "  forget  removes every trace of one customer (their record, the lines --lateness held for\n"
     "          them, and older copies in the directory's files): a PIPL deletion request\n",
     "不需要规则即可读取状态目录。\n"
     "  show    每位客户的状态，每行一个 JSON 对象（--customer：只看这一位）\n"
     "  stats   客户数、待触发的计时器、每个标签和每个枚举字段取值的客户数\n"
     "  forget  删除一位客户的全部痕迹（其记录、--lateness 为其暂存的事件行以及目录文件中的旧副本），\n"
     "          用于《个人信息保护法》规定的删除请求\n"},
    {"report", "report --state DIR [-o report.html] [--review-below 1%] [--lang zh|en]",
     "One self-contained HTML page about the customer base, from a state directory without the rules:\n"
     "tag coverage with the tags to review, a funnel per stage field, segments, and what the rules did\n"
     "since the state began (rules fired, actions, suppressed pushes by reason).\n"
     "  -o FILE              write the page to FILE (default: standard output)\n"
     "  --review-below P%    tags on fewer than P% of customers are marked for review (default 1%)\n",
     "根据状态目录生成一个独立的 HTML 页面（无需规则文件）：标签覆盖及建议复查的标签、每个阶段字段的漏斗、\n"
     "分群，以及自状态开始以来规则的执行情况（规则执行次数、动作条数、按原因统计的未发推送）。\n"
     "  -o 文件              写到该文件（默认写到标准输出）\n"
     "  --review-below P%    覆盖不到 P% 客户的标签标为建议复查（默认 1%）\n"},
    {"tags", "tags RULES.qm... [--state DIR] [--format text|csv|json] [--lang zh|en]",
     "The tag dictionary, for reviewing tags: each tag's description, the rules that set it and those\n"
     "that read it; with --state, how many customers carry it and their share.\n"
     "  --state DIR          a state directory of these rules (`qm run --state`): coverage per tag\n"
     "  --format text|csv|json   a table for people, CSV for spreadsheets, or one JSON object per tag\n",
     "标签字典，用于定期审查标签：每个标签的说明、设置它的规则和读取它的规则；给出 --state 时，\n"
     "还有带这个标签的客户数和占比。\n"
     "  --state DIR          这套规则的状态目录（`qm run --state`）：每个标签的覆盖面\n"
     "  --format text|csv|json   给人看的表格、给表格软件的 CSV，或每个标签一个 JSON 对象\n"},
    {"lsp", "lsp [--stdio] [--lang zh|en]",
     "A Language Server Protocol server on standard input and output, for editors (docs/tooling.md):\n"
     "diagnostics as you type, hover, completion, go to definition, references, rename, outline\n"
     "and formatting. The client's locale chooses the language, unless --lang does.\n",
     "语言服务器（LSP），经标准输入输出与编辑器通信（见 docs/tooling.md）：边写边检查、悬停说明、\n"
     "补全、跳转到定义、查找引用、重命名、大纲和格式化。消息语言随客户端的语言设置，或由 --lang 指定。\n"},
    {"version", "version", "Prints the version.\n", "打印版本号。\n"},
};

std::string UsageText(Lang lang) {
  std::string out = lang == Lang::kZh ? "用法：qm <命令> [选项]\n\n命令：\n" : "usage: qm <command> [options]\n\ncommands:\n";
  for (const CommandText& c : kCommands) {
    out += std::string("  ") + c.synopsis + "\n";
    std::string what = lang == Lang::kZh ? c.zh : c.en;
    out += "      " + what.substr(0, what.find('\n')) + "\n";
  }
  out += lang == Lang::kZh ? "\n`qm <命令> --help` 查看该命令的全部选项。\n"
                           : "\n`qm <command> --help` shows all of a command's options.\n";
  return out;
}

}  // namespace

int Usage(const std::string& message, qianmian::Language language) {
  std::string usage = UsageText(LangOf(language));
  if (message.empty()) {
    std::fputs(usage.c_str(), stdout);
    return kExitOk;
  }
  std::fprintf(stderr, "qm: %s\n\n%s", message.c_str(), usage.c_str());
  return kExitUsage;
}

int Usage(const Error& error, qianmian::Language lang) { return Usage(error.Message(LangOf(lang)), lang); }

bool IsHelpRequest(const std::vector<std::string>& args) {
  for (const std::string& a : args)
    if (a == "--help" || a == "-h") return true;
  return false;
}

int CommandHelp(const std::string& command, qianmian::Language language) {
  for (const CommandText& c : kCommands) {
    if (command != c.name) continue;
    bool zh = language == qianmian::Language::kChinese;
    std::printf("%sqm %s\n\n%s", zh ? "用法：" : "usage: ", c.synopsis, zh ? c.zh : c.en);
    return kExitOk;
  }
  return Usage("", language);
}

}  // namespace qm::cli
