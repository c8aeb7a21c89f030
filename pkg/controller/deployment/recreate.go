package deployment

import (
	"context"

	"k8s.io/apimachinery/pkg/types"

	appsv1alpha1 "skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	dutil "skiff.dev/skiff/pkg/controller/deployment/util"
)

// rolloutRecreate scales every old ReplicaSet to zero, waits until no old
// pod runs, then creates and scales up the new one.
func (c *Controller) rolloutRecreate(ctx context.Context, d *appsv1alpha1.Deployment, rss []*appsv1alpha1.ReplicaSet, podMap map[types.UID][]*v1alpha1.Pod) error {
	// The new ReplicaSet is not created until the old pods are gone.
	newRS, oldRSs, err := c.getAllReplicaSetsAndSyncRevision(ctx, d, rss, false)
	if err != nil {
		return err
	}
	all := append(append([]*appsv1alpha1.ReplicaSet(nil), oldRSs...), newRS)

	scaledDown := false
	for _, rs := range dutil.FilterActiveReplicaSets(oldRSs) {
		scaled, _, err := c.scaleReplicaSetAndRecordEvent(ctx, rs, 0, d)
		if err != nil {
			return err
		}
		scaledDown = scaledDown || scaled
	}
	if scaledDown {
		return c.syncRolloutStatus(ctx, all, newRS, d)
	}
	if oldPodsRunning(newRS, oldRSs, podMap) {
		return c.syncRolloutStatus(ctx, all, newRS, d)
	}
	if newRS == nil {
		newRS, oldRSs, err = c.getAllReplicaSetsAndSyncRevision(ctx, d, rss, true)
		if err != nil {
			return err
		}
		all = append(append([]*appsv1alpha1.ReplicaSet(nil), oldRSs...), newRS)
	}
	if _, _, err := c.scaleReplicaSetAndRecordEvent(ctx, newRS, dutil.Replicas(d), d); err != nil {
		return err
	}
	if dutil.DeploymentComplete(d, &d.Status) {
		if err := c.cleanupDeployment(ctx, oldRSs, d); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, all, newRS, d)
}

// oldPodsRunning reports whether an old ReplicaSet still has a pod that is
// not finished: Recreate promises the two revisions never run together.
func oldPodsRunning(newRS *appsv1alpha1.ReplicaSet, oldRSs []*appsv1alpha1.ReplicaSet, podMap map[types.UID][]*v1alpha1.Pod) bool {
	if dutil.ActualReplicaCount(oldRSs) > 0 {
		return true
	}
	for uid, pods := range podMap {
		if newRS != nil && newRS.UID == uid {
			continue
		}
		for _, p := range pods {
			if p.Status.Phase != v1alpha1.PodFailed && p.Status.Phase != v1alpha1.PodSucceeded {
				return true
			}
		}
	}
	return false
}
