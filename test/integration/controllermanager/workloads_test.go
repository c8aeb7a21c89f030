package controllermanager

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	appsv1alpha1 "skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/controller"
	dutil "skiff.dev/skiff/pkg/controller/deployment/util"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/test/integration/framework"
)

// readyEveryPod stands in for the scheduler and kubelets: it reports every
// pod of namespace Running and Ready, until the test ends.
func readyEveryPod(t *testing.T, c clientset.Interface, namespace string) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	patch := []byte(`{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}`)
	go wait.UntilWithContext(ctx, func(ctx context.Context) {
		pods, err := c.CoreV1alpha1().Pods(namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return
		}
		for _, p := range pods.Items {
			if p.DeletionTimestamp == nil && !controller.IsPodReady(&p) {
				_, _ = c.CoreV1alpha1().Pods(namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
			}
		}
	}, 100*time.Millisecond)
}

func readyPods(ctx context.Context, c clientset.Interface) (int, error) {
	pods, err := c.CoreV1alpha1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil && controller.IsPodReady(&p) {
			n++
		}
	}
	return n, nil
}

func rolledOut(ctx context.Context, c clientset.Interface, replicas int32) func() (bool, error) {
	return func() (bool, error) {
		d, err := c.AppsV1alpha1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		cond := dutil.GetCondition(d.Status, appsv1alpha1.DeploymentProgressing)
		return d.Status.ObservedGeneration == d.Generation && d.Status.UpdatedReplicas == replicas &&
			d.Status.Replicas == replicas && d.Status.AvailableReplicas == replicas &&
			cond != nil && cond.Reason == dutil.NewRSAvailableReason, nil
	}
}

// TestDeploymentRollsOutThroughReplicaSets runs the Deployment and
// ReplicaSet controllers in the controller manager against the in-process
// server: a Deployment becomes available, a rolling update with
// maxUnavailable 0 never drops below its replicas, and the scale
// subresource scales it.
func TestDeploymentRollsOutThroughReplicaSets(t *testing.T) {
	s := framework.StartTestServer(t)
	c := s.Client
	ctx := context.Background()
	startControllerManager(t, s)
	readyEveryPod(t, c, ns)

	labels := map[string]string{"app": "web"}
	d := &appsv1alpha1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: appsv1alpha1.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: v1alpha1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       v1alpha1.PodSpec{Containers: []v1alpha1.Container{{Name: "main", Image: "busybox:1.36", Command: []string{"sleep", "1"}}}},
			},
			Strategy: appsv1alpha1.DeploymentStrategy{Type: appsv1alpha1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1alpha1.RollingUpdateDeployment{MaxSurge: ptr.To(intstr.FromInt32(1)), MaxUnavailable: ptr.To(intstr.FromInt32(0))}},
		},
	}
	if _, err := c.AppsV1alpha1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment: %v", err)
	}
	eventually(t, "deployment web to roll out 3 replicas", rolledOut(ctx, c, 3))

	// Every pod is owned by the one ReplicaSet, which is owned by web.
	rss, err := c.AppsV1alpha1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(rss.Items) != 1 {
		t.Fatalf("replica sets: %v, %v", rss, err)
	}
	first := rss.Items[0]
	if ref := metav1.GetControllerOf(&first); ref == nil || ref.Kind != "Deployment" || ref.Name != "web" {
		t.Errorf("replica set %s controller %+v", first.Name, ref)
	}
	if first.Annotations[dutil.RevisionAnnotation] != "1" || first.Status.ReadyReplicas != 3 {
		t.Errorf("replica set %s: annotations %v status %+v", first.Name, first.Annotations, first.Status)
	}

	// Roll to a new command, watching the ready pods all along.
	var minReady atomic.Int32
	minReady.Store(3)
	watchCtx, stopWatching := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		wait.UntilWithContext(watchCtx, func(ctx context.Context) {
			if n, err := readyPods(ctx, c); err == nil && int32(n) < minReady.Load() {
				minReady.Store(int32(n))
			}
		}, 20*time.Millisecond)
	}()
	cur, err := c.AppsV1alpha1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur.Spec.Template.Spec.Containers[0].Command = []string{"sleep", "2"}
	if _, err := c.AppsV1alpha1().Deployments(ns).Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update template: %v", err)
	}
	eventually(t, "the new revision to roll out", rolledOut(ctx, c, 3))
	stopWatching()
	<-watched
	if n := minReady.Load(); n < 3 {
		t.Errorf("%d ready pods at one observation during a rollout with maxUnavailable 0, want at least 3", n)
	}
	cur, _ = c.AppsV1alpha1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	if cur.Annotations[dutil.RevisionAnnotation] != "2" {
		t.Errorf("deployment revision %q, want 2", cur.Annotations[dutil.RevisionAnnotation])
	}

	// The scale subresource.
	scale, err := c.AppsV1alpha1().Deployments(ns).GetScale(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get scale: %v", err)
	}
	scale.Spec.Replicas = 5
	if _, err := c.AppsV1alpha1().Deployments(ns).UpdateScale(ctx, "web", scale, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update scale: %v", err)
	}
	eventually(t, "web to scale to 5", rolledOut(ctx, c, 5))
	eventually(t, "5 ready pods", func() (bool, error) {
		n, err := readyPods(ctx, c)
		return n == 5, err
	})
	events, err := s.Kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]int{}
	for _, e := range events.Items {
		reasons[e.Reason]++
	}
	for _, r := range []string{"ScalingReplicaSet", "SuccessfulCreate", "SuccessfulDelete"} {
		if reasons[r] == 0 {
			t.Errorf("no %s event; got %v", r, reasons)
		}
	}
}
