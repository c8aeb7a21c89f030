package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/test/e2e/framework"
)

// TestControllerManagerEvictsFromADeadKubelet runs skiff-controller-manager
// (as system:kube-controller-manager, leader election on) with two
// process-runtime kubelets, kills one kubelet with SIGKILL, and checks what
// a user sees: its node goes Ready=Unknown with the unreachable NoExecute
// taint, its pod with a short tolerationSeconds is evicted, its pod with
// the default 300 s is not yet, and the other node is left alone.
func TestControllerManagerEvictsFromADeadKubelet(t *testing.T) {
	// Two lease renewals (10 s apart) fit in the grace period, so a live
	// kubelet is never taken for dead.
	const grace = 25 * time.Second
	server := framework.StartAPIServer(t, filepath.Join(t.TempDir(), "data"), framework.FreePort(t))
	client := server.AdminClient(t)
	k := framework.NewKubectl(t, server.Kubeconfig)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	dying := framework.StartKubelet(t, server, framework.KubeletOptions{NodeName: "cm-dying", Runtime: "process"})
	framework.StartKubelet(t, server, framework.KubeletOptions{NodeName: "cm-healthy", Runtime: "process"})
	for _, n := range []string{"cm-dying", "cm-healthy"} {
		framework.WaitFor(t, 30*time.Second, "node "+n+" Ready", func() (bool, error) {
			node, err := client.CoreV1alpha1().Nodes().Get(ctx, n, metav1.GetOptions{})
			return err == nil && nodeIsReady(node), nil
		})
	}

	port := framework.FreePort(t)
	cm := framework.Start(t, "skiff-controller-manager", framework.Binary(t, "skiff-controller-manager"),
		"--kubeconfig", framework.Kubeconfig(t, server, "system:kube-controller-manager"),
		"--node-monitor-grace-period", grace.String(),
		"--secure-port", strconv.Itoa(port), "--bind-address", "127.0.0.1",
		"--client-ca-file", server.CAFile())
	insecure := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // self-signed
	framework.WaitFor(t, 60*time.Second, "skiff-controller-manager /healthz on its secure port", func() (bool, error) {
		if cm.Exited() {
			return false, fmt.Errorf("skiff-controller-manager exited")
		}
		resp, err := insecure.Get(fmt.Sprintf("https://127.0.0.1:%d/healthz", port))
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	// Refused: 403 for system:anonymous, as kube-controller-manager answers
	// (and the unit test expects) now that the API server serves /api/v1;
	// 401 when the delegated authentication turns anonymous requests away.
	if resp, err := insecure.Get(fmt.Sprintf("https://127.0.0.1:%d/metrics", port)); err != nil ||
		(resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden) {
		t.Errorf("anonymous /metrics on the secure port: %v %v, want 401 or 403", resp, err)
	}

	unreachable := "node.kubernetes.io/unreachable"
	pod := func(name, node string, tolerations ...v1alpha1.Toleration) *v1alpha1.Pod {
		p := kubeletFaultPod(name, node, fmt.Sprintf("skiff-cm-%s-%d", name, time.Now().UnixNano()))
		p.Spec.Tolerations = tolerations
		return p
	}
	for _, p := range []*v1alpha1.Pod{
		pod("short", "cm-dying", v1alpha1.Toleration{Key: unreachable, Operator: v1alpha1.TolerationOpExists, Effect: v1alpha1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](3)}),
		pod("defaults", "cm-dying"),
		pod("elsewhere", "cm-healthy"),
	} {
		if _, err := client.CoreV1alpha1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create pod %s: %v", p.Name, err)
		}
	}
	// What DefaultTolerationSeconds added, as a user sees it.
	out := k.MustRun(t, "", "get", "pods.core.skiff.dev", "defaults", "-o", "yaml")
	for _, want := range []string{"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable", "tolerationSeconds: 300"} {
		if !strings.Contains(out, want) {
			t.Errorf("kubectl get pod defaults -o yaml lacks %q:\n%s", want, out)
		}
	}
	framework.WaitFor(t, 60*time.Second, "the pods Running and Ready", func() (bool, error) {
		list, err := client.CoreV1alpha1().Pods("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		ready := 0
		for i := range list.Items {
			if podRunningAndReady(&list.Items[i]) {
				ready++
			}
		}
		return ready == 3, nil
	})

	killed := time.Now()
	dying.Kill()

	framework.WaitFor(t, grace+60*time.Second, "node cm-dying Ready=Unknown and tainted unreachable", func() (bool, error) {
		n, err := client.CoreV1alpha1().Nodes().Get(ctx, "cm-dying", metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		unknown := false
		for _, c := range n.Status.Conditions {
			if c.Type == v1alpha1.NodeReady && c.Status == v1alpha1.ConditionUnknown {
				unknown = true
			}
		}
		tainted := false
		for _, taint := range n.Spec.Taints {
			if taint.Key == unreachable && taint.Effect == v1alpha1.TaintEffectNoExecute {
				tainted = true
			}
		}
		return unknown && tainted, nil
	})
	unknownAfter := time.Since(killed)
	evicted := func(name string) (bool, error) {
		p, err := client.CoreV1alpha1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		if err != nil {
			return false, nil
		}
		return p.DeletionTimestamp != nil, nil
	}
	framework.WaitFor(t, 60*time.Second, "pod short evicted after its 3 s", func() (bool, error) { return evicted("short") })
	evictedAfter := time.Since(killed)
	for _, name := range []string{"defaults", "elsewhere"} {
		if gone, _ := evicted(name); gone {
			t.Errorf("pod %s was evicted; it tolerates the taint for 300 s or runs on a live node", name)
		}
	}
	n, err := client.CoreV1alpha1().Nodes().Get(ctx, "cm-healthy", metav1.GetOptions{})
	if err != nil || !nodeIsReady(n) || len(n.Spec.Taints) != 0 {
		t.Errorf("the live node was touched: %v, ready %v, taints %v", err, n != nil && nodeIsReady(n), n.Spec.Taints)
	}
	framework.WaitFor(t, 30*time.Second, "NodeNotReady and TaintManagerEviction events", func() (bool, error) {
		out := k.MustRun(t, "", "get", "events", "-o", "custom-columns=REASON:.reason,OBJECT:.involvedObject.name")
		return strings.Contains(out, "NodeNotReady") && strings.Contains(out, "TaintManagerEviction"), nil
	})
	t.Logf("figures: kill -9 of the kubelet → Ready=Unknown + taint after %s (grace period %s); the 3 s pod evicted after %s",
		unknownAfter.Round(100*time.Millisecond), grace, evictedAfter.Round(100*time.Millisecond))
}

// TestGarbageCollectionWithKubectl: kubectl delete --cascade=background,
// foreground and orphan on an owner (a Node) of dependents (Leases), with
// skiff-controller-manager's garbage collector doing the work.
func TestGarbageCollectionWithKubectl(t *testing.T) {
	server := framework.StartAPIServer(t, filepath.Join(t.TempDir(), "data"), framework.FreePort(t))
	k := framework.NewKubectl(t, server.Kubeconfig)
	framework.Start(t, "skiff-controller-manager", framework.Binary(t, "skiff-controller-manager"),
		"--kubeconfig", framework.Kubeconfig(t, server, "system:kube-controller-manager"),
		"--controllers", "garbage-collector-controller", "--secure-port", "0")

	owned := func(owner string) {
		t.Helper()
		k.MustRun(t, fmt.Sprintf("apiVersion: core.skiff.dev/v1alpha1\nkind: Node\nmetadata: {name: %s}\n", owner), "apply", "-f", "-")
		uid := k.MustRun(t, "", "get", "nodes.core.skiff.dev", owner, "-o", "jsonpath={.metadata.uid}")
		k.MustRun(t, fmt.Sprintf(`apiVersion: core.skiff.dev/v1alpha1
kind: Lease
metadata:
  name: %s-dep
  namespace: default
  ownerReferences:
  - {apiVersion: core.skiff.dev/v1alpha1, kind: Node, name: %s, uid: %s, blockOwnerDeletion: true}
`, owner, owner, uid), "apply", "-f", "-")
	}
	leaseExists := func(name string) bool {
		_, _, err := k.Run("", "get", "leases.core.skiff.dev", name, "-n", "default")
		return err == nil
	}

	for _, cascade := range []string{"background", "foreground"} {
		t.Run("--cascade="+cascade+" deletes the dependent", func(t *testing.T) {
			owned(cascade)
			k.MustRun(t, "", "delete", "nodes.core.skiff.dev", cascade, "--cascade="+cascade, "--timeout=60s")
			framework.WaitFor(t, 60*time.Second, "the dependent deleted", func() (bool, error) { return !leaseExists(cascade + "-dep"), nil })
		})
	}
	t.Run("--cascade=orphan keeps the dependent", func(t *testing.T) {
		owned("orphan")
		// The collector learns of the dependent through its watch; a
		// dangling lease made after it is collected only once the
		// collector has seen everything made before.
		k.MustRun(t, "apiVersion: core.skiff.dev/v1alpha1\nkind: Lease\nmetadata:\n  name: marker\n  namespace: default\n  ownerReferences:\n  - {apiVersion: core.skiff.dev/v1alpha1, kind: Node, name: gone, uid: 00000000-0000-0000-0000-000000000000}\n", "apply", "-f", "-")
		framework.WaitFor(t, 60*time.Second, "the collector to catch up", func() (bool, error) { return !leaseExists("marker"), nil })
		k.MustRun(t, "", "delete", "nodes.core.skiff.dev", "orphan", "--cascade=orphan", "--timeout=60s")
		if !leaseExists("orphan-dep") {
			t.Fatal("--cascade=orphan deleted the dependent")
		}
		if refs := k.MustRun(t, "", "get", "leases.core.skiff.dev", "orphan-dep", "-n", "default", "-o", "jsonpath={.metadata.ownerReferences}"); refs != "" {
			t.Errorf("the orphaned dependent still has owner references %s", refs)
		}
	})
}
