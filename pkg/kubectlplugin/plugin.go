// Package kubectlplugin is `kubectl skiff`, a kubectl plugin for what stock
// kubectl hard-codes to the core/v1 group and so cannot do with skiff's
// core.skiff.dev kinds: logs, exec, attach, port-forward, cordon, uncordon,
// drain, rollout and run. Each command
// lives in a file of its own; all share kubectl's connection flags
// (cli-runtime's ConfigFlags), so the user's kubeconfig, context and
// namespace apply as they do to kubectl.
package kubectlplugin

import (
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"

	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
)

// Factory gives the commands their client and namespace; tests give a fake
// clientset.
type Factory interface {
	// Client is a skiff client for the user's kubeconfig.
	Client() (clientset.Interface, error)
	// Namespace is the -n flag, else the context's namespace, else default.
	Namespace() (string, error)
	// RESTConfig is the user's connection, for the streaming commands
	// (exec, attach, port-forward), which dial it themselves.
	RESTConfig() (*rest.Config, error)
}

// configFactory reads kubectl's connection flags.
type configFactory struct {
	flags *genericclioptions.ConfigFlags
}

func (f configFactory) Client() (clientset.Interface, error) {
	cfg, err := f.flags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	client, err := clientset.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create client: %w", err)
	}
	return client, nil
}

func (f configFactory) RESTConfig() (*rest.Config, error) {
	cfg, err := f.flags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	return cfg, nil
}

func (f configFactory) Namespace() (string, error) {
	ns, _, err := f.flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return "", fmt.Errorf("namespace from kubeconfig: %w", err)
	}
	return ns, nil
}

// NewCommand is the kubectl-skiff command, with kubectl's connection flags
// (--kubeconfig, --context, -n, --server, --token and the rest).
func NewCommand(streams genericiooptions.IOStreams) *cobra.Command {
	flags := genericclioptions.NewConfigFlags(true)
	cmd := NewCommandWithFactory(configFactory{flags}, streams)
	flags.AddFlags(cmd.PersistentFlags())
	return cmd
}

// NewCommandWithFactory is the command on a given Factory.
func NewCommandWithFactory(f Factory, streams genericiooptions.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kubectl-skiff",
		Short: "Do with skiff what stock kubectl hard-codes to core/v1",
		Long: `kubectl skiff runs the kubectl commands that stock kubectl hard-codes to the
core/v1 group, for skiff's core.skiff.dev kinds. Everything else (get, describe,
apply, delete, ...) works with stock kubectl.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	cmd.AddCommand(
		newLogsCommand(f, streams),
		newCordonCommand(f, streams, true),
		newCordonCommand(f, streams, false),
		newDrainCommand(f, streams),
		newRunCommand(f, streams),
		newRolloutCommand(f, streams),
		newExecCommand(f, streams),
		newAttachCommand(f, streams),
		newPortForwardCommand(f, streams),
	)
	return cmd
}
