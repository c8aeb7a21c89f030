// Package kubectlplugin is `kubectl skiff`, a kubectl plugin for what plain
// kubectl cannot do with skiff's API group: `kubectl skiff logs POD` reads a
// container's log through the API server's pods/log subresource, with the
// user's kubeconfig.
package kubectlplugin

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/scheme"
)

// defaultContainerAnnotation names the container kubectl picks when none is
// given, as kubectl does.
const defaultContainerAnnotation = "kubectl.kubernetes.io/default-container"

// Streams are where the plugin reads and writes.
type Streams struct {
	Out    io.Writer
	ErrOut io.Writer
}

type globalOptions struct {
	kubeconfig string
	context    string
	namespace  string
}

// NewCommand is the kubectl-skiff command.
func NewCommand(streams Streams) *cobra.Command {
	g := &globalOptions{}
	cmd := &cobra.Command{
		Use:          "kubectl-skiff",
		Short:        "Work with skiff's core.skiff.dev resources",
		SilenceUsage: true,
	}
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	cmd.PersistentFlags().StringVar(&g.kubeconfig, "kubeconfig", "", "Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config).")
	cmd.PersistentFlags().StringVar(&g.context, "context", "", "The kubeconfig context to use.")
	cmd.PersistentFlags().StringVarP(&g.namespace, "namespace", "n", "", "The namespace (default: the context's, else default).")
	cmd.AddCommand(newLogsCommand(g, streams))
	cmd.AddCommand(newRolloutCommand(g, streams))
	return cmd
}

type logsOptions struct {
	container  string
	follow     bool
	tail       int64
	previous   bool
	timestamps bool
	limitBytes int64
}

func newLogsCommand(g *globalOptions, streams Streams) *cobra.Command {
	o := &logsOptions{tail: -1}
	cmd := &cobra.Command{
		Use:   "logs POD",
		Short: "Print the logs of a container of a skiff pod",
		Example: `  kubectl skiff logs web
  kubectl skiff logs web -c sidecar -f --tail 20
  kubectl skiff logs -n prod web --previous`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			return runLogs(ctx, g, o, streams, args[0])
		},
	}
	cmd.Flags().StringVarP(&o.container, "container", "c", "", "The container (default: the pod's default or only one).")
	cmd.Flags().BoolVarP(&o.follow, "follow", "f", false, "Stream the log as it grows.")
	cmd.Flags().Int64Var(&o.tail, "tail", o.tail, "Lines from the end to show; -1 shows all.")
	cmd.Flags().BoolVarP(&o.previous, "previous", "p", false, "Show the log of the container's previous run.")
	cmd.Flags().BoolVar(&o.timestamps, "timestamps", false, "Prefix each line with its time.")
	cmd.Flags().Int64Var(&o.limitBytes, "limit-bytes", 0, "Stop after this many bytes; 0 means no limit.")
	return cmd
}

func runLogs(ctx context.Context, g *globalOptions, o *logsOptions, streams Streams, podArg string) error {
	name := podArg
	if kind, n, ok := strings.Cut(podArg, "/"); ok {
		if kind != "pod" && kind != "pods" && kind != "po" {
			return fmt.Errorf("%q: only pods have logs", podArg)
		}
		name = n
	}
	cfg, ns, err := g.clientConfig()
	if err != nil {
		return err
	}
	client, err := clientset.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	pods := client.CoreV1alpha1().Pods(ns)
	container := o.container
	if container == "" {
		pod, err := pods.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if len(pod.Spec.Containers) == 0 {
			return fmt.Errorf("pod %s/%s has no containers", ns, name)
		}
		container = pod.Spec.Containers[0].Name
		if def := pod.Annotations[defaultContainerAnnotation]; def != "" {
			container = def
		} else if len(pod.Spec.Containers) > 1 {
			var names []string
			for _, c := range pod.Spec.Containers {
				names = append(names, c.Name)
			}
			fmt.Fprintf(streams.ErrOut, "Defaulted container %q out of: %s\n", container, strings.Join(names, ", "))
		}
	}
	opts := &v1alpha1.PodLogOptions{Container: container, Follow: o.follow, Previous: o.previous, Timestamps: o.timestamps}
	if o.tail >= 0 {
		opts.TailLines = &o.tail
	}
	if o.limitBytes > 0 {
		opts.LimitBytes = &o.limitBytes
	}
	req := client.CoreV1alpha1().RESTClient().Get().
		Namespace(ns).Resource("pods").Name(name).SubResource("log").
		VersionedParams(opts, scheme.ParameterCodec)
	body, err := req.Stream(ctx)
	if err != nil {
		return err
	}
	defer body.Close()
	if _, err := io.Copy(streams.Out, body); err != nil && ctx.Err() == nil {
		return fmt.Errorf("read logs: %w", err)
	}
	return nil
}

// clientConfig loads the user's kubeconfig as kubectl does, and the
// namespace to use.
func (g *globalOptions) clientConfig() (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = g.kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: g.context})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("load kubeconfig: %w", err)
	}
	ns := g.namespace
	if ns == "" {
		if ns, _, err = cc.Namespace(); err != nil {
			return nil, "", fmt.Errorf("namespace from kubeconfig: %w", err)
		}
	}
	return cfg, ns, nil
}
