package framework

import "sync"

// StateKey names one piece of data in a CycleState. Plugins use their own
// name (or name plus a suffix) so keys never clash.
type StateKey string

// StateData is whatever a plugin computes once per pod and reads back for
// each node.
type StateData any

// Cloner is StateData that a PreFilterExtensions plugin changes: the copy
// preemption and nominated pods work on must not change the original.
type Cloner interface {
	Clone() StateData
}

// CycleState is the scratch space of one scheduling cycle: PreFilter writes
// what it computed from the pod, Filter and Score read it for every node,
// from many goroutines at once.
type CycleState struct {
	data sync.Map
}

// NewCycleState returns an empty state for a new scheduling cycle.
func NewCycleState() *CycleState {
	return &CycleState{}
}

// Write stores data under key.
func (c *CycleState) Write(key StateKey, data StateData) {
	c.data.Store(key, data)
}

// Read returns the data stored under key, if any.
func (c *CycleState) Read(key StateKey) (StateData, bool) {
	return c.data.Load(key)
}

// ReadOrCompute returns the data under key, computing and storing it on first
// use; concurrent callers all get the same stored value.
func (c *CycleState) ReadOrCompute(key StateKey, compute func() StateData) StateData {
	if v, ok := c.data.Load(key); ok {
		return v
	}
	v, _ := c.data.LoadOrStore(key, compute())
	return v
}

// Clone copies the state; data that is a Cloner is cloned, the rest shared.
func (c *CycleState) Clone() *CycleState {
	out := NewCycleState()
	if c == nil {
		return out
	}
	c.data.Range(func(k, v any) bool {
		if cl, ok := v.(Cloner); ok {
			v = cl.Clone()
		}
		out.data.Store(k, v)
		return true
	})
	return out
}
