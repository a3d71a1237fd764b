// `slmquant report DIR... [--out DIR]`: merges result files into scores, fronts and reports.
#include <sys/ioctl.h>
#include <unistd.h>

#include <iostream>

#include "command.h"
#include "slmq/report/report.h"

namespace slmq::cli {
namespace {

int terminal_width() {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 120;
}

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    std::string item =
        list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

struct Args {
  std::vector<std::string> inputs;
  std::string out = "report";
  std::string objectives;
  std::string table = "auto";
  int resamples = 2000;
  double guard = 95;
};

const RegisterCommand kReport{
    "report",
    "Merge result files (files or directories) into summary.json, results.csv, report.md and "
    "report.html",
    [](CLI::App& app) {
      auto args = std::make_shared<Args>();
      app.add_option("inputs", args->inputs,
                     "Result files or directories searched recursively for *.json")
          ->required();
      app.add_option("--out", args->out, "Output directory")->capture_default_str();
      app.add_option(
          "--objectives", args->objectives,
          "Comma-separated Pareto objectives (accuracy, slmq_perf, tokens_per_s, latency_ms, "
          "peak_memory_mib, model_size_mib, gmacs, energy_j, quant_time_s); default: those "
          "measured");
      app.add_option("--table", args->table,
                     "Terminal summary on stdout: auto (when a terminal), always, never")
          ->check(CLI::IsMember({"auto", "always", "never"}))
          ->capture_default_str();
      app.add_option("--bootstrap", args->resamples,
                     "Bootstrap resamples for paired confidence intervals")
          ->check(CLI::Range(100, 1000000))
          ->capture_default_str();
      app.add_option("--accuracy-guard", args->guard,
                     "SLMQ_perf floor for the latency/memory/energy/balanced recommendations")
          ->capture_default_str();
      return [args] {
        report::ReportOptions options;
        for (const auto& in : args->inputs) options.inputs.emplace_back(in);
        options.out_dir = args->out;
        options.analysis.objectives = split(args->objectives);
        options.analysis.comparison.resamples = args->resamples;
        options.analysis.accuracy_guard = args->guard;
        report::Analysis analysis = report::write_report(options);
        if (args->table == "always" || (args->table == "auto" && isatty(STDOUT_FILENO))) {
          std::cout << report::terminal_table(analysis, terminal_width());
        }
        return 0;
      };
    }};

}  // namespace
}  // namespace slmq::cli
