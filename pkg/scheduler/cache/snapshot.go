package cache

import (
	"sort"

	"skiff.dev/skiff/pkg/scheduler/framework"
)

// Snapshot is the cache as one scheduling cycle sees it: a copy that does
// not change while plugins read it from many goroutines. It is refreshed in
// place at the start of each cycle, copying only the nodes that changed.
type Snapshot struct {
	byName map[string]*framework.NodeInfo
	// list holds the nodes in name order; the scheduler rotates where in it
	// each cycle starts.
	list       []*framework.NodeInfo
	generation int64
}

// NewEmptySnapshot returns a snapshot with no nodes.
func NewEmptySnapshot() *Snapshot {
	return &Snapshot{byName: map[string]*framework.NodeInfo{}}
}

// NodeInfos returns the nodes, in name order.
func (s *Snapshot) NodeInfos() []*framework.NodeInfo { return s.list }

// NumNodes returns how many nodes the snapshot holds.
func (s *Snapshot) NumNodes() int { return len(s.list) }

// Get returns a node by name.
func (s *Snapshot) Get(name string) (*framework.NodeInfo, bool) {
	n, ok := s.byName[name]
	return n, ok
}

// UpdateSnapshot brings the snapshot up to date with the cache. Only nodes
// whose generation is newer than the snapshot's are copied; nodes with pods
// but no Node object are left out.
func (c *Cache) UpdateSnapshot(s *Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()

	membershipChanged := false
	newest := s.generation
	withNode := 0
	for name, n := range c.nodes {
		newest = max(newest, n.Generation)
		if n.Node() != nil {
			withNode++
		}
		if n.Generation <= s.generation {
			continue
		}
		existing, inSnapshot := s.byName[name]
		switch {
		case n.Node() == nil && inSnapshot:
			delete(s.byName, name)
			membershipChanged = true
		case n.Node() == nil:
		case inSnapshot:
			// Overwrite in place so the ordered list stays valid.
			*existing = *n
		default:
			s.byName[name] = n.Clone()
			membershipChanged = true
		}
	}
	// Every node with a Node object is in the snapshot now. Nodes deleted
	// from the cache altogether leave no newer generation behind; if the
	// snapshot holds more nodes than the cache, find and drop them.
	if len(s.byName) > withNode {
		for name := range s.byName {
			if n, ok := c.nodes[name]; !ok || n.Node() == nil {
				delete(s.byName, name)
				membershipChanged = true
			}
		}
	}
	s.generation = newest

	if membershipChanged {
		s.list = s.list[:0]
		for _, n := range s.byName {
			s.list = append(s.list, n)
		}
		sort.Slice(s.list, func(i, j int) bool { return s.list[i].Node().Name < s.list[j].Node().Name })
	}
}
