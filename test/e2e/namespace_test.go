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

const namespacedPod = `apiVersion: core.skiff.dev/v1alpha1
kind: Pod
metadata:
  name: %s
  namespace: %s
spec:
  containers:
  - name: main
    image: busybox
    command: ["sleep", "3600"]
`

// TestNamespacesWithKubectl: namespaces are objects, as kubectl knows
// them: the system ones exist from the start, kubectl create ns and get ns
// work, an object in a namespace that does not exist is refused, a deleted
// namespace is Terminating and takes nothing new, and the controller
// manager's namespace controller then deletes what is in it, and it.
func TestNamespacesWithKubectl(t *testing.T) {
	server := framework.StartAPIServer(t, filepath.Join(t.TempDir(), "data"), framework.FreePort(t))
	k := framework.NewKubectl(t, server.Kubeconfig)

	t.Run("api-resources lists the core group's namespaces and events", func(t *testing.T) {
		out := k.MustRun(t, "", "api-resources", "--api-group=")
		for _, want := range []string{`namespaces\s+ns\s+v1\s+false\s+Namespace`, `events\s+ev\s+v1\s+true\s+Event`} {
			if !regexp.MustCompile(want).MatchString(out) {
				t.Errorf("api-resources lacks %s:\n%s", want, out)
			}
		}
		if strings.Contains(out, "pods") || strings.Contains(out, "configmaps") {
			t.Errorf("the core group serves more than namespaces and events:\n%s", out)
		}
	})

	t.Run("the system namespaces exist from the start", func(t *testing.T) {
		out := k.MustRun(t, "", "get", "ns")
		if !regexp.MustCompile(`^NAME\s+STATUS\s+AGE\n`).MatchString(out) {
			t.Errorf("get ns columns:\n%s", out)
		}
		for _, ns := range []string{"default", "skiff-system", "skiff-node-lease"} {
			if !regexp.MustCompile(`(?m)^` + ns + `\s+Active\s+\S+$`).MatchString(out) {
				t.Errorf("get ns lacks %s Active:\n%s", ns, out)
			}
		}
	})

	t.Run("create ns and a pod in it", func(t *testing.T) {
		if out := k.MustRun(t, "", "create", "ns", "team-a"); !strings.Contains(out, "namespace/team-a created") {
			t.Errorf("create ns: %s", out)
		}
		k.MustRun(t, fmt.Sprintf(namespacedPod, "web", "team-a"), "apply", "-f", "-")
		if out := k.MustRun(t, "", "get", "pods", "-n", "team-a", "-o", "name"); strings.TrimSpace(out) != "pod.core.skiff.dev/web" {
			t.Errorf("pods in team-a: %q", out)
		}
		if out := k.MustRun(t, "", "describe", "ns", "team-a"); !regexp.MustCompile(`Status:\s+Active`).MatchString(out) {
			t.Errorf("describe ns team-a:\n%s", out)
		}
		if got := k.MustRun(t, "", "get", "ns", "team-a", "-o", "jsonpath={.spec.finalizers}"); got != `["kubernetes"]` {
			t.Errorf("team-a finalizers = %s, want [\"kubernetes\"]", got)
		}
	})

	t.Run("a pod in a namespace that does not exist is refused", func(t *testing.T) {
		_, stderr, err := k.Run(fmt.Sprintf(namespacedPod, "lost", "nowhere"), "apply", "-f", "-")
		if err == nil || !strings.Contains(stderr, `namespaces "nowhere" not found`) {
			t.Errorf("apply in a missing namespace: err %v, stderr %s; want namespaces \"nowhere\" not found", err, stderr)
		}
	})

	t.Run("a deleted namespace is Terminating and takes nothing new", func(t *testing.T) {
		k.MustRun(t, "", "delete", "ns", "team-a", "--wait=false")
		if out := k.MustRun(t, "", "get", "ns", "team-a"); !regexp.MustCompile(`team-a\s+Terminating`).MatchString(out) {
			t.Errorf("get ns team-a after delete:\n%s", out)
		}
		framework.WaitFor(t, 30*time.Second, "creates in team-a to be refused", func() (bool, error) {
			_, stderr, err := k.Run(fmt.Sprintf(namespacedPod, "late", "team-a"), "apply", "-f", "-")
			return err != nil && strings.Contains(stderr, "unable to create new content in namespace team-a because it is being terminated"), nil
		})
		_, stderr, err := k.Run("", "delete", "ns", "default")
		if err == nil || !strings.Contains(stderr, "this namespace may not be deleted") {
			t.Errorf("delete ns default: err %v, stderr %s; want it forbidden", err, stderr)
		}
	})

	t.Run("the namespace controller empties the namespace, then it goes", func(t *testing.T) {
		framework.Start(t, "skiff-controller-manager", framework.Binary(t, "skiff-controller-manager"),
			"--kubeconfig", framework.Kubeconfig(t, server, "system:kube-controller-manager"),
			"--controllers", "namespace-controller", "--secure-port", "0")
		framework.WaitFor(t, 60*time.Second, "namespace team-a and its pod to be gone", func() (bool, error) {
			_, _, err := k.Run("", "get", "ns", "team-a")
			return err != nil, nil
		})
		if out, _, _ := k.Run("", "get", "pods", "-n", "team-a", "-o", "name"); strings.TrimSpace(out) != "" {
			t.Errorf("pods left in the deleted namespace: %q", out)
		}
		if out := k.MustRun(t, "", "get", "ns", "default"); !strings.Contains(out, "Active") {
			t.Errorf("default after the controller ran:\n%s", out)
		}
	})
}
