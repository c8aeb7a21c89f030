// Package bench runs every skiff-bench scenario at a tiny scale against an
// in-process skiff-apiserver (and, for schedule and start, an in-process
// scheduler and simulated kubelets), and checks what each counted and that
// each cleaned up. Timings are printed, never asserted.
package bench

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/pkg/bench"
	"skiff.dev/skiff/pkg/bench/report"
	kubeletapp "skiff.dev/skiff/pkg/kubelet/app"
	schedulerapp "skiff.dev/skiff/pkg/scheduler/app"
	scheduleroptions "skiff.dev/skiff/pkg/scheduler/options"
	"skiff.dev/skiff/test/integration/framework"
)

func env(s *framework.TestServer) bench.Env {
	return bench.Env{Client: s.Client, Timeout: time.Minute}
}

// want checks that the named figures have exactly these values.
func want(t *testing.T, r *report.Result, figures map[string]float64) {
	t.Helper()
	for name, value := range figures {
		f, ok := r.Figure(name)
		if !ok {
			t.Errorf("no figure %q in %+v", name, r.Figures)
			continue
		}
		if f.Value != value {
			t.Errorf("%s = %v %s, want %v", name, f.Value, f.Unit, value)
		}
	}
}

// wantPresent checks that the named figures were measured (and are above
// zero: a latency or a memory size).
func wantPresent(t *testing.T, r *report.Result, names ...string) {
	t.Helper()
	for _, name := range names {
		if f, ok := r.Figure(name); !ok || f.Value <= 0 {
			t.Errorf("figure %q missing or not above zero (%+v)", name, f)
		}
	}
}

func wantNoErrors(t *testing.T, r *report.Result, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s failed: %v", r.Scenario, err)
	}
	if r.ErrorCount() != 0 {
		t.Errorf("%s counted failed calls: %v", r.Scenario, r.Errors)
	}
	var table strings.Builder
	if err := report.WriteTable(&table, r); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", table.String())
}

func wantNamespaceEmpty(t *testing.T, s *framework.TestServer, ns string) {
	t.Helper()
	pods, err := s.Client.CoreV1alpha1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 0 {
		t.Errorf("%d pods left in %s after the scenario, want it cleaned up", len(pods.Items), ns)
	}
}

func TestCreateCountsEveryPodAndCleansUp(t *testing.T) {
	s := framework.StartTestServer(t)
	r, err := bench.Create(context.Background(), env(s), bench.CreateOptions{Pods: 50, Workers: 4})
	wantNoErrors(t, r, err)
	want(t, r, map[string]float64{"pods created": 50})
	wantPresent(t, r, "create rate", "create latency p50", "create latency p99")
	wantNamespaceEmpty(t, s, "skiff-bench-create")
}

func TestCreateKeepLeavesThePods(t *testing.T) {
	s := framework.StartTestServer(t)
	e := env(s)
	e.Keep, e.Namespace = true, "kept"
	r, err := bench.Create(context.Background(), e, bench.CreateOptions{Pods: 5, Workers: 2})
	wantNoErrors(t, r, err)
	pods, err := s.Client.CoreV1alpha1().Pods("kept").List(context.Background(), metav1.ListOptions{})
	if err != nil || len(pods.Items) != 5 {
		t.Fatalf("with --keep %d pods are left (err %v), want 5", len(pods.Items), err)
	}
}

func TestListReturnsEveryPodAndOneNodesShare(t *testing.T) {
	s := framework.StartTestServer(t)
	r, err := bench.List(context.Background(), env(s), bench.ListOptions{Pods: 30, Nodes: 3, Repetitions: 3, Workers: 4})
	wantNoErrors(t, r, err)
	want(t, r, map[string]float64{"pods stored": 30, "pods on bench-node-0": 10})
	wantPresent(t, r, "LIST all pods p99", "LIST one node's pods p99")
	wantNamespaceEmpty(t, s, "skiff-bench-list")
}

func TestListTopsUpPodsKeptFromAnEarlierRun(t *testing.T) {
	s := framework.StartTestServer(t)
	e := env(s)
	e.Keep = true
	if _, err := bench.List(context.Background(), e, bench.ListOptions{Pods: 10, Nodes: 2, Repetitions: 1, Workers: 2}); err != nil {
		t.Fatal(err)
	}
	e.Keep = false
	r, err := bench.List(context.Background(), e, bench.ListOptions{Pods: 16, Nodes: 2, Repetitions: 1, Workers: 2})
	wantNoErrors(t, r, err)
	// The kept 10 are bound 5 and 5; the 6 new ones are bound 3 and 3.
	want(t, r, map[string]float64{"pods stored": 16, "pods on bench-node-0": 8})
	wantNamespaceEmpty(t, s, "skiff-bench-list")
}

func TestWatchDeliversEveryEventToItsWatcher(t *testing.T) {
	s := framework.StartTestServer(t)
	r, err := bench.Watch(context.Background(), env(s), bench.WatchOptions{Watchers: 5, Rounds: 4, Workers: 5})
	wantNoErrors(t, r, err)
	want(t, r, map[string]float64{"watches open": 5, "events sent": 20, "events delivered": 20, "watches closed early": 0})
	wantPresent(t, r, "burst to all watchers p99", "create event delivery p50", "bind event delivery p50")
	wantNamespaceEmpty(t, s, "skiff-bench-watch")
}

func TestChurnTakesEveryPodThroughItsLife(t *testing.T) {
	s := framework.StartTestServer(t)
	r, err := bench.Churn(context.Background(), env(s), bench.ChurnOptions{
		Rate: 20, Duration: 2 * time.Second, Window: time.Second, Lifetime: 400 * time.Millisecond,
	})
	wantNoErrors(t, r, err)
	want(t, r, map[string]float64{"pods created": 40, "status updates": 40, "pods deleted": 40, "pods left": 0})
	// The in-process server's /metrics reports this test process.
	wantPresent(t, r, "write latency p99", "create latency p50", "status latency p50", "delete latency p50", "API server RSS")
	if len(r.Series) != 1 || len(r.Series[0].Points) < 2 {
		t.Fatalf("series %+v, want one series of at least two 1s windows", r.Series)
	}
	writes := 0.0
	for _, p := range r.Series[0].Points {
		for _, f := range p.Figures {
			if f.Name == "writes" {
				writes += f.Value
			}
		}
	}
	if writes != 120 {
		t.Errorf("the windows hold %v writes, want all 120", writes)
	}
	wantNamespaceEmpty(t, s, "skiff-bench-churn")
}

func TestChurnReadsAPIServerMemoryFromProc(t *testing.T) {
	s := framework.StartTestServer(t)
	r, err := bench.Churn(context.Background(), env(s), bench.ChurnOptions{
		Rate: 5, Duration: 200 * time.Millisecond, Window: time.Second, Lifetime: 10 * time.Millisecond, APIServerPID: os.Getpid(),
	})
	wantNoErrors(t, r, err)
	wantPresent(t, r, "API server RSS", "API server peak RSS")
}

// startScheduler runs skiff-scheduler in-process as system:kube-scheduler.
func startScheduler(t *testing.T, s *framework.TestServer) {
	t.Helper()
	o := scheduleroptions.NewOptions()
	o.ClientConfig = s.ConfigFor("system:kube-scheduler")
	o.LeaderElection.LeaderElect = false
	o.Serving.SecureServing.BindPort = 0
	run(t, "scheduler", func(ctx context.Context) error { return schedulerapp.Run(ctx, o) })
}

// run runs a component until the test ends and checks it exits cleanly.
func run(t *testing.T, what string, component func(ctx context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- component(ctx) }()
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("%s exited with %v", what, err)
			}
		})
	})
}

func TestScheduleBindsEveryPodAndRemovesItsNodes(t *testing.T) {
	s := framework.StartTestServer(t)
	startScheduler(t, s)
	r, err := bench.Schedule(context.Background(), env(s), bench.ScheduleOptions{
		Nodes: 10, Pods: 50, Workers: 4, SchedulerPID: os.Getpid(),
	})
	wantNoErrors(t, r, err)
	want(t, r, map[string]float64{"nodes registered": 10, "pods created": 50, "pods bound": 50})
	wantPresent(t, r, "scheduling throughput", "create→bound p50", "create→bound p99", "scheduler peak RSS")
	wantNamespaceEmpty(t, s, "skiff-bench-schedule")
	nodes, err := s.Client.CoreV1alpha1().Nodes().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) != 0 {
		t.Errorf("%d nodes left after the scenario, want the bench nodes deleted", len(nodes.Items))
	}
}

func TestScheduleRefusesPodsThatCannotFit(t *testing.T) {
	_, err := bench.Schedule(context.Background(), bench.Env{}, bench.ScheduleOptions{Nodes: 1, Pods: 111, Workers: 1})
	if err == nil || !strings.Contains(err.Error(), "do not fit") {
		t.Errorf("err = %v, want 111 pods refused on one node of 110", err)
	}
}

func TestStartRunsEveryPodOnSimulatedKubelets(t *testing.T) {
	s := framework.StartTestServer(t)
	startScheduler(t, s)
	o := kubeletapp.NewOptions()
	o.ClientConfig = s.AdminConfig
	o.NodeName, o.Runtime, o.SimulateNodes, o.HealthzPort = "hollow", kubeletapp.RuntimeFake, 3, 0
	run(t, "simulated kubelets", func(ctx context.Context) error { return kubeletapp.Run(ctx, o) })

	e := env(s)
	if err := waitForReadyNodes(s, 3); err != nil {
		t.Fatal(err)
	}
	r, err := bench.Start(context.Background(), e, bench.StartOptions{Pods: 12, Workers: 4, Command: []string{"sleep", "3600"}})
	wantNoErrors(t, r, err)
	want(t, r, map[string]float64{"ready nodes": 3, "pods created": 12, "pods running": 12})
	wantPresent(t, r, "create→running p50", "create→running p99", "create→bound p99")
	wantNamespaceEmpty(t, s, "skiff-bench-start")
}

func TestStartNeedsReadyNodes(t *testing.T) {
	s := framework.StartTestServer(t)
	_, err := bench.Start(context.Background(), env(s), bench.StartOptions{Pods: 1, Workers: 1})
	if err == nil || !strings.Contains(err.Error(), "no Ready node") {
		t.Errorf("err = %v, want a clear error that no kubelet is registered", err)
	}
}

func waitForReadyNodes(s *framework.TestServer, n int) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		nodes, err := s.Client.CoreV1alpha1().Nodes().List(ctx, metav1.ListOptions{})
		if err == nil && len(nodes.Items) >= n {
			ready := 0
			for _, node := range nodes.Items {
				for _, c := range node.Status.Conditions {
					if c.Type == "Ready" && c.Status == "True" {
						ready++
					}
				}
			}
			if ready >= n {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
