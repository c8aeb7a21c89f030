package cache

import (
	"sort"

	"skiff.dev/skiff/pkg/scheduler/framework"
)

// Snapshot is the view of the cache one scheduling cycle works on: the
// nodes (with a Node object) sorted by name, unchanged while the cycle
// runs. It belongs to the scheduling loop alone.
type Snapshot struct {
	byName map[string]*framework.NodeInfo
	// list, havePodsWithAffinity and havePodsWithRequiredAntiAffinity are
	// rebuilt only when a node joins, leaves, or changes which of the last
	// two it belongs to.
	list                             []*framework.NodeInfo
	havePodsWithAffinity             []*framework.NodeInfo
	havePodsWithRequiredAntiAffinity []*framework.NodeInfo
	// generation is the newest NodeInfo generation copied in.
	generation int64
}

var _ framework.NodeInfoLister = &Snapshot{}

// NewEmptySnapshot returns a snapshot to pass to UpdateSnapshot.
func NewEmptySnapshot() *Snapshot {
	return &Snapshot{byName: map[string]*framework.NodeInfo{}}
}

// NodeInfos returns the nodes sorted by name.
func (s *Snapshot) NodeInfos() []*framework.NodeInfo { return s.list }

// List returns the nodes sorted by name.
func (s *Snapshot) List() []*framework.NodeInfo { return s.list }

// HavePodsWithAffinityList returns the nodes with pods with pod affinity.
func (s *Snapshot) HavePodsWithAffinityList() []*framework.NodeInfo { return s.havePodsWithAffinity }

// HavePodsWithRequiredAntiAffinityList returns the nodes with pods with
// required anti-affinity.
func (s *Snapshot) HavePodsWithRequiredAntiAffinityList() []*framework.NodeInfo {
	return s.havePodsWithRequiredAntiAffinity
}

// NumNodes returns the number of nodes in the snapshot.
func (s *Snapshot) NumNodes() int { return len(s.list) }

// Get returns the named node.
func (s *Snapshot) Get(name string) (*framework.NodeInfo, bool) {
	n, ok := s.byName[name]
	return n, ok
}

// UpdateSnapshot brings s up to date: it walks the cache's nodes from the
// most recently changed and stops at the first one s already has, so a
// cycle after one binding copies one node.
func (c *Cache) UpdateSnapshot(s *Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()

	rebuild := false
	newest := s.generation
	for it := c.head; it != nil && it.info.Generation > s.generation; it = it.next {
		n := it.info
		newest = max(newest, n.Generation)
		name := ""
		existing, inSnapshot := (*framework.NodeInfo)(nil), false
		if n.Node() != nil {
			name = n.Node().Name
			existing, inSnapshot = s.byName[name]
		}
		switch {
		case n.Node() == nil:
			// A node removed with pods still charged: found below.
		case inSnapshot:
			hadAff, hadAnti := len(existing.PodsWithAffinity) > 0, len(existing.PodsWithRequiredAntiAffinity) > 0
			n.CopyInto(existing)
			if hadAff != (len(n.PodsWithAffinity) > 0) || hadAnti != (len(n.PodsWithRequiredAntiAffinity) > 0) {
				rebuild = true
			}
		default:
			s.byName[name] = n.Clone()
			rebuild = true
		}
	}
	// Removed nodes: the snapshot holds more nodes than the cache has.
	if len(s.byName) > c.nodesWithObject {
		for name := range s.byName {
			if it, ok := c.nodes[name]; !ok || it.info.Node() == nil {
				delete(s.byName, name)
				rebuild = true
			}
		}
	}
	s.generation = newest
	if rebuild {
		s.list = s.list[:0]
		s.havePodsWithAffinity = s.havePodsWithAffinity[:0]
		s.havePodsWithRequiredAntiAffinity = s.havePodsWithRequiredAntiAffinity[:0]
		for _, n := range s.byName {
			s.list = append(s.list, n)
		}
		sort.Slice(s.list, func(i, j int) bool { return s.list[i].Node().Name < s.list[j].Node().Name })
		for _, n := range s.list {
			if len(n.PodsWithAffinity) > 0 {
				s.havePodsWithAffinity = append(s.havePodsWithAffinity, n)
			}
			if len(n.PodsWithRequiredAntiAffinity) > 0 {
				s.havePodsWithRequiredAntiAffinity = append(s.havePodsWithRequiredAntiAffinity, n)
			}
		}
	}
}
