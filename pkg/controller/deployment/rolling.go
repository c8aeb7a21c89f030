package deployment

import (
	"context"
	"fmt"
	"sort"

	appsv1alpha1 "skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	dutil "skiff.dev/skiff/pkg/controller/deployment/util"
)

// rolloutRolling moves one step of a rolling update: scale the new
// ReplicaSet up within maxSurge, or the old ones down within
// maxUnavailable, then report.
func (c *Controller) rolloutRolling(ctx context.Context, d *appsv1alpha1.Deployment, rss []*appsv1alpha1.ReplicaSet) error {
	newRS, oldRSs, err := c.getAllReplicaSetsAndSyncRevision(ctx, d, rss, true)
	if err != nil {
		return err
	}
	all := append(append([]*appsv1alpha1.ReplicaSet(nil), oldRSs...), newRS)

	scaledUp, err := c.reconcileNewReplicaSet(ctx, all, newRS, d)
	if err != nil {
		return err
	}
	if scaledUp {
		return c.syncRolloutStatus(ctx, all, newRS, d)
	}
	scaledDown, err := c.reconcileOldReplicaSets(ctx, all, dutil.FilterActiveReplicaSets(oldRSs), newRS, d)
	if err != nil {
		return err
	}
	if scaledDown {
		return c.syncRolloutStatus(ctx, all, newRS, d)
	}
	if dutil.DeploymentComplete(d, &d.Status) {
		if err := c.cleanupDeployment(ctx, oldRSs, d); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, all, newRS, d)
}

func (c *Controller) reconcileNewReplicaSet(ctx context.Context, all []*appsv1alpha1.ReplicaSet, newRS *appsv1alpha1.ReplicaSet, d *appsv1alpha1.Deployment) (bool, error) {
	switch {
	case dutil.RSReplicas(newRS) == dutil.Replicas(d):
		return false, nil
	case dutil.RSReplicas(newRS) > dutil.Replicas(d):
		scaled, _, err := c.scaleReplicaSetAndRecordEvent(ctx, newRS, dutil.Replicas(d), d)
		return scaled, err
	}
	n := dutil.NewRSNewReplicas(d, all, newRS)
	scaled, _, err := c.scaleReplicaSetAndRecordEvent(ctx, newRS, n, d)
	return scaled, err
}

// reconcileOldReplicaSets scales the old ReplicaSets down as far as
// maxUnavailable allows, unhealthy pods first.
func (c *Controller) reconcileOldReplicaSets(ctx context.Context, all, oldRSs []*appsv1alpha1.ReplicaSet, newRS *appsv1alpha1.ReplicaSet, d *appsv1alpha1.Deployment) (bool, error) {
	if dutil.ReplicaCount(oldRSs) == 0 {
		return false, nil
	}
	maxScaledDown := MaxScaledDown(dutil.ReplicaCount(all), dutil.Replicas(d), dutil.MaxUnavailable(d),
		dutil.RSReplicas(newRS)-newRS.Status.AvailableReplicas)
	if maxScaledDown <= 0 {
		return false, nil
	}
	// Old pods that are not available cost nothing to remove: take them
	// first, so a broken old revision cannot block the rollout.
	oldRSs, cleaned, err := c.cleanupUnhealthyReplicas(ctx, oldRSs, d, maxScaledDown)
	if err != nil {
		return false, err
	}
	all = append(append([]*appsv1alpha1.ReplicaSet(nil), oldRSs...), newRS)
	scaled, err := c.scaleDownOldReplicaSetsForRollingUpdate(ctx, all, oldRSs, d)
	if err != nil {
		return false, err
	}
	return cleaned+scaled > 0, nil
}

// MaxScaledDown is how many old pods may go now: all pods, less the
// minimum that must stay available, less the new pods not yet available
// (they may never become so, and then the old ones are all there is).
func MaxScaledDown(allPods, replicas, maxUnavailable, newRSUnavailable int32) int32 {
	minAvailable := replicas - maxUnavailable
	return allPods - minAvailable - newRSUnavailable
}

func (c *Controller) cleanupUnhealthyReplicas(ctx context.Context, oldRSs []*appsv1alpha1.ReplicaSet, d *appsv1alpha1.Deployment, maxCleanup int32) ([]*appsv1alpha1.ReplicaSet, int32, error) {
	sort.Sort(dutil.ByCreationTimestamp(oldRSs))
	var total int32
	for i, rs := range oldRSs {
		if total >= maxCleanup {
			break
		}
		if dutil.RSReplicas(rs) == 0 || dutil.RSReplicas(rs) == rs.Status.AvailableReplicas {
			continue
		}
		n := min(maxCleanup-total, dutil.RSReplicas(rs)-rs.Status.AvailableReplicas)
		newReplicas := dutil.RSReplicas(rs) - n
		if newReplicas > dutil.RSReplicas(rs) {
			return nil, 0, fmt.Errorf("replica set %s/%s: would scale up from %d to %d while cleaning up", rs.Namespace, rs.Name, dutil.RSReplicas(rs), newReplicas)
		}
		_, updated, err := c.scaleReplicaSetAndRecordEvent(ctx, rs, newReplicas, d)
		if err != nil {
			return nil, total, err
		}
		total += n
		oldRSs[i] = updated
	}
	return oldRSs, total, nil
}

func (c *Controller) scaleDownOldReplicaSetsForRollingUpdate(ctx context.Context, all, oldRSs []*appsv1alpha1.ReplicaSet, d *appsv1alpha1.Deployment) (int32, error) {
	minAvailable := dutil.Replicas(d) - dutil.MaxUnavailable(d)
	available := dutil.AvailableReplicaCount(all)
	if available <= minAvailable {
		return 0, nil
	}
	sort.Sort(dutil.ByCreationTimestamp(oldRSs))
	want := available - minAvailable
	var total int32
	for _, rs := range oldRSs {
		if total >= want {
			break
		}
		if dutil.RSReplicas(rs) == 0 {
			continue
		}
		n := min(dutil.RSReplicas(rs), want-total)
		if _, _, err := c.scaleReplicaSetAndRecordEvent(ctx, rs, dutil.RSReplicas(rs)-n, d); err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}
