#include "slmq/quant/rotation/hadamard.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include <cmath>
#include <map>
#include <mutex>

#include "slmq/core/error.h"

namespace slmq {
namespace {

bool is_pow2(int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

// Quadratic character of a modulo the prime q: 0, +1 (a nonzero square) or −1.
int chi(int64_t a, int64_t q) {
  a = ((a % q) + q) % q;
  if (a == 0) return 0;
  int64_t r = 1, base = a, e = (q - 1) / 2;
  while (e > 0) {
    if (e & 1) r = r * base % q;
    base = base * base % q;
    e >>= 1;
  }
  return r == 1 ? 1 : -1;
}

// Paley I, q ≡ 3 (mod 4) prime, order q + 1: first row (1, −1, ..., −1), first column ones, core
// I + S with S(i, j) = χ(i − j) — the normalisation of Sloane's had.<K>.pal tables.
at::Tensor paley1(int64_t q) {
  const int64_t k = q + 1;
  at::Tensor h = at::empty({k, k}, at::kDouble);
  auto a = h.accessor<double, 2>();
  for (int64_t j = 0; j < k; ++j) a[0][j] = j == 0 ? 1 : -1;
  for (int64_t i = 0; i < q; ++i) {
    a[i + 1][0] = 1;
    for (int64_t j = 0; j < q; ++j) a[i + 1][j + 1] = i == j ? 1 : chi(i - j, q);
  }
  return h;
}

// Paley II, q ≡ 1 (mod 4) prime, order 2(q + 1): the symmetric conference matrix C (zero corner,
// ones on its border, core χ(j − i)) in the blocks [[C + I, C − I], [C − I, −C − I]].
at::Tensor paley2(int64_t q) {
  const int64_t n = q + 1;
  at::Tensor c = at::zeros({n, n}, at::kDouble);
  auto a = c.accessor<double, 2>();
  for (int64_t i = 1; i < n; ++i) a[0][i] = a[i][0] = 1;
  for (int64_t i = 0; i < q; ++i)
    for (int64_t j = 0; j < q; ++j) a[i + 1][j + 1] = chi(j - i, q);
  const at::Tensor eye = at::eye(n, at::kDouble);
  return at::cat({at::cat({c + eye, c - eye}, 1), at::cat({c - eye, -c - eye}, 1)}, 0);
}

// Circulant matrix whose row i is the symmetric sequence rotated right by i; `half` holds
// entries 0..(n−1)/2 as '+'/'-' (the rest mirror them).
at::Tensor symmetric_circulant(const char* half, int64_t n) {
  std::vector<double> seq(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    const int64_t idx = k <= n / 2 ? k : n - k;
    seq[static_cast<size_t>(k)] = half[idx] == '+' ? 1.0 : -1.0;
  }
  at::Tensor m = at::empty({n, n}, at::kDouble);
  auto a = m.accessor<double, 2>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) a[i][j] = seq[static_cast<size_t>(((j - i) % n + n) % n)];
  return m;
}

// The Williamson array [[A, B, C, D], [−B, A, −D, C], [−C, D, A, −B], [−D, −C, B, A]] of four
// symmetric circulants of order n (K = 4n).
at::Tensor williamson(const char* const half[4], int64_t n) {
  at::Tensor a = symmetric_circulant(half[0], n), b = symmetric_circulant(half[1], n),
             c = symmetric_circulant(half[2], n), d = symmetric_circulant(half[3], n);
  auto row = [](std::initializer_list<at::Tensor> t) { return at::cat(std::vector(t), 1); };
  return at::cat({row({a, b, c, d}), row({-b, a, -d, c}), row({-c, d, a, -b}), row({-d, -c, b, a})},
                 0);
}

// Williamson sequences (first (n+1)/2 entries of A, B, C, D) of the reference tables had52,
// had156 and had172 (Sloane's had.52.will, had.156.will, had.172.will).
constexpr const char* kWill13[4] = {"+-+--++", "+---+++", "++-+--+", "+----+-"};
constexpr const char* kWill39[4] = {"+++--+-+-----+--++--", "++++---+--++----+-+-",
                                    "+++--++-+---+-+--+--", "+---++-+-+-----+++-+"};
constexpr const char* kWill43[4] = {"+---++--++++-+-+++-++-", "++-++++++----+-+--++-+",
                                    "+++-+-++--+-+-++++-+--", "++---++++-+--+--++----"};

at::Tensor build_factor(int64_t k) {
  switch (k) {
    case 12:
    case 20:
    case 44:
    case 60:
    case 108:
    case 140:
      return paley1(k - 1);
    case 28:
    case 36:
      return paley2(k / 2 - 1);
    case 40: {
      const at::Tensor h = paley1(19);
      return at::cat({at::cat({h, h}, 1), at::cat({h, -h}, 1)}, 0);
    }
    case 52:
      return williamson(kWill13, 13);
    case 156:
      return williamson(kWill39, 39);
    case 172:
      return williamson(kWill43, 43);
    default:
      throw InternalError(fmt::format("hadamard_factor: no table for K = {}", k));
  }
}

}  // namespace

const std::vector<int64_t>& hadamard_factor_sizes() {
  static const std::vector<int64_t> sizes = {172, 156, 140, 108, 60, 52, 36, 28, 44, 40, 20, 12};
  return sizes;
}

at::Tensor hadamard_factor(int64_t k) {
  if (k == 1) return at::ones({1, 1}, at::kDouble);
  static std::mutex mutex;
  static std::map<int64_t, at::Tensor> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(k);
  if (it == cache.end()) it = cache.emplace(k, build_factor(k)).first;
  return it->second;
}

std::optional<int64_t> hadamard_factor_of(int64_t n) {
  if (n <= 0) return std::nullopt;
  for (int64_t k : hadamard_factor_sizes()) {
    if (n % k == 0) return is_pow2(n / k) ? std::optional<int64_t>(k) : std::nullopt;
  }
  return is_pow2(n) ? std::optional<int64_t>(1) : std::nullopt;
}

std::optional<std::string> hadamard_unsupported_reason(int64_t n, const std::string& what) {
  if (hadamard_factor_of(n)) return std::nullopt;
  int64_t odd = n, pow2 = 1;
  while (odd > 0 && odd % 2 == 0) {
    odd /= 2;
    pow2 *= 2;
  }
  return fmt::format(
      "{} has size {} = {}·{}, which no Hadamard factor table covers (QuaRot/SpinQuant's "
      "get_hadK has K ∈ {{172, 156, 140, 108, 60, 52, 36, 28, 44, 40, 20, 12}} times a power of "
      "two)",
      what, n, odd, pow2);
}

at::Tensor walsh_hadamard(const at::Tensor& x) {
  const int64_t m = x.size(-1);
  if (!is_pow2(m)) throw InternalError(fmt::format("walsh_hadamard: size {} is not 2^j", m));
  const auto lead = x.sizes().slice(0, x.dim() - 1);
  at::Tensor y = x.reshape({-1, m});
  const int64_t rows = y.size(0);
  for (int64_t h = 1; h < m; h *= 2) {
    at::Tensor v = y.view({rows, m / (2 * h), 2, h});
    at::Tensor a = v.select(2, 0), b = v.select(2, 1);
    y = at::stack({a + b, a - b}, 2).view({rows, m});
  }
  std::vector<int64_t> shape(lead.begin(), lead.end());
  shape.push_back(m);
  return y.view(shape);
}

HadamardTransform::HadamardTransform(int64_t n) : n_(n), k_(1) {
  if (auto reason = hadamard_unsupported_reason(n, "the transform"))
    throw UnsupportedError(*reason);
  k_ = *hadamard_factor_of(n);
  if (k_ > 1) hk_ = hadamard_factor(k_);
}

at::Tensor HadamardTransform::transform(const at::Tensor& x, bool transposed) const {
  if (x.size(-1) != n_)
    throw InternalError(fmt::format("HadamardTransform({}): input has {} columns", n_, x.size(-1)));
  const int64_t m = n_ / k_;
  at::Tensor y = walsh_hadamard(x.reshape({-1, k_, m}));  // X · H_m
  if (k_ > 1) {
    at::Tensor hk = hk_.to(x.device(), x.scalar_type());
    y = at::matmul(transposed ? hk.t() : hk, y);  // H_K · X · H_m
  }
  return (y * (1.0 / std::sqrt(static_cast<double>(n_)))).reshape(x.sizes());
}

at::Tensor HadamardTransform::apply(const at::Tensor& x) const { return transform(x, false); }
at::Tensor HadamardTransform::apply_transposed(const at::Tensor& x) const {
  return transform(x, true);
}

at::Tensor HadamardTransform::matrix() const { return apply(at::eye(n_, at::kDouble)); }

at::Tensor hadamard_matrix(int64_t n) { return HadamardTransform(n).matrix(); }

at::Tensor random_hadamard_matrix(int64_t n, at::Generator generator) {
  at::Tensor s = at::randint(0, 2, {n}, generator).to(at::kDouble) * 2 - 1;
  return hadamard_matrix(n) * s.unsqueeze(1);
}

at::Tensor random_orthogonal_matrix(int64_t n, at::Generator generator) {
  at::Tensor a = at::randn({n, n}, generator, at::TensorOptions().dtype(at::kDouble));
  auto [q, r] = at::linalg_qr(a);
  return q * at::sign(at::diagonal(r)).unsqueeze(0);
}

at::Generator seeded_cpu_generator(uint64_t seed) {
  return at::make_generator<at::CPUGeneratorImpl>(seed);
}

}  // namespace slmq
