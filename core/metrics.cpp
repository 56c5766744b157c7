#include "core/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <mutex>
#include <sstream>
#include <unordered_map>

namespace sluice {
namespace {

const prometheus::Histogram::BucketBoundaries kLatencyBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};

}  // namespace

struct Metrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& admissions =
      prometheus::BuildCounter()
          .Name("sluice_admissions_total")
          .Help("Submissions durably admitted, by kind")
          .Register(*registry);
  prometheus::Counter& admissions_direct = admissions.Add({{"kind", "direct"}});
  prometheus::Counter& admissions_dispatch = admissions.Add({{"kind", "dispatch"}});
  prometheus::Family<prometheus::Counter>& settlements =
      prometheus::BuildCounter()
          .Name("sluice_settlements_total")
          .Help("Submissions settled, by outcome")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& rejections =
      prometheus::BuildCounter()
          .Name("sluice_rejections_total")
          .Help("Inputs refused before admission, by error type")
          .Register(*registry);
  prometheus::Gauge& queue_depth = prometheus::BuildGauge()
                                       .Name("sluice_queue_depth")
                                       .Help("Queued and running submissions on this node")
                                       .Register(*registry)
                                       .Add({});
  prometheus::Gauge& live_sessions = prometheus::BuildGauge()
                                         .Name("sluice_live_sessions")
                                         .Help("Session actors currently in memory")
                                         .Register(*registry)
                                         .Add({});
  prometheus::Histogram& admission_latency = prometheus::BuildHistogram()
                                                 .Name("sluice_admission_latency_seconds")
                                                 .Help("From request received to durable admission")
                                                 .Register(*registry)
                                                 .Add({}, kLatencyBuckets);
  prometheus::Histogram& settle_latency = prometheus::BuildHistogram()
                                              .Name("sluice_submission_latency_seconds")
                                              .Help("From admission to settlement")
                                              .Register(*registry)
                                              .Add({}, kLatencyBuckets);
  prometheus::Histogram& turn_latency = prometheus::BuildHistogram()
                                            .Name("sluice_turn_latency_seconds")
                                            .Help("Duration of one model turn")
                                            .Register(*registry)
                                            .Add({}, kLatencyBuckets);

  // Family::Add takes a lock; cache the labelled children we hand out.
  std::mutex labelled_mutex;
  std::unordered_map<std::string, prometheus::Counter*> settled_by_outcome;
  std::unordered_map<std::string, prometheus::Counter*> rejected_by_type;

  prometheus::Counter& labelled(std::unordered_map<std::string, prometheus::Counter*>& cache,
                                prometheus::Family<prometheus::Counter>& family, const char* label,
                                const std::string& value) {
    std::lock_guard lock(labelled_mutex);
    auto [it, inserted] = cache.try_emplace(value, nullptr);
    if (inserted) it->second = &family.Add({{label, value}});
    return *it->second;
  }
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::admitted(bool dispatch, double admission_seconds) {
  (dispatch ? impl_->admissions_dispatch : impl_->admissions_direct).Increment();
  impl_->admission_latency.Observe(admission_seconds);
  unsettled_.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::settled(const std::string& outcome, double queued_to_settled_seconds) {
  impl_->labelled(impl_->settled_by_outcome, impl_->settlements, "outcome", outcome).Increment();
  impl_->settle_latency.Observe(queued_to_settled_seconds);
  unsettled_.fetch_sub(1, std::memory_order_relaxed);
}

void Metrics::rejected(const std::string& error_type) {
  impl_->labelled(impl_->rejected_by_type, impl_->rejections, "type", error_type).Increment();
}

void Metrics::turn_finished(double seconds) {
  impl_->turn_latency.Observe(seconds);
}

namespace {
void change(prometheus::Gauge& gauge, int64_t delta) {
  if (delta >= 0) {
    gauge.Increment(static_cast<double>(delta));
  } else {
    gauge.Decrement(static_cast<double>(-delta));
  }
}
}  // namespace

void Metrics::queue_depth_add(int64_t delta) {
  change(impl_->queue_depth, delta);
}

void Metrics::live_sessions_add(int64_t delta) {
  change(impl_->live_sessions, delta);
}

std::string Metrics::render() const {
  std::ostringstream out;
  prometheus::TextSerializer{}.Serialize(out, impl_->registry->Collect());
  return out.str();
}

}  // namespace sluice
