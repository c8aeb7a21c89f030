package deployment

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	appsv1alpha1 "skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/controller"
	dutil "skiff.dev/skiff/pkg/controller/deployment/util"
)

// syncStatusOnly only writes the status: for a Deployment being deleted.
func (c *Controller) syncStatusOnly(ctx context.Context, d *appsv1alpha1.Deployment, rss []*appsv1alpha1.ReplicaSet) error {
	newRS, oldRSs, err := c.getAllReplicaSetsAndSyncRevision(ctx, d, rss, false)
	if err != nil {
		return err
	}
	return c.syncDeploymentStatus(ctx, append(oldRSs, newRS), newRS, d)
}

// syncScaleOnly handles a paused Deployment or one whose replicas changed:
// it scales the ReplicaSets it has and rolls nothing.
func (c *Controller) syncScaleOnly(ctx context.Context, d *appsv1alpha1.Deployment, rss []*appsv1alpha1.ReplicaSet) error {
	newRS, oldRSs, err := c.getAllReplicaSetsAndSyncRevision(ctx, d, rss, false)
	if err != nil {
		return err
	}
	if err := c.scale(ctx, d, newRS, oldRSs); err != nil {
		// A conflict or similar: the next sync scales.
		return err
	}
	// A paused Deployment keeps its history trimmed too.
	if d.Spec.Paused {
		if err := c.cleanupDeployment(ctx, oldRSs, d); err != nil {
			return err
		}
	}
	return c.syncDeploymentStatus(ctx, append(oldRSs, newRS), newRS, d)
}

// checkPausedConditions records pausing and resuming in the Progressing
// condition, unless the rollout already timed out.
func (c *Controller) checkPausedConditions(ctx context.Context, d *appsv1alpha1.Deployment) error {
	if !dutil.HasProgressDeadline(d) {
		return nil
	}
	cond := dutil.GetCondition(d.Status, appsv1alpha1.DeploymentProgressing)
	if cond != nil && cond.Reason == dutil.TimedOutReason {
		return nil
	}
	paused := cond != nil && cond.Reason == dutil.PausedDeployReason
	now := c.clock.Now()
	switch {
	case d.Spec.Paused && !paused:
		dutil.SetCondition(&d.Status, *dutil.NewCondition(appsv1alpha1.DeploymentProgressing, v1alpha1.ConditionUnknown, dutil.PausedDeployReason, "Deployment is paused", now))
	case !d.Spec.Paused && paused:
		dutil.SetCondition(&d.Status, *dutil.NewCondition(appsv1alpha1.DeploymentProgressing, v1alpha1.ConditionUnknown, dutil.ResumedDeployReason, "Deployment is resumed", now))
	default:
		return nil
	}
	return c.updateStatus(ctx, d)
}

// updateStatus writes d's status (and, through the status subresource as
// upstream does, its revision annotation), keeping d current.
func (c *Controller) updateStatus(ctx context.Context, d *appsv1alpha1.Deployment) error {
	out, err := c.client.AppsV1alpha1().Deployments(d.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("update status of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	*d = *out
	return nil
}

// getAllReplicaSetsAndSyncRevision returns the new ReplicaSet (creating it
// when asked and missing) and the old ones, and brings the revision
// annotations up to date.
func (c *Controller) getAllReplicaSetsAndSyncRevision(ctx context.Context, d *appsv1alpha1.Deployment, rss []*appsv1alpha1.ReplicaSet, create bool) (*appsv1alpha1.ReplicaSet, []*appsv1alpha1.ReplicaSet, error) {
	_, allOld := dutil.FindOldReplicaSets(d, rss)
	newRS, err := c.getNewReplicaSet(ctx, d, rss, allOld, create)
	if err != nil {
		return nil, nil, err
	}
	return newRS, allOld, nil
}

func (c *Controller) getNewReplicaSet(ctx context.Context, d *appsv1alpha1.Deployment, rss, oldRSs []*appsv1alpha1.ReplicaSet, create bool) (*appsv1alpha1.ReplicaSet, error) {
	existing := dutil.FindNewReplicaSet(d, rss)
	newRevision := strconv.FormatInt(dutil.MaxRevision(oldRSs)+1, 10)
	now := c.clock.Now()

	if existing != nil {
		rsCopy := existing.DeepCopy()
		annotationsUpdated := dutil.SetNewReplicaSetAnnotations(d, rsCopy, newRevision, true)
		minReadyChanged := rsCopy.Spec.MinReadySeconds != d.Spec.MinReadySeconds
		if annotationsUpdated || minReadyChanged {
			rsCopy.Spec.MinReadySeconds = d.Spec.MinReadySeconds
			updated, err := c.client.AppsV1alpha1().ReplicaSets(rsCopy.Namespace).Update(ctx, rsCopy, metav1.UpdateOptions{})
			if err != nil {
				return nil, fmt.Errorf("update replica set %s/%s: %w", rsCopy.Namespace, rsCopy.Name, err)
			}
			rsCopy = updated
		}
		// The Deployment's revision follows its new ReplicaSet's.
		needsUpdate := dutil.SetDeploymentRevision(d, rsCopy.Annotations[dutil.RevisionAnnotation])
		if dutil.HasProgressDeadline(d) && dutil.GetCondition(d.Status, appsv1alpha1.DeploymentProgressing) == nil {
			msg := fmt.Sprintf("Found new replica set %q", rsCopy.Name)
			dutil.SetCondition(&d.Status, *dutil.NewCondition(appsv1alpha1.DeploymentProgressing, v1alpha1.ConditionTrue, dutil.FoundNewRSReason, msg, now))
			needsUpdate = true
		}
		if needsUpdate {
			if err := c.updateStatus(ctx, d); err != nil {
				return nil, err
			}
		}
		return rsCopy, nil
	}
	if !create {
		return nil, nil
	}

	// The new ReplicaSet's pods carry the template's hash in a label its
	// selector requires, so that ReplicaSets of one Deployment never
	// select each other's pods.
	template := *d.Spec.Template.DeepCopy()
	hash := dutil.ComputeHash(&template, d.Status.CollisionCount)
	template.Labels = withLabel(template.Labels, dutil.DefaultDeploymentUniqueLabelKey, hash)
	selector := d.Spec.Selector.DeepCopy()
	selector.MatchLabels = withLabel(selector.MatchLabels, dutil.DefaultDeploymentUniqueLabelKey, hash)
	zero := int32(0)
	newRS := appsv1alpha1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name:            d.Name + "-" + hash,
			Namespace:       d.Namespace,
			OwnerReferences: []metav1.OwnerReference{*controller.NewControllerRef(d, controllerKind)},
			Labels:          template.Labels,
		},
		Spec: appsv1alpha1.ReplicaSetSpec{
			Replicas:        &zero,
			MinReadySeconds: d.Spec.MinReadySeconds,
			Selector:        selector,
			Template:        template,
		},
	}
	replicas := dutil.NewRSNewReplicas(d, append(oldRSs, &newRS), &newRS)
	newRS.Spec.Replicas = &replicas
	dutil.SetNewReplicaSetAnnotations(d, &newRS, newRevision, false)

	created, err := c.client.AppsV1alpha1().ReplicaSets(d.Namespace).Create(ctx, &newRS, metav1.CreateOptions{})
	alreadyExists := false
	switch {
	case apierrors.IsAlreadyExists(err):
		alreadyExists = true
		rs, getErr := c.rsLister.ReplicaSets(newRS.Namespace).Get(newRS.Name)
		if getErr != nil {
			return nil, fmt.Errorf("get existing replica set %s/%s: %w", newRS.Namespace, newRS.Name, getErr)
		}
		// Ours, with our template: a previous create whose result we
		// missed. Anything else is a hash collision: count it, so the next
		// sync computes another name.
		if metav1.IsControlledBy(rs, d) && dutil.EqualIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
			created, err = rs, nil
			break
		}
		if d.Status.CollisionCount == nil {
			d.Status.CollisionCount = new(int32)
		}
		pre := *d.Status.CollisionCount
		*d.Status.CollisionCount++
		if uerr := c.updateStatus(ctx, d); uerr == nil {
			klog.V(2).InfoS("Found a hash collision for deployment", "deployment", klog.KObj(d), "oldCollisionCount", pre, "newCollisionCount", *d.Status.CollisionCount)
		}
		return nil, fmt.Errorf("replica set %s/%s exists and is not the new one of deployment %s: %w", newRS.Namespace, newRS.Name, d.Name, err)
	case err != nil:
		msg := fmt.Sprintf("Failed to create new replica set %q: %v", newRS.Name, err)
		if dutil.HasProgressDeadline(d) {
			dutil.SetCondition(&d.Status, *dutil.NewCondition(appsv1alpha1.DeploymentProgressing, v1alpha1.ConditionFalse, dutil.FailedRSCreateReason, msg, now))
			_ = c.updateStatus(ctx, d)
		}
		c.recorder.Eventf(d, "Warning", dutil.FailedRSCreateReason, "%s", msg)
		return nil, fmt.Errorf("create replica set %s/%s: %w", newRS.Namespace, newRS.Name, err)
	}
	if !alreadyExists && replicas > 0 {
		c.recorder.Eventf(d, "Normal", "ScalingReplicaSet", "Scaled up replica set %s from 0 to %d", created.Name, replicas)
	}
	needsUpdate := dutil.SetDeploymentRevision(d, newRevision)
	if !alreadyExists && dutil.HasProgressDeadline(d) {
		msg := fmt.Sprintf("Created new replica set %q", created.Name)
		dutil.SetCondition(&d.Status, *dutil.NewCondition(appsv1alpha1.DeploymentProgressing, v1alpha1.ConditionTrue, dutil.NewReplicaSetReason, msg, now))
		needsUpdate = true
	}
	if needsUpdate {
		if err := c.updateStatus(ctx, d); err != nil {
			return nil, err
		}
	}
	return created, nil
}

func withLabel(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for a, b := range m {
		out[a] = b
	}
	out[k] = v
	return out
}

// scale spreads d's replicas over its ReplicaSets when only the size
// changed: all to the one active ReplicaSet if there is one, to the
// saturated new one otherwise, or in proportion to their sizes mid-rollout
// (so a Deployment scaled while rolling keeps its ratio of old to new).
func (c *Controller) scale(ctx context.Context, d *appsv1alpha1.Deployment, newRS *appsv1alpha1.ReplicaSet, oldRSs []*appsv1alpha1.ReplicaSet) error {
	if rs := dutil.FindActiveOrLatest(newRS, oldRSs); rs != nil {
		if dutil.RSReplicas(rs) == dutil.Replicas(d) {
			return nil
		}
		_, _, err := c.scaleReplicaSetAndRecordEvent(ctx, rs, dutil.Replicas(d), d)
		return err
	}
	if dutil.IsSaturated(d, newRS) {
		for _, old := range dutil.FilterActiveReplicaSets(oldRSs) {
			if _, _, err := c.scaleReplicaSetAndRecordEvent(ctx, old, 0, d); err != nil {
				return err
			}
		}
		return nil
	}
	if !dutil.IsRollingUpdate(d) {
		return nil
	}
	all := dutil.FilterActiveReplicaSets(append(append([]*appsv1alpha1.ReplicaSet(nil), oldRSs...), newRS))
	allowed := dutil.Replicas(d)
	if allowed > 0 {
		allowed += dutil.MaxSurge(d)
	}
	toAdd := allowed - dutil.ReplicaCount(all)
	switch {
	case toAdd > 0:
		sort.Sort(dutil.BySizeNewer(all))
	case toAdd < 0:
		sort.Sort(dutil.BySizeOlder(all))
	}
	var added int32
	sizes := make(map[string]int32, len(all))
	for _, rs := range all {
		if toAdd == 0 {
			sizes[rs.Name] = dutil.RSReplicas(rs)
			continue
		}
		p := dutil.Proportion(rs, d, toAdd, added)
		sizes[rs.Name] = dutil.RSReplicas(rs) + p
		added += p
	}
	// Rounding leaves a remainder; the largest ReplicaSet takes it.
	if toAdd != 0 && len(all) > 0 {
		sizes[all[0].Name] = max(0, sizes[all[0].Name]+toAdd-added)
	}
	for _, rs := range all {
		if _, _, err := c.scaleReplicaSet(ctx, rs, sizes[rs.Name], d); err != nil {
			return err
		}
	}
	return nil
}

func (c *Controller) scaleReplicaSetAndRecordEvent(ctx context.Context, rs *appsv1alpha1.ReplicaSet, newScale int32, d *appsv1alpha1.Deployment) (bool, *appsv1alpha1.ReplicaSet, error) {
	if dutil.RSReplicas(rs) == newScale {
		return false, rs, nil
	}
	return c.scaleReplicaSet(ctx, rs, newScale, d)
}

// scaleReplicaSet sets rs's replicas and its replicas annotations.
func (c *Controller) scaleReplicaSet(ctx context.Context, rs *appsv1alpha1.ReplicaSet, newScale int32, d *appsv1alpha1.Deployment) (bool, *appsv1alpha1.ReplicaSet, error) {
	oldScale := dutil.RSReplicas(rs)
	sizeChanged := oldScale != newScale
	annotationsChanged := dutil.ReplicasAnnotationsNeedUpdate(rs, dutil.Replicas(d), dutil.Replicas(d)+dutil.MaxSurge(d))
	if !sizeChanged && !annotationsChanged {
		return false, rs, nil
	}
	rsCopy := rs.DeepCopy()
	rsCopy.Spec.Replicas = &newScale
	dutil.SetReplicasAnnotations(rsCopy, dutil.Replicas(d), dutil.Replicas(d)+dutil.MaxSurge(d))
	updated, err := c.client.AppsV1alpha1().ReplicaSets(rsCopy.Namespace).Update(ctx, rsCopy, metav1.UpdateOptions{})
	if err != nil {
		return false, nil, fmt.Errorf("scale replica set %s/%s to %d: %w", rs.Namespace, rs.Name, newScale, err)
	}
	if sizeChanged {
		op := "up"
		if newScale < oldScale {
			op = "down"
		}
		c.recorder.Eventf(d, "Normal", "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d", op, rs.Name, oldScale, newScale)
	}
	return sizeChanged, updated, nil
}

// cleanupDeployment deletes the oldest old ReplicaSets beyond
// revisionHistoryLimit, only those with no pods left.
func (c *Controller) cleanupDeployment(ctx context.Context, oldRSs []*appsv1alpha1.ReplicaSet, d *appsv1alpha1.Deployment) error {
	if !dutil.HasRevisionHistoryLimit(d) {
		return nil
	}
	var cleanable []*appsv1alpha1.ReplicaSet
	for _, rs := range oldRSs {
		if rs != nil && rs.DeletionTimestamp == nil {
			cleanable = append(cleanable, rs)
		}
	}
	diff := int32(len(cleanable)) - *d.Spec.RevisionHistoryLimit
	if diff <= 0 {
		return nil
	}
	sort.Sort(dutil.ByRevision(cleanable))
	klog.V(4).InfoS("Looking to clean up old replica sets", "deployment", klog.KObj(d), "count", diff)
	for i := int32(0); i < diff; i++ {
		rs := cleanable[i]
		// Only a ReplicaSet its controller has seen scaled to zero, with
		// no pods left.
		if rs.Status.Replicas != 0 || dutil.RSReplicas(rs) != 0 || rs.Generation > rs.Status.ObservedGeneration {
			continue
		}
		klog.V(4).InfoS("Deleting old replica set", "replicaSet", klog.KObj(rs), "deployment", klog.KObj(d))
		if err := c.client.AppsV1alpha1().ReplicaSets(rs.Namespace).Delete(ctx, rs.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete old replica set %s/%s: %w", rs.Namespace, rs.Name, err)
		}
	}
	return nil
}

// syncDeploymentStatus writes the status computed from the ReplicaSets.
func (c *Controller) syncDeploymentStatus(ctx context.Context, allRSs []*appsv1alpha1.ReplicaSet, newRS *appsv1alpha1.ReplicaSet, d *appsv1alpha1.Deployment) error {
	status := c.calculateStatus(allRSs, newRS, d)
	if apiequality.Semantic.DeepEqual(d.Status, status) {
		return nil
	}
	d.Status = status
	return c.updateStatus(ctx, d)
}

// calculateStatus is d's status from its ReplicaSets; Progressing is left
// as it is, Available is set.
func (c *Controller) calculateStatus(allRSs []*appsv1alpha1.ReplicaSet, newRS *appsv1alpha1.ReplicaSet, d *appsv1alpha1.Deployment) appsv1alpha1.DeploymentStatus {
	var active []*appsv1alpha1.ReplicaSet
	for _, rs := range allRSs {
		if rs != nil {
			active = append(active, rs)
		}
	}
	available := dutil.AvailableReplicaCount(active)
	unavailable := max(0, dutil.ReplicaCount(active)-available)
	var updated int32
	if newRS != nil {
		updated = newRS.Status.Replicas
	}
	status := appsv1alpha1.DeploymentStatus{
		ObservedGeneration:  d.Generation,
		Replicas:            dutil.ActualReplicaCount(active),
		UpdatedReplicas:     updated,
		ReadyReplicas:       dutil.ReadyReplicaCount(active),
		AvailableReplicas:   available,
		UnavailableReplicas: unavailable,
		CollisionCount:      d.Status.CollisionCount,
	}
	for _, cond := range d.Status.Conditions {
		status.Conditions = append(status.Conditions, *cond.DeepCopy())
	}
	now := c.clock.Now()
	if available >= dutil.Replicas(d)-dutil.MaxUnavailable(d) {
		dutil.SetCondition(&status, *dutil.NewCondition(appsv1alpha1.DeploymentAvailable, v1alpha1.ConditionTrue, dutil.MinimumReplicasAvailable, "Deployment has minimum availability.", now))
	} else {
		dutil.SetCondition(&status, *dutil.NewCondition(appsv1alpha1.DeploymentAvailable, v1alpha1.ConditionFalse, dutil.MinimumReplicasUnavailable, "Deployment does not have minimum availability.", now))
	}
	return status
}

// isScalingEvent reports whether d's replicas differ from what its active
// ReplicaSets were last scaled for: a scale, not a rollout.
func (c *Controller) isScalingEvent(ctx context.Context, d *appsv1alpha1.Deployment, rss []*appsv1alpha1.ReplicaSet) (bool, error) {
	newRS, oldRSs, err := c.getAllReplicaSetsAndSyncRevision(ctx, d, rss, false)
	if err != nil {
		return false, err
	}
	for _, rs := range dutil.FilterActiveReplicaSets(append(oldRSs, newRS)) {
		if desired, ok := dutil.DesiredReplicas(rs); ok && desired != dutil.Replicas(d) {
			return true, nil
		}
	}
	return false, nil
}
