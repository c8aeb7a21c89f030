// Package cli builds the cobra commands of skiff's daemons the way upstream
// components do: sectioned flags, component-base logging (-v), --version,
// a context that SIGTERM or SIGINT cancels, and a GC target sized to the
// heap (package gogc).
package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/component-base/cli"
	cliflag "k8s.io/component-base/cli/flag"
	"k8s.io/component-base/cli/globalflag"
	"k8s.io/component-base/logs"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/component-base/term"
	"k8s.io/component-base/version/verflag"

	"skiff.dev/skiff/pkg/gogc"
)

// Daemon describes a long-running component.
type Daemon struct {
	// Name is the command name, e.g. skiff-apiserver.
	Name  string
	Short string
	Long  string
	// Flags are the component's own flag sections.
	Flags cliflag.NamedFlagSets
	// Run runs the component until ctx is cancelled. Flags are parsed and
	// logging is set up when it is called.
	Run func(ctx context.Context) error
}

// Command returns the cobra command for d.
func (d Daemon) Command() *cobra.Command {
	logging := logsapi.NewLoggingConfiguration()
	fss := d.Flags
	logsapi.AddFlags(logging, fss.FlagSet("logging"))
	global := fss.FlagSet("global")
	verflag.AddFlags(global)
	globalflag.AddGlobalFlags(global, d.Name, logs.SkipLoggingConfigurationFlags())

	cmd := &cobra.Command{
		Use:          d.Name,
		Short:        d.Short,
		Long:         d.Long,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			verflag.PrintAndExitIfRequested()
			if err := logsapi.ValidateAndApply(logging, nil); err != nil {
				return err
			}
			cliflag.PrintFlags(cmd.Flags())
			// The first SIGTERM or SIGINT cancels ctx so the component can
			// drain and exit 0; a second one exits at once.
			ctx := genericapiserver.SetupSignalContext()
			gogc.Tune(ctx)
			return d.Run(ctx)
		},
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%q does not take any arguments, got %q", cmd.CommandPath(), args)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	for _, f := range fss.FlagSets {
		fs.AddFlagSet(f)
	}
	cols, _, _ := term.TerminalSize(cmd.OutOrStdout())
	cliflag.SetUsageAndHelpFunc(cmd, fss, cols)
	return cmd
}

// Main runs cmd and exits with its code.
func Main(cmd *cobra.Command) {
	os.Exit(cli.Run(cmd))
}
