// +k8s:deepcopy-gen=package
// +groupName=core.skiff.dev

// Package core holds the internal (hub) types of the core.skiff.dev API group:
// the form every version converts to and the registry validates and stores.
package core
