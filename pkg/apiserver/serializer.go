package apiserver

import (
	"bytes"
	"fmt"
	"reflect"

	"google.golang.org/protobuf/encoding/protowire"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

// skiffCodecs serve skiff's own groups in every media type the codec
// factory offers: JSON, YAML, protobuf (the versioned types carry
// go-to-protobuf's generated serialization; see hack/update-protobuf.sh)
// and their streaming watch forms. Tables come in JSON or YAML only: a
// protobuf table request gets 406, as from kube-apiserver.
//
// A protobuf request body is checked before it is decoded: for costly
// quantities, as ResourceList.UnmarshalJSON checks a JSON one, and for
// elements that would take far more memory than the body (see
// maxElementBytes). The factory
// offers no CBOR (its feature gate, CBORServingAndStorage, is alpha and
// skiff does not pass the CBOR serializer to the factory), so there is no
// CBOR path to guard.
var skiffCodecs runtime.NegotiatedSerializer = guardedCodecs{Codecs}

type guardedCodecs struct{ runtime.NegotiatedSerializer }

func (c guardedCodecs) SupportedMediaTypes() []runtime.SerializerInfo {
	infos := c.NegotiatedSerializer.SupportedMediaTypes()
	out := make([]runtime.SerializerInfo, len(infos))
	for i, info := range infos {
		if info.MediaType == runtime.ContentTypeProtobuf {
			// Creates and updates decode with the strict serializer (field
			// validation), the rest with the other: protobuf has one.
			if info.Serializer != nil {
				info.Serializer = quantityGuard{Serializer: info.Serializer}
			}
			if info.StrictSerializer != nil {
				info.StrictSerializer = quantityGuard{Serializer: info.StrictSerializer}
			}
		}
		out[i] = info
	}
	return out
}

// quantityGuard runs v1alpha1.CheckProtobuf on a protobuf body before the
// protobuf serializer decodes it.
type quantityGuard struct{ runtime.Serializer }

// maxElementBytes is how much memory the elements of the repeated fields
// and maps of one body may take once decoded (decoding, growing slices and
// converting then allocate a few times that). A pod of a hundred containers
// takes 20 KiB; a body of empty elements, two bytes each on the wire, would
// take a hundred times its size: gigabytes within the request size limit.
const maxElementBytes = 4 << 20

// protobufPrefix starts every Kubernetes protobuf body ("k8s\x00"), followed
// by a runtime.Unknown message.
var protobufPrefix = []byte{0x6b, 0x38, 0x73, 0x00}

func (g quantityGuard) Decode(data []byte, defaults *schema.GroupVersionKind, into runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	if raw, gvk, ok := unknownEnvelope(data, defaults); ok {
		if obj, err := Scheme.New(gvk); err == nil {
			elementBytes, err := v1alpha1.CheckProtobuf(raw, reflect.TypeOf(obj))
			if err != nil {
				return nil, &gvk, err
			}
			if elementBytes > maxElementBytes {
				return nil, &gvk, fmt.Errorf("the elements of the lists and maps of this %d-byte body would take %d bytes once decoded, more than the %d allowed", len(data), elementBytes, maxElementBytes)
			}
		}
	}
	return g.Serializer.Decode(data, defaults, into)
}

// unknownEnvelope reads the runtime.Unknown a protobuf body is: its type
// (field 1: apiVersion 1, kind 2, completed from defaults as the protobuf
// serializer completes it) and its raw message (field 2). Anything
// malformed is left to the serializer to refuse.
func unknownEnvelope(data []byte, defaults *schema.GroupVersionKind) (raw []byte, gvk schema.GroupVersionKind, ok bool) {
	b, found := bytes.CutPrefix(data, protobufPrefix)
	if !found {
		return nil, gvk, false
	}
	var apiVersion, kind string
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, gvk, false
		}
		b = b[n:]
		if typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return nil, gvk, false
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, gvk, false
		}
		b = b[n:]
		switch num {
		case 1:
			apiVersion, kind = typeMeta(v)
		case 2:
			raw = v
		}
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, gvk, false
	}
	gvk = gv.WithKind(kind)
	if defaults != nil {
		if gvk.Kind == "" {
			gvk.Kind = defaults.Kind
		}
		if gvk.Version == "" && gvk.Group == "" {
			gvk.Group, gvk.Version = defaults.Group, defaults.Version
		}
		if gvk.Version == "" && gvk.Group == defaults.Group {
			gvk.Version = defaults.Version
		}
	}
	return raw, gvk, true
}

// typeMeta reads a runtime.TypeMeta message.
func typeMeta(b []byte) (apiVersion, kind string) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return "", ""
		}
		b = b[n:]
		if typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return "", ""
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return "", ""
		}
		b = b[n:]
		switch num {
		case 1:
			apiVersion = string(v)
		case 2:
			kind = string(v)
		}
	}
	return apiVersion, kind
}
