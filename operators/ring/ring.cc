// ring: the ring benchmark's operator (DESIGN.md). It watches TestResources in its input
// namespace and carries each one's spec.nonce to the same-named TestResource in its output
// namespace, creating it if missing and raising its nonce if lower; never lowering it.
// Config: {"inputNamespace": "ring-0", "outputNamespace": "ring-1"}.
#include <wop/sdk.h>

using namespace wop::sdk;

constexpr Kind kTestResource{"bench.wasm-operator.dev/v1", "TestResource"};

class Ring : public Operator {
 public:
  std::vector<Controller> controllers(const Config& config) override {
    input_ = config.string("inputNamespace", "ring-0");
    output_ = config.string("outputNamespace", "ring-1");
    return {Controller("ring")
                .For(kTestResource, input_)
                // Only so the output namespace is cached for reads: never wakes us.
                .Watches(kTestResource, output_, "", MapTo::None)};
  }

  Task<Result> reconcile(Context& ctx, const Request& req) override {
    auto source = ctx.client.get(kTestResource, req.ns, req.name);
    if (source.failed()) co_return Result::error(source.error());
    if (source.notFound()) co_return Result::done();  // deleted: nonces only go forward
    int64_t nonce = getInt(*source, {"spec", "nonce"}).value_or(0);

    auto target = ctx.client.get(kTestResource, output_, req.name);
    if (target.failed()) co_return Result::error(target.error());
    Response response;
    if (target.notFound()) {
      response = co_await ctx.client.create({
          {"apiVersion", kTestResource.apiVersion},
          {"kind", kTestResource.kind},
          {"metadata", {{"namespace", output_}, {"name", req.name}}},
          {"spec", {{"nonce", nonce}}},
      });
    } else if (getInt(*target, {"spec", "nonce"}).value_or(0) < nonce) {
      // Guarded by resourceVersion: if someone raced us, retry from fresh state.
      response = co_await ctx.client.patch(
          *target, {{"metadata", {{"resourceVersion", resourceVersionOf(*target)}}},
                    {"spec", {{"nonce", nonce}}}});
    } else {
      co_return Result::done();  // already as high
    }
    if (!response.ok()) co_return Result::error(response.errorMessage());
    log::debug("%s/%s: nonce %lld", output_.c_str(), req.name.c_str(),
               static_cast<long long>(nonce));
    co_return Result::done();
  }

 private:
  std::string input_;
  std::string output_;
};

WOP_OPERATOR(Ring)
