// ring-clientgo: the ring benchmark's operator written the way a kubebuilder/controller-runtime
// operator is built on client-go: shared informers (the cache), a rate-limited work queue
// with client-go's default controller rate limiter, one worker, and a level-triggered
// reconcile of namespace/name keys. It does exactly what operators/ring/ring.cc does: carry
// each TestResource's spec.nonce from the input namespace to the same-named TestResource in
// the output namespace, creating it if missing and raising its nonce if lower (a merge patch
// guarded by resourceVersion), never lowering it.
//
//	ring-clientgo --kubeconfig K --input-namespace ring-0 --output-namespace ring-1 [--qps Q --burst B]
//	              [--own-part-file F]
//
// Without --qps the client keeps client-go's default rate limit (5 QPS, burst 10); a
// negative --qps turns the limiter off (client-go's own rule).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/workqueue"
)

var testResources = schema.GroupVersionResource{Group: "bench.wasm-operator.dev", Version: "v1", Resource: "testresources"}

type ring struct {
	client dynamic.Interface
	input  cache.GenericLister // TestResources in the input namespace
	output cache.GenericLister // TestResources in the output namespace (only read)
	outNs  string
	queue  workqueue.TypedRateLimitingInterface[string]
	own    *ownPart // nil without --own-part-file
}

// ownPart times this process's own part of a hop: from the event that queued a key (the first
// since the key's last reconcile began) to its reconcile issuing the write, or ending without
// one. It is what the wasm host reports as wakeLatency in its status file
// (runtime/wake_latency_recorder.h), so the ring can tell each setup's own latency apart from
// the API server's. Samples are kept with their event's wall time, so the benchmark takes
// exactly those of its measured cycles; at most maxOwnSamples are kept.
type ownPart struct {
	mu      sync.Mutex
	queued  map[string]time.Time
	samples []ownSample
	dropped int
}

type ownSample struct {
	event    time.Time
	duration time.Duration
}

const maxOwnSamples = 1 << 20

func (o *ownPart) queuedAt(key string) {
	if o == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.queued[key]; !ok {
		o.queued[key] = time.Now()
	}
}

// started takes the key's event time; done (the returned function) records the sample once.
func (o *ownPart) started(key string) func() {
	if o == nil {
		return func() {}
	}
	o.mu.Lock()
	event, ok := o.queued[key]
	delete(o.queued, key)
	o.mu.Unlock()
	if !ok {
		return func() {}
	}
	recorded := false
	return func() {
		if recorded {
			return
		}
		recorded = true
		o.mu.Lock()
		defer o.mu.Unlock()
		if len(o.samples) < maxOwnSamples {
			o.samples = append(o.samples, ownSample{event, time.Since(event)})
		} else {
			o.dropped++
		}
	}
}

// write saves one line per sample: the event's Unix time and the duration, both in ns.
func (o *ownPart) write(path string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(f) // one write per buffer, not per sample
	for _, s := range o.samples {
		fmt.Fprintf(out, "%d %d\n", s.event.UnixNano(), s.duration.Nanoseconds())
	}
	if o.dropped > 0 {
		fmt.Fprintf(os.Stderr, "ring: %d own-part samples beyond %d not kept\n", o.dropped, maxOwnSamples)
	}
	if err := out.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func nonceOf(obj *unstructured.Unstructured) int64 {
	nonce, _, _ := unstructured.NestedInt64(obj.Object, "spec", "nonce")
	return nonce
}

func (r *ring) reconcile(ctx context.Context, key string) error {
	writing := r.own.started(key)
	defer writing()
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil // a malformed key will not get better
	}
	source, err := r.input.ByNamespace(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil // deleted: the ring only carries nonces forward
	} else if err != nil {
		return err
	}
	nonce := nonceOf(source.(*unstructured.Unstructured))

	target, err := r.output.ByNamespace(r.outNs).Get(name)
	if apierrors.IsNotFound(err) {
		obj := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "bench.wasm-operator.dev/v1", "kind": "TestResource",
			"metadata": map[string]any{"namespace": r.outNs, "name": name},
			"spec":     map[string]any{"nonce": nonce},
		}}
		writing()
		_, err = r.client.Resource(testResources).Namespace(r.outNs).Create(ctx, obj, metav1.CreateOptions{})
		return err
	} else if err != nil {
		return err
	}
	current := target.(*unstructured.Unstructured)
	if nonceOf(current) >= nonce {
		return nil // already as high
	}
	// Guarded by resourceVersion: if someone raced us, the conflict retries from fresh state.
	patch, _ := json.Marshal(map[string]any{
		"metadata": map[string]any{"resourceVersion": current.GetResourceVersion()},
		"spec":     map[string]any{"nonce": nonce},
	})
	writing()
	_, err = r.client.Resource(testResources).Namespace(r.outNs).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	return err
}

func (r *ring) processNext(ctx context.Context) bool {
	key, shutdown := r.queue.Get()
	if shutdown {
		return false
	}
	defer r.queue.Done(key)
	if err := r.reconcile(ctx, key); err != nil {
		fmt.Fprintf(os.Stderr, "ring: %s: %v (retrying)\n", key, err)
		r.queue.AddRateLimited(key)
		return true
	}
	r.queue.Forget(key)
	return true
}

func enqueue(queue workqueue.TypedRateLimitingInterface[string], own *ownPart) cache.ResourceEventHandlerFuncs {
	add := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			own.queuedAt(key)
			queue.Add(key)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    add,
		UpdateFunc: func(_, obj any) { add(obj) },
		DeleteFunc: add,
	}
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "path to the kubeconfig")
	inNs := flag.String("input-namespace", "ring-0", "namespace whose TestResources are watched")
	outNs := flag.String("output-namespace", "ring-1", "namespace the nonces are carried to")
	qps := flag.Float64("qps", 0, "client QPS (0: client-go's default, negative: no limit)")
	burst := flag.Int("burst", 0, "client burst (0: client-go's default)")
	ownPartFile := flag.String("own-part-file", "", "at exit, write each hop's own part here (event ns, duration ns)")
	flag.Parse()

	config, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ring: %v\n", err)
		os.Exit(1)
	}
	config.QPS, config.Burst = float32(*qps), *burst
	client, err := dynamic.NewForConfig(config)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ring: %v\n", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	// One informer factory per namespace, as controller-runtime's cache does for a manager
	// restricted to namespaces; no periodic resync (controller-runtime's is 10 hours).
	inFactory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(client, 0, *inNs, nil)
	outFactory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(client, 0, *outNs, nil)
	r := &ring{
		client: client,
		outNs:  *outNs,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "ring"}),
	}
	if *ownPartFile != "" {
		r.own = &ownPart{queued: map[string]time.Time{}}
	}
	inInformer := inFactory.ForResource(testResources)
	if _, err := inInformer.Informer().AddEventHandler(enqueue(r.queue, r.own)); err != nil {
		fmt.Fprintf(os.Stderr, "ring: %v\n", err)
		os.Exit(1)
	}
	r.input = inInformer.Lister()
	r.output = outFactory.ForResource(testResources).Lister()
	inFactory.Start(ctx.Done())
	outFactory.Start(ctx.Done())
	for _, synced := range []map[schema.GroupVersionResource]bool{
		inFactory.WaitForCacheSync(ctx.Done()), outFactory.WaitForCacheSync(ctx.Done())} {
		for gvr, ok := range synced {
			if !ok {
				fmt.Fprintf(os.Stderr, "ring: cache of %s did not sync\n", gvr.Resource)
				os.Exit(1)
			}
		}
	}

	go func() {
		<-ctx.Done()
		r.queue.ShutDown()
	}()
	for r.processNext(ctx) {
	}
	if r.own != nil {
		if err := r.own.write(*ownPartFile); err != nil {
			fmt.Fprintf(os.Stderr, "ring: %v\n", err)
			os.Exit(1)
		}
	}
}
