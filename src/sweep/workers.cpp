#include "slmq/sweep/workers.h"

#include <ATen/Context.h>
#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <set>

#include "slmq/core/dtype.h"
#include "slmq/core/error.h"

namespace slmq::sweep {
namespace {

bool parse_index(std::string_view s, int& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size() && out >= 0;
}

}  // namespace

int visible_cuda_devices() {
  return cuda_available() ? at::detail::getCUDAHooks().deviceCount() : 0;
}

std::vector<WorkerDevice> parse_devices(const std::string& list, int visible_gpus) {
  std::vector<WorkerDevice> out;
  std::set<int> seen;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string entry = list.substr(start, comma - start);
    start = comma + 1;
    WorkerDevice d{entry, -1};
    if (entry == "cpu") {
      out.push_back(d);
      continue;
    }
    if (entry.rfind("cuda:", 0) != 0 ||
        !parse_index(std::string_view(entry).substr(5), d.cuda_index))
      throw ConfigError(fmt::format("--devices '{}': '{}' is not cpu or cuda:N", list, entry));
    if (!seen.insert(d.cuda_index).second)
      throw ConfigError(fmt::format("--devices '{}': {} is named twice", list, entry));
    out.push_back(d);
  }
  // After the whole list parsed: a malformed list is a config error on any machine.
  for (const auto& d : out) {
    if (d.cuda_index >= visible_gpus) {
      throw UnsupportedError(
          fmt::format("--devices '{}': {} does not exist; this machine has {} "
                      "CUDA device(s)",
                      list, d.name, visible_gpus));
    }
  }
  return out;
}

void check_worker_devices(const std::vector<Cell>& cells) {
  for (const auto& cell : cells) {
    if (!cell.config) continue;
    const std::string& d = cell.config->model.device;
    if (d != "auto" && d != "cpu" && d != "cuda" && d != "cuda:0") {
      throw ConfigError(fmt::format(
          "cell {}: model.device '{}': with --devices each worker sees its one GPU as cuda:0; "
          "use auto, cuda or cuda:0",
          cell.id, d));
    }
  }
}

int sweep_exit_status(size_t failed) {
  return failed == 0 ? 0 : static_cast<int>(std::min<size_t>(100 + failed, 255));
}

int run_workers(const std::string& exe, const std::vector<std::string>& args,
                const std::vector<WorkerDevice>& devices) {
  const int m = static_cast<int>(devices.size());
  std::vector<pid_t> pids;
  for (int j = 0; j < m; ++j) {
    std::vector<std::string> argv = args;
    argv.insert(argv.begin(), exe);
    argv.push_back("--worker");
    argv.push_back(fmt::format("{}/{}", j, m));
    const std::string visible =
        devices[j].cuda_index < 0 ? "" : std::to_string(devices[j].cuda_index);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw InternalError(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
      // A worker must not outlive the sweep that started it.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      ::setenv("CUDA_VISIBLE_DEVICES", visible.c_str(), 1);
      std::vector<char*> cargv;
      for (auto& a : argv) cargv.push_back(a.data());
      cargv.push_back(nullptr);
      ::execv(exe.c_str(), cargv.data());
      ::_exit(127);
    }
    spdlog::info("sweep: worker {}/{} on {} (pid {})", j, m, devices[j].name, pid);
    pids.push_back(pid);
  }
  int bad = 0;
  for (int j = 0; j < m; ++j) {
    int status = 0;
    while (::waitpid(pids[j], &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) {
      const int code = WEXITSTATUS(status);
      if (code == 0 || code > 100) continue;  // done; failed cells are counted from the files
      spdlog::error("sweep: worker {}/{} ({}) exited with status {}", j, m, devices[j].name, code);
    } else {
      spdlog::error("sweep: worker {}/{} ({}) was killed by signal {}; rerun to resume its cells",
                    j, m, devices[j].name, WIFSIGNALED(status) ? WTERMSIG(status) : -1);
    }
    ++bad;
  }
  return bad;
}

}  // namespace slmq::sweep
