package options

import (
	"k8s.io/client-go/tools/clientcmd"
)

// KubeconfigServer returns the server URL of path's current context, or ""
// when the file is missing or unreadable.
func KubeconfigServer(path string) string {
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return ""
	}
	ctx, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok {
		return ""
	}
	cluster, ok := cfg.Clusters[ctx.Cluster]
	if !ok {
		return ""
	}
	return cluster.Server
}
