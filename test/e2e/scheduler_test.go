package e2e

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"skiff.dev/skiff/test/e2e/framework"
)

// readyNodeStatus makes a node Ready with room for 2 CPUs, as a kubelet
// would report it.
const readyNodeStatus = `{"status":{
  "capacity":{"cpu":"2","memory":"4Gi","pods":"110"},
  "allocatable":{"cpu":"2","memory":"4Gi","pods":"110"},
  "conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"e2e"}]}}`

const schedulerPod = `apiVersion: core.skiff.dev/v1alpha1
kind: Pod
metadata:
  name: %s
spec:
%s  containers:
  - name: main
    image: busybox
    command: ["sleep", "3600"]
    resources:
      requests: {cpu: %s}
`

// TestSchedulerWithKubectl runs skiff-scheduler (as system:kube-scheduler,
// with leader election on as by default) against two nodes made with
// kubectl, and checks what a user sees: pods bound, events, and why a pod
// that fits nowhere waits.
func TestSchedulerWithKubectl(t *testing.T) {
	server := framework.StartAPIServer(t, filepath.Join(t.TempDir(), "data"), framework.FreePort(t))
	k := framework.NewKubectl(t, server.Kubeconfig)
	for _, n := range []string{"node-a", "node-b"} {
		k.MustRun(t, fmt.Sprintf(nodeManifest, n, n), "apply", "-f", "-")
		k.MustRun(t, "", "patch", "node", n, "--subresource=status", "--type=merge", "-p", readyNodeStatus)
	}
	sched := framework.StartScheduler(t, server)

	t.Run("a pod is bound to a node and an event says so", func(t *testing.T) {
		k.MustRun(t, fmt.Sprintf(schedulerPod, "small", "", "500m"), "apply", "-f", "-")
		waitForPodField(t, k, "small", "{.spec.nodeName}", regexp.MustCompile(`^node-[ab]$`))
		out := k.MustRun(t, "", "get", "pod", "small", "-o", "wide")
		if !regexp.MustCompile(`small\s+.*node-[ab]`).MatchString(out) {
			t.Errorf("get -o wide shows no node:\n%s", out)
		}
		if got := k.MustRun(t, "", "get", "pod", "small", "-o", `jsonpath={.status.conditions[?(@.type=="PodScheduled")].status}`); got != "True" {
			t.Errorf("PodScheduled = %q, want True", got)
		}
		framework.WaitFor(t, 30*time.Second, "a Scheduled event", func() (bool, error) {
			out := k.MustRun(t, "", "get", "events", "--field-selector", "involvedObject.name=small")
			return regexp.MustCompile(`Scheduled\s+pod/small\s+Successfully assigned default/small to node-[ab]`).MatchString(out), nil
		})
	})

	t.Run("a pod that fits nowhere says why, and schedules once a node is labelled", func(t *testing.T) {
		k.MustRun(t, fmt.Sprintf(schedulerPod, "picky", "  nodeSelector: {disktype: ssd}\n", "100m"), "apply", "-f", "-")
		k.MustRun(t, fmt.Sprintf(schedulerPod, "huge", "", "64"), "apply", "-f", "-")
		framework.WaitFor(t, 30*time.Second, "FailedScheduling for both pods", func() (bool, error) {
			out := k.MustRun(t, "", "get", "events", "--field-selector", "reason=FailedScheduling")
			return strings.Contains(out, "pod/picky") && strings.Contains(out, "pod/huge"), nil
		})
		for pod, why := range map[string]string{
			// Each ends with upstream's preemption summary.
			"picky": "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
			"huge":  "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
		} {
			cond := k.MustRun(t, "", "get", "pod", pod, "-o", `jsonpath={range .status.conditions[?(@.type=="PodScheduled")]}{.status}/{.reason}/{.message}{end}`)
			if cond != "False/Unschedulable/"+why {
				t.Errorf("%s PodScheduled = %q, want False/Unschedulable/%s", pod, cond, why)
			}
			// kubectl describe lists the pod's core/v1 events, matched on
			// involvedObject (uid, name, namespace, kind).
			describe := k.MustRun(t, "", "describe", "pod", pod)
			if !strings.Contains(describe, why) || !strings.Contains(describe, "Unschedulable") {
				t.Errorf("describe %s lacks the condition %q:\n%s", pod, why, describe)
			}
			if !regexp.MustCompile(`(?m)^Events:\s*\n(.*\n)*\s+Warning\s+FailedScheduling\s+.*skiff-scheduler\s+` + regexp.QuoteMeta(why)).MatchString(describe) {
				t.Errorf("describe %s shows no Warning FailedScheduling event:\n%s", pod, describe)
			}
			// kubectl events --for matches involvedObject kind, apiVersion
			// (core.skiff.dev/v1alpha1) and name.
			t.Logf("kubectl describe pod %s, events:\n%s", pod, describe[strings.LastIndex(describe, "Events:"):])
			forPod := k.MustRun(t, "", "events", "--for", "pod/"+pod)
			t.Logf("kubectl events --for pod/%s:\n%s", pod, forPod)
			if !regexp.MustCompile(`Warning\s+FailedScheduling\s+Pod/` + pod + `\s+` + regexp.QuoteMeta(why)).MatchString(forPod) {
				t.Errorf("kubectl events --for pod/%s does not list FailedScheduling:\n%s", pod, forPod)
			}
			events := k.MustRun(t, "", "get", "events", "--field-selector", "reason=FailedScheduling,involvedObject.name="+pod)
			if !regexp.MustCompile(`Warning\s+FailedScheduling\s+pod/` + pod + `\s+` + regexp.QuoteMeta(why)).MatchString(events) {
				t.Errorf("no FailedScheduling event %q for %s:\n%s", why, pod, events)
			}
		}
		if got := k.MustRun(t, "", "get", "pod", "picky", "-o", "jsonpath={.spec.nodeName}"); got != "" {
			t.Fatalf("picky bound to %q before any node matched", got)
		}

		k.MustRun(t, "", "label", "node", "node-b", "disktype=ssd")
		waitForPodField(t, k, "picky", "{.spec.nodeName}", regexp.MustCompile(`^node-b$`))
		framework.WaitFor(t, 30*time.Second, "picky's Scheduled event", func() (bool, error) {
			out := k.MustRun(t, "", "get", "events", "--field-selector", "involvedObject.name=picky,reason=Scheduled")
			return strings.Contains(out, "Successfully assigned default/picky to node-b"), nil
		})
		if got := k.MustRun(t, "", "get", "pod", "huge", "-o", "jsonpath={.spec.nodeName}"); got != "" {
			t.Errorf("huge bound to %q, though no node has 64 CPUs", got)
		}
	})

	t.Run("metrics count the attempts", func(t *testing.T) {
		metrics := sched.Metrics(t)
		for _, want := range []string{`result="scheduled"`, `result="unschedulable"`, "scheduler_pending_pods"} {
			if !strings.Contains(metrics, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})

	t.Run("its endpoints are HTTPS, metrics for authorized callers only", func(t *testing.T) {
		if code, body, err := sched.Get("", "/healthz"); code != 200 || body != "ok" {
			t.Errorf("anonymous /healthz = %d %q, %v; want 200 ok", code, body, err)
		}
		// Refused either way: 403 once the API server answers
		// SubjectAccessReviews, an error status while it cannot.
		if code, _, err := sched.Get("", "/metrics"); code == 200 || err != nil {
			t.Errorf("anonymous /metrics = %d, %v; want a refusal", code, err)
		}
		mallory := framework.Kubeconfig(t, server, "mallory")
		if code, _, err := sched.Get(mallory, "/debug/pprof/"); code == 200 || err != nil {
			t.Errorf("/debug/pprof/ as mallory = %d, %v; want a refusal", code, err)
		}
		if code, _, err := framework.HTTPGet(fmt.Sprintf("http://127.0.0.1:%d/metrics", sched.SecurePort)); code == 200 {
			t.Errorf("plain HTTP /metrics = %d, %v; want no answer", code, err)
		}
	})

	t.Run("SIGTERM exits 0", func(t *testing.T) {
		if code := sched.Stop(30 * time.Second); code != 0 {
			t.Errorf("exit code %d, want 0", code)
		}
	})
}

// waitForPodField waits until a pod's jsonpath field matches want.
func waitForPodField(t *testing.T, k *framework.Kubectl, pod, jsonpath string, want *regexp.Regexp) string {
	t.Helper()
	var got string
	framework.WaitFor(t, 60*time.Second, fmt.Sprintf("pod %s %s to match %s", pod, jsonpath, want), func() (bool, error) {
		out, _, err := k.Run("", "get", "pod", pod, "-o", "jsonpath="+jsonpath)
		got = out
		return err == nil && want.MatchString(out), nil
	})
	return got
}
