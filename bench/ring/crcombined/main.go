// ring-crcombined: the ring benchmark's N operators as one Go process with controller-runtime:
// one manager, N controllers. Controller i watches TestResources in ring-i and carries each
// one's spec.nonce to the same-named TestResource in ring-((i+1) mod N), exactly as
// bench/ring/clientgo/main.go does for one operator per process (create if missing, raise a
// lower nonce with a merge patch guarded by resourceVersion, never lower it).
//
//	ring-crcombined --kubeconfig K --ring N [--qps Q --burst B]
//
// This is the honest Go alternative to consolidation, and it enjoys what only a combined
// setup can: the manager's cache holds one informer per ring namespace, shared by the
// controller that watches it as input and the one that reads it as output, all over one
// client (one rate limiter, HTTP/2 connections shared by the process).
//
// Without --qps the client keeps controller-runtime's default (its config loader turns the
// client-side limiter off: QPS -1); a negative --qps also turns it off.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

var testResource = schema.GroupVersionKind{Group: "bench.wasm-operator.dev", Version: "v1", Kind: "TestResource"}

func newTestResource() *unstructured.Unstructured {
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(testResource)
	return obj
}

func nonceOf(obj *unstructured.Unstructured) int64 {
	nonce, _, _ := unstructured.NestedInt64(obj.Object, "spec", "nonce")
	return nonce
}

// ring is one controller of the ring: requests name TestResources in its input namespace.
type ring struct {
	client client.Client // reads come from the manager's cache
	outNs  string
}

func (r *ring) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	source := newTestResource()
	if err := r.client.Get(ctx, req.NamespacedName, source); apierrors.IsNotFound(err) {
		return reconcile.Result{}, nil // deleted: the ring only carries nonces forward
	} else if err != nil {
		return reconcile.Result{}, err
	}
	nonce := nonceOf(source)

	target := newTestResource()
	err := r.client.Get(ctx, types.NamespacedName{Namespace: r.outNs, Name: req.Name}, target)
	if apierrors.IsNotFound(err) {
		obj := newTestResource()
		obj.SetNamespace(r.outNs)
		obj.SetName(req.Name)
		_ = unstructured.SetNestedField(obj.Object, nonce, "spec", "nonce")
		return reconcile.Result{}, report(req, r.client.Create(ctx, obj))
	} else if err != nil {
		return reconcile.Result{}, report(req, err)
	}
	if nonceOf(target) >= nonce {
		return reconcile.Result{}, nil // already as high
	}
	// Guarded by resourceVersion: if someone raced us, the conflict retries from fresh state.
	patch, _ := json.Marshal(map[string]any{
		"metadata": map[string]any{"resourceVersion": target.GetResourceVersion()},
		"spec":     map[string]any{"nonce": nonce},
	})
	return reconcile.Result{}, report(req, r.client.Patch(ctx, target, client.RawPatch(types.MergePatchType, patch)))
}

// report prints a failed write the way ring-clientgo does (controller-runtime's logger is
// silenced); the error still goes back to the controller, which requeues rate-limited.
func report(req reconcile.Request, err error) error {
	if err != nil {
		fmt.Fprintf(os.Stderr, "ring: %s: %v (retrying)\n", req, err)
	}
	return err
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "ring: %v\n", err)
	os.Exit(1)
}

func main() {
	// --kubeconfig is controller-runtime's own flag (pkg/client/config registers it).
	n := flag.Int("ring", 10, "number of ring controllers (namespaces ring-0..ring-(N-1))")
	qps := flag.Float64("qps", 0, "client QPS (0: controller-runtime's default, negative: no limit)")
	burst := flag.Int("burst", 0, "client burst (0: client-go's default)")
	flag.Parse()
	if *n < 1 {
		fail(fmt.Errorf("--ring must be at least 1"))
	}
	log.SetLogger(logr.Discard())

	config, err := clientcmd.BuildConfigFromFlags("", flag.Lookup("kubeconfig").Value.String())
	if err != nil {
		fail(err)
	}
	config.QPS, config.Burst = float32(*qps), *burst
	if *qps == 0 {
		config.QPS = -1 // what ctrl.GetConfig does when QPS is unset
	}

	// The cache watches TestResources in the ring's namespaces only, one informer per
	// namespace, shared by every controller that reads or watches it.
	namespaces := map[string]cache.Config{}
	for i := 0; i < *n; i++ {
		namespaces[fmt.Sprintf("ring-%d", i)] = cache.Config{}
	}
	mgr, err := ctrl.NewManager(config, ctrl.Options{
		Cache:                  cache.Options{DefaultNamespaces: namespaces},
		Client:                 client.Options{Cache: &client.CacheOptions{Unstructured: true}},
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		fail(err)
	}
	for i := 0; i < *n; i++ {
		inNs, outNs := fmt.Sprintf("ring-%d", i), fmt.Sprintf("ring-%d", (i+1)%*n)
		inInput := predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetNamespace() == inNs })
		err := ctrl.NewControllerManagedBy(mgr).
			Named(fmt.Sprintf("ring-%d", i)).
			For(newTestResource(), builder.WithPredicates(inInput)).
			WithOptions(controller.Options{MaxConcurrentReconciles: 1}).
			Complete(&ring{client: mgr.GetClient(), outNs: outNs})
		if err != nil {
			fail(err)
		}
	}
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		fail(err)
	}
}
