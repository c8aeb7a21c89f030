package prober

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/runtime"
	"skiff.dev/skiff/pkg/kubelet/runtime/fake"
)

// serverEnv makes the test binary a plain HTTP server (in TestMain), so the
// overhead figure counts the prober's CPU and not the server's.
const serverEnv = "SKIFF_PROBE_TEST_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(serverEnv) != "" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(l.Addr().(*net.TCPAddr).Port)
		_ = http.Serve(l, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestProbeOverheadFigure prints the prober's CPU with 100 pods, each with
// an httpGet readiness probe every second against a server in another
// process. It is a figure, not an assertion, and runs only when asked:
//
//	SKIFF_PROBE_OVERHEAD=30s go test -run TestProbeOverheadFigure -v ./pkg/kubelet/prober/
func TestProbeOverheadFigure(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("SKIFF_PROBE_OVERHEAD"))
	if err != nil {
		t.Skip("set SKIFF_PROBE_OVERHEAD to a duration (e.g. 30s) to measure the probe overhead")
	}
	const pods = 100
	server := exec.Command(os.Args[0])
	server.Env = append(os.Environ(), serverEnv+"=1")
	out, err := server.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = server.Process.Kill(); _ = server.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(line[:len(line)-1])
	if err != nil {
		t.Fatal(err)
	}

	var changes atomic.Int64
	// The fake runtime, as simulated nodes use it: an httpGet probe is
	// really sent.
	m := New(Config{Runtime: fake.New(), OnChange: func(types.UID) { changes.Add(1) }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for i := range pods {
		uid := strconv.Itoa(i)
		pod, cs := podWith(uid, v1alpha1.Container{Name: "app", ReadinessProbe: &v1alpha1.Probe{
			ProbeHandler:  v1alpha1.ProbeHandler{HTTPGet: &v1alpha1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(int32(port)), Scheme: v1alpha1.URISchemeHTTP}},
			PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3,
		}})
		// Spread the pods' starts over a second, as pods started over time are.
		cs[0].StartedAt = time.Now().Add(time.Duration(i) * time.Second / pods)
		m.UpdatePod(pod, "127.0.0.1", []runtime.Container{cs[0]}, nil)
	}
	until(t, "every pod ready", func() bool { return changes.Load() == pods })
	time.Sleep(2 * time.Second) // settle

	start, cpu0 := time.Now(), cpuTime()
	var probes0 int
	m.mu.Lock()
	for _, e := range m.entries {
		probes0 += e.run
	}
	m.mu.Unlock()
	time.Sleep(d)
	wall, cpu := time.Since(start), cpuTime()-cpu0
	var probes1 int
	m.mu.Lock()
	for _, e := range m.entries {
		probes1 += e.run
	}
	m.mu.Unlock()
	fmt.Printf("probe overhead: %d pods, httpGet readiness every 1s, %d workers (the server is another process)\n", pods, DefaultWorkers)
	fmt.Printf("  probes: %d in %s (%.1f/s)\n", probes1-probes0, wall.Round(time.Millisecond), float64(probes1-probes0)/wall.Seconds())
	fmt.Printf("  CPU: %s user+sys = %.2f%% of one core\n", cpu.Round(time.Millisecond), 100*cpu.Seconds()/wall.Seconds())
}
