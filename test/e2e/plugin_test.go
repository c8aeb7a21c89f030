package e2e

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"skiff.dev/skiff/test/e2e/framework"
)

// kubectlSkiff runs `kubectl skiff ARGS` through the real kubectl, which
// finds the kubectl-skiff plugin on PATH, and returns its combined output.
func kubectlSkiff(t *testing.T, k *framework.Kubectl, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := k.Command(ctx, framework.BinDir(t), append([]string{"skiff"}, args...)...).CombinedOutput()
	return string(out), err
}

// TestKubectlSkiffNodeCommands drives what stock kubectl hard-codes to
// core/v1 through `kubectl skiff` on two kubelets: cordon keeps new pods
// off a node, run creates pods, and drain empties a node.
func TestKubectlSkiffNodeCommands(t *testing.T) {
	server := framework.StartAPIServer(t, filepath.Join(t.TempDir(), "data"), framework.FreePort(t))
	k := framework.NewKubectl(t, server.Kubeconfig)
	framework.StartScheduler(t, server, "--leader-elect=false")
	for _, n := range []string{"n1", "n2"} {
		framework.StartKubelet(t, server, framework.KubeletOptions{NodeName: n, Runtime: "fake"})
	}
	framework.WaitFor(t, 30*time.Second, "nodes n1 and n2 Ready", func() (bool, error) {
		out, _, err := k.Run("", "get", "nodes")
		return err == nil && regexp.MustCompile(`(?m)^n1\s+Ready\s`).MatchString(out) && regexp.MustCompile(`(?m)^n2\s+Ready\s`).MatchString(out), nil
	})
	nodeOf := func(pod string) string {
		return k.MustRun(t, "", "get", "pod", pod, "-o", "jsonpath={.spec.nodeName}")
	}
	mustSkiff := func(want string, args ...string) {
		t.Helper()
		out, err := kubectlSkiff(t, k, args...)
		if err != nil || out != want {
			t.Fatalf("kubectl skiff %s: %v\n got: %q\nwant: %q", strings.Join(args, " "), err, out, want)
		}
	}

	if out, err := kubectlSkiff(t, k, "--help"); err != nil || !regexp.MustCompile(`(?s)cordon.*drain.*logs.*run.*uncordon`).MatchString(out) {
		t.Errorf("kubectl skiff --help lists not every command: %v\n%s", err, out)
	}

	// n2 cordoned: every new pod goes to n1.
	mustSkiff("node/n2 cordoned\n", "cordon", "n2")
	mustSkiff("node/n2 already cordoned\n", "cordon", "n2")
	if out := k.MustRun(t, "", "get", "node", "n2"); !regexp.MustCompile(`n2\s+Ready,SchedulingDisabled\s`).MatchString(out) {
		t.Errorf("a cordoned node:\n%s", out)
	}
	for _, name := range []string{"a", "b", "c"} {
		mustSkiff("pod/"+name+" created\n", "run", name, "--image=busybox", "--restart=Never", "--labels=app=drain-e2e", "--env=WHO="+name, "--", "sleep", "3600")
	}
	k.MustRun(t, "", "wait", "--for=condition=Ready", "pod", "-l", "app=drain-e2e", "--timeout=60s")
	for _, name := range []string{"a", "b", "c"} {
		if n := nodeOf(name); n != "n1" {
			t.Errorf("pod %s on %q while n2 is cordoned, want n1", name, n)
		}
	}
	if got := k.MustRun(t, "", "get", "pod", "a", "-o", `jsonpath={.spec.restartPolicy} {.spec.containers[0].args} {.spec.containers[0].env[0].value}`); got != `Never ["sleep","3600"] a` {
		t.Errorf("pod a made by kubectl skiff run: %s", got)
	}
	mustSkiff("node/n2 uncordoned\n", "uncordon", "n2")

	// Pods that no controller recreates are refused without --force, and
	// nothing is deleted.
	out, err := kubectlSkiff(t, k, "drain", "n1")
	if err == nil || !strings.Contains(out, "cannot delete Pods that declare no controller (use --force to override): default/a, default/b, default/c") {
		t.Errorf("drain without --force: %v\n%s", err, out)
	}
	if got := k.MustRun(t, "", "get", "pods", "-o", "name"); strings.Count(got, "pod") != 3 {
		t.Errorf("a refused drain deleted pods: %s", got)
	}

	out, err = kubectlSkiff(t, k, "drain", "n1", "--force", "--grace-period=1", "--timeout=90s", "--ignore-daemonsets", "--delete-emptydir-data")
	if err != nil {
		t.Fatalf("drain --force: %v\n%s", err, out)
	}
	for _, want := range []string{"node/n1 already cordoned", "evicting pod default/a", "pod/a evicted", "pod/b evicted", "pod/c evicted", "node/n1 drained"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("drain output lacks %q:\n%s", want, out)
		}
	}
	if got := k.MustRun(t, "", "get", "pods", "-A", "--field-selector", "spec.nodeName=n1", "-o", "name"); got != "" {
		t.Errorf("pods left on the drained node: %s", got)
	}
	if out := k.MustRun(t, "", "get", "node", "n1"); !strings.Contains(out, "SchedulingDisabled") {
		t.Errorf("a drained node stays cordoned:\n%s", out)
	}
	mustSkiff("pod/d created\n", "run", "d", "--image=busybox", "--", "sleep", "3600")
	k.MustRun(t, "", "wait", "--for=condition=Ready", "pod/d", "--timeout=60s")
	if n := nodeOf("d"); n != "n2" {
		t.Errorf("a pod after the drain went to %q, want n2", n)
	}
}
