// Package framework defines the scheduler's extension points (PreFilter,
// Filter, Score with NormalizeScore), the per-node view the plugins judge
// (NodeInfo), the result of a plugin call (Status), the scratch space one
// scheduling cycle shares between plugins (CycleState), and the Framework
// that runs a set of plugins in order and adds up their weighted scores.
//
// It follows kube-scheduler's scheduling framework, cut down to what skiff's
// API has: no preemption, no reserve/permit/bind plugins, no extenders.
package framework
