// counter: a well-behaved guest for the swap tests. It counts its reconciles in a global (the
// operator object), logs "reconcile <n> of <key>", and writes the count into the reconciled
// ConfigMap's annotation counter.wasm-operator.dev/count. So a test can tell whether state
// survived a swap-out and restore: the count goes on from where it was.
// Config: {"namespace": "", "labelSelector": ""} (both optional: all ConfigMaps). Only label
// changes (and creation) trigger a reconcile, so its own annotation write does not loop.
#include <wop/sdk.h>

using namespace wop::sdk;

class Counter : public Operator {
 public:
  std::vector<Controller> controllers(const Config& config) override {
    return {Controller("counter").For(kinds::ConfigMap, config.string("namespace"),
                                      config.string("labelSelector"), {Predicate::LabelsChanged})};
  }

  Task<Result> reconcile(Context& ctx, const Request& req) override {
    ++count_;
    log::info("reconcile %lld of %s", static_cast<long long>(count_), req.key().c_str());
    auto response = co_await ctx.client.patch(
        kinds::ConfigMap, req.ns, req.name,
        {{"metadata",
          {{"annotations", {{"counter.wasm-operator.dev/count", std::to_string(count_)}}}}}});
    if (response.notFound()) co_return Result::done();
    if (!response.ok()) co_return Result::error(response.errorMessage());
    co_return Result::done();
  }

 private:
  int64_t count_ = 0;
};

WOP_OPERATOR(Counter)
