package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	utilexec "k8s.io/utils/exec"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/runtime"
)

// streamSource knows one pod, default/web, with one running container, app.
type streamSource struct{}

func (streamSource) StreamPod(_ context.Context, ns, name string) (*v1alpha1.Pod, error) {
	if ns != "default" || name != "web" {
		return nil, &Error{Code: http.StatusNotFound, Message: fmt.Sprintf("pod %s/%s not found on this node", ns, name)}
	}
	pod := &v1alpha1.Pod{}
	pod.Namespace, pod.Name, pod.UID = ns, name, "uid-1"
	pod.Spec.Containers = []v1alpha1.Container{{Name: "app"}}
	return pod, nil
}

func (s streamSource) StreamContainer(ctx context.Context, ns, name, container string) (*v1alpha1.Pod, *v1alpha1.Container, string, error) {
	pod, err := s.StreamPod(ctx, ns, name)
	if err != nil {
		return nil, nil, "", err
	}
	if container != "app" {
		return nil, nil, "", &Error{Code: http.StatusBadRequest, Message: "container " + container + " is not valid for pod web"}
	}
	return pod, &pod.Spec.Containers[0], "c1", nil
}

// streamRuntime is a runtime whose exec echoes, whose attach greets and
// whose port 80 answers; stream is false for one that cannot stream.
type streamRuntime struct {
	stream bool
}

func (streamRuntime) Type() string                            { return "test" }
func (streamRuntime) Version(context.Context) (string, error) { return "1", nil }
func (streamRuntime) StartContainer(context.Context, *v1alpha1.Pod, *v1alpha1.Container, uint32) (string, error) {
	return "", nil
}
func (streamRuntime) StopContainer(context.Context, string, time.Duration) error { return nil }
func (streamRuntime) RemoveContainer(context.Context, string) error              { return nil }
func (streamRuntime) ListContainers(context.Context) ([]runtime.Container, error) {
	return nil, nil
}
func (streamRuntime) RemovePod(context.Context, types.UID) error { return nil }

type streamingRuntime struct{ streamRuntime }

// abandoned is closed when a "block" exec's context ends.
var abandoned = make(chan struct{})

func (streamingRuntime) Exec(ctx context.Context, pod *v1alpha1.Pod, c *v1alpha1.Container, id string, cmd []string, s runtime.Streams) error {
	if cmd[0] == "block" {
		fmt.Fprint(s.Stdout, "started\n")
		<-ctx.Done()
		close(abandoned)
		return ctx.Err()
	}
	if cmd[0] == "fail" {
		fmt.Fprint(s.Stderr, "failing")
		return utilexec.CodeExitError{Err: errors.New("exit 4"), Code: 4}
	}
	in := ""
	if s.Stdin != nil {
		b, _ := io.ReadAll(s.Stdin)
		in = string(b)
	}
	fmt.Fprintf(s.Stdout, "%s/%s %s %s %v stdin=%q", pod.Name, c.Name, id, cmd, s.TTY, in)
	return nil
}

func (streamingRuntime) Attach(_ context.Context, pod *v1alpha1.Pod, c *v1alpha1.Container, _ string, s runtime.Streams) error {
	fmt.Fprintf(s.Stdout, "attached to %s/%s", pod.Name, c.Name)
	return nil
}

func (streamingRuntime) PortForward(_ context.Context, _ *v1alpha1.Pod, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	if port != 80 {
		return fmt.Errorf("dial port %d: connection refused", port)
	}
	buf := make([]byte, 4)
	n, _ := io.ReadFull(stream, buf)
	fmt.Fprintf(stream, "port 80 got %s", buf[:n])
	return nil
}

func newStreamingServer(t *testing.T, rt runtime.Runtime) *httptest.Server {
	srv := httptest.NewServer(NewStreamingHandler(streamSource{}, rt, http.NotFoundHandler()))
	t.Cleanup(srv.Close)
	return srv
}

func execURL(t *testing.T, srv *httptest.Server, path string, q url.Values) *url.URL {
	u, err := url.Parse(srv.URL + path + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestStreamingExec(t *testing.T) {
	srv := newStreamingServer(t, streamingRuntime{})
	run := func(path string, q url.Values, stdin string) (string, string, error) {
		exec, err := remotecommand.NewSPDYExecutor(&rest.Config{Host: srv.URL}, "POST", execURL(t, srv, path, q))
		if err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		opts := remotecommand.StreamOptions{Stdout: &out, Stderr: &errOut}
		if stdin != "" {
			opts.Stdin = strings.NewReader(stdin)
		}
		err = exec.StreamWithContext(context.Background(), opts)
		return out.String(), errOut.String(), err
	}
	tests := []struct {
		name, path string
		query      url.Values
		stdin      string
		wantOut    string
		wantErr    string
		wantExit   int
	}{
		{name: "exec with stdin", path: "/exec/default/web/app", query: url.Values{"command": {"cat", "-n"}, "input": {"1"}, "output": {"1"}, "error": {"1"}},
			stdin: "hello", wantOut: `web/app c1 [cat -n] false stdin="hello"`},
		{name: "exit code", path: "/exec/default/web/app", query: url.Values{"command": {"fail"}, "output": {"1"}, "error": {"1"}}, wantExit: 4},
		{name: "attach", path: "/attach/default/web/app", query: url.Values{"output": {"1"}, "error": {"1"}}, wantOut: "attached to web/app"},
		{name: "no such container", path: "/exec/default/web/nope", query: url.Values{"command": {"true"}, "output": {"1"}}, wantErr: "container nope is not valid for pod web"},
		{name: "no such pod", path: "/exec/default/db/app", query: url.Values{"command": {"true"}, "output": {"1"}}, wantErr: "pod default/db not found"},
		{name: "no command", path: "/exec/default/web/app", query: url.Values{"output": {"1"}}, wantErr: "command"},
		{name: "no stream", path: "/exec/default/web/app", query: url.Values{"command": {"true"}}, wantErr: "at least 1 of stdin, stdout, stderr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := run(tt.path, tt.query, tt.stdin)
			var exit utilexec.ExitError
			switch {
			case tt.wantExit != 0:
				if !errors.As(err, &exit) || exit.ExitStatus() != tt.wantExit || errOut != "failing" {
					t.Fatalf("err %v stderr %q, want exit code %d", err, errOut, tt.wantExit)
				}
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one saying %q", err, tt.wantErr)
				}
			case err != nil || out != tt.wantOut:
				t.Fatalf("got %q, %v; want %q", out, err, tt.wantOut)
			}
		})
	}
}

func TestStreamingPortForward(t *testing.T) {
	srv := newStreamingServer(t, streamingRuntime{})
	u := execURL(t, srv, "/portForward/default/web", nil)
	transport, upgrader, err := spdy.RoundTripperFor(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, "POST", u)
	stop, ready := make(chan struct{}), make(chan struct{})
	defer close(stop)
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{"0:80"}, stop, ready, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = fw.ForwardPorts() }()
	<-ready
	ports, _ := fw.GetPorts()
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", ports[0].Local))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprint(conn, "ping")
	got, _ := io.ReadAll(conn)
	if string(got) != "port 80 got ping" {
		t.Errorf("forwarded answer %q", got)
	}
}

func TestStreamingUnsupportedRuntime(t *testing.T) {
	srv := newStreamingServer(t, streamRuntime{})
	exec, err := remotecommand.NewSPDYExecutor(&rest.Config{Host: srv.URL}, "POST",
		execURL(t, srv, "/exec/default/web/app", url.Values{"command": {"true"}, "output": {"1"}}))
	if err != nil {
		t.Fatal(err)
	}
	err = exec.StreamWithContext(context.Background(), remotecommand.StreamOptions{Stdout: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "the test runtime of this node runs no processes: it cannot exec into containers") {
		t.Errorf("exec on a runtime that cannot: %v", err)
	}
	// Other paths go to the next handler.
	resp, err := http.Get(srv.URL + "/containerLogs/default/web/app")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /containerLogs: %d, want the next handler's 404", resp.StatusCode)
	}
}

// An exec whose client goes away has its context ended, so the runtime
// kills the command: a hijacked connection's request context would
// otherwise live on.
func TestStreamingExecAbandoned(t *testing.T) {
	srv := newStreamingServer(t, streamingRuntime{})
	exec, err := remotecommand.NewSPDYExecutor(&rest.Config{Host: srv.URL}, "POST",
		execURL(t, srv, "/exec/default/web/app", url.Values{"command": {"block"}, "output": {"1"}}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	go func() { _ = exec.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: pw}) }()
	buf := make([]byte, 8)
	if _, err := io.ReadFull(pr, buf); err != nil || string(buf) != "started\n" {
		t.Fatalf("read %q: %v", buf, err)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	cancel() // the client goes away
	select {
	case <-abandoned:
	case <-time.After(10 * time.Second):
		t.Fatal("the runtime's exec context did not end when its client went away")
	}
}
