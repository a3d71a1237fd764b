#include "slmq/report/report.h"

#include <fmt/format.h>

#include "slmq/core/atomic_file.h"
#include "slmq/core/error.h"
#include "slmq/core/logging.h"

namespace slmq::report {

Analysis write_report(const ReportOptions& options) {
  std::vector<InputFile> files;
  auto records = load_results(options.inputs, &files);
  if (records.empty()) {
    std::string names;
    for (const auto& f : files) names += fmt::format("; {} ({})", f.path, f.reason);
    throw ConfigError(fmt::format("no usable result file among {} file(s){}", files.size(), names));
  }
  Analysis analysis = analyze(std::move(records), options.analysis);
  analysis.inputs = std::move(files);
  const auto& out = options.out_dir;
  write_file_atomically(out / "summary.json", summary_json(analysis).dump(1) + "\n");
  write_file_atomically(out / "results.csv", results_csv(analysis));
  write_file_atomically(out / "report.md", report_markdown(analysis));
  write_file_atomically(out / "report.html", report_html(analysis));
  spdlog::info("report of {} run(s) in {} model group(s) written to {}", analysis.runs.size(),
               analysis.groups.size(), out.string());
  return analysis;
}

}  // namespace slmq::report
