// `slmquant inspect MODEL [--calib c4|wikitext2|FILE --nsamples N --seqlen L] [--out DIR]
// [--method smoothquant|quarot|spinquant|omniquant]`: weight statistics of every decoder linear
// and, over calibration windows, activation statistics at every linear input
// (calib/model_inspect.h); with --method, the same again after the method's function-preserving
// transform (pipeline/inspect_transform.h). Writes DIR/inspect.json, DIR/inspect.html and one SVG
// per chart (report/inspect_charts.h); prints a per-linear summary.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <iostream>
#include <memory>

#include "command.h"
#include "front_end.h"
#include "model_options.h"
#include "slmq/calib/calibration_data.h"
#include "slmq/calib/model_inspect.h"
#include "slmq/core/atomic_file.h"
#include "slmq/core/error.h"
#include "slmq/core/timing.h"
#include "slmq/model/model_tokenizer.h"
#include "slmq/pipeline/inspect_transform.h"
#include "slmq/report/inspect_charts.h"

namespace slmq::cli {
namespace {

struct InspectArgs {
  ModelOptions model;
  std::string calib = "wikitext2", method, out_dir;
  int64_t nsamples = 8, seqlen = 512, seed = 0;
  bool no_activations = false;
  InspectOptions options;
  std::vector<std::string> overrides;
};

// The method's `quant:` block, parsed as a run config's (validated keys, the method's defaults),
// with the calibration flags in it.
RunConfig inspect_config(const InspectArgs& a) {
  YAML::Node q;
  q["method"] = a.method.empty() ? std::string("rtn") : a.method;
  q["scheme"] = a.method == "smoothquant" ? "w8a8" : "w4a16";
  q["calibration"]["source"] = a.calib;
  q["calibration"]["nsamples"] = a.nsamples;
  q["calibration"]["seqlen"] = a.seqlen;
  q["calibration"]["seed"] = a.seed;
  YAML::Node root;
  root["quant"] = q;
  for (const auto& o : a.overrides) apply_override(root, "quant." + o);
  return front_end_config(a.model, root);
}

void print_summary(const std::vector<LinearInspect>& linears, const std::string& label) {
  std::cout << fmt::format("{}\n{:<6}{:<20}{:>10}{:>10}{:>10}{:>12}{:>10}{:>9}\n", label, "layer",
                           "linear", "w absmax", "w kurt", "w spread", "a absmax", "a spread",
                           "a outl%");
  for (const auto& l : linears) {
    std::cout << fmt::format("{:<6}{:<20}{:>10.4g}{:>10.3g}{:>10.3g}", l.layer, l.linear,
                             l.weight.abs_max, l.weight_kurtosis, l.weight.spread);
    if (l.has_activations)
      std::cout << fmt::format("{:>12.4g}{:>10.3g}{:>9.2f}", l.activation.abs_max,
                               l.activation.spread, 100 * l.activation.outlier_share);
    std::cout << "\n";
  }
}

int run_inspect(const InspectArgs& args) {
  const RunConfig config = inspect_config(args);
  const auto t0 = SteadyClock::now();
  auto model = args.model.load();
  spdlog::info("inspect: model loaded in {:.1f} s", seconds_since(t0));
  std::optional<CalibrationData> calib;
  if (!args.no_activations || args.method == "smoothquant") {
    const auto t1 = SteadyClock::now();
    calib = prepare_calibration(config.quant->calibration, load_model_tokenizer(args.model.path));
    spdlog::info("inspect: {} calibration windows of {} tokens from {} ({:.1f} s)",
                 calib->windows.size(), calib->windows.seqlen(), args.calib, seconds_since(t1));
  }
  const CalibrationWindows* windows = args.no_activations ? nullptr : &calib->windows;
  auto t2 = SteadyClock::now();
  const auto before = inspect_model(*model, windows, args.options);
  spdlog::info("inspect: statistics in {:.1f} s", seconds_since(t2));
  nlohmann::json out = {{"model", args.model.path},
                        {"calibration", calib ? calib->to_json() : nlohmann::json(nullptr)},
                        {"before", inspect_to_json(before, args.options)}};
  std::optional<nlohmann::json> after;
  if (!args.method.empty()) {
    out["method"] = args.method;
    out["transform"] = apply_method_transform(*model, *config.quant, calib ? &*calib : nullptr);
    t2 = SteadyClock::now();
    InspectOptions options = args.options;
    look_through_online_transforms(options);
    const auto transformed = inspect_model(*model, windows, options);
    spdlog::info("inspect: statistics after {} in {:.1f} s", args.method, seconds_since(t2));
    after = inspect_to_json(transformed, args.options);
    out["after"] = *after;
    print_summary(before, "before " + args.method);
    print_summary(transformed, "after " + args.method + ": " + out["transform"].get<std::string>());
  } else {
    print_summary(before, "model " + args.model.path);
  }
  if (!args.out_dir.empty()) {
    const std::filesystem::path dir = args.out_dir;
    std::filesystem::create_directories(dir);
    write_file_atomically(dir / "inspect.json", out.dump(1) + "\n");
    const nlohmann::json* a = after ? &*after : nullptr;
    const std::string title = "slmquant inspect: " + args.model.path +
                              (args.method.empty() ? "" : " before / after " + args.method);
    write_file_atomically(dir / "inspect.html", report::inspect_html(out["before"], a, title));
    for (const auto& [name, svg] : report::inspect_svgs(out["before"], a))
      write_file_atomically(dir / name, svg);
    spdlog::info("wrote {}/inspect.json, inspect.html and the SVG charts", dir.string());
  }
  return 0;
}

const RegisterCommand kInspect{
    "inspect", "Weight and activation outlier statistics per layer and linear", [](CLI::App& app) {
      auto args = std::make_shared<InspectArgs>();
      args->model.device = "cpu";
      args->model.add_to(app);
      app.add_option("--calib", args->calib,
                     "calibration text: c4, wikitext2, or a .jsonl / .raw / text file")
          ->capture_default_str();
      app.add_option("--nsamples", args->nsamples, "calibration windows")->capture_default_str();
      app.add_option("--seqlen", args->seqlen, "tokens per window")->capture_default_str();
      app.add_option("--seed", args->seed, "calibration sampling seed")->capture_default_str();
      app.add_flag("--no-activations", args->no_activations, "weight statistics only");
      app.add_option("--method", args->method,
                     "also after this method's transform: smoothquant, quarot, spinquant "
                     "(initial rotations), omniquant (refused: its transform is learned while "
                     "quantizing)")
          ->check(CLI::IsMember({"smoothquant", "quarot", "spinquant", "omniquant"}));
      app.add_option("--set", args->overrides,
                     "a quant: key for the method, e.g. smoothquant.alpha=0.8 (repeatable)");
      app.add_option("--top-k", args->options.top_k, "outlier channels listed per linear")
          ->capture_default_str();
      app.add_option("--outlier-factor", args->options.outlier_factor,
                     "a channel is an outlier above this many times the median channel abs-max")
          ->capture_default_str();
      app.add_option("--out", args->out_dir, "write inspect.json, inspect.html and SVG charts");
      return [args] { return run_inspect(*args); };
    }};

}  // namespace
}  // namespace slmq::cli
