package framework

import "sync"

// StateKey names one piece of data in a CycleState. Plugins use their own
// name (or name plus a suffix) so keys never clash.
type StateKey string

// StateData is whatever a plugin computes once per pod and reads back for
// each node.
type StateData any

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
