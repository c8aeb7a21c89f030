package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/proxy"
	"k8s.io/cri-streaming/pkg/streaming/portforward"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/runtime"
)

// StreamSource finds what the streaming endpoints are about.
type StreamSource interface {
	// StreamPod returns a pod of this node. Errors are *Error.
	StreamPod(ctx context.Context, namespace, pod string) (*v1alpha1.Pod, error)
	// StreamContainer returns a pod of this node, the spec of its named
	// container and the runtime's ID of the container's running attempt.
	// Errors are *Error.
	StreamContainer(ctx context.Context, namespace, pod, container string) (*v1alpha1.Pod, *v1alpha1.Container, string, error)
}

// Streaming timeouts, upstream's kubelet defaults: a connection with no
// traffic for idleTimeout is closed; the client must open its streams
// within streamCreationTimeout.
const (
	idleTimeout           = 4 * time.Hour
	streamCreationTimeout = remotecommand.DefaultStreamCreationTimeout
)

// NewStreamingHandler serves the kubelet's streaming endpoints, as
// upstream's kubelet does, and passes every other request to next:
//
//	/exec/{namespace}/{pod}/{container}?command=...&input=1&output=1&error=1&tty=1
//	/attach/{namespace}/{pod}/{container}?input=1&output=1&error=1&tty=1
//	/portForward/{namespace}/{pod}[?port=...]
//
// The protocol is k8s.io/cri-streaming's (SPDY, as the API server speaks
// it to kubelets, and the legacy WebSocket one). A runtime that serves
// streams itself (runtime.StreamServer) gets the opened streams; a runtime
// with a streaming server of its own (runtime.StreamURLer, CRI) gets the
// client's connection proxied to the URL it names.
func NewStreamingHandler(src StreamSource, rt runtime.Runtime, next http.Handler) http.Handler {
	s := &streaming{src: src, rt: rt}
	mux := http.NewServeMux()
	for _, m := range []string{"GET", "POST"} {
		mux.HandleFunc(m+" /exec/{namespace}/{pod}/{container}", s.serveExec)
		mux.HandleFunc(m+" /attach/{namespace}/{pod}/{container}", s.serveAttach)
		mux.HandleFunc(m+" /portForward/{namespace}/{pod}", s.servePortForward)
	}
	mux.Handle("/", next)
	return mux
}

type streaming struct {
	src StreamSource
	rt  runtime.Runtime
}

func (s *streaming) serveExec(w http.ResponseWriter, r *http.Request) {
	opts, err := remotecommand.NewOptions(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	cmd := r.URL.Query()["command"]
	if len(cmd) == 0 {
		http.Error(w, "the command to run is required (query parameter command)", http.StatusBadRequest)
		return
	}
	pod, c, id, err := s.src.StreamContainer(r.Context(), r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container"))
	if err != nil {
		writeError(w, err)
		return
	}
	if ss, ok := runtime.As[runtime.StreamServer](s.rt); ok {
		klog.V(2).InfoS("Exec", "pod", klog.KObj(pod), "container", c.Name, "command", cmd[0], "tty", opts.TTY)
		w, r := withConnectionContext(w, r)
		exec := execFunc(func(ctx context.Context, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
			return ss.Exec(ctx, pod, c, id, cmd, runtime.Streams{Stdin: in, Stdout: out, Stderr: errw, TTY: tty, Resize: resize})
		})
		remotecommand.ServeExec(w, r, exec, pod.Name, string(pod.UID), c.Name, cmd, opts, idleTimeout, streamCreationTimeout, remotecommand.SupportedStreamingProtocols)
		return
	}
	if su, ok := runtime.As[runtime.StreamURLer](s.rt); ok {
		u, err := su.ExecURL(r.Context(), id, cmd, streamOptions(opts))
		s.proxy(w, r, u, err)
		return
	}
	s.unsupported(w, "exec into")
}

func (s *streaming) serveAttach(w http.ResponseWriter, r *http.Request) {
	opts, err := remotecommand.NewOptions(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	pod, c, id, err := s.src.StreamContainer(r.Context(), r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container"))
	if err != nil {
		writeError(w, err)
		return
	}
	if ss, ok := runtime.As[runtime.StreamServer](s.rt); ok {
		klog.V(2).InfoS("Attach", "pod", klog.KObj(pod), "container", c.Name)
		w, r := withConnectionContext(w, r)
		attach := attachFunc(func(ctx context.Context, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
			return ss.Attach(ctx, pod, c, id, runtime.Streams{Stdin: in, Stdout: out, Stderr: errw, TTY: tty, Resize: resize})
		})
		remotecommand.ServeAttach(w, r, attach, pod.Name, string(pod.UID), c.Name, opts, idleTimeout, streamCreationTimeout, remotecommand.SupportedStreamingProtocols)
		return
	}
	if su, ok := runtime.As[runtime.StreamURLer](s.rt); ok {
		u, err := su.AttachURL(r.Context(), id, streamOptions(opts))
		s.proxy(w, r, u, err)
		return
	}
	s.unsupported(w, "attach to")
}

func (s *streaming) servePortForward(w http.ResponseWriter, r *http.Request) {
	opts, err := portforward.NewV4Options(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	pod, err := s.src.StreamPod(r.Context(), r.PathValue("namespace"), r.PathValue("pod"))
	if err != nil {
		writeError(w, err)
		return
	}
	if ss, ok := runtime.As[runtime.StreamServer](s.rt); ok {
		klog.V(2).InfoS("Port-forward", "pod", klog.KObj(pod))
		w, r := withConnectionContext(w, r)
		fwd := forwardFunc(func(ctx context.Context, port int32, stream io.ReadWriteCloser) error {
			return ss.PortForward(ctx, pod, port, stream)
		})
		portforward.ServePortForward(w, r, fwd, pod.Name, string(pod.UID), opts, idleTimeout, streamCreationTimeout, portforward.SupportedProtocols)
		return
	}
	if su, ok := runtime.As[runtime.StreamURLer](s.rt); ok {
		var ports []int32
		for _, p := range r.URL.Query()["port"] {
			for _, f := range strings.Split(p, ",") {
				if n, err := strconv.ParseUint(f, 10, 16); err == nil && n > 0 {
					ports = append(ports, int32(n))
				}
			}
		}
		u, err := su.PortForwardURL(r.Context(), pod, ports)
		s.proxy(w, r, u, err)
		return
	}
	s.unsupported(w, "forward ports of")
}

// proxy hands the client's upgraded connection to the runtime's own
// streaming server at u.
func (s *streaming) proxy(w http.ResponseWriter, r *http.Request, u *url.URL, err error) {
	if err != nil {
		klog.V(2).InfoS("Getting the runtime's streaming URL", "err", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	proxy.NewUpgradeAwareHandler(u, nil, false, true, errorResponder{}).ServeHTTP(w, r)
}

// unsupported answers a runtime that cannot stream (the fake runtime of
// simulated nodes, which runs no processes).
func (s *streaming) unsupported(w http.ResponseWriter, what string) {
	http.Error(w, fmt.Sprintf("the %s runtime of this node runs no processes: it cannot %s containers", s.rt.Type(), what), http.StatusBadRequest)
}

type errorResponder struct{}

func (errorResponder) Error(w http.ResponseWriter, _ *http.Request, err error) {
	http.Error(w, err.Error(), http.StatusInternalServerError)
}

func writeError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	var he *Error
	if errors.As(err, &he) {
		code = he.Code
	}
	http.Error(w, err.Error(), code)
}

func streamOptions(o *remotecommand.Options) runtime.StreamOptions {
	return runtime.StreamOptions{Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr, TTY: o.TTY}
}

type execFunc func(ctx context.Context, in io.Reader, out, err io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error

func (f execFunc) ExecInContainer(ctx context.Context, _, _, _ string, _ []string, in io.Reader, out, err io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize, _ time.Duration) error {
	return f(ctx, in, out, err, tty, resize)
}

type attachFunc func(ctx context.Context, in io.Reader, out, err io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error

func (f attachFunc) AttachContainer(ctx context.Context, _, _, _ string, in io.Reader, out, err io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	return f(ctx, in, out, err, tty, resize)
}

type forwardFunc func(ctx context.Context, port int32, stream io.ReadWriteCloser) error

func (f forwardFunc) PortForward(ctx context.Context, _, _ string, port int32, stream io.ReadWriteCloser) error {
	return f(ctx, port, stream)
}

// withConnectionContext returns a request whose context ends when the
// client's connection does. A hijacked connection's request context lives
// until the handler returns, so without this an exec whose client went
// away would run on, unseen: its process must be killed instead.
func withConnectionContext(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, *http.Request) {
	ctx, cancel := context.WithCancel(r.Context())
	return &hijackWatcher{ResponseWriter: w, cancel: cancel}, r.WithContext(ctx)
}

// hijackWatcher hands out the hijacked connection with a reader that
// cancels the request's context once reading from the client fails (the
// client closed the connection, or it broke).
type hijackWatcher struct {
	http.ResponseWriter
	cancel context.CancelFunc
}

func (h *hijackWatcher) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the response cannot be hijacked")
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	wc := &watchedConn{Conn: conn, cancel: h.cancel}
	// The server may already have buffered bytes from the client: read
	// them first, then the connection, through the watching reader.
	reader := bufio.NewReader(&watchedReader{r: rw.Reader, conn: wc})
	return wc, bufio.NewReadWriter(reader, rw.Writer), nil
}

func (h *hijackWatcher) Flush() {
	if f, ok := h.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

type watchedConn struct {
	net.Conn
	cancel context.CancelFunc
	once   sync.Once
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		c.once.Do(c.cancel)
	}
	return n, err
}

func (c *watchedConn) Close() error {
	c.once.Do(c.cancel)
	return c.Conn.Close()
}

type watchedReader struct {
	r    io.Reader
	conn *watchedConn
}

func (w *watchedReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if err != nil {
		w.conn.once.Do(w.conn.cancel)
	}
	return n, err
}
