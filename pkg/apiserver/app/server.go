// Package app is skiff-apiserver's command: options in, a running server out.
package app

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"skiff.dev/skiff/pkg/apiserver/memory"
	"skiff.dev/skiff/pkg/apiserver/options"
	"skiff.dev/skiff/pkg/cli"
)

// NewCommand returns the skiff-apiserver command.
func NewCommand() *cobra.Command {
	o := options.NewOptions()
	return cli.Daemon{
		Name:  "skiff-apiserver",
		Short: "The skiff API server: the core.skiff.dev API on etcd",
		Long: `skiff-apiserver serves the core.skiff.dev API (pods, nodes, bindings, leases)
and, in standalone mode, upstream's namespaces and events at /api/v1, on the
upstream GenericAPIServer, stored in etcd. Without --etcd-servers it
embeds etcd under --data-dir, where it also keeps its CA, certificates and
admin.kubeconfig.`,
		Flags: o.Flags(),
		Run: func(ctx context.Context) error {
			return Run(ctx, o)
		},
	}.Command()
}

// Run completes and validates o, then serves until ctx is cancelled and the
// server has drained.
func Run(ctx context.Context, o *options.Options) error {
	if err := o.Complete(); err != nil {
		return err
	}
	if err := o.Validate(); err != nil {
		return err
	}
	limit, _ := o.MemoryLimitBytes()
	memory.SetLimit(limit)
	go memory.ReturnAfterSpikes(ctx, 30*time.Second)
	cfg, stopEtcd, err := o.Config()
	if err != nil {
		return err
	}
	defer stopEtcd()
	server, err := cfg.Complete().New()
	if err != nil {
		return err
	}
	if err := server.GenericAPIServer.PrepareRun().RunWithContext(ctx); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
