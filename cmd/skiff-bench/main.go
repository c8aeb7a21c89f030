// Command skiff-bench measures a skiff cluster: create, schedule, start,
// list, watch and churn scenarios, printed as a table or JSON.
package main

import (
	"skiff.dev/skiff/pkg/bench/app"
	"skiff.dev/skiff/pkg/cli"
)

func main() {
	cli.Main(app.NewCommand())
}
