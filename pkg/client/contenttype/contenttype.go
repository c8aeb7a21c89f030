// Package contenttype is the --kube-api-content-type flag skiff's
// components share, as kube-scheduler, kube-controller-manager and the
// kubelet name it: the media type their clients send and ask the API server
// for. Protobuf is the default; JSON is the fallback for debugging, or for a
// server that cannot speak protobuf.
package contenttype

import (
	"fmt"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
)

// FlagName is upstream's name for the flag.
const FlagName = "kube-api-content-type"

// Default is upstream's default: protobuf.
const Default = runtime.ContentTypeProtobuf

// AddFlag binds --kube-api-content-type to value.
func AddFlag(fs *pflag.FlagSet, value *string) {
	fs.StringVar(value, FlagName, *value, fmt.Sprintf("Content type of requests sent to the API server and of the answers asked for: %s or %s.", runtime.ContentTypeProtobuf, runtime.ContentTypeJSON))
}

// Validate refuses a media type other than protobuf and JSON.
func Validate(value string) error {
	switch value {
	case runtime.ContentTypeProtobuf, runtime.ContentTypeJSON:
		return nil
	}
	return fmt.Errorf("--%s must be %s or %s, got %q", FlagName, runtime.ContentTypeProtobuf, runtime.ContentTypeJSON, value)
}

// Apply makes every client built from cfg send value. With protobuf they
// still accept JSON, which the server answers for what has no protobuf form
// (tables, a custom resource of a host cluster).
func Apply(cfg *rest.Config, value string) {
	cfg.ContentType = value
	cfg.AcceptContentTypes = value
	if value == runtime.ContentTypeProtobuf {
		cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	}
}
