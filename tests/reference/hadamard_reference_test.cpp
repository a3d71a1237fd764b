// Hadamard factor tables, the fast transform and the random rotations against
// scripts/reference/gen_hadamard.py (the tables QuaRot/SpinQuant ship, a dense H_K·X·H_m product,
// torch's RNG after manual_seed).
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <iostream>

#include "slmq/core/error.h"
#include "slmq/io/json_file.h"
#include "slmq/io/safetensors.h"
#include "slmq/quant/rotation/hadamard.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

double max_abs(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

TEST(HadamardReference, FactorTablesEqualTheReferenceTables) {
  const auto dir = test::reference_dir("hadamard");
  auto ref = SafetensorsFile::open(dir / "reference.safetensors");
  for (int64_t k : hadamard_factor_sizes()) {
    SCOPED_TRACE(k);
    const at::Tensor want = ref.load(fmt::format("had{}", k)).to(at::kDouble);
    const at::Tensor got = hadamard_factor(k);
    EXPECT_TRUE(at::equal(got, want)) << "H_" << k << " differs from the reference table";
    EXPECT_TRUE(at::equal(at::matmul(got, got.t()), k * at::eye(k, at::kDouble)));
  }
}

// fp64: the butterflies are exact up to the final scale, 1e-12. fp32: one rounding per butterfly
// level and per term of the K-sum (K up to 172), ~1e-7 relative to the outputs (of magnitude up to
// ~4 for unit-normal inputs; measured max 1.7e-6 absolute); bound 1e-6 relative to max |y|.
TEST(HadamardReference, FastTransformEqualsDenseProduct) {
  const auto dir = test::reference_dir("hadamard");
  auto ref = SafetensorsFile::open(dir / "reference.safetensors");
  const auto cases = read_json_file(dir / "cases.json");
  for (int64_t n : cases["transform_sizes"].get<std::vector<int64_t>>()) {
    SCOPED_TRACE(n);
    const at::Tensor x = ref.load(fmt::format("transform_{}_x", n));
    const at::Tensor y = ref.load(fmt::format("transform_{}_y", n));
    HadamardTransform t(n);
    EXPECT_LE(max_abs(t.apply(x), y), 1e-12);
    const double fp32 = max_abs(t.apply(x.to(at::kFloat)), y) / y.abs().max().item<double>();
    EXPECT_LE(fp32, 1e-6);
    // Inverse and dense matrix agree with the transform.
    EXPECT_LE(max_abs(t.apply_transposed(t.apply(x)), x), 1e-12);
    EXPECT_LE(max_abs(at::matmul(x, t.matrix()), y), 1e-12);
  }
}

TEST(HadamardReference, RandomRotationsMatchTorchAfterManualSeed) {
  const auto dir = test::reference_dir("hadamard");
  auto ref = SafetensorsFile::open(dir / "reference.safetensors");
  const auto cases = read_json_file(dir / "cases.json");
  for (int64_t n : cases["random_sizes"].get<std::vector<int64_t>>()) {
    SCOPED_TRACE(n);
    const at::Tensor rh = random_hadamard_matrix(n, seeded_cpu_generator(0));
    EXPECT_LE(max_abs(rh, ref.load(fmt::format("random_hadamard_{}", n))), 1e-12);
    const at::Tensor ro = random_orthogonal_matrix(n, seeded_cpu_generator(1));
    // LAPACK's QR in two builds of the same library: fp64 round-off only.
    EXPECT_LE(max_abs(ro, ref.load(fmt::format("random_orthogonal_{}", n))), 1e-10);
    for (const at::Tensor& r : {rh, ro})
      EXPECT_LE(max_abs(at::matmul(r.t(), r), at::eye(n, at::kDouble)), 1e-12);
  }
}

TEST(HadamardReference, UncoveredSizesRefuseNamingTheSize) {
  for (int64_t n : {4864, 18944, 9, 15, 14}) {
    SCOPED_TRACE(n);
    EXPECT_FALSE(hadamard_factor_of(n).has_value());
    try {
      HadamardTransform t(n);
      ADD_FAILURE() << "no refusal";
    } catch (const UnsupportedError& e) {
      EXPECT_NE(std::string(e.what()).find(std::to_string(n)), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(hadamard_factor_of(576), 36);
  EXPECT_EQ(hadamard_factor_of(1536), 12);
  EXPECT_EQ(hadamard_factor_of(2560), 40);
  EXPECT_EQ(hadamard_factor_of(896), 28);
  EXPECT_EQ(hadamard_factor_of(11008), 172);
  EXPECT_EQ(hadamard_factor_of(2048), 1);
}

}  // namespace
}  // namespace slmq
