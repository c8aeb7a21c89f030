package kubectlplugin

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/kubectl/pkg/util/term"
	"k8s.io/streaming/pkg/httpstream"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/scheme"
)

// exec and attach reuse kubectl's terminal handling (k8s.io/kubectl's
// util/term: raw mode, restoring the terminal, resize monitoring) and
// client-go's executors, WebSocket v5 first with SPDY as the fallback, as
// kubectl's DefaultRemoteExecutor does. kubectl's exec package itself
// cannot be pointed at skiff pods (its Run reads the pod through a core/v1
// client), and importing it drags in most of kubectl, so its few lines of
// stream set-up are restated here.

// streamOptions are kubectl's exec and attach options.
type streamOptions struct {
	genericiooptions.IOStreams
	ContainerName string
	Stdin, TTY    bool
	Quiet         bool
}

type execOptions struct {
	streamOptions
	command []string
}

func newExecCommand(f Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &execOptions{streamOptions: streamOptions{IOStreams: streams}}
	cmd := &cobra.Command{
		Use:   "exec (POD | pod/NAME) [-c CONTAINER] [flags] -- COMMAND [args...]",
		Short: "Execute a command in a container of a skiff pod",
		Example: `  kubectl skiff exec web -- date
  kubectl skiff exec -it web -c sidecar -- sh`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dash := cmd.ArgsLenAtDash()
			if dash == -1 || dash > 1 {
				return fmt.Errorf("exec POD -- COMMAND [args...]: put the command after --")
			}
			if dash == 0 {
				return fmt.Errorf("pod must be specified")
			}
			o.command = args[dash:]
			if len(o.command) == 0 {
				return fmt.Errorf("you must specify at least one command for the container")
			}
			return runExec(cmd.Context(), f, o, args[0])
		},
	}
	cmd.Flags().StringVarP(&o.ContainerName, "container", "c", "", "Container name. If omitted, use the kubectl.kubernetes.io/default-container annotation for selecting the container to be attached or the first container in the pod will be chosen")
	cmd.Flags().BoolVarP(&o.Stdin, "stdin", "i", false, "Pass stdin to the container")
	cmd.Flags().BoolVarP(&o.TTY, "tty", "t", false, "Stdin is a TTY")
	cmd.Flags().BoolVarP(&o.Quiet, "quiet", "q", false, "Only print output from the remote session")
	return cmd
}

func runExec(ctx context.Context, f Factory, o *execOptions, podArg string) error {
	pod, err := streamPod(ctx, f, podArg, &o.streamOptions, "exec into")
	if err != nil {
		return err
	}
	return stream(ctx, f, &o.streamOptions, func(tty bool) (*url.URL, error) {
		client, err := f.Client()
		if err != nil {
			return nil, err
		}
		return client.CoreV1alpha1().RESTClient().Post().
			Namespace(pod.Namespace).Resource("pods").Name(pod.Name).SubResource("exec").
			VersionedParams(&v1alpha1.PodExecOptions{
				Container: o.ContainerName,
				Command:   o.command,
				Stdin:     o.Stdin,
				Stdout:    o.Out != nil,
				Stderr:    o.ErrOut != nil && !tty,
				TTY:       tty,
			}, scheme.ParameterCodec).URL(), nil
	})
}

// streamPod reads the pod and picks its container as kubectl does,
// refusing a completed pod.
func streamPod(ctx context.Context, f Factory, podArg string, o *streamOptions, what string) (*v1alpha1.Pod, error) {
	name, err := podName(podArg, "only pods can be used here")
	if err != nil {
		return nil, err
	}
	ns, err := f.Namespace()
	if err != nil {
		return nil, err
	}
	client, err := f.Client()
	if err != nil {
		return nil, err
	}
	pod, err := client.CoreV1alpha1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	if pod.Status.Phase == v1alpha1.PodSucceeded || pod.Status.Phase == v1alpha1.PodFailed {
		return nil, fmt.Errorf("cannot %s a container in a completed pod; current phase is %s", what, pod.Status.Phase)
	}
	if o.ContainerName != "" {
		names := containerNames(pod)
		if !slices.Contains(names, o.ContainerName) {
			return nil, fmt.Errorf("container %s is not valid for pod %s out of: %s", o.ContainerName, pod.Name, strings.Join(names, ", "))
		}
		return pod, nil
	}
	var errOut io.Writer
	if !o.Quiet {
		errOut = o.ErrOut
	}
	if o.ContainerName, err = defaultContainer(pod, errOut); err != nil {
		return nil, err
	}
	return pod, nil
}

// stream runs an exec or attach on the URL made by location, with the
// terminal in raw mode and its size sent along when -t is given and stdin
// is a terminal.
func stream(ctx context.Context, f Factory, o *streamOptions, location func(tty bool) (*url.URL, error)) error {
	t := o.setupTTY()
	var sizeQueue remotecommand.TerminalSizeQueue
	if t.Raw {
		// The remote terminal starts at the local one's size and follows it.
		sizeQueue = sizeAdapter{t.MonitorSize(t.GetSize())}
		// Without a stderr of its own (one terminal stream), kubectl keeps
		// stderr local as well.
		o.ErrOut = nil
	}
	cfg, err := f.RESTConfig()
	if err != nil {
		return err
	}
	u, err := location(o.TTY)
	if err != nil {
		return err
	}
	exec, err := newExecutor(u, cfg)
	if err != nil {
		return err
	}
	var stdin io.Reader
	if o.Stdin {
		stdin = o.In
	}
	var stdout, stderr io.Writer
	if o.Out != nil {
		stdout = o.Out
	}
	if o.ErrOut != nil {
		stderr = o.ErrOut
	}
	return t.Safe(func() error {
		return exec.StreamWithContext(ctx, remotecommand.StreamOptions{
			Stdin: stdin, Stdout: stdout, Stderr: stderr, Tty: t.Raw, TerminalSizeQueue: sizeQueue,
		})
	})
}

// newExecutor speaks WebSocket v5 and falls back to SPDY when the server
// cannot upgrade to it, as kubectl does.
func newExecutor(u *url.URL, cfg *rest.Config) (remotecommand.Executor, error) {
	spdyExec, err := remotecommand.NewSPDYExecutor(cfg, "POST", u)
	if err != nil {
		return nil, err
	}
	wsExec, err := remotecommand.NewWebSocketExecutor(cfg, "GET", u.String())
	if err != nil {
		return nil, err
	}
	return remotecommand.NewFallbackExecutor(wsExec, spdyExec, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
}

// setupTTY is kubectl's StreamOptions.SetupTTY: raw mode only when stdin
// is asked for, -t is given and stdin is a terminal.
func (o *streamOptions) setupTTY() term.TTY {
	t := term.TTY{Out: o.Out}
	if !o.Stdin {
		o.In = nil
		o.TTY = false
		return t
	}
	t.In = o.In
	if !o.TTY {
		return t
	}
	if !t.IsTerminalIn() {
		o.TTY = false
		if !o.Quiet && o.ErrOut != nil {
			fmt.Fprintln(o.ErrOut, "Unable to use a TTY - input is not a terminal or the right kind of file")
		}
		return t
	}
	t.Raw = true
	return t
}

// sizeAdapter hands kubectl's terminal sizes to client-go, whose type for
// them is its own.
type sizeAdapter struct{ q term.TerminalSizeQueue }

func (a sizeAdapter) Next() *remotecommand.TerminalSize {
	s := a.q.Next()
	if s == nil {
		return nil
	}
	return &remotecommand.TerminalSize{Width: s.Width, Height: s.Height}
}
