#include "slmq/sweep/run_cells.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "slmq/core/atomic_file.h"
#include "slmq/core/environment.h"
#include "slmq/core/error.h"
#include "slmq/core/timing.h"
#include "slmq/io/json_file.h"
#include "slmq/pipeline/run_job.h"

namespace slmq::sweep {
namespace {

namespace fs = std::filesystem;

std::string format_duration(double seconds) {
  const auto s = static_cast<long long>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
  if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

// A failure inside the pipeline is recorded before `model` is known; the report reads failed
// rows only with model and quant, so they are added from the cell's config.
void complete_failed_row(const Cell& cell, const fs::path& path) {
  nlohmann::json row;
  try {
    row = read_json_file(path);
  } catch (const DataError&) {
    return;
  }
  if (row.value("status", "") != "failed" || row.contains("model")) return;
  const nlohmann::json filled = failed_row(cell, "", "");
  row["model"] = filled["model"];
  if (filled.contains("quant") && !row.contains("quant")) row["quant"] = filled["quant"];
  write_file_atomically(path, row.dump(2) + "\n");
}

void write_failed(const Cell& cell, const fs::path& path, const std::string& category,
                  const std::string& message) {
  write_file_atomically(path, failed_row(cell, category, message).dump(2) + "\n");
}

// Runs one cell; true when its result is ok.
bool run_one(const Cell& cell, const fs::path& path, const SweepOptions& options) {
  // A writer killed between mkstemp and rename leaves its temporary file; this process alone
  // runs this cell (shards and workers are disjoint), so it is litter.
  remove_stale_temporaries(path);
  if (!cell.config) {
    write_failed(cell, path, "config error", cell.config_error);
    spdlog::warn("{}: config error: {}", cell.id, cell.config_error);
    return false;
  }
  RunOptions run;
  // Passed on so that an interrupted eval block resumes from its journal unless --force.
  run.force = options.force;
  run.shared = options.shared;
  try {
    run_job(*cell.config, run);
    return true;
  } catch (const Error& e) {
    // run_job wrote the failed row (status, error, failed_reason) before rethrowing.
    complete_failed_row(cell, path);
    spdlog::warn("{}: {}: {}", cell.id, e.category(), e.what());
  } catch (const std::exception& e) {
    // Not a slmquant error (torch, the standard library): the cell's own crash.
    write_failed(cell, path, "internal error", e.what());
    spdlog::warn("{}: internal error: {}", cell.id, e.what());
  }
  return false;
}

}  // namespace

const char* to_string(ResultState state) {
  switch (state) {
    case ResultState::kMissing:
      return "missing";
    case ResultState::kOk:
      return "ok";
    case ResultState::kFailed:
      return "failed";
    case ResultState::kStale:
      return "stale";
    case ResultState::kUnreadable:
      return "unreadable";
  }
  return "?";
}

fs::path cell_result_path(const Cell& cell) {
  if (cell.config) return result_path_for(*cell.config, {});
  return fs::path(node_at(cell.doc, "output.dir").Scalar()) /
         (node_at(cell.doc, "name").Scalar() + ".json");
}

ResultState result_state(const Cell& cell) {
  const fs::path path = cell_result_path(cell);
  std::error_code ec;
  if (!fs::exists(path, ec)) return ResultState::kMissing;
  nlohmann::json row;
  try {
    row = read_json_file(path);
  } catch (const DataError&) {
    return ResultState::kUnreadable;
  }
  if (!row.is_object() || row.value("config_hash", "") != cell.hash) return ResultState::kStale;
  const std::string status = row.value("status", "");
  if (status == "ok") return ResultState::kOk;
  return status == "failed" ? ResultState::kFailed : ResultState::kUnreadable;
}

nlohmann::json failed_row(const Cell& cell, const std::string& category,
                          const std::string& message) {
  const YAML::Node name = node_at(cell.doc, "name");
  nlohmann::json row = {{"schema_version", kResultSchemaVersion},
                        {"name", name && name.IsScalar() ? name.Scalar() : cell.id},
                        {"config_hash", cell.hash}};
  if (cell.config) {
    const RunConfig& c = *cell.config;
    row["config"] = c.to_json();
    row["model"] = {{"name", c.model.name}, {"source", c.model.path}, {"dtype", c.model.dtype}};
    if (c.quant) {
      const QuantScheme& s = c.quant->scheme;
      row["quant"] = {{"method", c.quant->method},
                      {"w_bits", s.weight.bits},
                      {"a_bits", s.activation ? s.activation->bits : 16}};
    }
  } else {
    const std::string id_model = cell.id.substr(0, cell.id.find('/'));
    const YAML::Node path = node_at(cell.doc, "model.path");
    row["model"] = {{"name", id_model}, {"source", path && path.IsScalar() ? path.Scalar() : ""}};
    const YAML::Node method = node_at(cell.doc, "quant.method");
    if (method && method.IsScalar())
      row["quant"] = {{"label", cell.id.substr(id_model.size() + 1)}, {"method", method.Scalar()}};
  }
  row["status"] = "failed";
  row["error"] = {{"category", category}, {"message", message}};
  row["failed_reason"] = category + ": " + message;
  row["finished_at"] = utc_timestamp();
  return row;
}

SweepSummary run_cells(const std::vector<Cell>& cells, const SweepOptions& options) {
  const auto start = SteadyClock::now();
  const std::string tag = options.tag.empty() ? "sweep" : "sweep " + options.tag;
  SweepSummary s;
  s.total = cells.size();
  // Decide first which cells run, so that the ETA counts only those.
  std::vector<char> todo(cells.size(), 0);
  size_t to_run = 0;
  for (size_t i = 0; i < cells.size(); ++i) {
    const ResultState state = result_state(cells[i]);
    const bool done = !options.force && (state == ResultState::kOk ||
                                         (state == ResultState::kFailed && !options.retry_failed));
    todo[i] = !done;
    to_run += todo[i];
    if (done) {
      ++s.skipped;
      ++(state == ResultState::kOk ? s.ok : s.failed);
    }
  }
  spdlog::info("{}: {} cells, {} up to date, {} to run", tag, s.total, s.skipped, to_run);
  size_t ran = 0;
  double run_seconds = 0;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (!todo[i]) continue;
    const Cell& cell = cells[i];
    spdlog::info("{} [{}/{}] {} (hash {}) ...", tag, s.skipped + ran + 1, s.total, cell.id,
                 cell.hash);
    const auto t0 = SteadyClock::now();
    const bool ok = run_one(cell, cell_result_path(cell), options);
    const double took = seconds_since(t0);
    ++ran;
    run_seconds += took;
    ++(ok ? s.ok : s.failed);
    const double eta = run_seconds / static_cast<double>(ran) * static_cast<double>(to_run - ran);
    spdlog::info("{} [{}/{}] {} {} in {:.1f} s ({} ok, {} failed); ETA {}", tag, s.skipped + ran,
                 s.total, cell.id, ok ? "ok" : "FAILED", took, s.ok, s.failed,
                 ran == to_run ? "done" : format_duration(eta));
  }
  s.seconds = seconds_since(start);
  return s;
}

}  // namespace slmq::sweep
