package kubectlplugin

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/scheme"
)

type runOptions struct {
	image           string
	imagePullPolicy string
	restart         string
	env             []string
	labels          string
	annotations     []string
	port            int32
	command         bool
	dryRun          dryRun
	print           *genericclioptions.PrintFlags
}

func newRunCommand(f Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &runOptions{restart: string(v1alpha1.RestartPolicyAlways), print: genericclioptions.NewPrintFlags("created").WithTypeSetter(scheme.Scheme)}
	cmd := &cobra.Command{
		Use:   "run NAME --image=image [--env=\"key=value\"] [--port=port] [--dry-run=server|client] [--command] -- [COMMAND] [args...]",
		Short: "Run a particular image in a pod",
		Long: `Create a skiff pod of one container, named as the pod, running the image.
Arguments after -- are the container's args, or with --command its command.
Attaching (-i, -t, --attach, --rm) waits for skiff's exec and attach.`,
		Example: `  # Start a busybox pod that sleeps, and never restarts it
  kubectl skiff run sleeper --image=busybox --restart=Never -- sleep 3600

  # Start a pod with a command of its own, labels and environment
  kubectl skiff run web --image=nginx --port=80 --labels=app=web,tier=front --env=MODE=dev --command -- nginx -g 'daemon off;'

  # Print the pod that would be created
  kubectl skiff run web --image=nginx --dry-run=client -o yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), f, streams, cmd, args)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.image, "image", o.image, "The image for the container to run.")
	fs.StringVar(&o.imagePullPolicy, "image-pull-policy", o.imagePullPolicy, "The image pull policy for the container. If left empty, this value will not be specified by the client and defaulted by the server.")
	fs.StringVar(&o.restart, "restart", o.restart, "The restart policy for this Pod.  Legal values [Always, OnFailure, Never].")
	fs.StringArrayVar(&o.env, "env", o.env, "Environment variables to set in the container.")
	fs.StringVarP(&o.labels, "labels", "l", o.labels, "Comma separated labels to apply to the pod. Will override previous values.")
	fs.StringArrayVar(&o.annotations, "annotations", o.annotations, "Annotations to apply to the pod.")
	fs.Int32Var(&o.port, "port", o.port, "The port that this container exposes.")
	fs.BoolVar(&o.command, "command", o.command, "If true and extra arguments are present, use them as the 'command' field in the container, rather than the 'args' field which is the default.")
	addDryRunFlag(cmd, &o.dryRun)
	o.print.AddFlags(cmd)
	return cmd
}

func (o *runOptions) run(ctx context.Context, f Factory, streams genericiooptions.IOStreams, cmd *cobra.Command, args []string) error {
	if err := o.dryRun.validate(); err != nil {
		return err
	}
	// Everything after -- belongs to the container.
	name, extra := args[0], args[1:]
	if dash := cmd.ArgsLenAtDash(); dash > 1 {
		return fmt.Errorf("run takes one pod name before --, got %v", args[:dash])
	} else if dash < 0 && len(extra) > 0 {
		return fmt.Errorf("unexpected arguments %v: put the container's arguments after --", extra)
	}
	if o.image == "" {
		return fmt.Errorf("--image is required")
	}
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return fmt.Errorf("invalid pod name %q: %s", name, strings.Join(errs, "; "))
	}
	pod, err := o.pod(name, extra)
	if err != nil {
		return err
	}
	ns, err := f.Namespace()
	if err != nil {
		return err
	}
	pod.Namespace = ns
	if o.dryRun != dryRunClient {
		client, err := f.Client()
		if err != nil {
			return err
		}
		if pod, err = client.CoreV1alpha1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{DryRun: o.dryRun.options()}); err != nil {
			return err
		}
	}
	if o.print.OutputFormat != nil && *o.print.OutputFormat != "" {
		printer, err := o.print.ToPrinter()
		if err != nil {
			return err
		}
		return printer.PrintObj(pod, streams.Out)
	}
	// kubectl's words: core pods print as pod/NAME.
	fmt.Fprintf(streams.Out, "pod/%s created%s\n", pod.Name, o.dryRun.suffix())
	return nil
}

// pod is the pod kubectl run would make: one container named as the pod,
// labelled run=NAME unless --labels says otherwise.
func (o *runOptions) pod(name string, extra []string) (*v1alpha1.Pod, error) {
	switch v1alpha1.RestartPolicy(o.restart) {
	case v1alpha1.RestartPolicyAlways, v1alpha1.RestartPolicyOnFailure, v1alpha1.RestartPolicyNever:
	default:
		return nil, fmt.Errorf("invalid restart policy: %s", o.restart)
	}
	labels := map[string]string{"run": name}
	if o.labels != "" {
		parsed, err := parsePairs(strings.Split(o.labels, ","), "label")
		if err != nil {
			return nil, err
		}
		labels = parsed
	}
	annotations, err := parsePairs(o.annotations, "annotation")
	if err != nil {
		return nil, err
	}
	c := v1alpha1.Container{Name: name, Image: o.image, ImagePullPolicy: v1alpha1.PullPolicy(o.imagePullPolicy)}
	for _, e := range o.env {
		k, v, ok := strings.Cut(e, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("invalid env: %s", e)
		}
		c.Env = append(c.Env, v1alpha1.EnvVar{Name: k, Value: v})
	}
	if o.port > 0 {
		c.Ports = []v1alpha1.ContainerPort{{ContainerPort: o.port}}
	}
	if len(extra) > 0 {
		if o.command {
			c.Command = extra
		} else {
			c.Args = extra
		}
	}
	return &v1alpha1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: annotations},
		Spec:       v1alpha1.PodSpec{Containers: []v1alpha1.Container{c}, RestartPolicy: v1alpha1.RestartPolicy(o.restart)},
	}, nil
}

func parsePairs(pairs []string, what string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("invalid %s spec: %s", what, p)
		}
		m[k] = v
	}
	return m, nil
}
