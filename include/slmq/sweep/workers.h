#pragma once
// `--devices cuda:0,cuda:1,...`: one worker process per device in one process tree. Each worker
// is the same `slmquant sweep` command with `--worker j/m` added; it runs part j of m of the
// selected cells (sweep/select.h) and sees only its device, as cuda:0 (CUDA_VISIBLE_DEVICES), so
// cell configs and their hashes do not depend on which worker ran them. A `cpu` entry runs a
// worker with no GPU visible.
#include <string>
#include <vector>

#include "slmq/sweep/grid.h"

namespace slmq::sweep {

struct WorkerDevice {
  std::string name;     // "cpu" or "cuda:N"
  int cuda_index = -1;  // N; -1 for cpu
};

// Parses a comma-separated device list. ConfigError for an empty list, an entry other than cpu
// or cuda:N, or a GPU named twice; UnsupportedError naming the entry when this machine has no
// such CUDA device (`visible_gpus` is the count torch sees).
std::vector<WorkerDevice> parse_devices(const std::string& list, int visible_gpus);

// The CUDA device count torch sees (0 without CUDA).
int visible_cuda_devices();

// Each worker sees one GPU as cuda:0: a cell whose model.device names another index cannot run
// in a worker. ConfigError naming the cell and the key.
void check_worker_devices(const std::vector<Cell>& cells);

// Starts one worker per device: `exe args... --worker j/m` with CUDA_VISIBLE_DEVICES set to the
// device's index ("" for cpu), each killed when this process dies, then waits for all. Returns
// how many workers did not exit with status 0 or a sweep's failed-cells status; each one is
// logged with its exit status or signal.
int run_workers(const std::string& exe, const std::vector<std::string>& args,
                const std::vector<WorkerDevice>& devices);

// The exit status of a sweep with `failed` failed cells: 0, else 100 + failed (at most 255).
int sweep_exit_status(size_t failed);

}  // namespace slmq::sweep
