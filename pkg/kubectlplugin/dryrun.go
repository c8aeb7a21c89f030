package kubectlplugin

import (
	"fmt"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// dryRun is kubectl's --dry-run: none, client (print what would happen) or
// server (send the requests with dryRun=All).
type dryRun string

const (
	dryRunNone   dryRun = "none"
	dryRunClient dryRun = "client"
	dryRunServer dryRun = "server"
)

func addDryRunFlag(cmd *cobra.Command, d *dryRun) {
	*d = dryRunNone
	cmd.Flags().StringVar((*string)(d), "dry-run", string(dryRunNone), `Must be "none", "server", or "client". If client strategy, only print the object that would be sent, without sending it. If server strategy, submit server-side request without persisting the resource.`)
	cmd.Flags().Lookup("dry-run").NoOptDefVal = string(dryRunClient)
}

func (d dryRun) validate() error {
	switch d {
	case dryRunNone, dryRunClient, dryRunServer:
		return nil
	}
	return fmt.Errorf(`invalid dry-run value (%s). Must be "none", "server", or "client"`, d)
}

// suffix is what kubectl appends to its messages in a dry run.
func (d dryRun) suffix() string {
	switch d {
	case dryRunClient:
		return " (dry run)"
	case dryRunServer:
		return " (server dry run)"
	}
	return ""
}

// options are the dryRun field of a request.
func (d dryRun) options() []string {
	if d == dryRunServer {
		return []string{metav1.DryRunAll}
	}
	return nil
}
