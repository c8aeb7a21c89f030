package kubectlplugin

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
	streamhttp "k8s.io/streaming/pkg/httpstream"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

// port-forward uses client-go's port forwarder and its WebSocket-tunnelled
// dialer with the SPDY fallback, as kubectl does: kubectl's own
// PortForwardOptions read the pod through a core/v1 client and keep their
// forwarder unexported, so they cannot be pointed at a skiff pod.

type portForwardOptions struct {
	address []string
}

func newPortForwardCommand(f Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &portForwardOptions{}
	cmd := &cobra.Command{
		Use:   "port-forward (POD | pod/NAME) [LOCAL_PORT:]REMOTE_PORT [...[LOCAL_PORT_N:]REMOTE_PORT_N]",
		Short: "Forward one or more local ports to a skiff pod",
		Example: `  kubectl skiff port-forward web 8080:80
  kubectl skiff port-forward web 5000 6000
  kubectl skiff port-forward --address 0.0.0.0 web :80`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return fmt.Errorf("TYPE/NAME and list of ports are required for port-forward")
			}
			return runPortForward(cmd.Context(), f, o, streams, args[0], args[1:])
		},
	}
	cmd.Flags().StringSliceVar(&o.address, "address", []string{"localhost"}, "Addresses to listen on (comma separated). Only accepts IP addresses or localhost as a value. When localhost is supplied, kubectl will try to bind on both 127.0.0.1 and ::1 and will fail if neither of these addresses are available to bind.")
	return cmd
}

func runPortForward(ctx context.Context, f Factory, o *portForwardOptions, streams genericiooptions.IOStreams, podArg string, ports []string) error {
	for _, p := range ports {
		if err := checkPortSpec(p); err != nil {
			return err
		}
	}
	name, err := podName(podArg, "only pods can be port-forwarded to")
	if err != nil {
		return err
	}
	ns, err := f.Namespace()
	if err != nil {
		return err
	}
	client, err := f.Client()
	if err != nil {
		return err
	}
	pod, err := client.CoreV1alpha1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if pod.Status.Phase != v1alpha1.PodRunning {
		return fmt.Errorf("unable to forward port because pod is not running. Current status=%v", pod.Status.Phase)
	}
	cfg, err := f.RESTConfig()
	if err != nil {
		return err
	}
	u := client.CoreV1alpha1().RESTClient().Post().
		Namespace(ns).Resource("pods").Name(name).SubResource("portforward").URL()
	transport, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		return err
	}
	dialer := spdy.NewDialerForStreaming(upgrader, &http.Client{Transport: transport}, http.MethodPost, u)
	tunneling, err := portforward.NewSPDYOverWebsocketDialerForStreaming(u, cfg)
	if err != nil {
		return err
	}
	dialer = portforward.NewFallbackDialerForStreaming(tunneling, dialer, func(err error) bool {
		return streamhttp.IsUpgradeFailure(err) || streamhttp.IsHTTPSProxyError(err)
	})

	stop := make(chan struct{})
	stopOnce := sync.OnceFunc(func() { close(stop) })
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt)
	defer signal.Stop(signals)
	go func() {
		select {
		case <-signals:
		case <-ctx.Done():
		}
		stopOnce()
	}()
	// One forwarder, and so one connection to the pod, per port: client-go
	// drops the whole connection when one port's stream fails (nobody
	// listens on it), and the user's other ports must keep working. A
	// forwarder whose connection was lost is started again on the same
	// local port.
	errs := make(chan error, len(ports))
	for _, spec := range ports {
		go func() { errs <- forwardPort(dialer, o.address, spec, stop, streams) }()
	}
	var first error
	for range ports {
		if err := <-errs; err != nil && first == nil {
			first = err
			stopOnce()
		}
	}
	return first
}

// forwardPort forwards one [LOCAL:]REMOTE port until stop is closed,
// reconnecting after a lost connection.
func forwardPort(dialer streamhttp.Dialer, addresses []string, spec string, stop chan struct{}, streams genericiooptions.IOStreams) error {
	quiet := genericiooptions.IOStreams{Out: io.Discard, ErrOut: streams.ErrOut}
	out := streams
	for {
		ready := make(chan struct{})
		fw, err := portforward.NewOnAddressesForStreaming(dialer, addresses, []string{spec}, stop, ready, out.Out, out.ErrOut)
		if err != nil {
			return err
		}
		err = fw.ForwardPorts()
		select {
		case <-stop:
			return nil
		default:
		}
		select {
		case <-ready:
		default:
			// It never listened: the pod or the local port is not usable.
			return err
		}
		got, gerr := fw.GetPorts()
		if gerr != nil || len(got) != 1 {
			return err
		}
		p := fmt.Sprintf("%d:%d", got[0].Local, got[0].Remote)
		fmt.Fprintf(streams.ErrOut, "Reconnecting port %s: %v\n", p, err)
		// The same local port again, and the "Forwarding from" lines once.
		spec, out = p, quiet
	}
}

// checkPortSpec checks [LOCAL:]REMOTE as kubectl does for a pod: numbers
// only (a skiff container's ports have no names to look up).
func checkPortSpec(spec string) error {
	local, remote, ok := strings.Cut(spec, ":")
	if !ok {
		remote, local = local, ""
	}
	if _, err := strconv.ParseUint(remote, 10, 16); err != nil || remote == "0" {
		return fmt.Errorf("invalid port %q in %q: the remote port must be a number from 1 to 65535", remote, spec)
	}
	if local != "" {
		if _, err := strconv.ParseUint(local, 10, 16); err != nil {
			return fmt.Errorf("invalid port %q in %q: the local port must be a number from 0 to 65535", local, spec)
		}
	}
	return nil
}
