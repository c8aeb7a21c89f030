// +k8s:deepcopy-gen=package
// +groupName=apps.skiff.dev

// Package apps holds the internal (hub) types of the apps.skiff.dev API group,
// ReplicaSet and Deployment: the form every version converts to and the
// registry validates and stores.
package apps
