package kubectlplugin

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

func pod(ns, name, nodeName string, owner string, phase v1alpha1.PodPhase) *v1alpha1.Pod {
	p := &v1alpha1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(ns + "-" + name), Labels: map[string]string{"app": name}},
		Spec:       v1alpha1.PodSpec{NodeName: nodeName},
		Status:     v1alpha1.PodStatus{Phase: phase},
	}
	if owner != "" {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: owner, Name: "owner", UID: "owner", Controller: ptr.To(true)}}
	}
	return p
}

func podNames(t *testing.T, client interface {
	Tracker() clienttesting.ObjectTracker
}) []string {
	t.Helper()
	var names []string
	for _, ns := range []string{"default", "team"} {
		list, err := client.Tracker().List(v1alpha1.SchemeGroupVersion.WithResource("pods"), v1alpha1.SchemeGroupVersion.WithKind("Pod"), ns)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range list.(*v1alpha1.PodList).Items {
			names = append(names, p.Namespace+"/"+p.Name)
		}
	}
	return names
}

func TestDrainRefusesPodsWithoutController(t *testing.T) {
	client := newFake(node("n1", false, nil),
		pod("default", "managed", "n1", "ReplicaSet", v1alpha1.PodRunning),
		pod("team", "bare", "n1", "", v1alpha1.PodRunning),
		pod("default", "elsewhere", "n2", "", v1alpha1.PodRunning))
	out, errOut, err := runFake(t, client, "drain", "n1")
	want := "cannot delete Pods that declare no controller (use --force to override): team/bare"
	if err == nil || err.Error() != want {
		t.Fatalf("want error %q, got %v", want, err)
	}
	if out != "node/n1 cordoned\n" || !strings.Contains(errOut, `error: unable to drain node "n1" due to error: `+want+", continuing command...") ||
		!strings.Contains(errOut, "There are pending nodes to be drained:\n n1\n") {
		t.Errorf("out %q errOut %q", out, errOut)
	}
	// Nothing is deleted when one pod is refused, as kubectl does.
	if got := podNames(t, client); len(got) != 3 {
		t.Errorf("pods left: %v", got)
	}
}

func TestDrainForce(t *testing.T) {
	client := newFake(node("n1", false, nil),
		pod("default", "managed", "n1", "ReplicaSet", v1alpha1.PodRunning),
		pod("team", "bare", "n1", "", v1alpha1.PodRunning),
		pod("default", "done", "n1", "", v1alpha1.PodSucceeded),
		pod("default", "elsewhere", "n2", "", v1alpha1.PodRunning))
	out, errOut, err := runFake(t, client, "drain", "n1", "--force", "--grace-period=5", "--timeout=1m", "--ignore-daemonsets", "--delete-emptydir-data")
	if err != nil {
		t.Fatalf("drain: %v (%s)", err, errOut)
	}
	for _, line := range []string{"node/n1 cordoned", "evicting pod team/bare", "pod/bare evicted", "evicting pod default/managed", "pod/managed evicted", "evicting pod default/done", "node/n1 drained"} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}
	if !strings.HasSuffix(out, "node/n1 drained\n") {
		t.Errorf("drained is not the last word:\n%s", out)
	}
	if errOut != "Warning: deleting Pods that declare no controller: team/bare\n" {
		t.Errorf("errOut %q", errOut)
	}
	if got := podNames(t, client); len(got) != 1 || got[0] != "default/elsewhere" {
		t.Errorf("pods left: %v", got)
	}
	for _, a := range client.Actions() {
		if d, ok := a.(clienttesting.DeleteAction); ok {
			if g := d.GetDeleteOptions().GracePeriodSeconds; g == nil || *g != 5 {
				t.Errorf("delete of %s without --grace-period: %v", d.GetName(), g)
			}
			if d.GetDeleteOptions().Preconditions == nil || d.GetDeleteOptions().Preconditions.UID == nil {
				t.Errorf("delete of %s without a UID precondition", d.GetName())
			}
		}
	}
	n, _ := client.CoreV1alpha1().Nodes().Get(context.Background(), "n1", metav1.GetOptions{})
	if !n.Spec.Unschedulable {
		t.Error("drained node not cordoned")
	}
	if out, _, err := runFake(t, client, "drain", "n1"); err != nil || out != "node/n1 already cordoned\nnode/n1 drained\n" {
		t.Errorf("drain of an empty node: %q %v", out, err)
	}
}

func TestDrainDaemonSetsSelectorAndDryRun(t *testing.T) {
	client := newFake(node("n1", false, nil),
		pod("default", "ds", "n1", "DaemonSet", v1alpha1.PodRunning),
		pod("default", "web", "n1", "ReplicaSet", v1alpha1.PodRunning),
		pod("default", "db", "n1", "ReplicaSet", v1alpha1.PodRunning))
	if _, _, err := runFake(t, client, "drain", "n1"); err == nil || !strings.Contains(err.Error(), "DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/ds") {
		t.Fatalf("want the DaemonSet refusal, got %v", err)
	}

	client.ClearActions()
	out, errOut, err := runFake(t, client, "drain", "n1", "--ignore-daemonsets", "--dry-run=client")
	if err != nil || out != "node/n1 already cordoned (dry run)\nevicting pod default/db (dry run)\nevicting pod default/web (dry run)\nnode/n1 drained (dry run)\n" {
		t.Fatalf("dry run: %q %v", out, err)
	}
	if w := writes(client.Actions()); len(w) != 0 {
		t.Fatalf("client dry run wrote %v", w)
	}
	if errOut != "Warning: ignoring DaemonSet-managed Pods: default/ds\n" {
		t.Errorf("errOut %q", errOut)
	}

	out, errOut, err = runFake(t, client, "drain", "n1", "--ignore-daemonsets", "--pod-selector", "app=web")
	if err != nil || !strings.Contains(out, "pod/web evicted") || strings.Contains(out, "db") {
		t.Fatalf("pod selector: %q %v", out, err)
	}
	if errOut != "" {
		t.Errorf("--pod-selector left out the DaemonSet pod, yet: %q", errOut)
	}
	if got := podNames(t, client); strings.Join(got, " ") != "default/db default/ds" {
		t.Errorf("pods left: %v", got)
	}
	if _, _, err := runFake(t, client, "drain", "n1", "--pod-selector", "a b"); err == nil {
		t.Error("a bad --pod-selector should be refused")
	}
}

func TestDrainTimeout(t *testing.T) {
	client := newFake(node("n1", false, nil), pod("default", "stuck", "n1", "ReplicaSet", v1alpha1.PodRunning))
	// The server accepts the delete but the pod stays, as one whose
	// kubelet never confirms it has stopped.
	client.PrependReactor("delete", "pods", func(clienttesting.Action) (bool, runtime.Object, error) { return true, nil, nil })
	out, errOut, err := runFake(t, client, "drain", "n1", "--timeout=1s")
	want := `error when waiting for pod "stuck" in namespace "default" to terminate: global timeout reached: 1s`
	if err == nil || err.Error() != want {
		t.Fatalf("want %q, got %v", want, err)
	}
	if !strings.Contains(out, "evicting pod default/stuck\n") || strings.Contains(out, "drained") || !strings.Contains(errOut, "There are pending nodes to be drained:\n n1\n") {
		t.Errorf("out %q errOut %q", out, errOut)
	}
}
