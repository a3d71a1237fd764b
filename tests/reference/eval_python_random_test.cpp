// PyRandom against CPython's `random` (vectors from scripts/reference/gen_lm_eval_requests.py):
// seeding, raw outputs, getrandbits, random(), sample (pool and set methods) and shuffle.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "slmq/data/python_random.h"
#include "support/temp_dir.h"

namespace slmq::eval {
namespace {

using nlohmann::json;

json vectors() {
  std::ifstream in(test::reference_dir("lm_eval_requests") / "python_random.json");
  return json::parse(in);
}

// Python ints beyond int64 (2**63-1 fits; negative seeds use |seed|) arrive as JSON numbers.
data::PyRandom make(const json& seed) {
  if (seed.is_number_unsigned()) {
    const uint64_t s = seed.get<uint64_t>();
    return data::PyRandom(
        std::vector<uint32_t>{static_cast<uint32_t>(s), static_cast<uint32_t>(s >> 32)});
  }
  return data::PyRandom(seed.get<int64_t>());
}

TEST(EvalPythonRandom, MatchesCPythonForEverySeed) {
  const json all = vectors();
  ASSERT_GE(all.size(), 5u);
  for (const auto& v : all) {
    SCOPED_TRACE("seed " + v["seed"].dump());
    {
      data::PyRandom r = make(v["seed"]);
      for (const auto& want : v["uint32"]) EXPECT_EQ(r.genrand_uint32(), want.get<uint32_t>());
    }
    {
      data::PyRandom r = make(v["seed"]);
      for (const auto& kv : v["getrandbits"])
        EXPECT_EQ(r.getrandbits(kv[0].get<int>()), kv[1].get<uint64_t>());
    }
    {
      data::PyRandom r = make(v["seed"]);
      for (const auto& want : v["random"]) EXPECT_EQ(r.random(), want.get<double>());
    }
    {
      data::PyRandom r = make(v["seed"]);
      for (const auto& s : v["sample"]) {
        const auto got = r.sample_indices(s[0].get<size_t>(), s[1].get<size_t>());
        EXPECT_EQ(got, s[2].get<std::vector<size_t>>()) << "n=" << s[0] << " k=" << s[1];
      }
    }
    {
      data::PyRandom r = make(v["seed"]);
      for (const auto& want : v["shuffle"]) {
        std::vector<size_t> x(want.size());
        std::iota(x.begin(), x.end(), 0);
        r.shuffle(x);
        EXPECT_EQ(x, want.get<std::vector<size_t>>());
      }
    }
  }
}

TEST(EvalPythonRandom, SampleLargerThanPopulationThrows) {
  data::PyRandom r(1);
  EXPECT_ANY_THROW(r.sample_indices(3, 4));
}

}  // namespace
}  // namespace slmq::eval
