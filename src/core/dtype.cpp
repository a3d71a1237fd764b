#include "slmq/core/dtype.h"

#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>

#include "slmq/core/dtype_names.h"
#include "slmq/core/error.h"

namespace slmq {

c10::ScalarType parse_compute_dtype(std::string_view name, std::string_view key) {
  const std::string canonical = canonical_compute_dtype(name, key);
  if (canonical == "bfloat16") return c10::kBFloat16;
  if (canonical == "float16") return c10::kHalf;
  return c10::kFloat;
}

std::string dtype_name(c10::ScalarType dtype) {
  switch (dtype) {
    case c10::kFloat:
      return "float32";
    case c10::kBFloat16:
      return "bfloat16";
    case c10::kHalf:
      return "float16";
    default:
      return c10::toString(dtype);
  }
}

bool cuda_available() { return at::hasCUDA() && at::detail::getCUDAHooks().deviceCount() > 0; }

c10::Device parse_device(std::string_view name, std::string_view key) {
  if (name == "auto") return cuda_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  c10::Device device(c10::kCPU);
  try {
    device = c10::Device(std::string(name));
  } catch (const std::exception&) {
    throw ConfigError(std::string(key) + ": '" + std::string(name) +
                      "' is not a device; expected cpu, cuda, cuda:N or auto");
  }
  if (!device.is_cpu() && !device.is_cuda()) {
    throw ConfigError(std::string(key) + ": '" + std::string(name) +
                      "' is not supported; expected cpu, cuda, cuda:N or auto");
  }
  if (device.is_cuda() && !cuda_available()) {
    throw UnsupportedError(std::string(key) + ": '" + std::string(name) +
                           "' requested but torch sees no CUDA GPU on this machine");
  }
  return device;
}

}  // namespace slmq
