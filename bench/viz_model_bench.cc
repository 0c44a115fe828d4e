// tornado-viz model: how fast it ingests events (the app must keep up with a
// live program while drawing) and how long a seek takes in a long recording.
//   build/release/bench/viz_model_bench
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "../visualizer/tests/synthetic.h"
#include "model/model.h"

namespace {

using tornado::viz::Model;

const std::vector<tornado::trace::Event>& events(std::size_t count) {
  static std::vector<tornado::trace::Event> cache;
  if (cache.size() < count) {
    cache.clear();
    tornado::viz::testing::Synthetic().generate(cache, count);
  }
  return cache;
}

// Events per second into a fresh model, keyframes included.
void BM_Ingest(benchmark::State& state) {
  const auto& all = events(1'000'000);
  for (auto _ : state) {
    Model model;
    model.add_events(all);
    benchmark::DoNotOptimize(model.end());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(all.size()));
}
BENCHMARK(BM_Ingest)->Unit(benchmark::kMillisecond);

Model& ten_million() {
  static Model* model = [] {
    auto* m = new Model;
    m->add_events(events(10'000'000));
    return m;
  }();
  return *model;
}

// A random seek in a 10-million-event recording: copy the nearest keyframe
// and replay up to a keyframe interval of events.
void BM_SeekIn10M(benchmark::State& state) {
  Model& model = ten_million();
  std::mt19937_64 random(42);
  for (auto _ : state) {
    model.seek(random() % model.end());
    benchmark::DoNotOptimize(model.state().index);
  }
}
BENCHMARK(BM_SeekIn10M)->Unit(benchmark::kMillisecond);

// The worst seek: just before a keyframe, from far away, so the whole
// interval is replayed.
void BM_WorstSeekIn10M(benchmark::State& state) {
  Model& model = ten_million();
  const std::uint64_t interval = tornado::viz::Options{}.keyframe_interval;
  std::uint64_t k = 1;
  for (auto _ : state) {
    k = (k * 7919) % (model.end() / interval - 1) + 1;
    model.seek(k * interval - 1);
    benchmark::DoNotOptimize(model.state().index);
  }
}
BENCHMARK(BM_WorstSeekIn10M)->Unit(benchmark::kMillisecond);

}  // namespace
