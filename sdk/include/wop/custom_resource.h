// CustomResource<Spec, Status>: an object of a CRD of yours, with typed metadata and your own
// spec and status structs (WOP_JSON_FIELDS, or decodeJson/encodeJson written by hand):
//
//   struct BackupSpec { std::string schedule; json unknownFields; };
//   WOP_JSON_FIELDS(BackupSpec, schedule)
//   struct Backup : CustomResource<BackupSpec> {      // Status defaults to plain json
//     static constexpr Kind kKind{"example.com/v1", "Backup"};
//   };
//   auto backup = ctx.client.get<Backup>(req.ns, req.name);   // ReadResult<Backup>
//
// Top-level fields other than apiVersion, kind, metadata, spec and status are kept in
// unknownFields; an absent spec or status stays absent (std::nullopt) on the way back.
#pragma once

#include <optional>
#include <string>

#include "wop/json_codec.h"
#include "wop/types/meta_v1.h"

namespace wop::sdk {

template <typename Spec, typename Status = json>
struct CustomResource {
  std::optional<std::string> apiVersion;
  std::optional<std::string> kind;
  metav1::ObjectMeta metadata;
  std::optional<Spec> spec;
  std::optional<Status> status;
  json unknownFields;
};

template <typename Spec, typename Status>
bool decodeJson(const json& in, CustomResource<Spec, Status>& out, DecodeError& error) {
  if (!in.is_object()) return error.expected("object", in);
  for (auto it = in.begin(); it != in.end(); ++it) {
    const std::string& key = it.key();
    bool ok = true;
    if (key == "apiVersion") {
      ok = detail::decodeField(*it, out.apiVersion, error);
    } else if (key == "kind") {
      ok = detail::decodeField(*it, out.kind, error);
    } else if (key == "metadata") {
      ok = detail::decodeField(*it, out.metadata, error);
    } else if (key == "spec") {
      ok = detail::decodeField(*it, out.spec, error);
    } else if (key == "status") {
      ok = detail::decodeField(*it, out.status, error);
    } else {
      out.unknownFields[key] = *it;
    }
    if (!ok) return error.inField(key);
  }
  return true;
}

template <typename Spec, typename Status>
void encodeJson(json& out, const CustomResource<Spec, Status>& in) {
  out = detail::unknownFieldsOf(in);
  detail::encodeField(out, "apiVersion", in.apiVersion);
  detail::encodeField(out, "kind", in.kind);
  detail::encodeField(out, "metadata", in.metadata);
  detail::encodeField(out, "spec", in.spec);
  detail::encodeField(out, "status", in.status);
}

}  // namespace wop::sdk
