// select() throughput on the peers' tag lists (tests/harness/gen-tags.sh), without process
// start-up.
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "common/policy/policy.hpp"

namespace {

struct TagList {
  std::string text; // owns the bytes the tags borrow
  std::vector<common::policy::Tag> tags;
};

std::unique_ptr<TagList> generate(int n) {
  auto list = std::make_unique<TagList>();
  std::string cmd =
      std::string(IU_SOURCE_DIR) + "/tests/harness/gen-tags.sh " + std::to_string(n) + " 42";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(cmd.c_str(), "r"), &::pclose);
  if (!pipe) {
    throw std::runtime_error("cannot run " + cmd);
  }
  char buf[4096];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, pipe.get())) > 0) {
    list->text.append(buf, got);
  }
  std::string_view rest = list->text;
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    list->tags.push_back({rest.substr(0, nl), std::nullopt});
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
  }
  return list;
}

void select_semver(benchmark::State& state, const TagList& list, const std::string& constraint) {
  common::policy::Options options;
  options.constraint = constraint;
  auto policy = common::policy::Policy::compile(options);
  if (!policy) {
    state.SkipWithError(policy.error().message.c_str());
    return;
  }
  for (auto _ : state) {
    auto chosen = policy->select(list.tags);
    benchmark::DoNotOptimize(chosen);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(list.tags.size()));
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::unique_ptr<TagList>> lists;
  for (int n : {1000, 10000, 100000}) {
    lists.push_back(generate(n));
    const TagList& list = *lists.back();
    for (std::string c : {"^1.2", ">=1.0 <3.0 || ~5.1", "*"}) {
      std::string name = "select_semver/" + std::to_string(n) + "/" + c;
      benchmark::RegisterBenchmark(name.c_str(),
                                   [&list, c](benchmark::State& s) { select_semver(s, list, c); });
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
