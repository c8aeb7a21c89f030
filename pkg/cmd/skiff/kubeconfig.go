package skiff

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"skiff.dev/skiff/pkg/apiserver/options"
	"skiff.dev/skiff/pkg/pki"
)

type kubeconfigOptions struct {
	dataDir string
	user    string
	groups  []string
	server  string
	output  string
}

func newKubeconfigCommand() *cobra.Command {
	o := &kubeconfigOptions{dataDir: "./skiff-data"}
	cmd := &cobra.Command{
		Use:   "kubeconfig --user NAME [--group G]...",
		Short: "Print a kubeconfig with a client certificate signed by the data dir's CA",
		Long: `Mints a client certificate for --user in each --group, signed by the CA in
--data-dir, and prints a kubeconfig that uses it. This is how kubelets and the
scheduler get their identities:

  skiff kubeconfig --user system:node:node-1 --group system:nodes > node-1.kubeconfig
  skiff kubeconfig --user system:kube-scheduler > scheduler.kubeconfig`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.dataDir, "data-dir", o.dataDir, "The API server's --data-dir, which holds the CA.")
	fs.StringVar(&o.user, "user", "", "User name of the identity, e.g. system:node:node-1.")
	fs.StringArrayVar(&o.groups, "group", nil, "Group of the identity; repeat for several.")
	fs.StringVar(&o.server, "server", "", "API server URL. Defaults to the one in the data dir's admin.kubeconfig.")
	fs.StringVarP(&o.output, "output", "o", "", "Write to this file (mode 0600) instead of standard output.")
	_ = cmd.MarkFlagRequired("user")
	return cmd
}

func (o *kubeconfigOptions) run(cmd *cobra.Command) error {
	ca, err := pki.LoadCA(filepath.Join(o.dataDir, "pki"))
	if err != nil {
		return fmt.Errorf("no CA in --data-dir %s (start skiff-apiserver there first): %w", o.dataDir, err)
	}
	server := o.server
	if server == "" {
		server = options.KubeconfigServer(filepath.Join(o.dataDir, options.AdminKubeconfigFile))
		if server == "" {
			return fmt.Errorf("no --server given and no %s in %s", options.AdminKubeconfigFile, o.dataDir)
		}
	}
	data, err := ca.Kubeconfig(server, o.user, o.groups)
	if err != nil {
		return err
	}
	if o.output == "" {
		_, err = cmd.OutOrStdout().Write(data)
		return err
	}
	return os.WriteFile(o.output, data, 0o600)
}
