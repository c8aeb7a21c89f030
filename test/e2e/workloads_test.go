package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/test/e2e/framework"
)

// workloadManifest is an apps.skiff.dev Deployment of replicas pods whose
// container runs until told to stop, with version in its command so that a
// change of version is a change of template. deadline is its
// progressDeadlineSeconds; extra is added to the pod's spec.
func workloadManifest(name string, replicas int, version string, deadline int, extra ...string) string {
	return fmt.Sprintf(`apiVersion: apps.skiff.dev/v1alpha1
kind: Deployment
metadata:
  name: %[1]s
  namespace: default
spec:
  progressDeadlineSeconds: %[4]d
  replicas: %[2]d
  selector:
    matchLabels: {app: %[1]s}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      terminationGracePeriodSeconds: 5%[5]s
      containers:
      - name: main
        image: busybox:1.36
        command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done", "skiff-e2e-workload-%[1]s-%[3]s"]
`, name, replicas, version, deadline, strings.Join(append([]string{""}, extra...), "\n      "))
}

// TestDeploymentsWithKubectl runs the ReplicaSet, Deployment, garbage
// collector, node lifecycle and taint eviction controllers in
// skiff-controller-manager with the scheduler and two process-runtime
// kubelets, and drives them as a user does: kubectl apply, kubectl skiff
// rollout status|undo|history, kubectl delete, and a kill -9 of a kubelet.
func TestDeploymentsWithKubectl(t *testing.T) {
	server := framework.StartAPIServer(t, filepath.Join(t.TempDir(), "data"), framework.FreePort(t))
	client := server.AdminClient(t)
	k := framework.NewKubectl(t, server.Kubeconfig)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	framework.StartScheduler(t, server)
	kubelets := map[string]*framework.Kubelet{}
	for _, n := range []string{"wl-a", "wl-b"} {
		kubelets[n] = framework.StartKubelet(t, server, framework.KubeletOptions{NodeName: n, Runtime: "process"})
	}
	for _, n := range []string{"wl-a", "wl-b"} {
		framework.WaitFor(t, 30*time.Second, "node "+n+" Ready", func() (bool, error) {
			node, err := client.CoreV1alpha1().Nodes().Get(ctx, n, metav1.GetOptions{})
			return err == nil && nodeIsReady(node), nil
		})
	}
	framework.Start(t, "skiff-controller-manager", framework.Binary(t, "skiff-controller-manager"),
		"--kubeconfig", framework.Kubeconfig(t, server, "system:kube-controller-manager"),
		"--controllers", "replicaset-controller,deployment-controller,garbage-collector-controller,node-lifecycle-controller,taint-eviction-controller",
		"--node-monitor-grace-period", "25s", "--secure-port", "0")

	plugin := func(args ...string) (string, error) {
		cmd := k.Command(ctx, framework.BinDir(t), append([]string{"skiff"}, args...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	mustPlugin := func(args ...string) string {
		t.Helper()
		out, err := plugin(args...)
		if err != nil {
			t.Fatalf("kubectl skiff %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	// commands lists the version in the command of every live web pod.
	commands := func(app string) (map[string]int, int) {
		pods, err := client.CoreV1alpha1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
		if err != nil {
			return nil, 0
		}
		versions, ready := map[string]int{}, 0
		for i := range pods.Items {
			p := &pods.Items[i]
			if p.DeletionTimestamp != nil {
				continue
			}
			cmd := p.Spec.Containers[0].Command
			versions[cmd[len(cmd)-1][strings.LastIndex(cmd[len(cmd)-1], "-")+1:]]++
			if podRunningAndReady(p) {
				ready++
			}
		}
		return versions, ready
	}

	// 1. Three replicas become available.
	k.MustRun(t, workloadManifest("web", 3, "v1", 600), "apply", "-f", "-")
	out := mustPlugin("rollout", "status", "deployment/web", "--timeout", "120s")
	if !strings.HasSuffix(out, "deployment \"web\" successfully rolled out\n") {
		t.Errorf("rollout status printed:\n%s", out)
	}
	if v, ready := commands("web"); v["v1"] != 3 || ready != 3 {
		t.Fatalf("after the first rollout: versions %v, %d ready", v, ready)
	}
	if out := k.MustRun(t, "", "get", "sdeploy", "web"); !strings.Contains(out, "3/3") {
		t.Errorf("kubectl get sdeploy web:\n%s", out)
	}

	// 2. A rolling update with maxUnavailable 0 never has fewer than 3
	// ready pods.
	var minReady atomic.Int32
	minReady.Store(3)
	var observations atomic.Int32
	watchCtx, stopWatching := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for watchCtx.Err() == nil {
			if _, ready := commands("web"); ready < int(minReady.Load()) {
				minReady.Store(int32(ready))
			}
			observations.Add(1)
			time.Sleep(50 * time.Millisecond)
		}
	}()
	k.MustRun(t, workloadManifest("web", 3, "v2", 600), "apply", "-f", "-")
	mustPlugin("rollout", "status", "sdeploy/web", "--timeout", "120s")
	stopWatching()
	<-watched
	if n := minReady.Load(); n < 3 {
		t.Errorf("%d ready pods at one of %d observations during the rolling update, want at least 3", n, observations.Load())
	}
	t.Logf("rolling update: at least %d ready pods at each of %d observations", minReady.Load(), observations.Load())
	framework.WaitFor(t, 60*time.Second, "only v2 pods", func() (bool, error) {
		v, ready := commands("web")
		return v["v2"] == 3 && len(v) == 1 && ready == 3, nil
	})

	// 3. Undo brings v1 back, as revision 3.
	if out := mustPlugin("rollout", "undo", "deployments.apps.skiff.dev/web"); out != "deployment.apps.skiff.dev/web rolled back\n" {
		t.Errorf("rollout undo printed %q", out)
	}
	mustPlugin("rollout", "status", "deployment/web", "--timeout", "120s")
	framework.WaitFor(t, 60*time.Second, "only v1 pods again", func() (bool, error) {
		v, ready := commands("web")
		return v["v1"] == 3 && len(v) == 1 && ready == 3, nil
	})
	if out := mustPlugin("rollout", "history", "deployment/web"); !strings.Contains(out, "\n2 ") || !strings.Contains(out, "\n3 ") || strings.Contains(out, "\n1 ") {
		t.Errorf("rollout history after the undo (revision 1 became 3):\n%s", out)
	}
	if rev := k.MustRun(t, "", "get", "sdeploy", "web", "-o", `jsonpath={.metadata.annotations.deployment\.kubernetes\.io/revision}`); rev != "3" {
		t.Errorf("deployment revision %q, want 3", rev)
	}

	// 4. kubectl delete removes the ReplicaSets and the pods.
	k.MustRun(t, "", "delete", "sdeploy", "web", "--timeout=60s")
	framework.WaitFor(t, 90*time.Second, "web's replica sets and pods gone", func() (bool, error) {
		rss, err := client.AppsV1alpha1().ReplicaSets("default").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		if err != nil {
			return false, nil
		}
		pods, err := client.CoreV1alpha1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		return err == nil && len(rss.Items) == 0 && len(pods.Items) == 0, nil
	})

	// 5. --cascade=orphan leaves them.
	k.MustRun(t, workloadManifest("keep", 2, "v1", 600), "apply", "-f", "-")
	mustPlugin("rollout", "status", "deployment/keep", "--timeout", "120s")
	k.MustRun(t, "", "delete", "sdeploy", "keep", "--cascade=orphan", "--timeout=60s")
	framework.WaitFor(t, 30*time.Second, "keep's replica set orphaned", func() (bool, error) {
		rss, err := client.AppsV1alpha1().ReplicaSets("default").List(ctx, metav1.ListOptions{LabelSelector: "app=keep"})
		return err == nil && len(rss.Items) == 1 && len(rss.Items[0].OwnerReferences) == 0, nil
	})
	time.Sleep(3 * time.Second) // give a wrongly running collector time to act
	if v, ready := commands("keep"); v["v1"] != 2 || ready != 2 {
		t.Errorf("after delete --cascade=orphan: versions %v, %d ready; want the 2 pods left running", v, ready)
	}

	// rollout status exits non-zero once the progress deadline passes.
	// No node has the label, so the pod never runs.
	k.MustRun(t, workloadManifest("stuck", 1, "v1", 3, `nodeSelector: {nowhere: "true"}`), "apply", "-f", "-")
	out, err := plugin("rollout", "status", "deployment/stuck", "--timeout", "60s")
	if err == nil || !strings.Contains(out, `error: deployment "stuck" exceeded its progress deadline`) {
		t.Errorf("rollout status of a stuck deployment: %v\n%s", err, out)
	}

	// 6. kill -9 of a kubelet: its Deployment pods are evicted after their
	// tolerationSeconds and replaced on the other node.
	k.MustRun(t, workloadManifest("moves", 4, "v1", 600,
		"tolerations: [{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 3}]"), "apply", "-f", "-")
	mustPlugin("rollout", "status", "deployment/moves", "--timeout", "120s")
	onNode := func() map[string]int {
		pods, err := client.CoreV1alpha1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=moves"})
		if err != nil {
			return nil
		}
		m := map[string]int{}
		for i := range pods.Items {
			if p := &pods.Items[i]; p.DeletionTimestamp == nil && podRunningAndReady(p) {
				m[p.Spec.NodeName]++
			}
		}
		return m
	}
	placed := onNode()
	victim, survivor := "wl-a", "wl-b"
	if placed["wl-a"] == 0 {
		victim, survivor = "wl-b", "wl-a"
	}
	killed := time.Now()
	kubelets[victim].Kill()
	framework.WaitFor(t, 120*time.Second, "all 4 moves pods ready on "+survivor, func() (bool, error) {
		m := onNode()
		return m[survivor] == 4 && m[victim] == 0, nil
	})
	t.Logf("kill -9 of %s's kubelet (it ran %d of 4 pods): all 4 ready on %s after %s (grace 25 s + tolerationSeconds 3 s)",
		victim, placed[victim], survivor, time.Since(killed).Round(100*time.Millisecond))
}
