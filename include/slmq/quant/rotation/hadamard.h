#pragma once
// Hadamard matrices and transforms as QuaRot and SpinQuant build them (specs/quant_methods.md
// §6, §7.4; their utils/hadamard_utils.py): a size n = K·2^j is split into a small Hadamard
// factor H_K from a fixed table and a Sylvester part, and the normalised transform of a vector
// x ∈ R^n viewed as a K×m row-major matrix X (m = n/K) is vec(H_K · X · H_m) / √n.
//
// The factor table (K ∈ {12, 20, 28, 36, 40, 44, 52, 60, 108, 140, 156, 172}) is constructed
// here: Paley I (q ≡ 3 mod 4 prime: 12, 20, 44, 60, 108, 140), Paley II (q ≡ 1 mod 4 prime:
// 28, 36), Sylvester doubling (40 = 2·20) and the Williamson array (52, 156, 172) over the
// Williamson sequences of the reference tables (Sloane's library, which QuaRot, SpinQuant and
// compressed-tensors ship); scripts/reference/gen_hadamard.py checks them against the reference.
#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace slmq {

// The factor sizes K, in the order SpinQuant's get_hadK tries them (QuaRot's lacks 44; for every
// size QuaRot supports the choice is the same).
const std::vector<int64_t>& hadamard_factor_sizes();

// H_K as ±1 in fp64 [K, K] (K a table size, or 1). Throws InternalError for other K.
at::Tensor hadamard_factor(int64_t k);

// The factor of n as get_hadK picks it: the first table K (in the order above) that divides n;
// 1 when none does and n is a power of two. nullopt when n has no Hadamard transform here: the
// first dividing K leaves a quotient that is not a power of two, or no K divides a non-power of
// two (get_hadK asserts in both cases).
std::optional<int64_t> hadamard_factor_of(int64_t n);

// Why size n has no Hadamard transform ("4864 = 19·256: no Hadamard factor table covers it ..."),
// naming `what` ("down_proj input (intermediate_size)"), or nullopt.
std::optional<std::string> hadamard_unsupported_reason(int64_t n, const std::string& what);

// The normalised Hadamard transform of size n along the last dim, matmul_hadU: x [..., n] ->
// [..., n] in x's dtype (computed in x's dtype; callers cast to fp32 or fp64 as the reference
// does). O(n log n) butterflies over the power-of-two part, then one K×K product per vector.
// Orthogonal: apply(apply_transposed(x)) == x. Throws UnsupportedError (reason above) when n has
// no transform.
class HadamardTransform {
 public:
  explicit HadamardTransform(int64_t n);
  int64_t size() const { return n_; }
  int64_t factor() const { return k_; }
  // x·M with M the transform's matrix: vec(H_K · X · H_m) / √n for each row x.
  at::Tensor apply(const at::Tensor& x) const;
  // x·Mᵀ (the inverse): vec(H_Kᵀ · X · H_m) / √n (H_m is symmetric).
  at::Tensor apply_transposed(const at::Tensor& x) const;
  // M as a dense fp64 [n, n] matrix (rows are apply(e_i)), for folding and tests.
  at::Tensor matrix() const;

 private:
  at::Tensor transform(const at::Tensor& x, bool transposed) const;
  int64_t n_, k_;
  at::Tensor hk_;  // fp64 [K, K] ±1, undefined for K = 1
};

// Walsh–Hadamard (Sylvester, natural order, unnormalised) along the last dim, whose size must
// be a power of two: log2(n) butterfly passes.
at::Tensor walsh_hadamard(const at::Tensor& x);

// SpinQuant/QuaRot random_hadamard_matrix: s = 2·randint(0, 2, [n]) − 1 drawn from `generator`,
// R = diag(s) · M (fp64 [n, n], orthogonal).
at::Tensor random_hadamard_matrix(int64_t n, at::Generator generator);
// QuaRot's random_orthogonal_matrix: Q from the QR of randn(n, n) (fp64), columns multiplied by
// sign(diag(R)).
at::Tensor random_orthogonal_matrix(int64_t n, at::Generator generator);
// The deterministic (non-random) transform matrix M, fp64 [n, n] (QuaRot's exact Hadamard,
// llm-compressor's "hadamard" type for powers of two).
at::Tensor hadamard_matrix(int64_t n);

// A CPU generator in the state torch.manual_seed(seed) leaves the default generator in.
at::Generator seeded_cpu_generator(uint64_t seed);

}  // namespace slmq
