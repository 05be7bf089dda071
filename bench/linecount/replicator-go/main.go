// replicator, written with controller-runtime: the same controller as
// operators/replicator/replicator.cc (wasm-operator's C++ SDK), kept for the line count of
// bench/linecount/count.py. It copies ConfigMaps and Secrets labelled
// replicator.wasm-operator.dev/replicate=true into the namespaces listed in their annotation
// replicator.wasm-operator.dev/to ("ns-a,ns-b"), keeps the copies in sync (server-side
// apply), deletes copies from namespaces no longer listed, reports "synced to N namespaces"
// in an annotation and an Event, and cleans up all copies (finalizer) when the source is
// deleted. Both kinds go through one reconciler as unstructured objects, as the C++ one
// handles both as JSON: a typed version would be longer.
package main

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

const (
	replicateLabel   = "replicator.wasm-operator.dev/replicate"
	toAnnotation     = "replicator.wasm-operator.dev/to"
	sourceLabel      = "replicator.wasm-operator.dev/source" // on copies: "<ns>.<name>"
	statusAnnotation = "replicator.wasm-operator.dev/status"
	finalizer        = "replicator.wasm-operator.dev/cleanup"
	fieldManager     = "replicator"
	// The field index of copies by their source label: a source's copies are one lookup in
	// the cache, not a scan of every copy.
	copiesOf = "copiesOf"
)

// The fields a copy takes from its source.
var copiedFields = []string{"data", "binaryData", "type"}

// Replicator reconciles the sources of one kind (ConfigMap or Secret).
type Replicator struct {
	client.Client
	Kind     schema.GroupVersionKind
	Recorder events.EventRecorder
}

func (r *Replicator) newObject() *unstructured.Unstructured {
	object := &unstructured.Unstructured{}
	object.SetGroupVersionKind(r.Kind)
	return object
}

func (r *Replicator) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	source := r.newObject()
	if err := r.Get(ctx, req.NamespacedName, source); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	// The cache holds every object of the kind; only labelled ones are sources.
	if source.GetLabels()[replicateLabel] != "true" {
		return ctrl.Result{}, nil
	}
	copies := &unstructured.UnstructuredList{}
	copies.SetGroupVersionKind(r.Kind.GroupVersion().WithKind(r.Kind.Kind + "List"))
	err := r.List(ctx, copies, client.MatchingFields{copiesOf: req.Namespace + "." + req.Name})
	if err != nil {
		return ctrl.Result{}, err
	}

	if !source.GetDeletionTimestamp().IsZero() {
		for i := range copies.Items {
			if err := r.Delete(ctx, &copies.Items[i]); client.IgnoreNotFound(err) != nil {
				return ctrl.Result{}, err
			}
		}
		if controllerutil.RemoveFinalizer(source, finalizer) {
			if err := r.Update(ctx, source); err != nil {
				return ctrl.Result{}, err
			}
		}
		log.Info("deleted copies", "copies", len(copies.Items))
		return ctrl.Result{}, nil
	}

	if controllerutil.AddFinalizer(source, finalizer) {
		if err := r.Update(ctx, source); err != nil {
			return ctrl.Result{}, err
		}
	}

	targets := targetNamespaces(source)
	changes := 0
	for _, ns := range targets {
		desired := r.desiredCopy(source, ns)
		existing := slices.IndexFunc(copies.Items, func(c unstructured.Unstructured) bool {
			return c.GetNamespace() == ns
		})
		if existing >= 0 && inSync(&copies.Items[existing], desired) {
			continue
		}
		err := r.Apply(ctx, client.ApplyConfigurationFromUnstructured(desired),
			client.FieldOwner(fieldManager), client.ForceOwnership)
		if err != nil {
			return ctrl.Result{}, err
		}
		changes++
	}
	for i := range copies.Items {
		if slices.Contains(targets, copies.Items[i].GetNamespace()) {
			continue
		}
		if err := r.Delete(ctx, &copies.Items[i]); client.IgnoreNotFound(err) != nil {
			return ctrl.Result{}, err
		}
		changes++
	}

	status := fmt.Sprintf("synced to %d namespaces", len(targets))
	if source.GetAnnotations()[statusAnnotation] != status {
		patch := client.MergeFrom(source.DeepCopy())
		err := unstructured.SetNestedField(source.Object, status, "metadata", "annotations", statusAnnotation)
		if err != nil {
			return ctrl.Result{}, err
		}
		if err := r.Patch(ctx, source, patch); err != nil {
			return ctrl.Result{}, err
		}
	}
	if changes > 0 {
		log.Info(status, "changes", changes)
		// The recorder sends Events in the background and only logs a failure.
		r.Recorder.Eventf(source, nil, corev1.EventTypeNormal, "Synced", "Sync", status)
	}
	return ctrl.Result{}, nil
}

// "ns-a, ns-b,,ns-a" -> [ns-a ns-b], without the source's own namespace.
func targetNamespaces(source *unstructured.Unstructured) []string {
	var targets []string
	for _, ns := range strings.Split(source.GetAnnotations()[toAnnotation], ",") {
		ns = strings.TrimSpace(ns)
		if ns != "" && ns != source.GetNamespace() && !slices.Contains(targets, ns) {
			targets = append(targets, ns)
		}
	}
	return targets
}

// The desired copy in ns: the fields we own, nothing else.
func (r *Replicator) desiredCopy(source *unstructured.Unstructured, ns string) *unstructured.Unstructured {
	desired := r.newObject()
	desired.SetNamespace(ns)
	desired.SetName(source.GetName())
	desired.SetLabels(map[string]string{sourceLabel: source.GetNamespace() + "." + source.GetName()})
	for _, field := range copiedFields {
		if value, ok := source.Object[field]; ok {
			desired.Object[field] = value
		}
	}
	return desired
}

func inSync(existing, desired *unstructured.Unstructured) bool {
	for _, field := range copiedFields {
		if !reflect.DeepEqual(existing.Object[field], desired.Object[field]) {
			return false
		}
	}
	return existing.GetLabels()[sourceLabel] == desired.GetLabels()[sourceLabel]
}

// A copy changed: its source's key, from the label "<ns>.<name>" (namespaces have no dots).
func sourceOfCopy(_ context.Context, copied client.Object) []reconcile.Request {
	ns, name, ok := strings.Cut(copied.GetLabels()[sourceLabel], ".")
	if !ok || ns == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}}}
}

func setupReplicator(mgr ctrl.Manager, kind schema.GroupVersionKind) error {
	r := &Replicator{Client: mgr.GetClient(), Kind: kind, Recorder: mgr.GetEventRecorder("replicator")}
	err := mgr.GetFieldIndexer().IndexField(context.Background(), r.newObject(), copiesOf,
		func(object client.Object) []string {
			if source, ok := object.GetLabels()[sourceLabel]; ok {
				return []string{source}
			}
			return nil
		})
	if err != nil {
		return err
	}
	replicated, err := predicate.LabelSelectorPredicate(metav1.LabelSelector{
		MatchLabels: map[string]string{replicateLabel: "true"},
	})
	if err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("replicator-"+strings.ToLower(kind.Kind)+"s").
		For(r.newObject(), builder.WithPredicates(replicated)).
		Watches(r.newObject(), handler.EnqueueRequestsFromMapFunc(sourceOfCopy)).
		Complete(r)
}

func main() {
	ctrl.SetLogger(zap.New())
	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		// Reads of unstructured objects go to the API server unless cached: the field index
		// lives in the cache.
		Client: client.Options{Cache: &client.CacheOptions{Unstructured: true}},
	})
	if err != nil {
		ctrl.Log.Error(err, "unable to create the manager")
		os.Exit(1)
	}
	for _, kind := range []string{"ConfigMap", "Secret"} {
		if err := setupReplicator(mgr, corev1.SchemeGroupVersion.WithKind(kind)); err != nil {
			ctrl.Log.Error(err, "unable to set up the controller", "kind", kind)
			os.Exit(1)
		}
	}
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		ctrl.Log.Error(err, "the manager stopped")
		os.Exit(1)
	}
}
