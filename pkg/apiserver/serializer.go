package apiserver

import (
	"k8s.io/apimachinery/pkg/runtime"
)

// skiffCodecs serve skiff's own groups in JSON, YAML (and CBOR where the
// factory offers it), not protobuf: their types have no protobuf encoding
// yet. The codec factory's protobuf serializer would agree to a protobuf
// Accept header and then fail to encode with a 500. Without it, a client
// that offers protobuf and JSON (client-go's metadata client, as
// kube-controller-manager's namespace controller uses it) gets JSON, and
// one that accepts only protobuf gets 406. The core/v1 and review groups,
// whose k8s.io/api types do have protobuf, keep Codecs.
var skiffCodecs runtime.NegotiatedSerializer = withoutProtobuf{Codecs}

type withoutProtobuf struct{ runtime.NegotiatedSerializer }

func (s withoutProtobuf) SupportedMediaTypes() []runtime.SerializerInfo {
	var out []runtime.SerializerInfo
	for _, info := range s.NegotiatedSerializer.SupportedMediaTypes() {
		if info.MediaType != runtime.ContentTypeProtobuf {
			out = append(out, info)
		}
	}
	return out
}
