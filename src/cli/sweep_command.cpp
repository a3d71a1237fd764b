// `slmquant sweep GRID.yaml`: every cell of a grid through the pipeline, resumable, shardable
// (--shard i/n for Slurm arrays), one worker per device (--devices). docs/sweeps.md.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <iostream>
#include <memory>

#include "command.h"
#include "slmq/core/error.h"
#include "slmq/sweep/grid.h"
#include "slmq/sweep/run_cells.h"
#include "slmq/sweep/select.h"
#include "slmq/sweep/workers.h"

namespace slmq::cli {
namespace {

struct SweepArgs {
  std::string grid;
  std::string out;
  std::vector<std::string> overrides;
  std::vector<std::string> cell_overrides;
  std::vector<std::string> only;
  std::string shard;
  std::string devices;
  std::string worker;  // set by a --devices parent for its workers
  bool dry_run = false;
  bool no_retry_failed = false;
  bool force = false;
  bool no_share = false;
};

// This process's arguments without the program name and without --devices (and its value): what
// a worker is started with.
std::vector<std::string> worker_args() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::vector<std::string> args;
  for (std::string a; std::getline(in, a, '\0');) args.push_back(a);
  std::vector<std::string> out;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--devices") {
      ++i;
      continue;
    }
    if (args[i].rfind("--devices=", 0) == 0) continue;
    out.push_back(args[i]);
  }
  return out;
}

void print_dry_run(const std::vector<sweep::Cell>& cells, const std::vector<sweep::Cell>& selected,
                   const std::vector<sweep::WorkerDevice>& devices) {
  std::vector<std::vector<sweep::Cell>> parts;
  for (int j = 0; j < static_cast<int>(devices.size()); ++j)
    parts.push_back(sweep::select_part(selected, {j, static_cast<int>(devices.size())}));
  for (const auto& cell : selected) {
    std::string line =
        fmt::format("{}\t{}\t{}", cell.id, cell.hash, sweep::to_string(sweep::result_state(cell)));
    for (size_t j = 0; j < parts.size(); ++j) {
      for (const auto& c : parts[j])
        if (c.id == cell.id) line += fmt::format("\tworker {} ({})", j, devices[j].name);
    }
    if (!cell.config) line += "\tinvalid: " + cell.config_error;
    std::cout << line << "\n";
  }
  std::cout << fmt::format("{} of {} cells selected\n", selected.size(), cells.size());
}

int run_sweep(const SweepArgs& args) {
  const sweep::Grid grid = sweep::load_grid(args.grid, args.overrides, args.cell_overrides);
  const std::vector<sweep::Cell> cells = sweep::expand_grid(grid, args.out);
  std::vector<sweep::Cell> selected = sweep::select_only(cells, args.only);
  if (!args.shard.empty())
    selected = sweep::select_part(selected, sweep::parse_part(args.shard, "--shard"));
  std::vector<sweep::WorkerDevice> devices;
  if (!args.devices.empty()) {
    devices = sweep::parse_devices(args.devices, sweep::visible_cuda_devices());
    sweep::check_worker_devices(selected);
  }
  if (args.dry_run) {
    print_dry_run(cells, selected, devices);
    return 0;
  }
  sweep::SweepOptions options;
  options.retry_failed = !args.no_retry_failed;
  options.force = args.force;
  if (!devices.empty()) {
    spdlog::info("sweep {}: {} cells on {} workers", grid.name, selected.size(), devices.size());
    const int bad = sweep::run_workers("/proc/self/exe", worker_args(), devices);
    size_t ok = 0;
    for (const auto& cell : selected) ok += sweep::result_state(cell) == sweep::ResultState::kOk;
    const size_t failed = selected.size() - ok;
    std::cout << fmt::format("{}: {} cells, {} ok, {} failed or missing ({} workers failed)\n",
                             grid.name, selected.size(), ok, failed, bad);
    return sweep::sweep_exit_status(failed);
  }
  if (!args.worker.empty()) {
    const sweep::Part w = sweep::parse_part(args.worker, "--worker");
    selected = sweep::select_part(selected, w);
    options.tag = fmt::format("worker {}/{}", w.index, w.count);
  }
  RunShared shared;
  if (!args.no_share) options.shared = &shared;
  const sweep::SweepSummary s = sweep::run_cells(selected, options);
  if (!args.no_share) spdlog::info("sweep {}: shared work {}", grid.name, shared.stats().dump());
  std::cout << fmt::format(
      "{}: {} cells, {} ok, {} failed, {} up to date or not retried; {:.1f} s\n", grid.name,
      s.total, s.ok, s.failed, s.skipped, s.seconds);
  return sweep::sweep_exit_status(s.failed);
}

const RegisterCommand kSweep{
    "sweep",
    "Run every cell of a grid file (resumable; --shard i/n, --devices); exit 100+N when N cells "
    "failed",
    [](CLI::App& app) {
      auto args = std::make_shared<SweepArgs>();
      app.add_option("GRID", args->grid, "grid file (YAML; docs/sweeps.md)")->required();
      app.add_option("--out", args->out, "output directory of every cell (overrides output.dir)");
      app.add_option("--set", args->overrides,
                     "override a key of the base config: key.path=value (repeatable)");
      app.add_option("--set-cell", args->cell_overrides,
                     "override a key in every cell that has it, after the axes: key.path=value "
                     "(repeatable)");
      app.add_option("--only", args->only,
                     "cells whose id contains PATTERN, or matches it as a glob with * ? "
                     "(repeatable)");
      app.add_option("--shard", args->shard,
                     "run part i of n (0 <= i < n) of the cells, split by config hash");
      app.add_option("--devices", args->devices,
                     "one worker process per device: cuda:0,cuda:1,... (cpu for a CPU worker)");
      app.add_option("--worker", args->worker, "internal: the part a --devices worker runs")
          ->group("");
      app.add_flag("--dry-run", args->dry_run,
                   "list the cells (id, config hash, result state) and run nothing");
      app.add_flag("--no-retry-failed", args->no_retry_failed,
                   "keep cells whose result is failed instead of running them again");
      app.add_flag("--force", args->force, "recompute cells whose result is up to date");
      app.add_flag("--no-share", args->no_share,
                   "compute everything per cell (model open, baseline, corpus, KL baseline "
                   "states) instead of once per model");
      return [args] { return run_sweep(*args); };
    }};

}  // namespace
}  // namespace slmq::cli
