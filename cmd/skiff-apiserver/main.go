// Command skiff-apiserver serves the core.skiff.dev API.
package main

import (
	"skiff.dev/skiff/pkg/apiserver/app"
	"skiff.dev/skiff/pkg/cli"
)

func main() {
	cli.Main(app.NewCommand())
}
