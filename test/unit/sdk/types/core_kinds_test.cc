// The generated types (sdk/include/wop/types/, scripts/gen-typed-objects.py) on objects as the
// API server returns them: each core kind round-trips unchanged, fields the types do not know
// included, and a field of the wrong type is an error with its path, not a crash.
#include <gtest/gtest.h>

#include "wop/types/apps_v1.h"
#include "wop/types/coordination_v1.h"
#include "wop/types/core_v1.h"
#include "wop/types/events_v1.h"

namespace wop::sdk {
namespace {

// Metadata as a server writes it, with a field from the future ("shardKey").
constexpr const char* kMetadata = R"({
  "name": "web", "namespace": "shop", "uid": "5d1c5a8e-1b0b-4b0e-9d39-2a3f7a1c0001",
  "resourceVersion": "48213", "generation": 4, "creationTimestamp": "2026-12-01T10:00:00Z",
  "deletionTimestamp": "2026-12-03T09:00:00Z", "deletionGracePeriodSeconds": 0,
  "labels": {"app": "web", "tier": "frontend"},
  "annotations": {"example.com/owner": "team-a"},
  "finalizers": ["example.com/cleanup"],
  "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7c9f",
                       "uid": "5d1c5a8e-1b0b-4b0e-9d39-2a3f7a1c0002", "controller": true,
                       "blockOwnerDeletion": true}],
  "managedFields": [{"manager": "kube-controller-manager", "operation": "Update",
                     "apiVersion": "v1", "time": "2026-12-01T10:00:00Z", "fieldsType": "FieldsV1",
                     "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}}],
  "shardKey": "future-field"
})";

json withMetadata(const char* object) {
  json parsed = json::parse(object);
  parsed["metadata"] = json::parse(kMetadata);
  return parsed;
}

template <typename T>
void expectRoundTrip(const json& object) {
  auto decoded = fromJson<T>(object);
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  EXPECT_EQ(toJson(*decoded), object);
}

TEST(TypedObjects, ConfigMapRoundTripsAndEdits) {
  json object = withMetadata(R"({"apiVersion": "v1", "kind": "ConfigMap",
      "data": {"greeting": "hello"}, "binaryData": {"blob": "AAEC"}, "immutable": false})");
  expectRoundTrip<corev1::ConfigMap>(object);

  auto cm = fromJson<corev1::ConfigMap>(object);
  ASSERT_TRUE(cm.ok()) << cm.error();
  EXPECT_EQ(cm->metadata.name, "web");
  EXPECT_EQ(cm->metadata.namespace_, "shop");
  EXPECT_EQ(cm->metadata.generation, 4);
  EXPECT_EQ(cm->metadata.deletionTimestamp, "2026-12-03T09:00:00Z");
  EXPECT_EQ(cm->metadata.labels->at("app"), "web");
  ASSERT_EQ(cm->metadata.ownerReferences->size(), 1u);
  EXPECT_EQ(cm->metadata.ownerReferences->at(0).controller, true);
  EXPECT_EQ(cm->metadata.finalizers->at(0), "example.com/cleanup");
  EXPECT_EQ(cm->metadata.unknownFields["shardKey"], "future-field");

  (*cm->data)["greeting"] = "bonjour";
  cm->metadata.annotations.reset();
  json written = toJson(*cm);
  json expected = object;
  expected["data"]["greeting"] = "bonjour";
  expected["metadata"].erase("annotations");
  EXPECT_EQ(written, expected) << "only the edited fields change";
}

TEST(TypedObjects, SecretRoundTrips) {
  expectRoundTrip<corev1::Secret>(withMetadata(R"({"apiVersion": "v1", "kind": "Secret",
      "type": "kubernetes.io/basic-auth", "data": {"username": "YWRtaW4="},
      "stringData": {"password": "s3cr3t"}})"));
}

TEST(TypedObjects, NamespaceRoundTrips) {
  expectRoundTrip<corev1::Namespace>(withMetadata(R"({"apiVersion": "v1", "kind": "Namespace",
      "spec": {"finalizers": ["kubernetes"]},
      "status": {"phase": "Terminating", "conditions": [{"type": "NamespaceContentRemaining",
          "status": "True", "reason": "SomeResourcesRemain", "message": "1 pod",
          "lastTransitionTime": "2026-12-03T09:00:01Z"}]}})"));
}

TEST(TypedObjects, ServiceRoundTripsWithIntOrStringPorts) {
  json object = withMetadata(R"({"apiVersion": "v1", "kind": "Service",
      "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.12", "clusterIPs": ["10.96.0.12"],
               "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
               "selector": {"app": "web"}, "sessionAffinity": "None",
               "internalTrafficPolicy": "Cluster",
               "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080},
                         {"name": "metrics", "protocol": "TCP", "port": 9090,
                          "targetPort": "metrics", "appProtocol": "http"}]},
      "status": {"loadBalancer": {}}})");
  expectRoundTrip<corev1::Service>(object);
  auto service = fromJson<corev1::Service>(object);
  ASSERT_TRUE(service.ok()) << service.error();
  const auto& ports = *service->spec->ports;
  EXPECT_TRUE(ports[0].targetPort->isInt());
  EXPECT_EQ(ports[0].targetPort->intValue(), 8080);
  EXPECT_EQ(ports[1].targetPort->stringValue(), "metrics");
}

constexpr const char* kPodSpec = R"({
  "containers": [{"name": "web", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent",
    "args": ["--port", "8080"],
    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
    "env": [{"name": "MODE", "value": "prod"},
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"apiVersion": "v1",
                                                           "fieldPath": "status.podIP"}}}],
    "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "100m"}},
    "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
                       "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1,
                       "failureThreshold": 3},
    "volumeMounts": [{"name": "config", "mountPath": "/etc/web", "readOnly": true}],
    "securityContext": {"runAsNonRoot": true, "capabilities": {"drop": ["ALL"]}},
    "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
    "futureContainerField": {"x": 1}}],
  "volumes": [{"name": "config", "configMap": {"name": "web-config", "defaultMode": 420}}],
  "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
  "serviceAccountName": "web", "schedulerName": "default-scheduler",
  "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                   "effect": "NoExecute", "tolerationSeconds": 300}],
  "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
    "nodeSelectorTerms": [{"matchExpressions": [{"key": "kubernetes.io/os", "operator": "In",
                                                  "values": ["linux"]}]}]}}}
})";

TEST(TypedObjects, PodRoundTrips) {
  json object = withMetadata(R"({"apiVersion": "v1", "kind": "Pod",
      "status": {"phase": "Running", "podIP": "10.244.0.7", "podIPs": [{"ip": "10.244.0.7"}],
                 "hostIP": "172.18.0.2", "qosClass": "Burstable",
                 "startTime": "2026-12-01T10:00:01Z",
                 "conditions": [{"type": "Ready", "status": "True",
                                 "lastProbeTime": null,
                                 "lastTransitionTime": "2026-12-01T10:00:05Z"}],
                 "containerStatuses": [{"name": "web", "ready": true, "restartCount": 0,
                   "started": true, "image": "nginx:1.27",
                   "imageID": "docker.io/library/nginx@sha256:0123",
                   "containerID": "containerd://abc",
                   "state": {"running": {"startedAt": "2026-12-01T10:00:02Z"}}}]}})");
  object["spec"] = json::parse(kPodSpec);
  // A null the server writes (lastProbeTime) reads as absent, so it does not come back.
  auto pod = fromJson<corev1::Pod>(object);
  ASSERT_TRUE(pod.ok()) << pod.error();
  object["status"]["conditions"][0].erase("lastProbeTime");
  EXPECT_EQ(toJson(*pod), object);
  const auto& container = pod->spec->containers[0];
  EXPECT_EQ(container.resources->limits->at("cpu"), "500m");
  EXPECT_EQ(container.readinessProbe->httpGet->port.stringValue(), "http");
  EXPECT_EQ(container.unknownFields["futureContainerField"]["x"], 1);
  EXPECT_EQ(pod->status->containerStatuses->at(0).ready, true);
}

TEST(TypedObjects, DeploymentRoundTrips) {
  json object = withMetadata(R"({"apiVersion": "apps/v1", "kind": "Deployment",
      "spec": {"replicas": 3, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
               "selector": {"matchLabels": {"app": "web"}},
               "strategy": {"type": "RollingUpdate",
                            "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
               "template": {"metadata": {"labels": {"app": "web"}}}},
      "status": {"observedGeneration": 4, "replicas": 3, "updatedReplicas": 3,
                 "readyReplicas": 3, "availableReplicas": 3,
                 "conditions": [{"type": "Available", "status": "True",
                                 "reason": "MinimumReplicasAvailable",
                                 "message": "Deployment has minimum availability.",
                                 "lastUpdateTime": "2026-12-01T10:00:05Z",
                                 "lastTransitionTime": "2026-12-01T10:00:05Z"}]}})");
  object["spec"]["template"]["spec"] = json::parse(kPodSpec);
  expectRoundTrip<appsv1::Deployment>(object);
  auto deployment = fromJson<appsv1::Deployment>(object);
  ASSERT_TRUE(deployment.ok()) << deployment.error();
  EXPECT_EQ(deployment->spec->replicas, 3);
  EXPECT_EQ(deployment->spec->strategy->rollingUpdate->maxSurge->stringValue(), "25%");
  EXPECT_EQ(deployment->spec->template_.spec->containers[0].image, "nginx:1.27");
}

TEST(TypedObjects, EventRoundTripsAndToleratesANullEventTime) {
  json object = withMetadata(R"({"apiVersion": "events.k8s.io/v1", "kind": "Event",
      "eventTime": "2026-12-01T10:00:00.123456Z", "reportingController": "example.com/web",
      "reportingInstance": "web-1", "action": "Scale", "reason": "Scaled", "type": "Normal",
      "note": "scaled to 3",
      "regarding": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop",
                    "name": "web", "uid": "5d1c5a8e-1b0b-4b0e-9d39-2a3f7a1c0003"},
      "series": {"count": 2, "lastObservedTime": "2026-12-01T10:05:00.000001Z"}})");
  expectRoundTrip<eventsv1::Event>(object);
  // An Event written through core/v1 reads with eventTime null.
  object["eventTime"] = nullptr;
  auto event = fromJson<eventsv1::Event>(object);
  ASSERT_TRUE(event.ok()) << event.error();
  EXPECT_FALSE(event->eventTime.has_value());
  EXPECT_EQ(event->regarding->namespace_, "shop");
}

TEST(TypedObjects, LeaseRoundTrips) {
  expectRoundTrip<coordinationv1::Lease>(withMetadata(R"({"apiVersion": "coordination.k8s.io/v1",
      "kind": "Lease", "spec": {"holderIdentity": "web-1_3f2a", "leaseDurationSeconds": 15,
      "acquireTime": "2026-12-01T10:00:00.000000Z", "renewTime": "2026-12-01T10:05:00.000000Z",
      "leaseTransitions": 2}})"));
}

TEST(TypedObjects, NewObjectsGetTheirKindAndOnlyTheFieldsSet) {
  corev1::ConfigMap cm;
  cm.metadata.name = "settings";
  cm.metadata.namespace_ = "shop";
  cm.data.emplace()["mode"] = "prod";
  EXPECT_EQ(toJson(cm), json::parse(R"({"apiVersion": "v1", "kind": "ConfigMap",
      "metadata": {"name": "settings", "namespace": "shop"}, "data": {"mode": "prod"}})"));
}

struct WrongType {
  const char* pointer;  // JSON pointer of the field to replace
  json value;
  const char* error;  // the message DecodeError gives
};

class TypedObjectsWrongType : public ::testing::TestWithParam<WrongType> {};

TEST_P(TypedObjectsWrongType, IsAnErrorWithItsPath) {
  json object = withMetadata(R"({"apiVersion": "apps/v1", "kind": "Deployment",
      "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": {}}})");
  object["spec"]["template"]["spec"] = json::parse(kPodSpec);
  object[json::json_pointer(GetParam().pointer)] = GetParam().value;
  auto decoded = fromJson<appsv1::Deployment>(object);
  EXPECT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error(), GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Fields, TypedObjectsWrongType,
    ::testing::Values(
        WrongType{"/spec/replicas", "3", "spec.replicas: expected integer, got string"},
        WrongType{"/spec/replicas", 3.5, "spec.replicas: expected integer, got number"},
        WrongType{"/spec/replicas", 4294967296,
                  "spec.replicas: expected integer (int32), got integer"},
        WrongType{"/metadata/labels/app", 5,
                  "metadata.labels[\"app\"]: expected string, got integer"},
        WrongType{"/metadata/finalizers", "x", "metadata.finalizers: expected array, got string"},
        WrongType{"/metadata/ownerReferences/0/controller", "yes",
                  "metadata.ownerReferences[0].controller: expected boolean, got string"},
        WrongType{"/spec/template/spec/containers/0/ports/0/containerPort", json::object(),
                  "spec.template.spec.containers[0].ports[0].containerPort: expected integer, got "
                  "object"},
        WrongType{"/spec/template/spec/containers/0/readinessProbe/httpGet/port", true,
                  "spec.template.spec.containers[0].readinessProbe.httpGet.port: expected integer "
                  "or string, got boolean"},
        WrongType{"/spec", json::array(), "spec: expected object, got array"}));

TEST(TypedObjects, ANonObjectIsAnError) {
  EXPECT_EQ(fromJson<corev1::Pod>(json("pod")).error(), "expected object, got string");
  EXPECT_FALSE(fromJson<corev1::Pod>(json::parse("null")).ok());
}

}  // namespace
}  // namespace wop::sdk
