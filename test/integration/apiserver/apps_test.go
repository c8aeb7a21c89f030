package apiserver

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"

	appsv1alpha1 "skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	informers "skiff.dev/skiff/pkg/generated/informers/externalversions"
	"skiff.dev/skiff/test/integration/framework"
)

// TestApps drives ReplicaSets and Deployments through the generated
// clientset: what kubectl and the controller manager do with them.
func TestApps(t *testing.T) {
	s := framework.StartTestServer(t)
	t.Run("deployment create, get, list, update", func(t *testing.T) { testDeploymentCRUD(t, s.Client) })
	t.Run("deployment status", func(t *testing.T) { testDeploymentStatus(t, s.Client) })
	t.Run("deployment scale", func(t *testing.T) { testDeploymentScale(t, s.Client) })
	t.Run("replicaset create, update, status, scale", func(t *testing.T) { testReplicaSet(t, s.Client) })
	t.Run("bad input is 422 with the field path", func(t *testing.T) { testAppsBadInput(t, s.Client) })
	t.Run("informers and listers", func(t *testing.T) { testAppsInformers(t, s.Client) })
}

// testAppsInformers runs the generated shared informers of the group, as the
// controller manager does, and finds a new ReplicaSet in the lister by the
// label its Deployment selects.
func testAppsInformers(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	factory := informers.NewSharedInformerFactoryWithOptions(c, 0, informers.WithNamespace("informed"))
	lister := factory.Apps().V1alpha1().ReplicaSets().Lister()
	deploymentsSynced := factory.Apps().V1alpha1().Deployments().Informer().HasSynced
	// Shutdown waits for the informers, which stop when their context does.
	informerCtx, stop := context.WithCancel(ctx)
	defer factory.Shutdown()
	defer stop()
	factory.Start(informerCtx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), deploymentsSynced, factory.Apps().V1alpha1().ReplicaSets().Informer().HasSynced) {
		t.Fatal("informers never synced")
	}
	if _, err := c.AppsV1alpha1().ReplicaSets("informed").Create(ctx, newReplicaSet("seen"), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create: %v", err)
	}
	selector := labels.SelectorFromSet(labels.Set{"app": "seen"})
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, testTimeout, true, func(context.Context) (bool, error) {
		found, err := lister.ReplicaSets("informed").List(selector)
		return err == nil && len(found) == 1, err
	})
	if err != nil {
		t.Fatalf("the lister never saw the ReplicaSet: %v", err)
	}
}

func podTemplate(labels map[string]string) v1alpha1.PodTemplateSpec {
	return v1alpha1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec: v1alpha1.PodSpec{
			Containers: []v1alpha1.Container{{Name: "main", Image: "busybox:1.36", Command: []string{"sleep", "3600"}}},
		},
	}
}

func newDeployment(name string) *appsv1alpha1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1alpha1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: appsv1alpha1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: podTemplate(labels),
		},
	}
}

func newReplicaSet(name string) *appsv1alpha1.ReplicaSet {
	labels := map[string]string{"app": name}
	return &appsv1alpha1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: appsv1alpha1.ReplicaSetSpec{
			Replicas: ptrTo(int32(2)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: podTemplate(labels),
		},
	}
}

func testDeploymentCRUD(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	deployments := c.AppsV1alpha1().Deployments("default")

	d := newDeployment("web")
	d.Status.Replicas = 7 // a client cannot claim pods exist
	created, err := deployments.Create(ctx, d, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	spec := created.Spec
	switch {
	case spec.Replicas == nil || *spec.Replicas != 1:
		t.Errorf("replicas = %v, want the default 1", spec.Replicas)
	case spec.Strategy.Type != appsv1alpha1.RollingUpdateDeploymentStrategyType || spec.Strategy.RollingUpdate == nil:
		t.Errorf("strategy = %+v, want a defaulted RollingUpdate", spec.Strategy)
	case spec.Strategy.RollingUpdate.MaxSurge.String() != "25%" || spec.Strategy.RollingUpdate.MaxUnavailable.String() != "25%":
		t.Errorf("rolling update = %+v, want 25%%/25%%", spec.Strategy.RollingUpdate)
	case spec.RevisionHistoryLimit == nil || *spec.RevisionHistoryLimit != 10:
		t.Errorf("revisionHistoryLimit = %v, want 10", spec.RevisionHistoryLimit)
	case spec.ProgressDeadlineSeconds == nil || *spec.ProgressDeadlineSeconds != 600:
		t.Errorf("progressDeadlineSeconds = %v, want 600", spec.ProgressDeadlineSeconds)
	case spec.Template.Spec.RestartPolicy != v1alpha1.RestartPolicyAlways || spec.Template.Spec.SchedulerName == "":
		t.Errorf("template pod spec not defaulted as a pod's: %+v", spec.Template.Spec)
	case created.Status.Replicas != 0:
		t.Errorf("status.replicas = %d on create, want 0", created.Status.Replicas)
	case created.Generation != 1:
		t.Errorf("generation = %d, want 1", created.Generation)
	}

	got, err := deployments.Get(ctx, "web", metav1.GetOptions{})
	if err != nil || got.UID != created.UID {
		t.Fatalf("get: %v, %+v", err, got)
	}
	list, err := deployments.List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list by label: %v, %d items", err, len(list.Items))
	}

	// A label change is no spec change: the generation stays.
	got.Labels["tier"] = "front"
	got, err = deployments.Update(ctx, got, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update labels: %v", err)
	}
	if got.Generation != 1 {
		t.Errorf("generation = %d after a label change, want 1", got.Generation)
	}
	// A template change is; the status sent along is ignored.
	got.Spec.Template.Spec.Containers[0].Image = "busybox:1.37"
	got.Status.ReadyReplicas = 3
	got, err = deployments.Update(ctx, got, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update template: %v", err)
	}
	if got.Generation != 2 || got.Status.ReadyReplicas != 0 {
		t.Errorf("generation %d, readyReplicas %d after a template update, want 2 and 0", got.Generation, got.Status.ReadyReplicas)
	}

	// Server-side apply owns fields per manager, so a controller and a user
	// can share the object.
	patch := []byte(`{"apiVersion":"apps.skiff.dev/v1alpha1","kind":"Deployment","metadata":{"name":"web"},"spec":{"paused":true}}`)
	applied, err := deployments.Patch(ctx, "web", types.ApplyPatchType, patch, metav1.PatchOptions{FieldManager: "tester", Force: ptrTo(true)})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if !applied.Spec.Paused || !hasManager(applied.ManagedFields, "tester") {
		t.Errorf("apply: paused %v, managers %+v", applied.Spec.Paused, applied.ManagedFields)
	}

	if err := deployments.Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := deployments.Get(ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get after delete: %v, want NotFound", err)
	}
}

func testDeploymentStatus(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	deployments := c.AppsV1alpha1().Deployments("default")
	d, err := deployments.Create(ctx, newDeployment("status"), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	d.Status = appsv1alpha1.DeploymentStatus{
		ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1,
		Conditions: []appsv1alpha1.DeploymentCondition{{Type: appsv1alpha1.DeploymentAvailable, Status: v1alpha1.ConditionTrue, Reason: "MinimumReplicasAvailable"}},
	}
	d.Spec.Paused = true // ignored by deployments/status
	updated, err := deployments.UpdateStatus(ctx, d, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update status: %v", err)
	}
	if updated.Status.AvailableReplicas != 1 || len(updated.Status.Conditions) != 1 {
		t.Errorf("status = %+v, want it written", updated.Status)
	}
	if updated.Spec.Paused || updated.Generation != 1 {
		t.Errorf("status update changed the spec (paused %v) or generation (%d)", updated.Spec.Paused, updated.Generation)
	}

	// A second writer merges its condition by type, keeping the first.
	patch := []byte(`{"status":{"conditions":[{"type":"Progressing","status":"True","reason":"NewReplicaSetAvailable"}]}}`)
	patched, err := deployments.Patch(ctx, "status", types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	if err != nil {
		t.Fatalf("patch status: %v", err)
	}
	if len(patched.Status.Conditions) != 2 {
		t.Errorf("conditions after a merge patch = %+v, want Available and Progressing", patched.Status.Conditions)
	}

	d = patched.DeepCopy()
	d.Status.AvailableReplicas = 5
	_, err = deployments.UpdateStatus(ctx, d, metav1.UpdateOptions{})
	st := expectStatus(t, err, 422, "status with more available than replicas")
	if !hasCause(st, "status.availableReplicas") {
		t.Errorf("causes %s lack status.availableReplicas", causesOf(st))
	}
}

func testDeploymentScale(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	deployments := c.AppsV1alpha1().Deployments("default")
	if _, err := deployments.Create(ctx, newDeployment("scaled"), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create: %v", err)
	}
	scale, err := deployments.GetScale(ctx, "scaled", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get scale: %v", err)
	}
	if scale.Spec.Replicas != 1 || scale.Status.Selector != "app=scaled" {
		t.Errorf("scale = %+v, want 1 replica and selector app=scaled", scale)
	}

	scale.Spec.Replicas = 5
	scaled, err := deployments.UpdateScale(ctx, "scaled", scale, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update scale: %v", err)
	}
	if scaled.Spec.Replicas != 5 {
		t.Errorf("scale after update = %d, want 5", scaled.Spec.Replicas)
	}
	d, err := deployments.Get(ctx, "scaled", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if *d.Spec.Replicas != 5 || d.Generation != 2 {
		t.Errorf("deployment replicas %d generation %d after scaling, want 5 and 2", *d.Spec.Replicas, d.Generation)
	}

	// The Scale read before is stale now: its resourceVersion conflicts.
	scale.Spec.Replicas = 3
	if _, err := deployments.UpdateScale(ctx, "scaled", scale, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Errorf("update of a stale scale: %v, want a conflict", err)
	}

	// kubectl scale sends a merge patch of the Scale.
	raw, err := c.AppsV1alpha1().RESTClient().Patch(types.MergePatchType).Namespace("default").
		Resource("deployments").Name("scaled").SubResource("scale").
		Body([]byte(`{"spec":{"replicas":0}}`)).DoRaw(ctx)
	if err != nil {
		t.Fatalf("patch scale: %v", err)
	}
	var patched autoscalingv1.Scale
	if err := json.Unmarshal(raw, &patched); err != nil {
		t.Fatalf("decode scale %s: %v", raw, err)
	}
	if patched.Kind != "Scale" || patched.APIVersion != "autoscaling/v1" || patched.Spec.Replicas != 0 {
		t.Errorf("patched scale = %s, want an autoscaling/v1 Scale of 0", raw)
	}

	fresh, err := deployments.GetScale(ctx, "scaled", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get scale: %v", err)
	}
	fresh.Spec.Replicas = -1
	_, err = deployments.UpdateScale(ctx, "scaled", fresh, metav1.UpdateOptions{})
	st := expectStatus(t, err, 422, "scale to -1")
	if !hasCause(st, "spec.replicas") {
		t.Errorf("causes %s lack spec.replicas", causesOf(st))
	}

	// Server-side apply through the scale subresource records its manager
	// on the Deployment's spec.replicas, as kube-apiserver does, so a later
	// apply of the Deployment by another manager sees the conflict.
	scaleApply := []byte(`{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"scaled","namespace":"default"},"spec":{"replicas":2}}`)
	if err := c.AppsV1alpha1().RESTClient().Patch(types.ApplyPatchType).Namespace("default").
		Resource("deployments").Name("scaled").SubResource("scale").
		Param("fieldManager", "autoscaler").Param("force", "true").
		Body(scaleApply).Do(ctx).Error(); err != nil {
		t.Fatalf("apply scale: %v", err)
	}
	d, err = deployments.Get(ctx, "scaled", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if *d.Spec.Replicas != 2 || !hasManager(d.ManagedFields, "autoscaler") {
		t.Errorf("after an apply of the scale: replicas %d, managers %+v; want 2 and autoscaler", *d.Spec.Replicas, d.ManagedFields)
	}
	conflicting := []byte(`{"apiVersion":"apps.skiff.dev/v1alpha1","kind":"Deployment","metadata":{"name":"scaled"},"spec":{"replicas":4}}`)
	_, err = deployments.Patch(ctx, "scaled", types.ApplyPatchType, conflicting, metav1.PatchOptions{FieldManager: "someone-else"})
	if !apierrors.IsConflict(err) || !strings.Contains(err.Error(), "autoscaler") {
		t.Errorf("apply of replicas owned by the autoscaler: %v, want a conflict naming it", err)
	}

	if _, err := deployments.GetScale(ctx, "absent", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("scale of a missing deployment: %v, want NotFound", err)
	}
	missing := &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "absent", Namespace: "default"}, Spec: autoscalingv1.ScaleSpec{Replicas: 2}}
	if _, err := deployments.UpdateScale(ctx, "absent", missing, metav1.UpdateOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("scaling a missing deployment: %v, want NotFound", err)
	}
}

func testReplicaSet(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	replicaSets := c.AppsV1alpha1().ReplicaSets("default")
	rs, err := replicaSets.Create(ctx, newReplicaSet("cache"), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if *rs.Spec.Replicas != 2 || rs.Generation != 1 {
		t.Errorf("created replicas %d generation %d, want 2 and 1", *rs.Spec.Replicas, rs.Generation)
	}

	rs.Status = appsv1alpha1.ReplicaSetStatus{Replicas: 2, FullyLabeledReplicas: 2, ReadyReplicas: 1, AvailableReplicas: 1, ObservedGeneration: 1}
	rs, err = replicaSets.UpdateStatus(ctx, rs, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update status: %v", err)
	}
	if rs.Status.Replicas != 2 {
		t.Errorf("status = %+v, want it written", rs.Status)
	}
	list, err := replicaSets.List(ctx, metav1.ListOptions{FieldSelector: "status.replicas=2"})
	if err != nil || len(list.Items) != 1 {
		t.Errorf("list by status.replicas: %v, %d items", err, len(list.Items))
	}
	if _, err := replicaSets.List(ctx, metav1.ListOptions{FieldSelector: "spec.paused=true"}); !apierrors.IsBadRequest(err) {
		t.Errorf("list by an unknown field: %v, want 400", err)
	}

	scale, err := replicaSets.GetScale(ctx, "cache", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get scale: %v", err)
	}
	if scale.Spec.Replicas != 2 || scale.Status.Replicas != 2 {
		t.Errorf("scale = %+v, want 2 desired and 2 current", scale)
	}
	scale.Spec.Replicas = 4
	if _, err := replicaSets.UpdateScale(ctx, "cache", scale, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update scale: %v", err)
	}
	rs, err = replicaSets.Get(ctx, "cache", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if *rs.Spec.Replicas != 4 || rs.Generation != 2 || rs.Status.Replicas != 2 {
		t.Errorf("after scaling: replicas %d generation %d status.replicas %d, want 4, 2, 2", *rs.Spec.Replicas, rs.Generation, rs.Status.Replicas)
	}

	rs.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "other"}}
	rs.Spec.Template.Labels = map[string]string{"app": "other"}
	_, err = replicaSets.Update(ctx, rs, metav1.UpdateOptions{})
	st := expectStatus(t, err, 422, "a changed selector")
	if !hasCause(st, "spec.selector") {
		t.Errorf("causes %s lack spec.selector", causesOf(st))
	}
}

func testAppsBadInput(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	tests := []struct {
		name   string
		mutate func(*appsv1alpha1.Deployment)
		fields []string
	}{
		{
			name:   "a selector that does not match the template's labels",
			mutate: func(d *appsv1alpha1.Deployment) { d.Spec.Template.Labels = map[string]string{"app": "elsewhere"} },
			fields: []string{"spec.template.metadata.labels"},
		},
		{
			name:   "negative replicas",
			mutate: func(d *appsv1alpha1.Deployment) { d.Spec.Replicas = ptrTo(int32(-1)) },
			fields: []string{"spec.replicas"},
		},
		{
			name: "maxSurge and maxUnavailable both zero",
			mutate: func(d *appsv1alpha1.Deployment) {
				zero := intstr.FromInt32(0)
				zeroPercent := intstr.FromString("0%")
				d.Spec.Strategy.RollingUpdate = &appsv1alpha1.RollingUpdateDeployment{MaxSurge: &zero, MaxUnavailable: &zeroPercent}
			},
			fields: []string{"spec.strategy.rollingUpdate.maxUnavailable"},
		},
		{
			name: "an invalid pod under spec.template",
			mutate: func(d *appsv1alpha1.Deployment) {
				d.Spec.Template.Spec.Containers[0].Image = ""
				d.Spec.Template.Spec.RestartPolicy = v1alpha1.RestartPolicyNever
			},
			fields: []string{"spec.template.spec.containers[0].image", "spec.template.spec.restartPolicy"},
		},
		{
			name:   "no selector",
			mutate: func(d *appsv1alpha1.Deployment) { d.Spec.Selector = nil },
			fields: []string{"spec.selector"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDeployment("bad")
			tc.mutate(d)
			_, err := c.AppsV1alpha1().Deployments("default").Create(ctx, d, metav1.CreateOptions{})
			st := expectStatus(t, err, 422, tc.name)
			for _, f := range tc.fields {
				if !hasCause(st, f) {
					t.Errorf("causes %s lack %s", causesOf(st), f)
				}
			}
			if st.Details == nil || st.Details.Kind != "Deployment" || st.Details.Group != "apps.skiff.dev" {
				t.Errorf("details = %+v, want kind Deployment in apps.skiff.dev", st.Details)
			}
		})
	}

	t.Run("a changed deployment selector", func(t *testing.T) {
		d, err := c.AppsV1alpha1().Deployments("default").Create(ctx, newDeployment("fixed"), metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		d.Spec.Selector.MatchLabels["tier"] = "x"
		d.Spec.Template.Labels["tier"] = "x"
		_, err = c.AppsV1alpha1().Deployments("default").Update(ctx, d, metav1.UpdateOptions{})
		st := expectStatus(t, err, 422, "a changed selector")
		if !hasCause(st, "spec.selector") {
			t.Errorf("causes %s lack spec.selector", causesOf(st))
		}
	})
}
