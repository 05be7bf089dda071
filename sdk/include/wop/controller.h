// Controller: the declaration of one controller (what it reconciles and what wakes it), as a
// builder in the style of controller-runtime:
//
//   Controller("replicator")
//       .For(kinds::ConfigMap, "", "replicator.wasm-operator.dev/replicate=true")
//       .Watches(kinds::ConfigMap, "", "replicator.wasm-operator.dev/source", sourceOfCopy)
//       .maxConcurrentReconciles(2);
//
// The host does the watching and filtering (DESIGN.md); the declaration is sent once, as JSON,
// through wop_declare in wop_init. Only watches mapped by a function run guest code per event.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "wop/field_index.h"
#include "wop/kind.h"

namespace wop::sdk {

class Client;
class Config;
class Controller;
class Reconciler;

enum class Predicate { GenerationChanged, LabelsChanged, AnnotationsChanged };

// Where an event on a watched object leads: the object's own key, its controller owner's key,
// the keys a mapper function returns (run in the guest, through wop_map), or nowhere: None
// caches the kind for Client reads only (wop_abi.h: WOP_MAP_TO_*).
enum class MapTo { Self, Owner, Function, None };

// Maps a changed object to the keys ("namespace/name") to reconcile.
using Mapper = std::function<std::vector<std::string>(const nlohmann::json& object)>;

// What a mapper that reads the cache may use: the client's cache reads (get, list,
// listByIndex; a mapper cannot await, so no API calls), the config, its controller. Lives for
// one call of the mapper.
struct MapContext {
  const Client& client;
  const Config& config;
  const Controller& controller;
};
// A mapper that reads the cache, e.g. "the consumers of this source" by a field index:
//   [](MapContext& ctx, const json& source) -> std::vector<std::string> {
//     auto consumers = ctx.client.listByIndex(Consumer, "", "spec.sourceRef", keyOf(source));
//     ...return their keys (a failed read: log it and return {}; nothing is queued)
//   }
using ContextMapper =
    std::function<std::vector<std::string>(MapContext& ctx, const nlohmann::json& object)>;

struct WatchedResource {
  std::string apiVersion;
  std::string kind;
  std::string ns;  // "" = all namespaces
  std::string labelSelector;
};

class Controller {
 public:
  explicit Controller(std::string name) : name_(std::move(name)) {}

  // The primary resource: its events lead to its own key.
  Controller& For(Kind kind, std::string ns = "", std::string labelSelector = "",
                  std::vector<Predicate> predicates = {});
  // Objects this controller creates, with a controller ownerReference back to the primary.
  Controller& Owns(Kind kind, std::string ns = "", std::string labelSelector = "");
  // Any other resource; MapTo::Function needs the mapper overload (with MapTo::Function here
  // the watch maps to nothing and its events are logged as errors). MapTo::None: read-only.
  Controller& Watches(Kind kind, std::string ns, std::string labelSelector, MapTo mapTo);
  Controller& Watches(Kind kind, std::string ns, std::string labelSelector, Mapper mapper);
  Controller& Watches(Kind kind, std::string ns, std::string labelSelector, ContextMapper mapper);
  // A field index on `kind`, which this controller must watch (For, Owns or Watches), read with
  // Client::listByIndex(kind, ns, name, value) in reconciles and mappers. One index serves every
  // watch of that kind in the operator; one name means one extractor (wop_abi.h).
  Controller& IndexField(Kind kind, std::string name, IndexExtractor extractor);
  Controller& maxConcurrentReconciles(int count);
  Controller& resyncSeconds(int64_t seconds);
  // Reconcile with another Reconciler than the operator itself (which must outlive the
  // operator: in practice a member of it).
  Controller& reconcileWith(Reconciler& reconciler);

  const std::string& name() const { return name_; }
  const WatchedResource& forResource() const { return for_; }
  Reconciler* reconciler() const { return reconciler_; }
  // The mapper of the watch declared watchIndex-th among the Watches (counted from 0, in
  // declaration order; For and Owns not counted: wop_map's watch_index), or null if that
  // watch is not mapped by a function.
  const Mapper* mapper(size_t watchIndex) const;
  // The same for a watch mapped by a ContextMapper, or null.
  const ContextMapper* contextMapper(size_t watchIndex) const;

  // The wop_declare JSON (see wop_abi.h).
  nlohmann::json declaration() const;

 private:
  struct Watch {
    WatchedResource resource;
    MapTo mapTo;
    Mapper mapper;
    ContextMapper contextMapper;
  };
  struct Index {
    WatchedResource resource;  // apiVersion and kind only
    std::string name;
    IndexExtractor extractor;
  };
  std::string name_;
  WatchedResource for_;
  std::vector<Predicate> predicates_;
  std::vector<WatchedResource> owns_;
  std::vector<Watch> watches_;
  std::vector<Index> indexes_;
  int maxConcurrentReconciles_ = 1;
  int64_t resyncSeconds_ = 0;
  Reconciler* reconciler_ = nullptr;
};

}  // namespace wop::sdk
