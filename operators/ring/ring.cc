// ring: the ring benchmark's operator (DESIGN.md). It watches TestResources in its input
// namespace and carries each one's spec.nonce to the same-named TestResource in its output
// namespace, creating it if missing and raising its nonce if lower; never lowering it.
// Config: {"inputNamespace": "ring-0", "outputNamespace": "ring-1"}.
#include <wop/sdk.h>

using namespace wop::sdk;

// The TestResource CRD (bench/ring), typed: fields of the spec it does not name are kept.
struct TestSpec {
  int64_t nonce = 0;
  json unknownFields;
};
WOP_JSON_FIELDS(TestSpec, nonce)

struct TestResource : CustomResource<TestSpec> {
  static constexpr Kind kKind{"bench.wasm-operator.dev/v1", "TestResource"};
};

int64_t nonceOf(const TestResource& resource) { return resource.spec ? resource.spec->nonce : 0; }

class Ring : public Operator {
 public:
  std::vector<Controller> controllers(const Config& config) override {
    input_ = config.string("inputNamespace", "ring-0");
    output_ = config.string("outputNamespace", "ring-1");
    return {Controller("ring")
                .For(TestResource::kKind, input_)
                // Only so the output namespace is cached for reads: never wakes us.
                .Watches(TestResource::kKind, output_, "", MapTo::None)};
  }

  Task<Result> reconcile(Context& ctx, const Request& req) override {
    WOP_CO_TRY(auto source, ctx.client.get<TestResource>(req.ns, req.name));
    if (source.notFound()) co_return Result::done();  // deleted: nonces only go forward
    const int64_t nonce = nonceOf(*source);

    WOP_CO_TRY(auto target, ctx.client.get<TestResource>(output_, req.name));
    Response response;
    if (target.notFound()) {
      TestResource created;
      created.metadata.namespace_ = output_;
      created.metadata.name = req.name;
      created.spec.emplace().nonce = nonce;
      response = co_await ctx.client.create(toJson(created));
    } else if (nonceOf(*target) < nonce) {
      // Guarded by resourceVersion: if someone raced us, retry from fresh state.
      const std::string version = target->metadata.resourceVersion.value_or("");
      json patch = {{"metadata", {{"resourceVersion", version}}}, {"spec", {{"nonce", nonce}}}};
      response = co_await ctx.client.patch(TestResource::kKind, output_, req.name, patch);
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
