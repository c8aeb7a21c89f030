// Package pleg notices container changes in runtimes that do not report
// them (the CRI runtime): it lists the runtime's containers every second and
// tells the kubelet which pods' containers changed, like upstream's generic
// pod lifecycle event generator.
package pleg

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	"skiff.dev/skiff/pkg/kubelet/runtime"
)

// DefaultPeriod is how often the runtime is listed.
const DefaultPeriod = time.Second

// ListFunc lists every container of the runtime. The kubelet passes its
// runtime cache's Relist, so the pod workers read the PLEG's listing instead
// of listing the runtime again.
type ListFunc func(ctx context.Context) ([]runtime.Container, error)

// Relister lists a runtime and reports the pods whose containers changed.
type Relister struct {
	list   ListFunc
	notify func(types.UID)
	// last is what the previous list found, by container ID; nil before
	// the first list.
	last map[string]seen
}

type seen struct {
	pod   types.UID
	state runtime.State
}

// New returns a Relister listing with list and telling notify about
// changed pods.
func New(list ListFunc, notify func(types.UID)) *Relister {
	return &Relister{list: list, notify: notify}
}

// Run relists every period until ctx ends.
func (r *Relister) Run(ctx context.Context, period time.Duration) {
	ticker := time.NewTicker(period)
	defer ticker.Stop()
	for {
		r.Relist(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// Relist lists the runtime once and notifies each pod with a container that
// appeared, changed state or disappeared since the last list. The first
// list only records what is there.
func (r *Relister) Relist(ctx context.Context) {
	cs, err := r.list(ctx)
	if err != nil {
		klog.V(2).InfoS("Relisting containers", "err", err)
		return
	}
	now := make(map[string]seen, len(cs))
	changed := map[types.UID]bool{}
	for _, c := range cs {
		now[c.ID] = seen{pod: c.PodUID, state: c.State}
		if old, ok := r.last[c.ID]; !ok || old.state != c.State {
			changed[c.PodUID] = true
		}
	}
	for id, old := range r.last {
		if _, ok := now[id]; !ok {
			changed[old.pod] = true
		}
	}
	first := r.last == nil
	r.last = now
	if first {
		return
	}
	for uid := range changed {
		r.notify(uid)
	}
}
