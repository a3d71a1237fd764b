// SpinQuant's Cayley SGD against scripts/reference/gen_cayley_sgd.py, a reference written from the
// spec's steps: the same initial rotations and gradients, five steps in fp64; the learning-rate
// schedule, the retraction draws; and orthogonality after 100 fp32 steps.
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <iostream>

#include "slmq/data/python_random.h"
#include "slmq/io/json_file.h"
#include "slmq/io/safetensors.h"
#include "slmq/quant/rotation/cayley_sgd.h"
#include "slmq/quant/rotation/hadamard.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

double max_abs(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

// fp64, the same operations in the same order: differences are matmul accumulation order only
// (~1e-15 per step); the bound is 1e-6.
TEST(CayleySgdReference, FiveStepsEqualTheSpecReference) {
  const auto dir = test::reference_dir("cayley_sgd");
  auto ref = SafetensorsFile::open(dir / "reference.safetensors");
  const auto cases = read_json_file(dir / "cases.json");
  const auto retract = cases["retract"].get<std::vector<std::string>>();
  const int64_t steps = cases["steps"].get<int64_t>();
  const at::Tensor lrs = ref.load("lr");
  std::map<std::string, at::Tensor> r = {{"r1", ref.load("r1_init")}, {"r2", ref.load("r2_init")}};
  double worst = 0;
  int retractions = 0;
  for (int64_t k = 0; k < steps; ++k) {
    const double lr = cosine_lr(1.5, k, steps);
    EXPECT_NEAR(lr, lrs[k].item<double>(), 1e-15);
    for (auto& [name, value] : r) {
      const bool rt =
          std::find(retract.begin(), retract.end(), fmt::format("{}:{}", name, k)) != retract.end();
      CayleyStep s = cayley_sgd_step(value, ref.load(fmt::format("grad_{}_{}", name, k)), lr, rt);
      retractions += s.retracted ? 1 : 0;
      value = s.r;
      worst = std::max(worst, max_abs(value, ref.load(fmt::format("r_{}_{}", name, k))));
    }
  }
  std::cout << fmt::format("[cayley] 5 fp64 steps: max |R - R_ref| = {:.3g}\n", worst);
  EXPECT_LE(worst, 1e-6);
  EXPECT_EQ(retractions, 2);
  // The steps moved the rotations (a no-op optimiser would fail the comparison above only if the
  // reference moved them): the reference's last R1 is far from the initial one.
  EXPECT_GT(max_abs(ref.load("r_r1_4"), ref.load("r1_init")), 1e-2);
}

TEST(CayleySgdReference, RetractionDrawsArePythonsRandint) {
  const auto dir = test::reference_dir("cayley_sgd");
  auto ref = SafetensorsFile::open(dir / "reference.safetensors");
  const at::Tensor draws = ref.load("draws");
  data::PyRandom rng(0);
  int hits = 0;
  for (int64_t i = 0; i < draws.size(0); ++i) {
    const bool d = draw_retraction(rng);
    hits += d ? 1 : 0;
    ASSERT_EQ(d, draws[i].item<int>() != 0) << "draw " << i;
  }
  EXPECT_GT(hits, 5);  // ~2000/101 expected
}

TEST(CayleySgd, ClipGradNormScalesTheGlobalNorm) {
  std::vector<at::Tensor> g = {at::full({2, 2}, 3.0, at::kDouble), at::full({1}, 4.0, at::kDouble)};
  // norm = sqrt(4·9 + 16) = sqrt(52)
  EXPECT_NEAR(clip_grad_norm(g, 1.0), std::sqrt(52.0), 1e-12);
  const double after =
      std::sqrt(g[0].pow(2).sum().item<double>() + g[1].pow(2).sum().item<double>());
  EXPECT_NEAR(after, std::sqrt(52.0) / (std::sqrt(52.0) + 1e-6), 1e-12);
  std::vector<at::Tensor> small = {at::full({2}, 0.1, at::kDouble)};
  clip_grad_norm(small, 1.0);
  EXPECT_NEAR(small[0][0].item<double>(), 0.1, 1e-15);
}

// fp32 over 100 steps with random gradients of unit scale: the row normalisation and the
// fixed-point Cayley map keep RᵀR within ~1e-6 of I; the bound is 1e-5.
TEST(CayleySgd, HundredFp32StepsStayOrthogonal) {
  at::Tensor r = random_hadamard_matrix(64, seeded_cpu_generator(0)).to(at::kFloat);
  auto gen = seeded_cpu_generator(9);
  data::PyRandom rng(0);
  for (int64_t k = 0; k < 100; ++k) {
    at::Tensor g = at::randn({64, 64}, gen, at::TensorOptions().dtype(at::kFloat));
    std::vector<at::Tensor> grads = {g};
    clip_grad_norm(grads, 1.0);
    r = cayley_sgd_step(r, grads[0], cosine_lr(1.5, k, 100), draw_retraction(rng)).r;
  }
  const double err = max_abs(at::matmul(r.t(), r), at::eye(64, at::kFloat));
  std::cout << fmt::format("[cayley] 100 fp32 steps: max |RᵀR - I| = {:.3g}\n", err);
  EXPECT_LE(err, 1e-5);
  EXPECT_EQ(r.scalar_type(), at::kFloat);
}

}  // namespace
}  // namespace slmq
