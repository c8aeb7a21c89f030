package deployment

import (
	"context"
	"fmt"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"

	appsv1alpha1 "skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	dutil "skiff.dev/skiff/pkg/controller/deployment/util"
)

// syncRolloutStatus writes the status with the Progressing condition: True
// with NewReplicaSetAvailable once complete, True with ReplicaSetUpdated
// whenever the rollout moved, False with ProgressDeadlineExceeded when it
// has not moved for progressDeadlineSeconds.
func (c *Controller) syncRolloutStatus(ctx context.Context, all []*appsv1alpha1.ReplicaSet, newRS *appsv1alpha1.ReplicaSet, d *appsv1alpha1.Deployment) error {
	status := c.calculateStatus(all, newRS, d)
	now := c.clock.Now()
	if !dutil.HasProgressDeadline(d) {
		dutil.RemoveCondition(&status, appsv1alpha1.DeploymentProgressing)
	}
	cur := dutil.GetCondition(d.Status, appsv1alpha1.DeploymentProgressing)
	complete := status.Replicas == status.UpdatedReplicas && cur != nil && cur.Reason == dutil.NewRSAvailableReason
	if dutil.HasProgressDeadline(d) && !complete {
		subject := fmt.Sprintf("Deployment %q", d.Name)
		if newRS != nil {
			subject = fmt.Sprintf("ReplicaSet %q", newRS.Name)
		}
		switch {
		case dutil.DeploymentComplete(d, &status):
			dutil.SetCondition(&status, *dutil.NewCondition(appsv1alpha1.DeploymentProgressing, v1alpha1.ConditionTrue,
				dutil.NewRSAvailableReason, subject+" has successfully progressed.", now))
		case dutil.DeploymentProgressing(d, &status):
			cond := dutil.NewCondition(appsv1alpha1.DeploymentProgressing, v1alpha1.ConditionTrue,
				dutil.ReplicaSetUpdatedReason, subject+" is progressing.", now)
			// Progress refreshes lastUpdateTime, which the deadline is
			// measured from; the transition time stays while it is True.
			if cur != nil {
				if cur.Status == v1alpha1.ConditionTrue {
					cond.LastTransitionTime = cur.LastTransitionTime
				}
				dutil.RemoveCondition(&status, appsv1alpha1.DeploymentProgressing)
			}
			dutil.SetCondition(&status, *cond)
		case dutil.DeploymentTimedOut(d, &status, now):
			dutil.SetCondition(&status, *dutil.NewCondition(appsv1alpha1.DeploymentProgressing, v1alpha1.ConditionFalse,
				dutil.TimedOutReason, subject+" has timed out progressing.", now))
		}
	}
	if failure := replicaFailure(all, newRS); failure != nil {
		dutil.SetCondition(&status, *failure)
	} else {
		dutil.RemoveCondition(&status, appsv1alpha1.DeploymentReplicaFailure)
	}
	if apiequality.Semantic.DeepEqual(d.Status, status) {
		// Nothing changed, so no watch event will wake us when the
		// deadline passes: come back then.
		c.requeueStuckDeployment(d, status, now)
		return nil
	}
	d.Status = status
	return c.updateStatus(ctx, d)
}

// replicaFailure copies a ReplicaFailure of the new ReplicaSet, else of an
// old one, to the Deployment.
func replicaFailure(all []*appsv1alpha1.ReplicaSet, newRS *appsv1alpha1.ReplicaSet) *appsv1alpha1.DeploymentCondition {
	conv := func(rs *appsv1alpha1.ReplicaSet) *appsv1alpha1.DeploymentCondition {
		for _, c := range rs.Status.Conditions {
			if c.Type == appsv1alpha1.ReplicaSetReplicaFailure {
				return &appsv1alpha1.DeploymentCondition{Type: appsv1alpha1.DeploymentReplicaFailure, Status: c.Status,
					Reason: c.Reason, Message: c.Message, LastUpdateTime: c.LastTransitionTime, LastTransitionTime: c.LastTransitionTime}
			}
		}
		return nil
	}
	if newRS != nil {
		if c := conv(newRS); c != nil {
			return c
		}
	}
	for _, rs := range all {
		if rs == nil {
			continue
		}
		if c := conv(rs); c != nil {
			return c
		}
	}
	return nil
}

// requeueStuckDeployment schedules a sync for when d's progress deadline
// passes, and returns that delay (0 when none).
func (c *Controller) requeueStuckDeployment(d *appsv1alpha1.Deployment, status appsv1alpha1.DeploymentStatus, now time.Time) time.Duration {
	cur := dutil.GetCondition(d.Status, appsv1alpha1.DeploymentProgressing)
	if !dutil.HasProgressDeadline(d) || cur == nil || dutil.DeploymentComplete(d, &status) || cur.Reason == dutil.TimedOutReason {
		return 0
	}
	after := cur.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second).Sub(now)
	// Within a second: rate-limited, so a hot loop is impossible.
	if after < time.Second {
		c.queue.AddRateLimited(d.Namespace + "/" + d.Name)
		return time.Second
	}
	c.enqueueAfter(d, after)
	return after
}
