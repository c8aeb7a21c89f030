// Package interpodaffinity is upstream's InterPodAffinity plugin: required
// pod affinity and anti-affinity filter nodes by the pods already in each
// topology domain (and by the anti-affinity of those pods towards the
// incoming one); preferred terms score them.
//
// Namespaces: a term's namespaces and namespaceSelector choose the
// namespaces whose pods it counts. The namespaceSelector is matched against
// the labels of the core/v1 Namespace objects the API server serves at
// /api/v1 (in standalone mode skiff's own namespaces), read through a
// client-go informer. When the scheduler has no such client a namespace has
// no labels: an empty selector ({}) still selects every namespace, any other
// selects none.
package interpodaffinity

import (
	"fmt"

	"k8s.io/apimachinery/pkg/labels"
	corev1listers "k8s.io/client-go/listers/core/v1"

	"skiff.dev/skiff/pkg/scheduler/framework"
)

// Name is the plugin's name.
const Name = "InterPodAffinity"

// NamespaceListerKey is the framework Extra under which the scheduler
// registers its core/v1 NamespaceLister.
const NamespaceListerKey = "NamespaceLister"

// Reasons, as upstream words them.
const (
	ErrReasonExistingAntiAffinityRulesNotMatch = "node(s) didn't satisfy existing pods anti-affinity rules"
	ErrReasonAffinityRulesNotMatch             = "node(s) didn't match pod affinity rules"
	ErrReasonAntiAffinityRulesNotMatch         = "node(s) didn't match pod anti-affinity rules"
)

// HardPodAffinityWeight is the score an existing pod's required affinity
// term that matches the incoming pod adds (upstream's default).
const HardPodAffinityWeight int64 = 1

// InterPodAffinity is the plugin.
type InterPodAffinity struct {
	handle   framework.Handle
	nsLister corev1listers.NamespaceLister
}

var (
	_ framework.PreFilterPlugin   = &InterPodAffinity{}
	_ framework.FilterPlugin      = &InterPodAffinity{}
	_ framework.PreScorePlugin    = &InterPodAffinity{}
	_ framework.ScorePlugin       = &InterPodAffinity{}
	_ framework.EnqueueExtensions = &InterPodAffinity{}
)

// New builds the plugin on the framework's snapshot.
func New(h framework.Handle) (framework.Plugin, error) {
	if h.SnapshotSharedLister() == nil {
		return nil, fmt.Errorf("%s needs the snapshot", Name)
	}
	p := &InterPodAffinity{handle: h}
	if l, ok := h.Extra(NamespaceListerKey).(corev1listers.NamespaceLister); ok {
		p.nsLister = l
	}
	return p, nil
}

// Name returns the plugin's name.
func (*InterPodAffinity) Name() string { return Name }

// namespaceLabels returns the labels of namespace ns (none when unknown).
func (pl *InterPodAffinity) namespaceLabels(ns string) labels.Set {
	if pl.nsLister == nil {
		return nil
	}
	n, err := pl.nsLister.Get(ns)
	if err != nil {
		return nil
	}
	return n.Labels
}

// resolveNamespaces turns the namespaceSelector of the incoming pod's terms
// into names, once per cycle, so matching an existing pod needs no lookup.
func (pl *InterPodAffinity) resolveNamespaces(terms []framework.AffinityTerm) []framework.AffinityTerm {
	out := make([]framework.AffinityTerm, len(terms))
	for i, t := range terms {
		out[i] = t
		if t.NamespaceSelector.Empty() || pl.nsLister == nil {
			continue // Everything matches any labels; with no lister, no labels
		}
		nss := t.Namespaces.Clone()
		if list, err := pl.nsLister.List(t.NamespaceSelector); err == nil {
			for _, n := range list {
				nss.Insert(n.Name)
			}
		}
		out[i].Namespaces = nss
		out[i].NamespaceSelector = labels.Nothing()
	}
	return out
}

func resolveWeighted(pl *InterPodAffinity, terms []framework.WeightedAffinityTerm) []framework.WeightedAffinityTerm {
	plain := make([]framework.AffinityTerm, len(terms))
	for i := range terms {
		plain[i] = terms[i].AffinityTerm
	}
	plain = pl.resolveNamespaces(plain)
	out := make([]framework.WeightedAffinityTerm, len(terms))
	for i := range terms {
		out[i] = framework.WeightedAffinityTerm{AffinityTerm: plain[i], Weight: terms[i].Weight}
	}
	return out
}
