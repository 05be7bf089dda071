#include "wop/controller.h"

#include "wop_abi.h"

namespace wop::sdk {

namespace {

using nlohmann::json;

WatchedResource resource(Kind kind, std::string ns, std::string labelSelector) {
  return {std::string(kind.apiVersion), std::string(kind.kind), std::move(ns),
          std::move(labelSelector)};
}

json toJson(const WatchedResource& resource) {
  return {{"apiVersion", resource.apiVersion},
          {"kind", resource.kind},
          {"namespace", resource.ns},
          {"labelSelector", resource.labelSelector}};
}

const char* predicateName(Predicate predicate) {
  switch (predicate) {
    case Predicate::GenerationChanged:
      return WOP_PREDICATE_GENERATION_CHANGED;
    case Predicate::LabelsChanged:
      return WOP_PREDICATE_LABELS_CHANGED;
    case Predicate::AnnotationsChanged:
      return WOP_PREDICATE_ANNOTATIONS_CHANGED;
  }
  return "";
}

const char* mapToName(MapTo mapTo) {
  switch (mapTo) {
    case MapTo::Self:
      return WOP_MAP_TO_SELF;
    case MapTo::Owner:
      return WOP_MAP_TO_OWNER;
    case MapTo::Function:
      return WOP_MAP_TO_FUNCTION;
    case MapTo::None:
      return WOP_MAP_TO_NONE;
  }
  return "";
}

const char* extractorName(IndexExtractor::From from) {
  switch (from) {
    case IndexExtractor::From::JsonPointer:
      return WOP_INDEX_FROM_JSON_POINTER;
    case IndexExtractor::From::Label:
      return WOP_INDEX_FROM_LABEL;
    case IndexExtractor::From::Annotation:
      return WOP_INDEX_FROM_ANNOTATION;
  }
  return "";
}

}  // namespace

Controller& Controller::For(Kind kind, std::string ns, std::string labelSelector,
                            std::vector<Predicate> predicates) {
  for_ = resource(kind, std::move(ns), std::move(labelSelector));
  predicates_ = std::move(predicates);
  return *this;
}

Controller& Controller::Owns(Kind kind, std::string ns, std::string labelSelector) {
  owns_.push_back(resource(kind, std::move(ns), std::move(labelSelector)));
  return *this;
}

Controller& Controller::Watches(Kind kind, std::string ns, std::string labelSelector, MapTo mapTo) {
  watches_.push_back(
      {resource(kind, std::move(ns), std::move(labelSelector)), mapTo, nullptr, nullptr});
  return *this;
}

Controller& Controller::Watches(Kind kind, std::string ns, std::string labelSelector,
                                Mapper mapper) {
  watches_.push_back({resource(kind, std::move(ns), std::move(labelSelector)), MapTo::Function,
                      std::move(mapper), nullptr});
  return *this;
}

Controller& Controller::Watches(Kind kind, std::string ns, std::string labelSelector,
                                ContextMapper mapper) {
  watches_.push_back({resource(kind, std::move(ns), std::move(labelSelector)), MapTo::Function,
                      nullptr, std::move(mapper)});
  return *this;
}

Controller& Controller::IndexField(Kind kind, std::string name, IndexExtractor extractor) {
  indexes_.push_back({resource(kind, "", ""), std::move(name), std::move(extractor)});
  return *this;
}

Controller& Controller::maxConcurrentReconciles(int count) {
  maxConcurrentReconciles_ = count;
  return *this;
}

Controller& Controller::resyncSeconds(int64_t seconds) {
  resyncSeconds_ = seconds;
  return *this;
}

Controller& Controller::reconcileWith(Reconciler& reconciler) {
  reconciler_ = &reconciler;
  return *this;
}

const Mapper* Controller::mapper(size_t watchIndex) const {
  if (watchIndex >= watches_.size()) return nullptr;
  const auto& watch = watches_[watchIndex];
  return watch.mapTo == MapTo::Function && watch.mapper ? &watch.mapper : nullptr;
}

const ContextMapper* Controller::contextMapper(size_t watchIndex) const {
  if (watchIndex >= watches_.size()) return nullptr;
  const auto& watch = watches_[watchIndex];
  return watch.mapTo == MapTo::Function && watch.contextMapper ? &watch.contextMapper : nullptr;
}

json Controller::declaration() const {
  json forJson = toJson(for_);
  forJson["predicates"] = json::array();
  for (auto predicate : predicates_) forJson["predicates"].push_back(predicateName(predicate));
  json owns = json::array();
  for (const auto& owned : owns_) owns.push_back(toJson(owned));
  json watches = json::array();
  for (const auto& watch : watches_) {
    json entry = toJson(watch.resource);
    entry["mapTo"] = mapToName(watch.mapTo);
    watches.push_back(std::move(entry));
  }
  json declaration = {{"name", name_},
                      {"for", std::move(forJson)},
                      {"owns", std::move(owns)},
                      {"watches", std::move(watches)},
                      {"maxConcurrentReconciles", maxConcurrentReconciles_},
                      {"resyncSeconds", resyncSeconds_}};
  if (!indexes_.empty()) {
    json indexes = json::array();
    for (const auto& index : indexes_) {
      indexes.push_back({{"apiVersion", index.resource.apiVersion},
                         {"kind", index.resource.kind},
                         {"name", index.name},
                         {extractorName(index.extractor.from), index.extractor.argument}});
    }
    declaration["indexes"] = std::move(indexes);
  }
  return declaration;
}

}  // namespace wop::sdk
