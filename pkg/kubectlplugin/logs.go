package kubectlplugin

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/scheme"
)

// defaultContainerAnnotation names the container kubectl picks when none is
// given, as kubectl does.
const defaultContainerAnnotation = "kubectl.kubernetes.io/default-container"

type logsOptions struct {
	container  string
	follow     bool
	tail       int64
	previous   bool
	timestamps bool
	limitBytes int64
}

func newLogsCommand(f Factory, streams genericiooptions.IOStreams) *cobra.Command {
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
			return runLogs(ctx, f, o, streams, args[0])
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

func runLogs(ctx context.Context, f Factory, o *logsOptions, streams genericiooptions.IOStreams, podArg string) error {
	name, err := podName(podArg, "only pods have logs")
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
	pods := client.CoreV1alpha1().Pods(ns)
	container := o.container
	if container == "" {
		pod, err := pods.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if container, err = defaultContainer(pod, streams.ErrOut); err != nil {
			return err
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
