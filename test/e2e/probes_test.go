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

// probePod is a process-runtime pod whose container, main, runs script in
// sh, with probes (YAML under the container, already indented).
func probePod(name, script, probes string) string {
	return fmt.Sprintf(`apiVersion: core.skiff.dev/v1alpha1
kind: Pod
metadata:
  name: %s
spec:
  restartPolicy: Always
  terminationGracePeriodSeconds: 5
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", %q]
%s`, name, script, probes)
}

// TestProbesProcessRuntime runs one probe of each purpose through a
// process-runtime kubelet and checks with kubectl what a user sees.
func TestProbesProcessRuntime(t *testing.T) {
	server := framework.StartAPIServer(t, filepath.Join(t.TempDir(), "data"), framework.FreePort(t))
	k := framework.NewKubectl(t, server.Kubeconfig)
	framework.StartScheduler(t, server, "--leader-elect=false")
	framework.StartKubelet(t, server, framework.KubeletOptions{NodeName: "n1", Runtime: "process", Serve: true})
	framework.WaitFor(t, 30*time.Second, "node n1 Ready", func() (bool, error) {
		out, _, err := k.Run("", "get", "nodes")
		return err == nil && regexp.MustCompile(`(?m)^n1\s+Ready\s`).MatchString(out), nil
	})
	closedPort := framework.FreePort(t)

	// All three pods run at once; each case checks its own.
	k.MustRun(t, probePod("unready", sleepForever, fmt.Sprintf(`    readinessProbe:
      httpGet: {path: /healthz, port: %d}
      periodSeconds: 1
`, closedPort)), "apply", "-f", "-")
	k.MustRun(t, probePod("ready-later", "sleep 3; touch ready; "+sleepForever, `    readinessProbe:
      exec: {command: [test, -f, ready]}
      periodSeconds: 1
`), "apply", "-f", "-")
	k.MustRun(t, probePod("liveness", sleepForever, `    livenessProbe:
      exec: {command: [sh, -c, "exit 1"]}
      periodSeconds: 1
      failureThreshold: 2
      terminationGracePeriodSeconds: 1
`), "apply", "-f", "-")
	// Liveness would kill it within 2 s; the startup probe holds it off
	// until the container has written "started", 8 s after it began.
	k.MustRun(t, probePod("slow-start", "sleep 8; touch started; "+sleepForever, `    startupProbe:
      exec: {command: [test, -f, started]}
      periodSeconds: 1
      failureThreshold: 60
    livenessProbe:
      exec: {command: [sh, -c, "exit 1"]}
      periodSeconds: 1
      failureThreshold: 1
`), "apply", "-f", "-")
	created := time.Now()

	// First, as it looks at the first seconds of the pod.
	t.Run("a startup probe holds liveness off", func(t *testing.T) {
		// Until the container writes "started" (8 s after it began) the
		// liveness probe, which always fails, must not run.
		for time.Since(created) < 6*time.Second {
			got := k.MustRun(t, "", "get", "pod", "slow-start", "-o", "jsonpath={.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].started}")
			if strings.HasPrefix(got, "1") || strings.HasSuffix(got, "true") {
				t.Fatalf("restartCount and started = %q before the startup probe passed", got)
			}
			time.Sleep(500 * time.Millisecond)
		}
		// Once started, the liveness probe runs, fails, and restarts it.
		waitForPodField(t, k, "slow-start", "{.status.containerStatuses[0].restartCount}", regexp.MustCompile(`^[1-9]`))
		out := k.MustRun(t, "", "get", "events", "--field-selector", "involvedObject.name=slow-start", "-o",
			`jsonpath={range .items[*]}{.reason}: {.message}{"\n"}{end}`)
		if !strings.Contains(out, "Startup probe failed: ") || !strings.Contains(out, "Liveness probe failed: ") {
			t.Errorf("events:\n%s", out)
		}
	})

	t.Run("a failing readiness probe keeps the pod out of Ready", func(t *testing.T) {
		waitForPodField(t, k, "unready", "{.status.phase}", regexp.MustCompile(`^Running$`))
		framework.WaitFor(t, 60*time.Second, "an Unhealthy event", func() (bool, error) {
			out, _, err := k.Run("", "get", "events", "--field-selector", "involvedObject.name=unready,reason=Unhealthy")
			return err == nil && strings.Contains(out, "Readiness probe failed:"), nil
		})
		// Seen after several failed probes, it is still not Ready.
		time.Sleep(3 * time.Second)
		got := k.MustRun(t, "", "get", "pod", "unready", "-o",
			`jsonpath={.status.containerStatuses[0].ready} {.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="ContainersReady")].status} {.status.containerStatuses[0].restartCount}`)
		if got != "false False False 0" {
			t.Errorf("ready, Ready, ContainersReady, restartCount = %q, want false False False 0", got)
		}
		if out := k.MustRun(t, "", "get", "pod", "unready"); !regexp.MustCompile(`unready\s+0/1\s+Running\s+0`).MatchString(out) {
			t.Errorf("get pod:\n%s", out)
		}
	})

	t.Run("a bad probe is refused with its field paths", func(t *testing.T) {
		_, stderr, err := k.Run(probePod("bad-probe", sleepForever, `    ports:
    - {name: http, containerPort: 8080}
    livenessProbe:
      httpGet: {path: /, port: metrics}
      tcpSocket: {port: 80}
      successThreshold: 2
    readinessProbe:
      grpc: {port: 70000}
      terminationGracePeriodSeconds: 3
`), "apply", "-f", "-")
		if err == nil {
			t.Fatal("a pod with bad probes was created")
		}
		for _, want := range []string{
			`spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type`,
			`spec.containers[0].livenessProbe.httpGet.port: Invalid value: "metrics": must be the name of one of the container's ports`,
			`spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1`,
			`spec.containers[0].readinessProbe.grpc.port: Invalid value: 70000`,
			`spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 3: must not be set for readinessProbes`,
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("no %q in:\n%s", want, stderr)
			}
		}
	})

	t.Run("an exec readiness probe that starts passing makes the pod Ready", func(t *testing.T) {
		k.MustRun(t, "", "wait", "--for=condition=Ready", "pod/ready-later", "--timeout=60s")
	})

	t.Run("a failing liveness probe restarts the container with Unhealthy and Killing events", func(t *testing.T) {
		waitForPodField(t, k, "liveness", "{.status.containerStatuses[0].restartCount}", regexp.MustCompile(`^[1-9]`))
		out := k.MustRun(t, "", "get", "events", "--field-selector", "involvedObject.name=liveness", "-o",
			`jsonpath={range .items[*]}{.reason}: {.message}{"\n"}{end}`)
		for _, want := range []string{"Unhealthy: Liveness probe failed: ", "Killing: Container main failed liveness probe, will be restarted"} {
			if !strings.Contains(out, want) {
				t.Errorf("no event %q in:\n%s", want, out)
			}
		}
	})

}
