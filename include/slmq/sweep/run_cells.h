#pragma once
// Runs the cells of a grid one after another through the pipeline (pipeline/run_job.h), resuming
// from the result files already there. A cell that fails (invalid setting, unsupported method,
// an exception of its own) leaves a failed result file with its reason and the sweep goes on.
// Every result file is written atomically, so a kill at any moment leaves each cell either with
// its previous file or with a complete new one.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "slmq/pipeline/run_shared.h"
#include "slmq/sweep/grid.h"

namespace slmq::sweep {

// What a cell's result file says about it.
enum class ResultState {
  kMissing,     // no file
  kOk,          // status ok, same config hash: skipped on resume
  kFailed,      // status failed, same config hash: retried unless retry_failed is off
  kStale,       // another config hash (the grid changed): recomputed
  kUnreadable,  // not JSON (not written by slmquant): recomputed
};
const char* to_string(ResultState state);

// <output.dir>/<id>.json
std::filesystem::path cell_result_path(const Cell& cell);
ResultState result_state(const Cell& cell);

struct SweepOptions {
  bool retry_failed = true;
  bool force = false;  // recompute cells whose result is up to date
  std::string tag;     // log prefix, e.g. "worker 1/2 (cuda:1)"
  // Model sources, baselines, corpora and KL baseline states shared across cells
  // (pipeline/run_shared.h); null: every cell computes everything itself.
  RunShared* shared = nullptr;
};

struct SweepSummary {
  size_t total = 0;
  size_t skipped = 0;  // up to date (ok), or failed and not retried
  size_t ok = 0;       // cells whose result is ok at the end
  size_t failed = 0;   // cells whose result is failed at the end
  double seconds = 0;
};

SweepSummary run_cells(const std::vector<Cell>& cells, const SweepOptions& options);

// The failed result row of a cell that never reached the pipeline, or whose pipeline failure
// left a row without the keys `slmquant report` needs (model, quant): schema_version, name,
// config_hash, config, model {name, source, dtype}, quant {method, w_bits, a_bits} when the cell
// has one, status failed, error and failed_reason.
nlohmann::json failed_row(const Cell& cell, const std::string& category,
                          const std::string& message);

}  // namespace slmq::sweep
