// Package skiff is the `skiff` command: `skiff up` runs a whole cluster on
// one machine, `skiff kubeconfig` mints identities, `skiff
// kubelet-serving-cert` kubelets' serving certificates, and the hidden
// `apiserver`, `scheduler`, `controller-manager` and `kubelet`
// subcommands are the components
// themselves, so one binary can supervise all of them.
package skiff

import (
	"github.com/spf13/cobra"

	apiserverapp "skiff.dev/skiff/pkg/apiserver/app"
	controllermanagerapp "skiff.dev/skiff/pkg/controllermanager/app"
	kubeletapp "skiff.dev/skiff/pkg/kubelet/app"
	schedulerapp "skiff.dev/skiff/pkg/scheduler/app"
)

// NewCommand returns the `skiff` root command.
func NewCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:          "skiff",
		Short:        "skiff: a small Kubernetes-style control plane",
		SilenceUsage: true,
	}
	cmd.AddCommand(newUpCommand(), newKubeconfigCommand(), newKubeletServingCertCommand())
	for use, component := range map[string]*cobra.Command{
		"apiserver":          apiserverapp.NewCommand(),
		"scheduler":          schedulerapp.NewSchedulerCommand(),
		"kubelet":            kubeletapp.NewKubeletCommand(),
		"controller-manager": controllermanagerapp.NewControllerManagerCommand(),
	} {
		component.Use = use
		component.Hidden = true
		cmd.AddCommand(component)
	}
	return cmd
}
