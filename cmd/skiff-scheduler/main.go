// Command skiff-scheduler binds pending pods to nodes.
package main

import (
	"skiff.dev/skiff/pkg/cli"
	"skiff.dev/skiff/pkg/scheduler/app"
)

func main() {
	cli.Main(app.NewSchedulerCommand())
}
