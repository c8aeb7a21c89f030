// Command kubectl-skiff is the `kubectl skiff` plugin: put it on PATH and
// run `kubectl skiff --help`.
package main

import (
	"errors"
	"fmt"
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	utilexec "k8s.io/utils/exec"

	"skiff.dev/skiff/pkg/kubectlplugin"
)

func main() {
	cmd := kubectlplugin.NewCommand(genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	if err := cmd.Execute(); err != nil {
		// A remote command's exit code is kubectl-skiff's, as kubectl exec's.
		var exit utilexec.ExitError
		if errors.As(err, &exit) && exit.Exited() {
			fmt.Fprintln(os.Stderr, err.Error())
			os.Exit(exit.ExitStatus())
		}
		// As kubectl prints its errors.
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}
