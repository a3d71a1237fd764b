#include "slmq/profile/energy.h"

#include <filesystem>
#include <fstream>
#include <vector>

#include "slmq/core/error.h"

namespace slmq {
namespace {

namespace fs = std::filesystem;

int64_t read_integer(const fs::path& path) {
  std::ifstream in(path);
  int64_t v = 0;
  if (!(in >> v)) throw DataError("cannot read " + path.string());
  return v;
}

// The package domains of powercap (top-level intel-rapl:N zones; sub-zones such as
// intel-rapl:0:0 are parts of a package and would be counted twice).
class RaplSource final : public EnergySource {
 public:
  explicit RaplSource(std::vector<fs::path> zones) : zones_(std::move(zones)) {
    for (const auto& z : zones_) {
      ranges_.push_back(read_integer(z / "max_energy_range_uj"));
      last_.push_back(read_integer(z / "energy_uj"));
      unfolded_.push_back(0);
    }
  }
  std::string name() const override {
    std::string n = "rapl:";
    for (size_t i = 0; i < zones_.size(); ++i) n += (i ? "+" : "") + zones_[i].filename().string();
    return n;
  }
  double read_joules() override {
    double total = 0;
    for (size_t i = 0; i < zones_.size(); ++i) {
      const int64_t now = read_integer(zones_[i] / "energy_uj");
      int64_t delta = now - last_[i];
      if (delta < 0) delta += ranges_[i];  // the counter wrapped
      unfolded_[i] += delta;
      last_[i] = now;
      total += static_cast<double>(unfolded_[i]) * 1e-6;
    }
    return total;
  }

 private:
  std::vector<fs::path> zones_;
  std::vector<int64_t> ranges_, last_, unfolded_;
};

}  // namespace

EnergyProbe probe_powercap(const fs::path& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    return {nullptr, "no powercap interface (" + root.string() + " absent): RAPL not exposed"};
  std::vector<fs::path> zones;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    const bool package = name.rfind("intel-rapl:", 0) == 0 &&
                         name.find(':', std::string("intel-rapl:").size()) == std::string::npos;
    if (package) zones.push_back(entry.path());
  }
  if (zones.empty()) return {nullptr, "powercap has no RAPL package zone under " + root.string()};
  try {
    return {std::make_unique<RaplSource>(std::move(zones)), ""};
  } catch (const DataError& e) {
    return {nullptr, std::string("RAPL counters not readable: ") + e.what()};
  }
}

EnergyProbe probe_energy_source(c10::Device device) {
  if (device.is_cpu()) return probe_powercap("/sys/class/powercap");
  return {nullptr, "no energy counter for " + device.str() + " yet (NVML is the CUDA issue's)"};
}

void EnergyMeter::start() {
  if (source_) start_j_ = source_->read_joules();
}

std::optional<double> EnergyMeter::stop() {
  if (!source_) return std::nullopt;
  return source_->read_joules() - start_j_;
}

}  // namespace slmq
