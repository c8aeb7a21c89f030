package apiserver

import (
	"k8s.io/apimachinery/pkg/runtime"
)

// skiffCodecs serve skiff's own groups in every media type the codec
// factory offers: JSON, YAML, protobuf (the versioned types carry
// go-to-protobuf's generated serialization; see hack/update-protobuf.sh)
// and their streaming watch forms. Tables come in JSON or YAML only: a
// protobuf table request gets 406, as from kube-apiserver.
var skiffCodecs runtime.NegotiatedSerializer = Codecs
