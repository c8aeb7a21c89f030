// Package controller holds what several of skiff-controller-manager's
// controllers share, as upstream's pkg/controller does: expectations (so a
// controller that has just created or deleted pods waits for its informer
// to see them before acting again), the controllerRef manager (adoption and
// release of pods by selector), pod creation from a template, and the
// ranking that picks the least valuable pods to delete, the worker loop
// that drains a controller's queue (Workers), and the resolution of
// controllerRefs and of the controllers that may adopt an orphan.
package controller
