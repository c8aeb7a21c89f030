package runtime

import (
	"context"
	"io"
	"net/url"

	"k8s.io/cri-streaming/pkg/streaming/remotecommand"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

// Streams are the client's ends of an exec or attach: any of Stdin, Stdout
// and Stderr may be nil. Resize carries the client's terminal size when
// TTY is set.
type Streams struct {
	Stdin          io.Reader
	Stdout, Stderr io.WriteCloser
	TTY            bool
	Resize         <-chan remotecommand.TerminalSize
}

// StreamServer is a runtime that serves exec, attach and port-forward
// streams itself (the process runtime): the kubelet's streaming server
// hands it the streams it has opened with the client.
type StreamServer interface {
	// Exec runs cmd in container id (spec c of pod) with the streams, until
	// it exits or ctx ends, when it is killed with everything it started.
	// A command that ran and exited non-zero is a
	// k8s.io/utils/exec.ExitError.
	Exec(ctx context.Context, pod *v1alpha1.Pod, c *v1alpha1.Container, id string, cmd []string, s Streams) error
	// Attach joins the streams to container id's own, until ctx ends or
	// the container exits.
	Attach(ctx context.Context, pod *v1alpha1.Pod, c *v1alpha1.Container, id string, s Streams) error
	// PortForward copies between stream and port of the pod's network.
	PortForward(ctx context.Context, pod *v1alpha1.Pod, port int32, stream io.ReadWriteCloser) error
}

// StreamOptions are the streams an exec or attach asks for.
type StreamOptions struct {
	Stdin, Stdout, Stderr, TTY bool
}

// StreamURLer is a runtime whose own streaming server serves exec, attach
// and port-forward (a CRI runtime): it returns the URL the kubelet proxies
// the client's upgraded connection to.
type StreamURLer interface {
	ExecURL(ctx context.Context, id string, cmd []string, o StreamOptions) (*url.URL, error)
	AttachURL(ctx context.Context, id string, o StreamOptions) (*url.URL, error)
	PortForwardURL(ctx context.Context, pod *v1alpha1.Pod, ports []int32) (*url.URL, error)
}
