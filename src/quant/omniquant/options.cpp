#include "slmq/quant/omniquant/options.h"

#include "slmq/config/config_node.h"
#include "slmq/quant/quant_spec.h"

namespace slmq {

std::string to_string(OmniFlavour f) { return f == OmniFlavour::kLlmc ? "llmc" : "official"; }

QuantFlavour OmniquantOptions::quantizer_flavour() const {
  return variant == OmniFlavour::kLlmc ? QuantFlavour::kLlmc : QuantFlavour::kOmniquant;
}

std::optional<QuantFlavour> OmniquantOptions::flavour() const {
  if (variant == OmniFlavour::kLlmc) return QuantFlavour::kLlmc;
  return std::nullopt;
}

nlohmann::json OmniquantOptions::to_json() const {
  return {{"flavour", to_string(variant)},
          {"lwc", lwc},
          {"let", let ? nlohmann::json(*let) : nlohmann::json("auto")},
          {"lwc_lr", lwc_lr},
          {"let_lr", let_lr},
          {"alpha", alpha},
          {"wd", wd},
          {"epochs", epochs},
          {"aug_loss", aug_loss},
          {"batch_size", batch_size},
          {"llmc_gqa_v_quirk", llmc_gqa_v_quirk},
          {"tf32", tf32}};
}

OmniquantOptions parse_omniquant_section(const ConfigNode& node, OmniquantOptions o) {
  node.allow_only({"flavour", "lwc", "let", "lwc_lr", "let_lr", "alpha", "epochs", "wd", "aug_loss",
                   "batch_size", "llmc_gqa_v_quirk", "tf32"});
  const std::string flavour =
      node.get_choice("flavour", to_string(o.variant), {"official", "llmc"});
  o.variant = flavour == "llmc" ? OmniFlavour::kLlmc : OmniFlavour::kOfficial;
  o.lwc = node.get_bool("lwc", o.lwc);
  if (node.has("let")) o.let = node.get_bool("let", false);
  o.lwc_lr = node.get_double("lwc_lr", o.lwc_lr);
  if (!(o.lwc_lr >= 0)) node.fail("lwc_lr", "must be >= 0");
  o.let_lr = node.get_double("let_lr", o.let_lr);
  if (!(o.let_lr >= 0)) node.fail("let_lr", "must be >= 0");
  o.alpha = node.get_double("alpha", o.alpha);
  if (!(o.alpha >= 0 && o.alpha <= 1)) node.fail("alpha", "must be in [0, 1]");
  o.epochs = node.get_int("epochs", o.epochs);
  if (o.epochs < 0) node.fail("epochs", "must be >= 0");
  o.wd = node.get_double("wd", o.wd);
  if (!(o.wd >= 0)) node.fail("wd", "must be >= 0");
  o.aug_loss = node.get_bool("aug_loss", o.aug_loss);
  o.batch_size = node.get_int("batch_size", o.batch_size);
  if (o.batch_size < 1) node.fail("batch_size", "must be at least 1");
  o.llmc_gqa_v_quirk = node.get_bool("llmc_gqa_v_quirk", o.llmc_gqa_v_quirk);
  o.tf32 = node.get_bool("tf32", o.tf32);
  if (o.epochs > 0 && !o.lwc && o.let == false)
    node.fail("epochs", "training needs lwc or let (both are off)");
  return o;
}

}  // namespace slmq
