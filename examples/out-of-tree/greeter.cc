// greeter: writes data.greeting = "hello, <name>" into every ConfigMap labelled
// greeter.example.dev/greet=true, and records an Event when it does.
#include <wop/sdk.h>

using namespace wop::sdk;

class Greeter : public Operator {
 public:
  std::vector<Controller> controllers(const Config&) override {
    return {Controller("greeter").For(kinds::ConfigMap, "", "greeter.example.dev/greet=true")};
  }

  Task<Result> reconcile(Context& ctx, const Request& req) override {
    auto found = ctx.client.get(kinds::ConfigMap, req.ns, req.name);
    if (found.failed()) co_return Result::error(found.error());
    if (found.notFound()) co_return Result::done();
    const std::string greeting = "hello, " + req.name;
    if (getString(*found, {"data", "greeting"}) == greeting) co_return Result::done();
    auto patched = co_await ctx.client.patch(*found, {{"data", {{"greeting", greeting}}}});
    if (!patched.ok()) co_return Result::error(patched.errorMessage());
    (void)co_await ctx.client.recordEvent(*found, "Normal", "Greeted", greeting);
    co_return Result::done();
  }
};

WOP_OPERATOR(Greeter)
