// Package skiff is the `skiff` command: the tools a user of a skiff cluster
// runs by hand (minting kubeconfigs now, `skiff up` to come).
package skiff

import (
	"github.com/spf13/cobra"
)

// NewCommand returns the `skiff` root command.
func NewCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:           "skiff",
		Short:         "skiff: a small Kubernetes-style control plane",
		SilenceUsage:  true,
		SilenceErrors: false,
	}
	cmd.AddCommand(newKubeconfigCommand())
	return cmd
}
