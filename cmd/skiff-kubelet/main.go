// Command skiff-kubelet runs a node's pods for the skiff API server.
package main

import (
	"os"

	"k8s.io/component-base/cli"

	"skiff.dev/skiff/pkg/kubelet/app"
)

func main() {
	os.Exit(cli.Run(app.NewKubeletCommand()))
}
