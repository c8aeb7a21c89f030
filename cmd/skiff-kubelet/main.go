// Command skiff-kubelet runs a node's pods for the skiff API server.
package main

import (
	"skiff.dev/skiff/pkg/cli"
	"skiff.dev/skiff/pkg/kubelet/app"
)

func main() {
	cli.Main(app.NewKubeletCommand())
}
