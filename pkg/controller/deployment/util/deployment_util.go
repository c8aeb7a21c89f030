// Package util holds the Deployment arithmetic that the controller and
// kubectl skiff rollout share, as upstream's deployment/util does: revision
// and replica annotations, the pod-template-hash, maxSurge and
// maxUnavailable resolution, which ReplicaSet is new, how many replicas it
// may have, and the Progressing and Available conditions.
package util

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/rand"

	appsv1alpha1 "skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

const (
	// RevisionAnnotation is the revision of a Deployment and of its
	// ReplicaSets; the newest ReplicaSet's is the Deployment's.
	RevisionAnnotation = "deployment.kubernetes.io/revision"
	// RevisionHistoryAnnotation lists the earlier revisions a ReplicaSet
	// had (a rollback reuses a ReplicaSet under a new revision).
	RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history"
	// DesiredReplicasAnnotation is the Deployment's replicas when the
	// ReplicaSet was last scaled; a difference means the Deployment was
	// scaled, not rolled.
	DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
	// MaxReplicasAnnotation is replicas + maxSurge at that time, the base
	// of proportional scaling.
	MaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas"
	// DefaultDeploymentUniqueLabelKey tells ReplicaSets of one Deployment
	// apart, in their selectors and their pods' labels.
	DefaultDeploymentUniqueLabelKey = "pod-template-hash"
	// RestartedAtAnnotation on the pod template is how kubectl rollout
	// restart changes the template.
	RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"
)

// Condition reasons, upstream's.
const (
	ReplicaSetUpdatedReason       = "ReplicaSetUpdated"
	FailedRSCreateReason          = "ReplicaSetCreateError"
	NewReplicaSetReason           = "NewReplicaSetCreated"
	FoundNewRSReason              = "FoundNewReplicaSet"
	NewRSAvailableReason          = "NewReplicaSetAvailable"
	TimedOutReason                = "ProgressDeadlineExceeded"
	PausedDeployReason            = "DeploymentPaused"
	ResumedDeployReason           = "DeploymentResumed"
	MinimumReplicasAvailable      = "MinimumReplicasAvailable"
	MinimumReplicasUnavailable    = "MinimumReplicasUnavailable"
	maxRevisionHistoryLengthChars = 2000
)

// annotationsToSkip are the Deployment annotations not copied to its
// ReplicaSets: the controller's own, and kubectl's record of what was
// applied (which describes the Deployment, not the ReplicaSet).
var annotationsToSkip = map[string]bool{
	"kubectl.kubernetes.io/last-applied-configuration": true,
	RevisionAnnotation:                  true,
	RevisionHistoryAnnotation:           true,
	DesiredReplicasAnnotation:           true,
	MaxReplicasAnnotation:               true,
	"deprecated.deployment.rollback.to": true,
}

// Replicas is spec.replicas with its default.
func Replicas(d *appsv1alpha1.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

// RSReplicas is a ReplicaSet's spec.replicas with its default.
func RSReplicas(rs *appsv1alpha1.ReplicaSet) int32 {
	if rs == nil || rs.Spec.Replicas == nil {
		return 0
	}
	return *rs.Spec.Replicas
}

// Revision returns the revision annotation of obj, 0 when absent.
func Revision(obj metav1.Object) (int64, error) {
	v, ok := obj.GetAnnotations()[RevisionAnnotation]
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s annotation %q of %s: %w", RevisionAnnotation, v, obj.GetName(), err)
	}
	return n, nil
}

// MaxRevision is the highest revision among rss; unparsable ones count 0.
func MaxRevision(rss []*appsv1alpha1.ReplicaSet) int64 {
	var m int64
	for _, rs := range rss {
		if v, err := Revision(rs); err == nil && v > m {
			m = v
		}
	}
	return m
}

// SetNewReplicaSetAnnotations copies the Deployment's annotations to the
// new ReplicaSet, sets its revision (keeping a record of the ones it had
// before when a rollback reuses it) and its replicas annotations. It
// reports whether anything changed.
func SetNewReplicaSetAnnotations(d *appsv1alpha1.Deployment, rs *appsv1alpha1.ReplicaSet, newRevision string, exists bool) bool {
	changed := copyDeploymentAnnotationsToReplicaSet(d, rs)
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	old := rs.Annotations[RevisionAnnotation]
	oldN, err1 := strconv.ParseInt(old, 10, 64)
	newN, err2 := strconv.ParseInt(newRevision, 10, 64)
	if err2 != nil {
		return changed
	}
	if old == "" || err1 != nil || oldN < newN {
		rs.Annotations[RevisionAnnotation] = newRevision
		changed = true
		if old != "" && err1 == nil {
			hist := rs.Annotations[RevisionHistoryAnnotation]
			if hist == "" {
				hist = old
			} else {
				hist += "," + old
			}
			// Keep the most recent revisions when the list grows too long.
			for len(hist) > maxRevisionHistoryLengthChars {
				i := strings.Index(hist, ",")
				if i < 0 {
					hist = ""
					break
				}
				hist = hist[i+1:]
			}
			rs.Annotations[RevisionHistoryAnnotation] = hist
		}
	}
	if !exists && SetReplicasAnnotations(rs, Replicas(d), Replicas(d)+MaxSurge(d)) {
		changed = true
	}
	return changed
}

func copyDeploymentAnnotationsToReplicaSet(d *appsv1alpha1.Deployment, rs *appsv1alpha1.ReplicaSet) bool {
	changed := false
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	for k, v := range d.Annotations {
		// The revision is the controller's to set on the ReplicaSet (the
		// Deployment's copy may be stale); equal values need no write.
		if _, ok := rs.Annotations[k]; annotationsToSkip[k] || ok && rs.Annotations[k] == v {
			continue
		}
		rs.Annotations[k] = v
		changed = true
	}
	return changed
}

// SetDeploymentAnnotationsTo copies rollbackTo's annotations (those that
// came from a Deployment) back to d, for a rollback.
func SetDeploymentAnnotationsTo(d *appsv1alpha1.Deployment, rollbackTo *appsv1alpha1.ReplicaSet) {
	kept := map[string]string{}
	for k, v := range d.Annotations {
		if annotationsToSkip[k] {
			kept[k] = v
		}
	}
	for k, v := range rollbackTo.Annotations {
		if !annotationsToSkip[k] {
			kept[k] = v
		}
	}
	d.Annotations = kept
}

// SetDeploymentRevision sets d's revision annotation; it reports a change.
func SetDeploymentRevision(d *appsv1alpha1.Deployment, revision string) bool {
	if d.Annotations[RevisionAnnotation] == revision {
		return false
	}
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	d.Annotations[RevisionAnnotation] = revision
	return true
}

// SetReplicasAnnotations records desired and max on rs; it reports a change.
func SetReplicasAnnotations(rs *appsv1alpha1.ReplicaSet, desired, max int32) bool {
	if !ReplicasAnnotationsNeedUpdate(rs, desired, max) {
		return false
	}
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	rs.Annotations[DesiredReplicasAnnotation] = strconv.Itoa(int(desired))
	rs.Annotations[MaxReplicasAnnotation] = strconv.Itoa(int(max))
	return true
}

// ReplicasAnnotationsNeedUpdate reports whether rs's annotations differ
// from desired and max.
func ReplicasAnnotationsNeedUpdate(rs *appsv1alpha1.ReplicaSet, desired, max int32) bool {
	return rs.Annotations[DesiredReplicasAnnotation] != strconv.Itoa(int(desired)) ||
		rs.Annotations[MaxReplicasAnnotation] != strconv.Itoa(int(max))
}

func intAnnotation(rs *appsv1alpha1.ReplicaSet, key string) (int32, bool) {
	v, ok := rs.Annotations[key]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, false
	}
	return int32(n), true
}

// DesiredReplicas returns rs's desired-replicas annotation.
func DesiredReplicas(rs *appsv1alpha1.ReplicaSet) (int32, bool) {
	return intAnnotation(rs, DesiredReplicasAnnotation)
}

// IsRollingUpdate reports whether d rolls.
func IsRollingUpdate(d *appsv1alpha1.Deployment) bool {
	return d.Spec.Strategy.Type == appsv1alpha1.RollingUpdateDeploymentStrategyType
}

// scaled resolves an int or percentage against total; percentages round
// up or down as asked.
func scaled(v *intstr.IntOrString, def string, total int, roundUp bool) (int, error) {
	x := intstr.FromString(def)
	if v != nil {
		x = *v
	}
	return intstr.GetScaledValueFromIntOrPercent(&x, total, roundUp)
}

// ResolveFenceposts turns maxSurge and maxUnavailable into numbers of pods:
// surge rounds up, unavailable rounds down (so 25% of 3 lets one pod surge
// and none be unavailable), and when both come to zero one pod may be
// unavailable, or the rollout could never move.
func ResolveFenceposts(maxSurge, maxUnavailable *intstr.IntOrString, desired int32) (int32, int32, error) {
	surge, err := scaled(maxSurge, "25%", int(desired), true)
	if err != nil {
		return 0, 0, fmt.Errorf("maxSurge: %w", err)
	}
	unavailable, err := scaled(maxUnavailable, "25%", int(desired), false)
	if err != nil {
		return 0, 0, fmt.Errorf("maxUnavailable: %w", err)
	}
	if surge == 0 && unavailable == 0 {
		unavailable = 1
	}
	return int32(surge), int32(unavailable), nil
}

func fenceposts(d *appsv1alpha1.Deployment) (int32, int32) {
	var s, u *intstr.IntOrString
	if ru := d.Spec.Strategy.RollingUpdate; ru != nil {
		s, u = ru.MaxSurge, ru.MaxUnavailable
	}
	// Validation keeps the values parseable; an error means 0.
	surge, unavailable, _ := ResolveFenceposts(s, u, Replicas(d))
	return surge, unavailable
}

// MaxSurge is how many pods d may run above its replicas; 0 unless it rolls.
func MaxSurge(d *appsv1alpha1.Deployment) int32 {
	if !IsRollingUpdate(d) {
		return 0
	}
	s, _ := fenceposts(d)
	return s
}

// MaxUnavailable is how many of d's replicas may be unavailable; 0 unless
// it rolls, and never more than replicas.
func MaxUnavailable(d *appsv1alpha1.Deployment) int32 {
	if !IsRollingUpdate(d) || Replicas(d) == 0 {
		return 0
	}
	_, u := fenceposts(d)
	return min(u, Replicas(d))
}

// ComputeHash is the pod-template-hash of template: a hash of its
// encoding, perturbed by collisionCount so that a collision with an
// unrelated ReplicaSet's name can be escaped, in the alphabet of
// generated names.
func ComputeHash(template *v1alpha1.PodTemplateSpec, collisionCount *int32) string {
	h := fnv.New32a()
	b, _ := json.Marshal(template)
	h.Write(b)
	if collisionCount != nil {
		var buf [4]byte
		c := uint32(*collisionCount)
		buf[0], buf[1], buf[2], buf[3] = byte(c>>24), byte(c>>16), byte(c>>8), byte(c)
		h.Write(buf[:])
	}
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

// EqualIgnoreHash reports whether two templates are the same but for the
// pod-template-hash label.
func EqualIgnoreHash(a, b *v1alpha1.PodTemplateSpec) bool {
	a, b = a.DeepCopy(), b.DeepCopy()
	delete(a.Labels, DefaultDeploymentUniqueLabelKey)
	delete(b.Labels, DefaultDeploymentUniqueLabelKey)
	if len(a.Labels) == 0 {
		a.Labels = nil
	}
	if len(b.Labels) == 0 {
		b.Labels = nil
	}
	return apiequality.Semantic.DeepEqual(a, b)
}

// ByCreationTimestamp sorts oldest first, by name among equals.
type ByCreationTimestamp []*appsv1alpha1.ReplicaSet

func (o ByCreationTimestamp) Len() int      { return len(o) }
func (o ByCreationTimestamp) Swap(i, j int) { o[i], o[j] = o[j], o[i] }
func (o ByCreationTimestamp) Less(i, j int) bool {
	if o[i].CreationTimestamp.Equal(&o[j].CreationTimestamp) {
		return o[i].Name < o[j].Name
	}
	return o[i].CreationTimestamp.Before(&o[j].CreationTimestamp)
}

// BySizeOlder sorts larger first, then older: scale-downs take from the
// big and old.
type BySizeOlder []*appsv1alpha1.ReplicaSet

func (o BySizeOlder) Len() int      { return len(o) }
func (o BySizeOlder) Swap(i, j int) { o[i], o[j] = o[j], o[i] }
func (o BySizeOlder) Less(i, j int) bool {
	if RSReplicas(o[i]) == RSReplicas(o[j]) {
		return ByCreationTimestamp(o).Less(i, j)
	}
	return RSReplicas(o[i]) > RSReplicas(o[j])
}

// BySizeNewer sorts larger first, then newer: scale-ups give to the big and
// new.
type BySizeNewer []*appsv1alpha1.ReplicaSet

func (o BySizeNewer) Len() int      { return len(o) }
func (o BySizeNewer) Swap(i, j int) { o[i], o[j] = o[j], o[i] }
func (o BySizeNewer) Less(i, j int) bool {
	if RSReplicas(o[i]) == RSReplicas(o[j]) {
		return ByCreationTimestamp(o).Less(j, i)
	}
	return RSReplicas(o[i]) > RSReplicas(o[j])
}

// ByRevision sorts oldest revision first.
type ByRevision []*appsv1alpha1.ReplicaSet

func (o ByRevision) Len() int      { return len(o) }
func (o ByRevision) Swap(i, j int) { o[i], o[j] = o[j], o[i] }
func (o ByRevision) Less(i, j int) bool {
	r1, _ := Revision(o[i])
	r2, _ := Revision(o[j])
	if r1 == r2 {
		return ByCreationTimestamp(o).Less(i, j)
	}
	return r1 < r2
}

// FindNewReplicaSet returns the ReplicaSet whose template is d's, the
// oldest when several are (a hash collision), or nil.
func FindNewReplicaSet(d *appsv1alpha1.Deployment, rss []*appsv1alpha1.ReplicaSet) *appsv1alpha1.ReplicaSet {
	sorted := append([]*appsv1alpha1.ReplicaSet(nil), rss...)
	sort.Sort(ByCreationTimestamp(sorted))
	for _, rs := range sorted {
		if EqualIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
			return rs
		}
	}
	return nil
}

// FindOldReplicaSets returns the ReplicaSets other than the new one: those
// with pods, and all of them.
func FindOldReplicaSets(d *appsv1alpha1.Deployment, rss []*appsv1alpha1.ReplicaSet) (withPods, all []*appsv1alpha1.ReplicaSet) {
	newRS := FindNewReplicaSet(d, rss)
	for _, rs := range rss {
		if newRS != nil && rs.UID == newRS.UID {
			continue
		}
		all = append(all, rs)
		if RSReplicas(rs) != 0 {
			withPods = append(withPods, rs)
		}
	}
	return withPods, all
}

// FilterActiveReplicaSets keeps the ReplicaSets with replicas wanted.
func FilterActiveReplicaSets(rss []*appsv1alpha1.ReplicaSet) []*appsv1alpha1.ReplicaSet {
	var out []*appsv1alpha1.ReplicaSet
	for _, rs := range rss {
		if rs != nil && RSReplicas(rs) > 0 {
			out = append(out, rs)
		}
	}
	return out
}

// FindActiveOrLatest returns the only ReplicaSet with replicas wanted, or
// the newest when none has (nil when several have).
func FindActiveOrLatest(newRS *appsv1alpha1.ReplicaSet, oldRSs []*appsv1alpha1.ReplicaSet) *appsv1alpha1.ReplicaSet {
	if newRS == nil && len(oldRSs) == 0 {
		return nil
	}
	sorted := append([]*appsv1alpha1.ReplicaSet(nil), oldRSs...)
	sort.Sort(sort.Reverse(ByCreationTimestamp(sorted)))
	all := FilterActiveReplicaSets(append(sorted, newRS))
	switch len(all) {
	case 0:
		if newRS != nil {
			return newRS
		}
		return sorted[0]
	case 1:
		return all[0]
	}
	return nil
}

// ReplicaCount sums the ReplicaSets' spec.replicas.
func ReplicaCount(rss []*appsv1alpha1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		n += RSReplicas(rs)
	}
	return n
}

// ActualReplicaCount sums status.replicas.
func ActualReplicaCount(rss []*appsv1alpha1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		if rs != nil {
			n += rs.Status.Replicas
		}
	}
	return n
}

// ReadyReplicaCount sums status.readyReplicas.
func ReadyReplicaCount(rss []*appsv1alpha1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		if rs != nil {
			n += rs.Status.ReadyReplicas
		}
	}
	return n
}

// AvailableReplicaCount sums status.availableReplicas.
func AvailableReplicaCount(rss []*appsv1alpha1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		if rs != nil {
			n += rs.Status.AvailableReplicas
		}
	}
	return n
}

// NewRSNewReplicas is how many replicas the new ReplicaSet may have now:
// rolling, as many as replicas + maxSurge leaves room for, never more than
// replicas; recreating, all of them.
func NewRSNewReplicas(d *appsv1alpha1.Deployment, allRSs []*appsv1alpha1.ReplicaSet, newRS *appsv1alpha1.ReplicaSet) int32 {
	if !IsRollingUpdate(d) {
		return Replicas(d)
	}
	current := ReplicaCount(allRSs)
	maxTotal := Replicas(d) + MaxSurge(d)
	if current >= maxTotal {
		return RSReplicas(newRS)
	}
	scaleUp := min(maxTotal-current, Replicas(d)-RSReplicas(newRS))
	return RSReplicas(newRS) + scaleUp
}

// IsSaturated reports whether rs has all of d's replicas, and all of them
// available.
func IsSaturated(d *appsv1alpha1.Deployment, rs *appsv1alpha1.ReplicaSet) bool {
	if rs == nil {
		return false
	}
	desired, ok := DesiredReplicas(rs)
	return ok && RSReplicas(rs) == Replicas(d) && desired == Replicas(d) && rs.Status.AvailableReplicas == Replicas(d)
}

// Proportion is how many of toAdd (minus what was added already) rs gets
// when a Deployment is scaled mid-rollout: its share of the size it had
// when the max-replicas annotation was written.
func Proportion(rs *appsv1alpha1.ReplicaSet, d *appsv1alpha1.Deployment, toAdd, added int32) int32 {
	if rs == nil || RSReplicas(rs) == 0 || toAdd == 0 || toAdd == added {
		return 0
	}
	fraction := fraction(rs, d)
	allowed := toAdd - added
	if toAdd > 0 {
		return min(fraction, allowed)
	}
	return max(fraction, allowed)
}

func fraction(rs *appsv1alpha1.ReplicaSet, d *appsv1alpha1.Deployment) int32 {
	if Replicas(d) == 0 {
		return -RSReplicas(rs)
	}
	total := Replicas(d) + MaxSurge(d)
	annotated, ok := intAnnotation(rs, MaxReplicasAnnotation)
	if !ok || annotated == 0 {
		annotated = d.Status.Replicas
	}
	if annotated == 0 {
		return 0
	}
	size := float64(RSReplicas(rs)*total) / float64(annotated)
	return int32(math.Round(size)) - RSReplicas(rs)
}

// HasProgressDeadline reports whether d's progress is watched.
func HasProgressDeadline(d *appsv1alpha1.Deployment) bool {
	return d.Spec.ProgressDeadlineSeconds != nil && *d.Spec.ProgressDeadlineSeconds != math.MaxInt32
}

// HasRevisionHistoryLimit reports whether old ReplicaSets are cleaned up.
func HasRevisionHistoryLimit(d *appsv1alpha1.Deployment) bool {
	return d.Spec.RevisionHistoryLimit != nil && *d.Spec.RevisionHistoryLimit != math.MaxInt32
}

// DeploymentComplete reports whether every replica is updated and
// available, for the current generation.
func DeploymentComplete(d *appsv1alpha1.Deployment, s *appsv1alpha1.DeploymentStatus) bool {
	return s.UpdatedReplicas == Replicas(d) && s.Replicas == Replicas(d) &&
		s.AvailableReplicas == Replicas(d) && s.ObservedGeneration >= d.Generation
}

// DeploymentProgressing reports whether s is further along than d's
// stored status: more updated, ready or available pods, or fewer old ones.
func DeploymentProgressing(d *appsv1alpha1.Deployment, s *appsv1alpha1.DeploymentStatus) bool {
	old := d.Status
	return s.UpdatedReplicas > old.UpdatedReplicas ||
		s.Replicas-s.UpdatedReplicas < old.Replicas-old.UpdatedReplicas ||
		s.ReadyReplicas > old.ReadyReplicas ||
		s.AvailableReplicas > old.AvailableReplicas
}

// DeploymentTimedOut reports whether the rollout has made no progress for
// progressDeadlineSeconds, measured from the Progressing condition's last
// update.
func DeploymentTimedOut(d *appsv1alpha1.Deployment, s *appsv1alpha1.DeploymentStatus, now time.Time) bool {
	if !HasProgressDeadline(d) {
		return false
	}
	c := GetCondition(*s, appsv1alpha1.DeploymentProgressing)
	if c == nil {
		return false
	}
	switch c.Reason {
	case NewRSAvailableReason:
		return false
	case TimedOutReason:
		return true
	}
	deadline := c.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second)
	return deadline.Before(now)
}

// NewCondition returns a condition updated and transitioned at now.
func NewCondition(t appsv1alpha1.DeploymentConditionType, status v1alpha1.ConditionStatus, reason, message string, now time.Time) *appsv1alpha1.DeploymentCondition {
	return &appsv1alpha1.DeploymentCondition{
		Type: t, Status: status, Reason: reason, Message: message,
		LastUpdateTime: metav1.NewTime(now), LastTransitionTime: metav1.NewTime(now),
	}
}

// GetCondition returns the condition of type t, or nil.
func GetCondition(s appsv1alpha1.DeploymentStatus, t appsv1alpha1.DeploymentConditionType) *appsv1alpha1.DeploymentCondition {
	for i := range s.Conditions {
		if s.Conditions[i].Type == t {
			return &s.Conditions[i]
		}
	}
	return nil
}

// SetCondition sets c, unless the same status and reason are there
// already; the transition time survives a change of reason only.
func SetCondition(s *appsv1alpha1.DeploymentStatus, c appsv1alpha1.DeploymentCondition) {
	cur := GetCondition(*s, c.Type)
	if cur != nil && cur.Status == c.Status && cur.Reason == c.Reason {
		return
	}
	if cur != nil && cur.Status == c.Status {
		c.LastTransitionTime = cur.LastTransitionTime
	}
	RemoveCondition(s, c.Type)
	s.Conditions = append(s.Conditions, c)
}

// RemoveCondition removes the condition of type t.
func RemoveCondition(s *appsv1alpha1.DeploymentStatus, t appsv1alpha1.DeploymentConditionType) {
	var out []appsv1alpha1.DeploymentCondition
	for _, c := range s.Conditions {
		if c.Type != t {
			out = append(out, c)
		}
	}
	s.Conditions = out
}
