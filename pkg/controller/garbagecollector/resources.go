package garbagecollector

import (
	"context"
	"fmt"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"skiff.dev/skiff/pkg/client/transform"
)

// ignoredResources are never watched: events churn, are never owners and
// expire on their own, as upstream's garbage collector ignores them.
var ignoredResources = map[schema.GroupResource]bool{
	{Group: "", Resource: "events"}:               true,
	{Group: "events.k8s.io", Resource: "events"}:  true,
	{Group: "core.skiff.dev", Resource: "events"}: true,
}

// resourceInfo is what discovery says of one resource.
type resourceInfo struct {
	gvr        schema.GroupVersionResource
	gvk        schema.GroupVersionKind
	namespaced bool
}

// DeletableResources returns every resource the server serves in its
// preferred version that can be listed, watched and deleted: the kinds
// that can be owners or dependents. A group that fails discovery is left
// out for now; the next sync tries again.
func DeletableResources(dc discovery.ServerResourcesInterface) (map[schema.GroupVersionResource]resourceInfo, error) {
	lists, err := dc.ServerPreferredResources()
	if err != nil {
		if !discovery.IsGroupDiscoveryFailedError(err) || len(lists) == 0 {
			return nil, fmt.Errorf("discover resources: %w", err)
		}
		klog.V(2).InfoS("Some API groups failed discovery; collecting garbage in the others", "err", err)
	}
	lists = discovery.FilteredBy(discovery.SupportsAllVerbs{Verbs: []string{"list", "watch", "delete"}}, lists)
	out := map[schema.GroupVersionResource]resourceInfo{}
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range list.APIResources {
			gvr := gv.WithResource(r.Name)
			if ignoredResources[gvr.GroupResource()] {
				continue
			}
			out[gvr] = resourceInfo{gvr: gvr, gvk: gv.WithKind(r.Kind), namespaced: r.Namespaced}
		}
	}
	return out, nil
}

// monitor watches one resource: through a metadata informer of its own, or
// through the shared typed informer the other controllers use.
type monitor struct {
	info         resourceInfo
	informer     cache.SharedIndexInformer
	registration cache.ResourceEventHandlerRegistration
	// shared: the informer belongs to the typed factory, which starts it.
	shared bool
	cancel context.CancelFunc
}

// SharedInformers gives the typed shared informer of a resource, if the
// controller manager's informer factory knows it, so that the collector
// and the other controllers cache each object once (upstream's
// ObjectOrMetadataInformerFactory). Start starts the informers asked for.
type SharedInformers interface {
	InformerFor(gvr schema.GroupVersionResource) (cache.SharedIndexInformer, bool)
	Start(stop <-chan struct{})
}

// monitors keeps one metadata informer per deletable resource and knows
// how to reach each kind: owner references name a kind, the API a resource.
type monitors struct {
	client metadata.Interface
	shared SharedInformers // may be nil
	events func(*event)

	mu       sync.RWMutex
	byGVR    map[schema.GroupVersionResource]*monitor
	byKind   map[schema.GroupKind]resourceInfo
	started  bool
	startCtx context.Context
}

func newMonitors(client metadata.Interface, shared SharedInformers, events func(*event)) *monitors {
	return &monitors{client: client, shared: shared, events: events, byGVR: map[schema.GroupVersionResource]*monitor{}, byKind: map[schema.GroupKind]resourceInfo{}}
}

// sync makes the monitors match resources: new resources get an
// informer (started at once if the monitors run), gone ones lose theirs.
func (m *monitors) sync(resources map[schema.GroupVersionResource]resourceInfo) {
	m.mu.Lock()
	defer m.mu.Unlock()
	kinds := map[schema.GroupKind]resourceInfo{}
	for gvr, info := range resources {
		kinds[info.gvk.GroupKind()] = info
		if _, ok := m.byGVR[gvr]; ok {
			continue
		}
		mon := m.newMonitor(info)
		m.byGVR[gvr] = mon
		if m.started {
			m.start(mon)
			m.startShared()
		}
		klog.V(2).InfoS("Collecting garbage in a new resource", "resource", gvr)
	}
	for gvr, mon := range m.byGVR {
		if _, ok := resources[gvr]; !ok {
			if mon.cancel != nil {
				mon.cancel()
			}
			if mon.shared && mon.registration != nil {
				_ = mon.informer.RemoveEventHandler(mon.registration)
			}
			delete(m.byGVR, gvr)
			klog.V(2).InfoS("Resource no longer served; stopped watching it", "resource", gvr)
		}
	}
	m.byKind = kinds
}

func (m *monitors) newMonitor(info resourceInfo) *monitor {
	mon := &monitor{info: info}
	if m.shared != nil {
		mon.informer, mon.shared = m.shared.InformerFor(info.gvr)
	}
	if !mon.shared {
		mon.informer = metadatainformer.NewFilteredMetadataInformer(m.client, info.gvr, metav1.NamespaceAll, 0, cache.Indexers{}, nil).Informer()
		if err := mon.informer.SetTransform(transform.TrimManagedFields); err != nil {
			utilruntime.HandleError(fmt.Errorf("garbage collector: trim %s: %w", info.gvr, err))
		}
	}
	send := func(t eventType, obj interface{}) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		accessor, ok := obj.(metav1.Object)
		if !ok {
			utilruntime.HandleError(fmt.Errorf("garbage collector: unexpected %T from the %s informer", obj, info.gvr))
			return
		}
		m.events(&event{eventType: t, obj: accessor, gvk: info.gvk})
	}
	reg, err := mon.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj interface{}) { send(addEvent, obj) },
		UpdateFunc: func(_, obj interface{}) { send(updateEvent, obj) },
		DeleteFunc: func(obj interface{}) { send(deleteEvent, obj) },
	})
	if err != nil {
		utilruntime.HandleError(fmt.Errorf("garbage collector: watch %s: %w", info.gvr, err))
	}
	mon.registration = reg
	return mon
}

func (m *monitors) start(mon *monitor) {
	if mon.shared {
		return
	}
	ctx, cancel := context.WithCancel(m.startCtx)
	mon.cancel = cancel
	go mon.informer.RunWithContext(ctx)
}

// run starts every informer; informers added later start as they come.
func (m *monitors) run(ctx context.Context) {
	m.mu.Lock()
	m.started, m.startCtx = true, ctx
	for _, mon := range m.byGVR {
		m.start(mon)
	}
	m.startShared()
	m.mu.Unlock()
}

// startShared starts the typed informers the monitors asked for; the
// factory starts each only once.
func (m *monitors) startShared() {
	if m.shared != nil {
		m.shared.Start(m.startCtx.Done())
	}
}

// hasSynced reports whether every informer has listed its resource.
func (m *monitors) hasSynced() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if !m.started {
		return false
	}
	for _, mon := range m.byGVR {
		// The registration has synced once this handler saw the initial
		// list, even on a shared informer started long before.
		if mon.registration == nil || !mon.registration.HasSynced() {
			return false
		}
	}
	return true
}

// resourceFor maps an apiVersion and kind to the resource to call.
func (m *monitors) resourceFor(apiVersion, kind string) (resourceInfo, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return resourceInfo{}, fmt.Errorf("parse apiVersion %q: %w", apiVersion, err)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	info, ok := m.byKind[schema.GroupKind{Group: gv.Group, Kind: kind}]
	if !ok {
		return resourceInfo{}, fmt.Errorf("no served resource for kind %s in %s", kind, apiVersion)
	}
	return info, nil
}
