// Command kubectl-skiff is the `kubectl skiff` plugin: put it on PATH and
// run `kubectl skiff logs POD`.
package main

import (
	"os"

	"skiff.dev/skiff/pkg/kubectlplugin"
)

func main() {
	cmd := kubectlplugin.NewCommand(kubectlplugin.Streams{Out: os.Stdout, ErrOut: os.Stderr})
	if err := cmd.Execute(); err != nil {
		os.Exit(1)
	}
}
