#include "slmq/quant/backends/backend_choice.h"

#include "slmq/core/error.h"
#include "slmq/model/model.h"
#include "slmq/quant/backends/cpu_int_linear.h"
#include "slmq/quant/fake_quant_linear.h"

namespace slmq {

BackendChoice parse_backend_choice(const std::string& name, const std::string& key) {
  if (name == "fake") return BackendChoice::kFake;
  if (name == "real") return BackendChoice::kReal;
  if (name == "auto") return BackendChoice::kAuto;
  throw ConfigError(key + ": unknown backend '" + name + "' (fake, real or auto)");
}

std::string to_string(BackendChoice choice) {
  switch (choice) {
    case BackendChoice::kFake:
      return "fake";
    case BackendChoice::kReal:
      return "real";
    case BackendChoice::kAuto:
      return "auto";
  }
  return "auto";
}

nlohmann::json BackendReport::to_json() const {
  nlohmann::json fake = nlohmann::json::object();
  for (const auto& [name, reason] : kept_fake) fake[name] = reason;
  return {{"choice", to_string(choice)}, {"linears_by_kind", linears_by_kind}, {"kept_fake", fake}};
}

BackendReport apply_backend_choice(Model& model, BackendChoice choice) {
  BackendReport report;
  report.choice = choice;
  for (auto& [name, slot] : model.linears()) {
    const auto* fake = dynamic_cast<const FakeQuantLinear*>(slot->get());
    if (fake != nullptr && choice != BackendChoice::kFake) {
      auto reason = CpuIntLinear::unsupported_reason(*fake, model.dtype());
      if (reason && choice == BackendChoice::kReal)
        throw UnsupportedError("--backend real: " + name + " has no real backend: " + *reason);
      if (reason)
        report.kept_fake.emplace_back(name, *reason);
      else
        *slot = std::make_unique<CpuIntLinear>(*fake, model.dtype());
    }
    report.linears_by_kind[(*slot)->kind()] += 1;
  }
  // An own quantized embedding table gets the real kernels' row dequantization too (a table
  // shared with the head follows the head). Not a linear: not counted above.
  if (auto* slot = model.embedding_slot(); slot != nullptr && choice != BackendChoice::kFake) {
    const auto* fake = dynamic_cast<const FakeQuantLinear*>(slot->get());
    if (fake != nullptr && !CpuIntLinear::unsupported_reason(*fake, model.dtype()))
      *slot = std::make_unique<CpuIntLinear>(*fake, model.dtype());
  }
  return report;
}

}  // namespace slmq
