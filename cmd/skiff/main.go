// Command skiff is the skiff cluster tool.
package main

import (
	"os"

	"k8s.io/component-base/cli"

	"skiff.dev/skiff/pkg/cmd/skiff"
)

func main() {
	os.Exit(cli.Run(skiff.NewCommand()))
}
