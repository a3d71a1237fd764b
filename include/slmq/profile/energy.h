#pragma once
// Energy counters behind one interface: a CPU package source reading Linux powercap (RAPL) here,
// and room for the NVML source of the CUDA side. A meter that cannot measure says why; nothing
// estimates energy into a measured field.
#include <c10/core/Device.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace slmq {

class EnergySource {
 public:
  virtual ~EnergySource() = default;
  // e.g. "rapl:intel-rapl:0" (what is counted).
  virtual std::string name() const = 0;
  // Cumulative energy in joules since an arbitrary origin; counter wrap-arounds are unfolded
  // between successive calls. Throws DataError when the counter cannot be read.
  virtual double read_joules() = 0;
};

struct EnergyProbe {
  std::unique_ptr<EnergySource> source;  // null when no counter is available
  std::string reason;                    // why, when source is null
};

// The energy counter for `device`: CPU -> the powercap package domains summed
// (/sys/class/powercap/intel-rapl:N/energy_uj, also AMD's RAPL through the same interface);
// other devices -> none yet (the CUDA issue adds NVML), with the reason.
EnergyProbe probe_energy_source(c10::Device device);
// The powercap package zones under `root` (normally /sys/class/powercap), for tests.
EnergyProbe probe_powercap(const std::filesystem::path& root);

// Energy between start() and stop() of one workload.
class EnergyMeter {
 public:
  explicit EnergyMeter(EnergySource* source) : source_(source) {}
  void start();
  // Joules since start(), or nullopt without a source.
  std::optional<double> stop();

 private:
  EnergySource* source_;
  double start_j_ = 0;
};

}  // namespace slmq
