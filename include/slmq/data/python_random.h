#pragma once
// CPython's `random.Random`, bit for bit: the MT19937 generator seeded the way `random.seed(int)`
// seeds it (init_by_array over the 32-bit words of |seed|), and the sampling routines lm-eval's
// few-shot sampler relies on (`getrandbits`, `_randbelow`, `random`, `sample`, `shuffle`) as
// CPython 3.8-3.12 implements them. std::mt19937 seeds differently and cannot be used.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace slmq::data {

class PyRandom {
 public:
  // random.Random(seed); negative seeds use |seed| like CPython.
  explicit PyRandom(int64_t seed);
  // A seed given as its absolute value in little-endian 32-bit words (Python ints beyond int64).
  explicit PyRandom(const std::vector<uint32_t>& abs_seed_words);

  uint32_t genrand_uint32();
  // random.getrandbits(k) for 0 <= k <= 64; throws InternalError beyond that.
  uint64_t getrandbits(int k);
  // random._randbelow(n): uniform in [0, n) by rejection; 0 when n == 0.
  uint64_t randbelow(uint64_t n);
  // random.random(): 53-bit double in [0, 1).
  double random();
  // Indices of random.sample(population, k) for a population of size n, in the order returned.
  // Throws InternalError when k > n (Python raises ValueError).
  std::vector<size_t> sample_indices(size_t n, size_t k);
  // random.shuffle(x) applied to any vector.
  template <typename T>
  void shuffle(std::vector<T>& x) {
    for (size_t i = x.size(); i-- > 1;) {
      size_t j = static_cast<size_t>(randbelow(i + 1));
      std::swap(x[i], x[j]);
    }
  }

 private:
  void init_genrand(uint32_t s);
  void init_by_array(const std::vector<uint32_t>& key);
  static constexpr int kN = 624;
  std::array<uint32_t, kN> mt_{};
  int mti_ = kN + 1;
};

}  // namespace slmq::data
