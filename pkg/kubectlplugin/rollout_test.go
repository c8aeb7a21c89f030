package kubectlplugin

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/utils/ptr"

	appsv1alpha1 "skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	dutil "skiff.dev/skiff/pkg/controller/deployment/util"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/fake"
)

func TestDeploymentName(t *testing.T) {
	for _, args := range [][]string{{"deployment/web"}, {"deployments.apps.skiff.dev/web"}, {"sdeploy/web"}, {"deploy", "web"}} {
		if n, err := deploymentName(args); err != nil || n != "web" {
			t.Errorf("deploymentName(%q) = %q, %v", args, n, err)
		}
	}
	for _, args := range [][]string{{"web"}, {"pod/web"}, {"deployment/"}} {
		if _, err := deploymentName(args); err == nil {
			t.Errorf("deploymentName(%q) accepted", args)
		}
	}
}

func statusDeployment(gen, observed int64, replicas, updated, total, available int32, cond *appsv1alpha1.DeploymentCondition) *appsv1alpha1.Deployment {
	d := &appsv1alpha1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Generation: gen},
		Spec:   appsv1alpha1.DeploymentSpec{Replicas: &replicas},
		Status: appsv1alpha1.DeploymentStatus{ObservedGeneration: observed, UpdatedReplicas: updated, Replicas: total, AvailableReplicas: available}}
	if cond != nil {
		d.Status.Conditions = []appsv1alpha1.DeploymentCondition{*cond}
	}
	return d
}

func TestStatusMessage(t *testing.T) {
	timedOut := &appsv1alpha1.DeploymentCondition{Type: appsv1alpha1.DeploymentProgressing, Status: v1alpha1.ConditionFalse, Reason: dutil.TimedOutReason}
	tests := []struct {
		d       *appsv1alpha1.Deployment
		want    string
		done    bool
		wantErr string
	}{
		{statusDeployment(2, 1, 3, 3, 3, 3, nil), "Waiting for deployment spec update to be observed...\n", false, ""},
		{statusDeployment(1, 1, 3, 1, 4, 3, nil), `Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...` + "\n", false, ""},
		{statusDeployment(1, 1, 3, 3, 4, 3, nil), `Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...` + "\n", false, ""},
		{statusDeployment(1, 1, 3, 3, 3, 1, nil), `Waiting for deployment "web" rollout to finish: 1 of 3 updated replicas are available...` + "\n", false, ""},
		{statusDeployment(1, 1, 3, 3, 3, 3, nil), `deployment "web" successfully rolled out` + "\n", true, ""},
		{statusDeployment(1, 1, 3, 1, 3, 2, timedOut), "", false, `deployment "web" exceeded its progress deadline`},
	}
	for i, tc := range tests {
		msg, done, err := statusMessage(tc.d, 0)
		if msg != tc.want || done != tc.done || (err == nil) != (tc.wantErr == "") || (err != nil && err.Error() != tc.wantErr) {
			t.Errorf("%d: statusMessage = %q, %v, %v; want %q, %v, %q", i, msg, done, err, tc.want, tc.done, tc.wantErr)
		}
	}
}

func TestRolloutStatusFailsPastTheDeadline(t *testing.T) {
	d := statusDeployment(1, 1, 3, 1, 3, 2, &appsv1alpha1.DeploymentCondition{Type: appsv1alpha1.DeploymentProgressing, Reason: dutil.TimedOutReason})
	d.Namespace = "default"
	var out bytes.Buffer
	err := rolloutStatus(context.Background(), fake.NewClientset(d), "default", "web", &rolloutOptions{watch: true}, genericiooptions.IOStreams{Out: &out, ErrOut: &out})
	if err == nil || err.Error() != `deployment "web" exceeded its progress deadline` {
		t.Errorf("rollout status = %v", err)
	}
	// --timeout ends a rollout that does not finish.
	d = statusDeployment(1, 1, 3, 1, 3, 2, nil)
	d.Namespace = "default"
	statusPollInterval = 10 * time.Millisecond
	out.Reset()
	err = rolloutStatus(context.Background(), fake.NewClientset(d), "default", "web", &rolloutOptions{watch: true, timeout: 50 * time.Millisecond}, genericiooptions.IOStreams{Out: &out, ErrOut: &out})
	if err == nil || !strings.Contains(out.String(), "1 out of 3 new replicas have been updated") {
		t.Errorf("rollout status with a timeout = %v, printed %q", err, out.String())
	}
}

func revisionRS(d *appsv1alpha1.Deployment, rev, cmd string) *appsv1alpha1.ReplicaSet {
	return &appsv1alpha1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web-" + rev, UID: types.UID("rs-" + rev),
			Labels:          map[string]string{"app": "web", dutil.DefaultDeploymentUniqueLabelKey: "h" + rev},
			Annotations:     map[string]string{dutil.RevisionAnnotation: rev},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps.skiff.dev/v1alpha1", Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: ptr.To(true)}}},
		Spec: appsv1alpha1.ReplicaSetSpec{Template: v1alpha1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web", dutil.DefaultDeploymentUniqueLabelKey: "h" + rev}},
			Spec:       v1alpha1.PodSpec{Containers: []v1alpha1.Container{{Name: "main", Image: "busybox", Command: []string{cmd}}}},
		}},
	}
}

func TestRolloutHistoryAndUndo(t *testing.T) {
	d := &appsv1alpha1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web", UID: "d-uid", ResourceVersion: "7",
			Annotations: map[string]string{dutil.RevisionAnnotation: "2"}},
		Spec: appsv1alpha1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: v1alpha1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       v1alpha1.PodSpec{Containers: []v1alpha1.Container{{Name: "main", Image: "busybox", Command: []string{"v2"}}}},
			},
		},
	}
	old, cur := revisionRS(d, "1", "v1"), revisionRS(d, "2", "v2")
	old.Annotations[changeCauseAnnotation] = "first"
	client := fake.NewClientset(d, old, cur)
	ctx := context.Background()
	var out bytes.Buffer
	streams := genericiooptions.IOStreams{Out: &out, ErrOut: &out}
	if err := rolloutHistory(ctx, client, "default", "web", &rolloutOptions{}, streams); err != nil {
		t.Fatal(err)
	}
	want := "deployment.apps.skiff.dev/web \nREVISION  CHANGE-CAUSE\n1         first\n2         <none>\n\n"
	if out.String() != want {
		t.Errorf("history:\n%q\nwant\n%q", out.String(), want)
	}
	out.Reset()
	if err := rolloutHistory(ctx, client, "default", "web", &rolloutOptions{revision: 1}, streams); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "deployment.apps.skiff.dev/web with revision #1\nPod Template:\n") || !strings.Contains(out.String(), "- v1") ||
		strings.Contains(out.String(), dutil.DefaultDeploymentUniqueLabelKey) {
		t.Errorf("history --revision 1:\n%s", out.String())
	}

	out.Reset()
	if err := rolloutUndo(ctx, client, "default", "web", &rolloutOptions{}, streams); err != nil {
		t.Fatal(err)
	}
	if out.String() != "deployment.apps.skiff.dev/web rolled back\n" {
		t.Errorf("undo printed %q", out.String())
	}
	got, err := client.AppsV1alpha1().Deployments("default").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cmd := got.Spec.Template.Spec.Containers[0].Command; len(cmd) != 1 || cmd[0] != "v1" {
		t.Errorf("template command after undo %v, want [v1]", cmd)
	}
	if _, ok := got.Spec.Template.Labels[dutil.DefaultDeploymentUniqueLabelKey]; ok {
		t.Error("undo copied the pod-template-hash label into the deployment")
	}
	if got.Annotations[changeCauseAnnotation] != "first" || got.Annotations[dutil.RevisionAnnotation] != "2" {
		t.Errorf("annotations after undo %v", got.Annotations)
	}
	// The same undo again finds the template already there.
	if err := rolloutUndo(ctx, client, "default", "web", &rolloutOptions{toRevision: 1}, streams); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "skipped rollback (current template already matches revision 1)") {
		t.Errorf("second undo printed %q", out.String())
	}
	if err := rolloutUndo(ctx, client, "default", "web", &rolloutOptions{toRevision: 9}, streams); err == nil ||
		err.Error() != "unable to find specified revision 9 in history" {
		t.Errorf("undo to a missing revision: %v", err)
	}
}

func TestRolloutPauseResumeRestart(t *testing.T) {
	d := &appsv1alpha1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"}}
	client := fake.NewClientset(d)
	ctx := context.Background()
	var out bytes.Buffer
	streams := genericiooptions.IOStreams{Out: &out, ErrOut: &out}
	for _, f := range []func(context.Context, *fake.Clientset) error{
		func(ctx context.Context, c *fake.Clientset) error {
			return rolloutPause(ctx, c, "default", "web", nil, streams)
		},
		func(ctx context.Context, c *fake.Clientset) error {
			return rolloutPause(ctx, c, "default", "web", nil, streams)
		},
		func(ctx context.Context, c *fake.Clientset) error {
			return rolloutRestart(ctx, c, "default", "web", nil, streams)
		},
		func(ctx context.Context, c *fake.Clientset) error {
			return rolloutResume(ctx, c, "default", "web", nil, streams)
		},
		func(ctx context.Context, c *fake.Clientset) error {
			return rolloutRestart(ctx, c, "default", "web", nil, streams)
		},
	} {
		if err := f(ctx, client); err != nil {
			out.WriteString("error: " + err.Error() + "\n")
		}
	}
	want := "deployment.apps.skiff.dev/web paused\n" +
		"deployment.apps.skiff.dev/web already paused\n" +
		"error: can't restart paused deployment (run rollout resume first)\n" +
		"deployment.apps.skiff.dev/web resumed\n" +
		"deployment.apps.skiff.dev/web restarted\n"
	if out.String() != want {
		t.Errorf("printed\n%s\nwant\n%s", out.String(), want)
	}
	got, _ := client.AppsV1alpha1().Deployments("default").Get(ctx, "web", metav1.GetOptions{})
	if _, err := time.Parse(time.RFC3339, got.Spec.Template.Annotations[dutil.RestartedAtAnnotation]); err != nil {
		t.Errorf("restartedAt annotation %q: %v", got.Spec.Template.Annotations[dutil.RestartedAtAnnotation], err)
	}
}
