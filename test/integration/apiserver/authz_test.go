package apiserver

import (
	"context"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/apiserver/options"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/test/integration/framework"
)

// TestAuthorization drives the server as each identity of a cluster:
// nobody, a kubelet, the scheduler, a stranger.
func TestAuthorization(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "tokens.csv")
	if err := os.WriteFile(tokenFile, []byte("sched-token,system:kube-scheduler,uid-sched\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := framework.StartTestServer(t, func(o *options.Options) { o.TokenAuthFile = tokenFile })
	ctx := testContext(t)
	admin := s.Client
	const ns = "authz"

	mustCreateNode(t, admin, newNode("authz-n1"))
	mustCreateNode(t, admin, newNode("authz-n2"))
	mustCreatePod(t, admin, ns, newPod("on-n1"))
	mustBind(t, admin, ns, "on-n1", "authz-n1")
	mustCreatePod(t, admin, ns, newPod("on-n2"))
	mustBind(t, admin, ns, "on-n2", "authz-n2")
	mustCreatePod(t, admin, ns, newPod("pending"))

	const nodeUser = "system:node:authz-n1"
	node1 := clientFor(t, s.ConfigFor(nodeUser, "system:nodes"))
	stranger := clientFor(t, s.ConfigFor("mallory"))
	schedCfg := rest.AnonymousClientConfig(s.AdminConfig)
	schedCfg.BearerToken = "sched-token"
	scheduler := clientFor(t, schedCfg)

	t.Run("anonymous", func(t *testing.T) {
		if res := doRaw(t, s.AnonymousConfig(), "GET", podsPath(ns), "", nil); res.code != 401 {
			t.Errorf("anonymous GET pods = HTTP %d, want 401", res.code)
		}
		for _, p := range []string{"/healthz", "/livez", "/readyz", "/version"} {
			if res := doRaw(t, s.AnonymousConfig(), "GET", p, "", nil); res.code != 200 {
				t.Errorf("anonymous GET %s = HTTP %d (%s), want 200", p, res.code, truncate(res.body))
			}
		}
		if res := doRaw(t, s.AnonymousConfig(), "GET", "/metrics", "", nil); res.code != 401 && res.code != 403 {
			t.Errorf("anonymous GET /metrics = HTTP %d, want 401 or 403", res.code)
		}
		badToken := rest.AnonymousClientConfig(s.AdminConfig)
		badToken.BearerToken = "wrong"
		if res := doRaw(t, badToken, "GET", podsPath(ns), "", nil); res.code != 401 {
			t.Errorf("GET pods with an unknown token = HTTP %d, want 401", res.code)
		}
	})

	t.Run("a stranger", func(t *testing.T) {
		if res := doRaw(t, s.ConfigFor("mallory"), "GET", "/apis/core.skiff.dev/v1alpha1", "", nil); res.code != 200 {
			t.Errorf("discovery for an authenticated user = HTTP %d, want 200", res.code)
		}
		_, err := stranger.CoreV1alpha1().Pods(ns).List(ctx, metav1.ListOptions{})
		st := expectStatus(t, err, 403, "a stranger lists pods")
		expectMessage(t, st, `"mallory"`, "list", `"pods"`)
	})

	t.Run("a node", func(t *testing.T) {
		// Its own node, yes; another, no, with a message naming who, what, which.
		own, err := node1.CoreV1alpha1().Nodes().Get(ctx, "authz-n1", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("node reads its own Node: %v", err)
		}
		own.Labels["touched"] = "yes"
		own, err = node1.CoreV1alpha1().Nodes().Update(ctx, own, metav1.UpdateOptions{})
		if err != nil {
			t.Fatalf("node updates its own Node: %v", err)
		}
		own.Status.Conditions[0].Message = "fine"
		if _, err := node1.CoreV1alpha1().Nodes().UpdateStatus(ctx, own, metav1.UpdateOptions{}); err != nil {
			t.Errorf("node updates its own status: %v", err)
		}
		other, err := node1.CoreV1alpha1().Nodes().Get(ctx, "authz-n2", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("node reads another Node: %v", err)
		}
		other.Spec.Unschedulable = true
		_, err = node1.CoreV1alpha1().Nodes().Update(ctx, other, metav1.UpdateOptions{})
		st := expectStatus(t, err, 403, "node updates another node")
		expectMessage(t, st, nodeUser, "update", `"nodes"`)
		_, err = node1.CoreV1alpha1().Nodes().Patch(ctx, "authz-n2", types.MergePatchType, []byte(`{"status":{"conditions":[{"type":"Ready","status":"False"}]}}`), metav1.PatchOptions{}, "status")
		expectStatus(t, err, 403, "node patches another node's status")

		// Registering: only under its own name (NodeRestriction admission).
		_, err = node1.CoreV1alpha1().Nodes().Create(ctx, newNode("impostor"), metav1.CreateOptions{})
		st = expectStatus(t, err, 403, "node creates a Node under another name")
		expectMessage(t, st, "impostor")

		// Pods: only its own, by field selector.
		_, err = node1.CoreV1alpha1().Pods("").List(ctx, metav1.ListOptions{})
		st = expectStatus(t, err, 403, "node lists every pod")
		expectMessage(t, st, nodeUser, "list", `"pods"`)
		_, err = node1.CoreV1alpha1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=authz-n2"})
		expectStatus(t, err, 403, "node lists another node's pods")
		_, err = node1.CoreV1alpha1().Pods("").Watch(ctx, metav1.ListOptions{})
		expectStatus(t, err, 403, "node watches every pod")
		// As a kubelet does, wait until its own view shows the pod bound to
		// it before writing its status.
		waitForOwnPod(t, node1, "authz-n1", "on-n1")

		p, err := node1.CoreV1alpha1().Pods(ns).Get(ctx, "on-n1", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("node gets a pod bound to it: %v", err)
		}
		p.Status.Phase = v1alpha1.PodRunning
		if _, err := node1.CoreV1alpha1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
			t.Errorf("node updates the status of a pod bound to it: %v", err)
		}
		_, err = node1.CoreV1alpha1().Pods(ns).Get(ctx, "on-n2", metav1.GetOptions{})
		expectStatus(t, err, 403, "node gets a pod bound elsewhere")
		elsewhere, _ := admin.CoreV1alpha1().Pods(ns).Get(ctx, "on-n2", metav1.GetOptions{})
		elsewhere.Status.Phase = v1alpha1.PodRunning
		_, err = node1.CoreV1alpha1().Pods(ns).UpdateStatus(ctx, elsewhere, metav1.UpdateOptions{})
		st = expectStatus(t, err, 403, "node updates the status of a pod bound elsewhere")
		expectMessage(t, st, nodeUser, "on-n2")
		_, err = node1.CoreV1alpha1().Pods(ns).Patch(ctx, "pending", types.MergePatchType, []byte(`{"status":{"phase":"Running"}}`), metav1.PatchOptions{}, "status")
		expectStatus(t, err, 403, "node patches the status of an unbound pod")
		_, err = node1.CoreV1alpha1().Pods(ns).Bind(ctx, "pending", binding("pending", "authz-n1"), metav1.CreateOptions{})
		expectStatus(t, err, 403, "node binds a pod to itself")
		err = node1.CoreV1alpha1().Pods(ns).Delete(ctx, "on-n2", metav1.DeleteOptions{})
		expectStatus(t, err, 403, "node deletes a pod bound elsewhere")

		// Its lease, yes; another's, no.
		now := metav1.NewMicroTime(time.Now())
		leases := node1.CoreV1alpha1().Leases("skiff-node-lease")
		if _, err := leases.Create(ctx, &v1alpha1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "authz-n1"},
			Spec: v1alpha1.LeaseSpec{HolderIdentity: ptrTo("authz-n1"), RenewTime: &now}}, metav1.CreateOptions{}); err != nil {
			t.Errorf("node creates its lease: %v", err)
		}
		_, err = leases.Create(ctx, &v1alpha1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "authz-n2"}}, metav1.CreateOptions{})
		expectStatus(t, err, 403, "node creates another node's lease")

		// Events, yes.
		if _, err := kubernetes.NewForConfigOrDie(s.ConfigFor(nodeUser, "system:nodes")).CoreV1().Events(ns).Create(ctx, &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: "on-n1.started"},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: "on-n1"},
			Reason:         "Started", Type: "Normal", Source: corev1.EventSource{Component: "kubelet", Host: "authz-n1"},
		}, metav1.CreateOptions{}); err != nil {
			t.Errorf("node creates an event: %v", err)
		}

		// The final delete of its own pod, yes.
		if err := node1.CoreV1alpha1().Pods(ns).Delete(ctx, "on-n1", metav1.DeleteOptions{GracePeriodSeconds: ptrTo[int64](0)}); err != nil {
			t.Errorf("node deletes a pod bound to it: %v", err)
		}
	})

	t.Run("the scheduler", func(t *testing.T) {
		if _, err := scheduler.CoreV1alpha1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName="}); err != nil {
			t.Errorf("scheduler lists unscheduled pods: %v", err)
		}
		if _, err := scheduler.CoreV1alpha1().Nodes().List(ctx, metav1.ListOptions{}); err != nil {
			t.Errorf("scheduler lists nodes: %v", err)
		}
		if _, err := scheduler.CoreV1alpha1().Pods(ns).Bind(ctx, "pending", binding("pending", "authz-n2"), metav1.CreateOptions{}); err != nil {
			t.Errorf("scheduler binds a pod: %v", err)
		}
		// A namespaceSelector selects namespaces, served at /api/v1 here.
		schedKube, err := kubernetes.NewForConfig(schedCfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := schedKube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err != nil {
			t.Errorf("scheduler lists namespaces: %v", err)
		}
		if _, err := scheduler.CoreV1alpha1().PriorityClasses().List(ctx, metav1.ListOptions{}); err != nil {
			t.Errorf("scheduler lists priority classes: %v", err)
		}
		_, err = scheduler.CoreV1alpha1().PriorityClasses().Create(ctx, &v1alpha1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "mine"}, Value: 1}, metav1.CreateOptions{})
		st := expectStatus(t, err, 403, "scheduler creates a priority class")
		expectMessage(t, st, "system:kube-scheduler", "create", `"priorityclasses"`)
		// Preemption deletes its victims (gracefully: the pod is bound).
		if err := scheduler.CoreV1alpha1().Pods(ns).Delete(ctx, "on-n2", metav1.DeleteOptions{}); err != nil {
			t.Errorf("scheduler deletes a preemption victim: %v", err)
		}
		err = scheduler.CoreV1alpha1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
		expectStatus(t, err, 403, "scheduler deletes every pod at once")
		_, err = scheduler.CoreV1alpha1().Nodes().Patch(ctx, "authz-n2", types.MergePatchType, []byte(`{"spec":{"unschedulable":true}}`), metav1.PatchOptions{})
		expectStatus(t, err, 403, "scheduler cordons a node")
	})
}

func clientFor(t *testing.T, cfg *rest.Config) clientset.Interface {
	t.Helper()
	c, err := clientset.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	return c
}

// expectMessage checks that a refusal says who was refused what.
func expectMessage(t *testing.T, st metav1.Status, words ...string) {
	t.Helper()
	for _, w := range words {
		if !strings.Contains(st.Message, w) {
			t.Errorf("message %q does not mention %s", st.Message, w)
		}
	}
}

// waitForOwnPod polls the node's own pod list, the view a kubelet acts on,
// until it holds the pod.
func waitForOwnPod(t *testing.T, node clientset.Interface, nodeName, pod string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(testContext(t), 50*time.Millisecond, testTimeout, true, func(ctx context.Context) (bool, error) {
		list, err := node.CoreV1alpha1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + nodeName})
		if err != nil {
			return false, err
		}
		for _, p := range list.Items {
			if p.Name == pod {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("node %s never saw its pod %s: %v", nodeName, pod, err)
	}
}
