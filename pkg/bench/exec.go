package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	"k8s.io/streaming/pkg/httpstream"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/bench/progress"
	"skiff.dev/skiff/pkg/bench/report"
	"skiff.dev/skiff/pkg/bench/stats"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/scheme"
)

// ExecOptions configures the exec scenario.
type ExecOptions struct {
	// Execs is how many `true` commands are run, one after another.
	Execs int
	// ForwardMiB is how much data one port-forward connection carries.
	ForwardMiB int
	// Node, when set, is the node the pod is put on (spec.nodeName);
	// otherwise the cluster's scheduler places it.
	Node string
}

// Exec measures streams into a pod through the API server: the round trip
// of `kubectl skiff exec POD -- true` (client-go's executor, WebSocket with
// the SPDY fallback as kubectl; from the request to the exit code), and
// port-forward throughput. The pod must run on a process-runtime kubelet
// on this machine: its network is the host's, so the port it forwards to
// is a listener of this process on loopback, which sends ForwardMiB of
// zeros per connection.
func Exec(ctx context.Context, e Env, o ExecOptions) (*report.Result, error) {
	if o.Execs <= 0 || o.ForwardMiB <= 0 {
		return nil, fmt.Errorf("exec needs --execs and --forward-mib above 0, got %d and %d", o.Execs, o.ForwardMiB)
	}
	if e.Config == nil {
		return nil, errors.New("exec needs the client's REST configuration")
	}
	const scenario = "exec"
	ns, run := e.namespace(scenario), newRunID()
	if err := e.ensureNamespace(ctx, ns); err != nil {
		return nil, err
	}
	r := report.New(scenario)
	r.Parameters["execs"] = o.Execs
	r.Parameters["forward_mib"] = o.ForwardMiB
	r.Parameters["namespace"] = ns
	defer func() { r.Notes = append(r.Notes, cleanupNamespace(ctx, e, ns, false)...) }()

	pod := newPod(ns, scenario+"-"+run, scenario, run)
	pod.Spec.SchedulerName = ""
	pod.Spec.NodeName = o.Node
	pod.Spec.Containers[0].Command = []string{"sh", "-c", "while :; do sleep 1; done"}
	if _, err := e.Client.CoreV1alpha1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		return r, fmt.Errorf("create pod: %w", err)
	}
	if err := waitFor(ctx, e.timeout(), func() bool {
		p, err := e.Client.CoreV1alpha1().Pods(ns).Get(ctx, pod.Name, metav1.GetOptions{})
		return err == nil && p.Status.Phase == v1alpha1.PodRunning
	}); err != nil {
		return r, fmt.Errorf("pod %s/%s did not start: %w", ns, pod.Name, err)
	}
	rest := e.Client.CoreV1alpha1().RESTClient()

	// exec round trips
	var roundTrips stats.Recorder
	failed := map[string]int{}
	bar := progress.Start(e.Progress, "execs", o.Execs)
	for i := 0; i < o.Execs && ctx.Err() == nil; i++ {
		u := rest.Post().Namespace(ns).Resource("pods").Name(pod.Name).SubResource("exec").
			VersionedParams(&v1alpha1.PodExecOptions{Command: []string{"true"}, Stdout: true, Stderr: true}, scheme.ParameterCodec).URL()
		start := time.Now()
		err := execOnce(ctx, e, u)
		if err != nil {
			failed[err.Error()]++
			continue
		}
		roundTrips.Add(time.Since(start))
		bar.Add(1)
	}
	bar.Finish()
	r.Add("execs", float64(roundTrips.Count()), report.Count)
	r.AddLatencies("exec round trip", roundTrips.Summary())

	// port-forward throughput
	mbps, err := forwardThroughput(ctx, e, rest.Post().Namespace(ns).Resource("pods").Name(pod.Name).SubResource("portforward").URL(), o.ForwardMiB)
	if err != nil {
		return r, fmt.Errorf("port-forward: %w", err)
	}
	r.Add("port-forward throughput", mbps, report.MBPerSecond)
	for msg, n := range failed {
		r.Notef("%d execs failed: %s", n, msg)
	}
	if err := interrupted(ctx); err != nil {
		return r, err
	}
	if len(failed) > 0 {
		return r, fmt.Errorf("%d of %d execs failed", o.Execs-roundTrips.Count(), o.Execs)
	}
	return r, nil
}

// execOnce runs one exec to its exit code, as kubectl does.
func execOnce(ctx context.Context, e Env, u *url.URL) error {
	ws, err := remotecommand.NewWebSocketExecutor(e.Config, "GET", u.String())
	if err != nil {
		return err
	}
	sp, err := remotecommand.NewSPDYExecutor(e.Config, "POST", u)
	if err != nil {
		return err
	}
	exec, err := remotecommand.NewFallbackExecutor(ws, sp, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return err
	}
	return exec.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: io.Discard, Stderr: io.Discard})
}

// forwardThroughput forwards a local port to a port of the pod behind
// which this process sends mib MiB, reads it all, and returns MB/s.
func forwardThroughput(ctx context.Context, e Env, u *url.URL, mib int) (float64, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	go func() {
		zeros := make([]byte, 256<<10)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				for sent := 0; sent < mib<<20; sent += len(zeros) {
					if _, err := conn.Write(zeros); err != nil {
						return
					}
				}
			}()
		}
	}()
	remote := ln.Addr().(*net.TCPAddr).Port
	transport, upgrader, err := spdy.RoundTripperFor(e.Config)
	if err != nil {
		return 0, err
	}
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, "POST", u)
	stop, ready := make(chan struct{}), make(chan struct{})
	defer close(stop)
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{"0:" + strconv.Itoa(remote)}, stop, ready, io.Discard, io.Discard)
	if err != nil {
		return 0, err
	}
	errs := make(chan error, 1)
	go func() { errs <- fw.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-errs:
		return 0, err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	ports, err := fw.GetPorts()
	if err != nil {
		return 0, err
	}
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", ports[0].Local))
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	start := time.Now()
	n, err := io.Copy(io.Discard, conn)
	elapsed := time.Since(start)
	if err != nil {
		return 0, err
	}
	if n < int64(mib)<<20 {
		return 0, fmt.Errorf("received %d of %d bytes", n, mib<<20)
	}
	return float64(n) / 1e6 / elapsed.Seconds(), nil
}
