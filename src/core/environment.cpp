#include "slmq/core/environment.h"

#include <ATen/Parallel.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <string>

#ifdef SLMQ_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

#include "slmq/core/version.h"

namespace slmq {
namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

std::string os_name() {
  struct utsname u {};
  if (uname(&u) != 0) return "unknown";
  return std::string(u.sysname) + " " + u.release + " " + u.machine;
}

std::string host_name() {
  char buf[256] = {};
  return gethostname(buf, sizeof buf - 1) == 0 ? buf : "unknown";
}

nlohmann::json gpu_info(c10::Device device) {
#ifdef SLMQ_WITH_CUDA
  if (device.is_cuda()) {
    const auto* p = at::cuda::getDeviceProperties(device.index() < 0 ? 0 : device.index());
    return {{"name", p->name},
            {"memory_bytes", p->totalGlobalMem},
            {"compute_capability", std::to_string(p->major) + "." + std::to_string(p->minor)}};
  }
#endif
  return nullptr;
}

}  // namespace

std::string utc_timestamp() {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json environment_info(c10::Device device) {
#ifdef __clang__
  const std::string compiler = std::string("clang ") + __clang_version__;
#else
  const std::string compiler = std::string("gcc ") + __VERSION__;
#endif
  return {{"slmquant_commit", git_commit()},
          {"compiler", compiler},
          {"torch", torch_build_version()},
          {"os", os_name()},
          {"hostname", host_name()},
          {"cpu_model", cpu_model()},
          {"cpu_threads", at::get_num_threads()},
          {"device", device.str()},
          {"gpu", gpu_info(device)},
          {"timestamp_utc", utc_timestamp()}};
}

}  // namespace slmq
