#include "wop/testing/fake_host.h"

#include <algorithm>
#include <optional>

#include "api_status.h"
#include "label_selector.h"
#include "wop/object.h"
#include "wop/runtime.h"

namespace wop::testing {

namespace {

std::string field(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool knownVerb(std::string_view verb) {
  for (const char* known :
       {WOP_VERB_GET, WOP_VERB_LIST, WOP_VERB_CREATE, WOP_VERB_UPDATE, WOP_VERB_UPDATE_STATUS,
        WOP_VERB_PATCH, WOP_VERB_APPLY, WOP_VERB_DELETE, WOP_VERB_EVENT}) {
    if (verb == known) return true;
  }
  return false;
}

sdk::Result resultOf(const FakeHost::Done& done) {
  switch (done.outcome) {
    case WOP_RECONCILE_DONE:
      return sdk::Result::done();
    case WOP_RECONCILE_REQUEUE_AFTER:
      return sdk::Result::requeueAfter(done.requeueAfterMs);
    default:
      return sdk::Result::error(done.message, done.requeueAfterMs);
  }
}

// Whether a declared resource ({"apiVersion", "kind", "namespace", "labelSelector"}) holds
// `object`, as the host's watch of it would.
bool holds(const json& resource, const json& object) {
  if (field(resource, "apiVersion") != field(object, "apiVersion") ||
      field(resource, "kind") != field(object, "kind"))
    return false;
  const std::string ns = field(resource, "namespace");
  if (!ns.empty() && ns != sdk::namespaceOf(object)) return false;
  auto selector = detail::LabelSelector::parse(field(resource, "labelSelector"));
  return selector && selector->matches(object);
}

// The key of the object's controller owner, if that owner is of the primary kind.
std::optional<std::string> ownerKey(const json& object, const json& primary) {
  auto owner = sdk::controllerOf(object);
  if (!owner || field(*owner, "kind") != field(primary, "kind")) return std::nullopt;
  const std::string ns = sdk::namespaceOf(object);
  return (ns.empty() ? "" : ns + "/") + field(*owner, "name");
}

}  // namespace

FakeHost::FakeHost() : previousHost_(sdk::detail::host()) { sdk::detail::setHost(this); }

FakeHost::~FakeHost() {
  runtime_.reset();
  sdk::detail::setHost(previousHost_);
}

// ---------------------------------------------------------------- driving an operator

bool FakeHost::bind(sdk::Operator& op) {
  if (operator_ == &op && runtime_) return true;
  queue_.clear();
  declarations_.clear();
  runtime_ = std::make_unique<sdk::detail::Runtime>(*this);
  operator_ = &op;
  const int32_t status = runtime_->init(op);
  if (status == WOP_OK) return true;
  runtime_.reset();
  operator_ = nullptr;
  logs_.push_back({WOP_LOG_ERROR,
                   std::string("fake host: wop_init failed: ") + sdk::detail::statusName(status)});
  return false;
}

sdk::Result FakeHost::reconcile(sdk::Operator& op, std::string_view key,
                                std::string_view controller) {
  if (!bind(op)) return sdk::Result::error("fake host: the operator's wop_init failed");
  uint32_t controllerId = 0;
  if (!controller.empty()) {
    auto named = std::find_if(declarations_.begin(), declarations_.end(),
                              [&](const json& d) { return field(d, "name") == controller; });
    if (named == declarations_.end())
      return sdk::Result::error("fake host: no controller named " + std::string(controller));
    controllerId = static_cast<uint32_t>(named - declarations_.begin());
  } else if (declarations_.empty()) {
    return sdk::Result::error("fake host: the operator declared no controller");
  }
  const uint32_t id = nextReconcileId_++;
  runtime_->reconcile(id, controllerId, key);
  while (true) {
    auto finished = std::find_if(done_.rbegin(), done_.rend(),
                                 [&](const Done& done) { return done.reconcileId == id; });
    if (finished != done_.rend()) return resultOf(*finished);
    if (queue_.empty()) break;
    Queued next = queue_.front();
    queue_.erase(queue_.begin());
    if (next.http) {
      const sdk::HttpResponse response = httpHandler_(httpRequests_[next.call]);
      runtime_->complete(static_cast<uint32_t>(next.token), response.status,
                         response.toCompletionBody());
      continue;
    }
    auto& call = calls_[next.call];
    sdk::Response response = next.preset ? *next.preset : answer(call.request);
    call.status = response.status;
    call.body = response.body;
    runtime_->complete(static_cast<uint32_t>(next.token), response.status, response.body);
  }
  return sdk::Result::error("fake host: the reconcile of " + std::string(key) +
                            " awaits an answer that never comes");
}

std::vector<Enqueued> FakeHost::keysFor(sdk::Operator& op, const json& object) {
  std::vector<Enqueued> out;
  if (!bind(op)) return out;
  const std::string dumped = object.dump();
  for (size_t c = 0; c < declarations_.size(); ++c) {
    const json& declaration = declarations_[c];
    const json primary = declaration.value("for", json::object());
    std::vector<std::string> keys;
    if (holds(primary, object)) keys.push_back(sdk::keyOf(object));
    for (const auto& owned : declaration.value("owns", json::array())) {
      if (!holds(owned, object)) continue;
      if (auto key = ownerKey(object, primary)) keys.push_back(*key);
    }
    const json watches = declaration.value("watches", json::array());
    for (size_t w = 0; w < watches.size(); ++w) {
      if (!holds(watches[w], object)) continue;
      const std::string mapTo = field(watches[w], "mapTo");
      if (mapTo == WOP_MAP_TO_SELF) {
        keys.push_back(sdk::keyOf(object));
      } else if (mapTo == WOP_MAP_TO_OWNER) {
        if (auto key = ownerKey(object, primary)) keys.push_back(*key);
      } else if (mapTo == WOP_MAP_TO_FUNCTION) {
        const size_t before = emitted_.size();
        runtime_->map(static_cast<uint32_t>(c), static_cast<uint32_t>(w), dumped);
        keys.insert(keys.end(), emitted_.begin() + static_cast<std::ptrdiff_t>(before),
                    emitted_.end());
      }
    }
    for (auto& key : keys) {
      Enqueued entry{field(declaration, "name"), std::move(key)};
      if (std::find(out.begin(), out.end(), entry) == out.end()) out.push_back(std::move(entry));
    }
  }
  return out;
}

// ---------------------------------------------------------------- failures and records

void FakeHost::failReads(Match match, int32_t wopStatus, int times) {
  readFailures_.push_back({std::move(match), wopStatus, times});
}

void FakeHost::failCalls(Match match, int32_t status, int times) {
  callFailures_.push_back({std::move(match), status, times});
}

void FakeHost::clearFailures() {
  readFailures_.clear();
  callFailures_.clear();
}

bool FakeHost::matches(const Match& match, const json& request, std::string_view verb) {
  auto fits = [](const std::string& wanted, const std::string& have) {
    return wanted.empty() || wanted == have;
  };
  return fits(match.verb, std::string(verb)) && fits(match.kind, field(request, "kind")) &&
         fits(match.ns, field(request, "namespace")) && fits(match.name, field(request, "name"));
}

std::optional<int32_t> FakeHost::takeRule(std::vector<Rule>& rules, const json& request,
                                          std::string_view verb) {
  for (auto it = rules.begin(); it != rules.end(); ++it) {
    if (!matches(it->match, request, verb)) continue;
    const int32_t status = it->status;
    if (it->times != kAlways && --it->times <= 0) rules.erase(it);
    return status;
  }
  return std::nullopt;
}

std::vector<RecordedCall> FakeHost::calls(std::string_view verb) const {
  std::vector<RecordedCall> out;
  for (const auto& call : calls_)
    if (field(call.request, "verb") == verb) out.push_back(call);
  return out;
}

void FakeHost::clearRecords() {
  calls_.clear();
  queue_.clear();
  events_.clear();
  logs_.clear();
  cacheReads_.clear();
  done_.clear();
  emitted_.clear();
  httpRequests_.clear();
}

// ---------------------------------------------------------------- sdk::detail::Host

void FakeHost::log(int32_t level, std::string_view message) {
  logs_.push_back({level, std::string(message)});
}

int32_t FakeHost::configGet(std::string* out) {
  *out = config_.dump();
  return WOP_OK;
}

int32_t FakeHost::declare(std::string_view declaration) {
  auto parsed = json::parse(declaration, nullptr, false);
  if (!parsed.is_object()) return WOP_ERR_INVALID_ARGUMENT;
  declarations_.push_back(std::move(parsed));
  if (declareStatus_ < 0) return declareStatus_;
  return static_cast<int32_t>(declarations_.size() - 1);
}

int32_t FakeHost::cacheRead(std::string_view request, std::string* out) {
  auto parsed = json::parse(request, nullptr, false);
  if (!parsed.is_object()) return WOP_ERR_INVALID_ARGUMENT;
  cacheReads_.push_back(parsed);
  const char* verb = parsed.contains("name") ? WOP_VERB_GET : WOP_VERB_LIST;
  if (auto failure = takeRule(readFailures_, parsed, verb)) return *failure;
  return readCache(parsed, out);
}

int32_t FakeHost::apiCall(std::string_view request) {
  auto parsed = json::parse(request, nullptr, false);
  if (!parsed.is_object() || !knownVerb(field(parsed, "verb"))) return WOP_ERR_INVALID_ARGUMENT;
  calls_.push_back({parsed, 0, ""});
  auto refuse = [&](int32_t status) {
    calls_.back().status = status;
    return status;
  };
  if (queue_.size() >= WOP_MAX_PENDING_CALLS) return refuse(WOP_ERR_LIMIT);
  std::optional<sdk::Response> preset;
  if (auto failure = takeRule(callFailures_, parsed, field(parsed, "verb"))) {
    if (*failure < 0) return refuse(*failure);
    preset = detail::statusResponse(*failure, "injected failure (wop::testing)",
                                    field(parsed, "kind"), field(parsed, "name"));
  }
  const int32_t token = nextToken_++;
  queue_.push_back({token, calls_.size() - 1, std::move(preset)});
  return token;
}

int32_t FakeHost::httpCall(std::string_view request) {
  auto parsed = sdk::HttpRequest::fromJson(request);
  if (!parsed) return WOP_ERR_INVALID_ARGUMENT;
  httpRequests_.push_back(std::move(*parsed));
  if (!httpHandler_) {
    log(WOP_LOG_WARN,
        "fake host: no HTTP handler (FakeHost::serveHttp): refused as a host not "
        "in spec.allowedHosts");
    return WOP_ERR_FORBIDDEN;
  }
  const auto inFlight =
      std::count_if(queue_.begin(), queue_.end(), [](const Queued& queued) { return queued.http; });
  if (static_cast<size_t>(inFlight) >= WOP_MAX_PENDING_HTTP_CALLS) return WOP_ERR_LIMIT;
  const int32_t token = nextToken_++;
  queue_.push_back({token, httpRequests_.size() - 1, std::nullopt, /*http=*/true});
  return token;
}

int32_t FakeHost::reconcileDone(uint32_t reconcileId, int32_t outcome, int64_t requeueAfterMs,
                                std::string_view message) {
  done_.push_back({reconcileId, outcome, requeueAfterMs, std::string(message)});
  return WOP_OK;
}

int32_t FakeHost::emitKey(std::string_view key) {
  emitted_.emplace_back(key);
  return WOP_OK;
}

// ---------------------------------------------------------------- serving

sdk::Response FakeHost::answer(const json& request) {
  if (field(request, "verb") != WOP_VERB_EVENT) return cluster_.serve(request);
  const json body = request.value("body", json::object());
  RecordedEvent event{field(request, "namespace"), body.value("involvedObject", json::object()),
                      field(body, "type"), field(body, "reason"), field(body, "message")};
  // As client-go's recorder: Events about cluster-scoped objects go to "default".
  if (event.ns.empty()) event.ns = "default";
  json stored = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata",
       {{"namespace", event.ns}, {"name", "event-" + std::to_string(events_.size() + 1)}}},
      {"involvedObject", event.involvedObject},
      {"type", event.type},
      {"reason", event.reason},
      {"message", event.message}};
  events_.push_back(std::move(event));
  return {201, stored.dump()};
}

namespace {

// Whether the object's values of a declared index (its extractor: a JSON pointer to a string or
// an array of strings, a label or an annotation) include value.
bool indexHolds(const json& index, const json& object, const std::string& value) {
  std::vector<std::string> values;
  auto add = [&](const json& v) {
    if (v.is_string()) values.push_back(v.get<std::string>());
  };
  const json metadata = object.value("metadata", json::object());
  if (index.contains(WOP_INDEX_FROM_LABEL)) {
    add(metadata.value("labels", json::object()).value(field(index, WOP_INDEX_FROM_LABEL), json()));
  } else if (index.contains(WOP_INDEX_FROM_ANNOTATION)) {
    add(metadata.value("annotations", json::object())
            .value(field(index, WOP_INDEX_FROM_ANNOTATION), json()));
  } else if (index.contains(WOP_INDEX_FROM_JSON_POINTER)) {
    try {
      const json& at = object.at(json::json_pointer(field(index, WOP_INDEX_FROM_JSON_POINTER)));
      if (at.is_array()) {
        for (const auto& element : at) add(element);
      } else {
        add(at);
      }
    } catch (const json::exception&) {
      // no such field: the object has no value for this index
    }
  }
  return std::find(values.begin(), values.end(), value) != values.end();
}

}  // namespace

int32_t FakeHost::readCache(const json& request, std::string* out) {
  const std::string apiVersion = field(request, "apiVersion");
  const std::string kind = field(request, "kind");
  const std::string ns = field(request, "namespace");
  // The declared resources that hold this kind in this namespace. Before any declaration
  // (tests of the SDK itself, driving a Runtime by hand) every kind is served.
  std::vector<const json*> watches;
  for (const auto& declaration : declarations_) {
    std::vector<const json*> resources;
    if (auto primary = declaration.find("for"); primary != declaration.end())
      resources.push_back(&*primary);
    for (const char* list : {"owns", "watches"}) {
      auto entries = declaration.find(list);
      if (entries == declaration.end() || !entries->is_array()) continue;
      for (const auto& resource : *entries) resources.push_back(&resource);
    }
    for (const json* resource : resources) {
      const std::string declaredNs = field(*resource, "namespace");
      if (field(*resource, "apiVersion") == apiVersion && field(*resource, "kind") == kind &&
          (declaredNs.empty() || declaredNs == ns))
        watches.push_back(resource);
    }
  }
  auto forbidden = [&](const std::string& why) {
    logs_.push_back({WOP_LOG_WARN, "fake host: cache read refused: " + why});
    return WOP_ERR_FORBIDDEN;
  };
  const bool declared = !declarations_.empty();
  if (declared && watches.empty()) {
    return forbidden(apiVersion + " " + kind + (ns.empty() ? "" : " in " + ns) +
                     " is not declared by this operator, so it is not cached for it");
  }
  if (request.contains("name")) {
    const json* object = cluster_.find({apiVersion, kind}, ns, field(request, "name"));
    if (object == nullptr) return WOP_ERR_NOT_FOUND;
    if (declared && std::none_of(watches.begin(), watches.end(),
                                 [&](const json* w) { return holds(*w, *object); }))
      return WOP_ERR_NOT_FOUND;  // not selected by any watch: not in the cache
    *out = object->dump();
    return WOP_OK;
  }
  // A read by field index (controller-runtime's MatchingFields): the declared index of that
  // name on this kind, evaluated on each object as the host's informer does.
  const json* index = nullptr;
  if (request.contains("index")) {
    for (const auto& declaration : declarations_) {
      auto indexes = declaration.find("indexes");
      if (indexes == declaration.end() || !indexes->is_array()) continue;
      for (const auto& candidate : *indexes) {
        if (field(candidate, "apiVersion") == apiVersion && field(candidate, "kind") == kind &&
            field(candidate, "name") == field(request, "index"))
          index = &candidate;
      }
    }
    if (index == nullptr) {
      logs_.push_back({WOP_LOG_WARN, "fake host: no index " + field(request, "index") + " of " +
                                         kind + " is declared"});
      return WOP_ERR_INVALID_ARGUMENT;
    }
  }
  std::string selectorText = field(request, "labelSelector");
  // As in the host, an index on a label counts as that label's selector for the coverage check.
  std::string coverageText = selectorText;
  if (index != nullptr && index->contains(WOP_INDEX_FROM_LABEL))
    coverageText += (coverageText.empty() ? "" : ",") + field(*index, WOP_INDEX_FROM_LABEL);
  auto selector = detail::LabelSelector::parse(coverageText);
  if (!selector) return WOP_ERR_INVALID_ARGUMENT;
  const bool covered = std::any_of(watches.begin(), watches.end(), [&](const json* w) {
    auto broader = detail::LabelSelector::parse(field(*w, "labelSelector"));
    return broader && selector->within(*broader);
  });
  if (declared && !covered)
    return forbidden("no declared watch of " + kind + " covers the selector \"" + selectorText +
                     "\"");
  json items = json::array();
  for (auto& item : cluster_.list({apiVersion, kind}, ns, selectorText)) {
    if (index != nullptr && !indexHolds(*index, item, field(request, "value"))) continue;
    items.push_back(std::move(item));
  }
  *out = json{{"items", std::move(items)}}.dump();
  return WOP_OK;
}

}  // namespace wop::testing
