package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"skiff.dev/skiff/pkg/bench"
	"skiff.dev/skiff/test/e2e/framework"
)

// processPod is a pod for the process runtime whose shell carries a unique
// marker argument ($0), so the test can find its process in /proc.
func processPod(name, restartPolicy, script, marker string) string {
	return shellPod(name, restartPolicy, "busybox:1.36", script, marker)
}

// shellPod is the manifest of a pod whose one container, main, runs
// `sh -c script args...`.
func shellPod(name, restartPolicy, image, script string, args ...string) string {
	command := fmt.Sprintf("%q, %q", "sh", "-c")
	for _, a := range append([]string{script}, args...) {
		command += fmt.Sprintf(", %q", a)
	}
	return fmt.Sprintf(`apiVersion: core.skiff.dev/v1alpha1
kind: Pod
metadata:
  name: %s
spec:
  restartPolicy: %s
  terminationGracePeriodSeconds: 5
  containers:
  - name: main
    image: %s
    command: [%s]
`, name, restartPolicy, image, command)
}

// A shell that sleeps forever in short naps, so it keeps its marker (an
// exec would replace it).
const sleepForever = "while :; do sleep 1; done"

// TestKubeletProcessRuntime runs skiff-kubelet with the process runtime
// under its node identity, with skiff-scheduler, and checks with kubectl
// what a user sees of pods' lives: running, logs, exit codes, crash loops,
// deletion, and a kubelet killed and started again.
func TestKubeletProcessRuntime(t *testing.T) {
	server := framework.StartAPIServer(t, filepath.Join(t.TempDir(), "data"), framework.FreePort(t))
	k := framework.NewKubectl(t, server.Kubeconfig)
	framework.StartScheduler(t, server, "--leader-elect=false")
	kubelet := framework.StartKubelet(t, server, framework.KubeletOptions{NodeName: "n1", Runtime: "process", Serve: true})
	framework.WaitFor(t, 30*time.Second, "node n1 Ready", func() (bool, error) {
		out, _, err := k.Run("", "get", "nodes")
		return err == nil && regexp.MustCompile(`(?m)^n1\s+Ready\s`).MatchString(out), nil
	})
	marker := func(name string) string { return fmt.Sprintf("skiff-e2e-%s-%d", name, time.Now().UnixNano()) }

	// The crash loop needs half a minute to show its back-off (restarts at
	// once, then after 10 s, then 20 s, as upstream's kubelet); it runs
	// while the other cases do, and is checked after them.
	k.MustRun(t, processPod("crasher", "Always", "echo crashing; exit 1", marker("crasher")), "apply", "-f", "-")
	crasherCreated := time.Now()
	crasherWatch := k.StartLines(t, "get", "pod", "crasher", "-w", "-o",
		`jsonpath={.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].state.waiting.reason}{"\n"}`)

	t.Run("a pod runs and is Ready, and its log is readable through the API server", func(t *testing.T) {
		web := marker("web")
		k.MustRun(t, processPod("web", "Always", `i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.3; done`, web), "apply", "-f", "-")
		k.MustRun(t, "", "wait", "--for=condition=Ready", "pod/web", "--timeout=60s")
		if out := k.MustRun(t, "", "get", "pod", "web", "-o", "wide"); !regexp.MustCompile(`web\s+1/1\s+Running\s+0\s+\S+\s+127\.0\.0\.1\s+n1`).MatchString(out) {
			t.Errorf("get pod -o wide:\n%s", out)
		}
		if pids := framework.ContainerGroups(web); len(pids) != 1 {
			t.Errorf("web runs as %d processes, want 1", len(pids))
		}

		framework.WaitFor(t, 30*time.Second, "web's log through pods/log", func() (bool, error) {
			out, _, err := k.Run("", "get", "--raw", "/apis/core.skiff.dev/v1alpha1/namespaces/default/pods/web/log")
			return err == nil && strings.HasPrefix(out, "tick 1\ntick 2\n"), nil
		})

		var tail strings.Builder
		plugin := k.Command(context.Background(), framework.BinDir(t), "skiff", "logs", "web", "--tail", "1")
		plugin.Stdout, plugin.Stderr = &tail, &tail
		if err := plugin.Run(); err != nil || !regexp.MustCompile(`^tick \d+\n$`).MatchString(tail.String()) {
			t.Errorf("kubectl skiff logs web --tail 1: %v\n%s", err, tail.String())
		}

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var follow framework.Output
		plugin = k.Command(ctx, framework.BinDir(t), "skiff", "logs", "web", "-f", "--tail", "1")
		plugin.Stdout, plugin.Stderr = &follow, &follow
		if err := plugin.Start(); err != nil {
			t.Fatalf("kubectl skiff logs -f: %v", err)
		}
		defer func() { cancel(); _ = plugin.Wait() }()
		var first int
		framework.WaitFor(t, 30*time.Second, "the first followed line", func() (bool, error) {
			m := regexp.MustCompile(`^tick (\d+)\n`).FindStringSubmatch(follow.String())
			if m != nil {
				first, _ = strconv.Atoi(m[1])
			}
			return m != nil, nil
		})
		framework.WaitFor(t, 30*time.Second, "a line printed after the stream began", func() (bool, error) {
			return strings.Contains(follow.String(), fmt.Sprintf("tick %d\n", first+3)), nil
		})
	})

	t.Run("exit 3 with restartPolicy Never ends Failed with exit code 3", func(t *testing.T) {
		k.MustRun(t, processPod("fails", "Never", "echo bye; exit 3", marker("fails")), "apply", "-f", "-")
		waitForPodField(t, k, "fails", "{.status.phase}", regexp.MustCompile(`^Failed$`))
		got := k.MustRun(t, "", "get", "pod", "fails", "-o", "jsonpath={.status.containerStatuses[0].state.terminated.exitCode}/{.status.containerStatuses[0].state.terminated.reason}/{.status.containerStatuses[0].restartCount}")
		if got != "3/Error/0" {
			t.Errorf("exitCode/reason/restartCount = %q, want 3/Error/0", got)
		}
		if out := k.MustRun(t, "", "get", "pod", "fails"); !regexp.MustCompile(`fails\s+0/1\s+Error\s+0`).MatchString(out) {
			t.Errorf("get pod:\n%s", out)
		}
	})

	t.Run("a deleted pod's process is gone and the object removed", func(t *testing.T) {
		doomed := marker("doomed")
		k.MustRun(t, processPod("doomed", "Always", sleepForever, doomed), "apply", "-f", "-")
		k.MustRun(t, "", "wait", "--for=condition=Ready", "pod/doomed", "--timeout=60s")
		pids := framework.ProcessesWithArg(doomed)
		if len(pids) != 1 {
			t.Fatalf("doomed runs as %d processes, want 1", len(pids))
		}
		// kubectl delete waits until the kubelet has stopped the
		// container and removed the object.
		k.MustRun(t, "", "delete", "pod", "doomed", "--timeout=60s")
		if _, errOut, err := k.Run("", "get", "pod", "doomed"); err == nil || !strings.Contains(errOut, "NotFound") {
			t.Errorf("doomed still there: %v %s", err, errOut)
		}
		if framework.Alive(pids[0]) {
			t.Errorf("doomed's process %d outlived its pod", pids[0])
		}
	})

	t.Run("the node's identity gets 403 on another node's pod", func(t *testing.T) {
		k.MustRun(t, strings.Replace(processPod("elsewhere", "Always", sleepForever, "x"), "spec:\n", "spec:\n  nodeName: n2\n", 1), "apply", "-f", "-")
		asNode := framework.NewKubectl(t, kubelet.Kubeconfig)
		asNode.MustRun(t, "", "get", "pod", "crasher")
		for _, args := range [][]string{
			{"get", "pod", "elsewhere"},
			{"delete", "pod", "elsewhere"},
			{"get", "pods"},
			{"get", "--raw", "/apis/core.skiff.dev/v1alpha1/namespaces/default/pods/elsewhere/log"},
			{"get", "lease", "-n", "skiff-node-lease", "n2"},
		} {
			_, errOut, err := asNode.Run("", args...)
			if err == nil || !strings.Contains(errOut, "Forbidden") || !strings.Contains(errOut, `User "system:node:n1"`) {
				t.Errorf("kubectl %s as system:node:n1: err=%v stderr=%s, want Forbidden", strings.Join(args, " "), err, errOut)
			}
		}
		k.MustRun(t, "", "delete", "pod", "elsewhere", "--wait=false")
	})

	t.Run("a crashing container restarts with growing back-off", func(t *testing.T) {
		seen := map[int]time.Time{}
		crashLoop := false
		deadline := time.After(2 * time.Minute)
		for seen[3].IsZero() || !crashLoop {
			select {
			case l, ok := <-crasherWatch.C:
				if !ok {
					t.Fatalf("kubectl get -w ended")
				}
				fields := strings.Fields(l.Text)
				if len(fields) == 0 {
					continue
				}
				n, err := strconv.Atoi(fields[0])
				if err != nil {
					continue
				}
				if _, ok := seen[n]; !ok {
					seen[n] = l.At
				}
				if len(fields) > 1 && fields[1] == "CrashLoopBackOff" {
					crashLoop = true
				}
			case <-deadline:
				t.Fatalf("no third restart with CrashLoopBackOff in 2 minutes (restarts seen at %v, CrashLoopBackOff %v)", seen, crashLoop)
			}
		}
		crasherWatch.Stop()
		var gaps []time.Duration
		for i, last := 1, crasherCreated; i <= 3; i++ {
			gaps = append(gaps, seen[i].Sub(last).Round(100*time.Millisecond))
			last = seen[i]
		}
		t.Logf("restarts came %v apart", gaps)
		// Loosely: each wait is longer than the one before (they are about
		// 0 s, 10 s and 20 s), which noise of a few seconds cannot undo.
		if gaps[1] <= gaps[0] || gaps[2] <= gaps[1] {
			t.Errorf("restarts came %v apart: back-off did not grow", gaps)
		}
		if out := k.MustRun(t, "", "get", "--raw", "/apis/core.skiff.dev/v1alpha1/namespaces/default/pods/crasher/log?previous=true"); out != "crashing\n" {
			t.Errorf("previous log = %q, want crashing", out)
		}
		k.MustRun(t, "", "delete", "pod", "crasher", "--timeout=60s")
	})

	t.Run("a kubelet killed with -9 and started again neither duplicates nor orphans", func(t *testing.T) {
		markers := map[string]string{}
		for _, name := range []string{"keep-0", "keep-1", "keep-2"} {
			markers[name] = marker(name)
			k.MustRun(t, processPod(name, "Always", sleepForever, markers[name]), "apply", "-f", "-")
		}
		k.MustRun(t, "", "wait", "--for=condition=Ready", "pod/keep-0", "pod/keep-1", "pod/keep-2", "--timeout=60s")
		pids := map[string]int{}
		for name, m := range markers {
			found := framework.ContainerGroups(m)
			if len(found) != 1 {
				t.Fatalf("%s runs as %d processes, want 1", name, len(found))
			}
			pids[name] = found[0]
		}

		kubelet.Kill()
		// One container dies while no kubelet watches.
		if err := syscall.Kill(pids["keep-2"], syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		framework.WaitFor(t, 10*time.Second, "keep-2's process to go", func() (bool, error) { return !framework.Alive(pids["keep-2"]), nil })
		kubelet.Restart(t)

		// A pod made after the restart runs only once the kubelet has
		// synced, so every old pod has been looked at by then.
		k.MustRun(t, processPod("after", "Always", sleepForever, marker("after")), "apply", "-f", "-")
		k.MustRun(t, "", "wait", "--for=condition=Ready", "pod/after", "--timeout=60s")
		waitForPodField(t, k, "keep-2", "{.status.containerStatuses[0].restartCount}/{.status.containerStatuses[0].ready}", regexp.MustCompile(`^1/true$`))
		for name, m := range markers {
			found := framework.ContainerGroups(m)
			if len(found) != 1 {
				t.Errorf("%s runs as %d processes after the restart, want 1", name, len(found))
				continue
			}
			if name != "keep-2" && found[0] != pids[name] {
				t.Errorf("%s runs as pid %d, was %d: restarted instead of adopted", name, found[0], pids[name])
			}
		}
		status := k.MustRun(t, "", "get", "pods", "keep-0", "keep-1", "keep-2", "-o",
			`jsonpath={range .items[*]}{.metadata.name}={.status.phase}/{.status.containerStatuses[0].restartCount}/{.status.containerStatuses[0].lastState.terminated.reason} {end}`)
		if want := "keep-0=Running/0/ keep-1=Running/0/ keep-2=Running/1/ContainerStatusUnknown "; status != want {
			t.Errorf("statuses after the restart:\n got %s\nwant %s", status, want)
		}

		k.MustRun(t, "", "delete", "pods", "keep-0", "keep-1", "keep-2", "after", "--timeout=60s")
		for name, m := range markers {
			if found := framework.ProcessesWithArg(m); len(found) != 0 {
				t.Errorf("%s left processes %v after its deletion", name, found)
			}
		}
	})
}

// TestSimulatedNodesKeepTheirLeases runs 200 simulated nodes in one
// skiff-kubelet (fake runtime) and checks that all register Ready and keep
// renewing their leases.
func TestSimulatedNodesKeepTheirLeases(t *testing.T) {
	const nodes = 200
	server := framework.StartAPIServer(t, filepath.Join(t.TempDir(), "data"), framework.FreePort(t))
	k := framework.NewKubectl(t, server.Kubeconfig)
	kubelet := framework.StartKubelet(t, server, framework.KubeletOptions{
		NodeName: "sim", Runtime: "fake", Kubeconfig: server.Kubeconfig,
		ExtraArgs: []string{"--simulate-nodes", strconv.Itoa(nodes)},
	})

	readyRow := regexp.MustCompile(`(?m)^sim-\d+\s+Ready\s`)
	framework.WaitFor(t, 2*time.Minute, fmt.Sprintf("%d Ready nodes", nodes), func() (bool, error) {
		out, _, err := k.Run("", "get", "nodes", "--no-headers")
		return err == nil && len(readyRow.FindAllString(out, -1)) == nodes, nil
	})

	// renewTimes reads each lease's holder and renewTime.
	renewTimes := func() map[string]time.Time {
		out := k.MustRun(t, "", "get", "leases", "-n", "skiff-node-lease", "-o",
			`jsonpath={range .items[*]}{.metadata.name} {.spec.holderIdentity} {.spec.renewTime}{"\n"}{end}`)
		renewed := map[string]time.Time{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			f := strings.Fields(line)
			if len(f) != 3 || f[0] != f[1] {
				t.Fatalf("lease line %q: want name, holder (the node) and renewTime", line)
			}
			at, err := time.Parse(time.RFC3339Nano, f[2])
			if err != nil {
				t.Fatalf("lease %s renewTime: %v", f[0], err)
			}
			renewed[f[0]] = at
		}
		return renewed
	}
	framework.WaitFor(t, time.Minute, fmt.Sprintf("%d leases", nodes), func() (bool, error) {
		return len(renewTimes()) == nodes, nil
	})
	leases := func() map[string]time.Time {
		renewed := renewTimes()
		if len(renewed) != nodes {
			t.Fatalf("%d leases, want %d", len(renewed), nodes)
		}
		for name, at := range renewed {
			if age := time.Since(at); age > 40*time.Second {
				t.Errorf("lease %s renewed %s ago, more than its 40 s duration", name, age.Round(time.Second))
			}
		}
		return renewed
	}
	first := leases()
	time.Sleep(15 * time.Second)
	second := leases()
	for name, at := range second {
		if !at.After(first[name]) {
			t.Errorf("lease %s not renewed in 15 s (renewTime %s)", name, at.Format(time.RFC3339Nano))
		}
	}
	if out := k.MustRun(t, "", "get", "nodes", "--no-headers"); len(readyRow.FindAllString(out, -1)) != nodes {
		t.Errorf("fewer than %d Ready nodes after 15 s:\n%s", nodes, out)
	}
	if figures() {
		t.Logf("FIGURE simulated nodes: %d, kubelet RSS %s", nodes, rss(kubelet.Pid()))
	}
}

// figures reports whether measurements are asked for (SKIFF_E2E_FIGURES=1).
func figures() bool { return os.Getenv("SKIFF_E2E_FIGURES") == "1" }

// rss is pid's resident memory in MiB, for a figure.
func rss(pid int) string {
	m, err := bench.ReadProcessMemory(pid)
	if err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%.1f MiB", float64(m.RSS)/(1<<20))
}

// TestPodStartLatencyFigures measures, only with SKIFF_E2E_FIGURES=1, how
// long 100 pods take from creation to Running on the process runtime and on
// containerd, through the scheduler: the figures, not a test. Each
// runtime is measured twice: 100 pods in one kubectl apply (a burst), then
// 100 pods created one at a time at a steady rate the runtime keeps up with.
func TestPodStartLatencyFigures(t *testing.T) {
	if !figures() {
		t.Skip("a measurement: set SKIFF_E2E_FIGURES=1 to run it")
	}
	const pods = 100
	t.Run("process", func(t *testing.T) {
		server := framework.StartAPIServer(t, filepath.Join(t.TempDir(), "data"), framework.FreePort(t))
		k := framework.NewKubectl(t, server.Kubeconfig)
		framework.StartScheduler(t, server, "--leader-elect=false")
		framework.StartKubelet(t, server, framework.KubeletOptions{NodeName: "n1", Runtime: "process", Serve: true})
		framework.WaitFor(t, 30*time.Second, "node n1 Ready", func() (bool, error) {
			out, _, err := k.Run("", "get", "nodes")
			return err == nil && regexp.MustCompile(`(?m)^n1\s+Ready\s`).MatchString(out), nil
		})
		pod := func(name string) string { return processPod(name, "Always", "sleep 3600", name) }
		measurePodStartLatency(t, k, pods, 0, pod)
		measurePodStartLatency(t, k, pods, 200*time.Millisecond, pod)
	})
	t.Run("cri", func(t *testing.T) {
		_, k, _ := startCRINode(t)
		pod := func(name string) string { return criPod(name, "Always", busyboxImage, "sleep 3600") }
		measurePodStartLatency(t, k, pods, 0, pod)
		measurePodStartLatency(t, k, pods, time.Second, pod)
	})
}

// measurePodStartLatency creates n pods and logs the p50 and p99 of the
// time from each pod's creation to its Running, both as one watch (kubectl
// get -w) sees them; then deletes them. With interval 0 the pods come in
// one kubectl apply, otherwise one kubectl create every interval.
func measurePodStartLatency(t *testing.T, k *framework.Kubectl, n int, interval time.Duration, pod func(name string) string) {
	watch := k.StartLines(t, "get", "pods", "-w", "-o", `jsonpath={.metadata.name} {.status.phase}{"\n"}`)
	start := time.Now()
	how := "one kubectl apply"
	if interval == 0 {
		var list strings.Builder
		for i := range n {
			list.WriteString("---\n" + pod(fmt.Sprintf("lat-%03d", i)))
		}
		k.MustRun(t, list.String(), "apply", "-f", "-")
	} else {
		how = fmt.Sprintf("one kubectl create every %s", interval)
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for i := range n {
				select {
				case <-stop:
					return
				case <-time.After(time.Until(start.Add(time.Duration(i) * interval))):
				}
				if _, errOut, err := k.Run(pod(fmt.Sprintf("lat-%03d", i)), "create", "-f", "-"); err != nil {
					t.Logf("create pod %d: %v %s", i, err, errOut)
				}
			}
		}()
	}
	created, running := map[string]time.Time{}, map[string]time.Time{}
	deadline := time.After(5 * time.Minute)
	for len(running) < n {
		select {
		case l, ok := <-watch.C:
			if !ok {
				t.Fatalf("kubectl get -w ended")
			}
			name, phase, _ := strings.Cut(l.Text, " ")
			if _, ok := created[name]; !ok {
				created[name] = l.At
			}
			if _, ok := running[name]; !ok && phase == "Running" {
				running[name] = l.At
			}
		case <-deadline:
			t.Fatalf("%d of %d pods Running after 5 minutes", len(running), n)
		}
	}
	watch.Stop()
	var latencies []time.Duration
	for name, at := range running {
		latencies = append(latencies, at.Sub(created[name]))
	}
	slices.Sort(latencies)
	pct := func(p float64) time.Duration {
		return latencies[int(p*float64(len(latencies)-1)+0.5)].Round(time.Millisecond)
	}
	t.Logf("FIGURE pod start latency, create→Running, %d pods, %s: p50 %s, p99 %s, max %s; all Running %s after the first create",
		n, how, pct(0.50), pct(0.99), latencies[len(latencies)-1].Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	k.MustRun(t, "", "delete", "pods", "--all", "--timeout=5m")
}
