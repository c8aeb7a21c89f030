package kubectlplugin

import (
	"context"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/scheme"
)

func newAttachCommand(f Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &streamOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "attach (POD | pod/NAME) -c CONTAINER",
		Short: "Attach to a running container of a skiff pod",
		Example: `  kubectl skiff attach web
  kubectl skiff attach -i web -c sidecar`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			pod, err := streamPod(ctx, f, args[0], o, "attach to")
			if err != nil {
				return err
			}
			for _, c := range pod.Spec.Containers {
				if c.Name == o.ContainerName && o.TTY && !c.TTY {
					// As kubectl: without the container's terminal, no -t.
					o.TTY = false
					if !o.Quiet {
						fmt.Fprintf(o.ErrOut, "Unable to use a TTY - container %s did not allocate one\n", c.Name)
					}
				}
			}
			if !o.Quiet && o.Stdin {
				fmt.Fprintln(o.ErrOut, "If you don't see a command prompt, try pressing enter.")
			}
			return attach(ctx, f, o, pod)
		},
	}
	cmd.Flags().StringVarP(&o.ContainerName, "container", "c", "", "Container name. If omitted, use the kubectl.kubernetes.io/default-container annotation for selecting the container to be attached or the first container in the pod will be chosen")
	cmd.Flags().BoolVarP(&o.Stdin, "stdin", "i", false, "Pass stdin to the container")
	cmd.Flags().BoolVarP(&o.TTY, "tty", "t", false, "Stdin is a TTY")
	cmd.Flags().BoolVarP(&o.Quiet, "quiet", "q", false, "Only print output from the remote session")
	return cmd
}

func attach(ctx context.Context, f Factory, o *streamOptions, pod *v1alpha1.Pod) error {
	return stream(ctx, f, o, func(tty bool) (*url.URL, error) {
		client, err := f.Client()
		if err != nil {
			return nil, err
		}
		return client.CoreV1alpha1().RESTClient().Post().
			Namespace(pod.Namespace).Resource("pods").Name(pod.Name).SubResource("attach").
			VersionedParams(&v1alpha1.PodAttachOptions{
				Container: o.ContainerName,
				Stdin:     o.Stdin,
				Stdout:    o.Out != nil,
				Stderr:    o.ErrOut != nil && !tty,
				TTY:       tty,
			}, scheme.ParameterCodec).URL(), nil
	})
}
