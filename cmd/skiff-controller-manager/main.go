// Command skiff-controller-manager runs the controllers that keep a skiff
// cluster's desired state true.
package main

import (
	"skiff.dev/skiff/pkg/cli"
	"skiff.dev/skiff/pkg/controllermanager/app"
)

func main() {
	cli.Main(app.NewControllerManagerCommand())
}
