package apiserver

import (
	"fmt"
	"mime"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	appsv1alpha1 "skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	"skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

// StorageVersions are the versions objects are stored in, one per group.
var StorageVersions = schema.GroupVersions{v1alpha1.SchemeGroupVersion, appsv1alpha1.SchemeGroupVersion, corev1.SchemeGroupVersion}

// StorageCodec encodes what goes to etcd in mediaType (--storage-media-type)
// at StorageVersions, and decodes whatever it finds there, JSON or
// protobuf, to the internal version: data written in one media type stays
// readable after a switch to the other, and is rewritten in the new one on
// its next update. It is upstream's storage codec (k8s.io/apiserver's
// NewStorageCodec) for the several groups skiff keeps in one store.
func StorageCodec(mediaType string) (runtime.Codec, error) {
	mt, _, err := mime.ParseMediaType(mediaType)
	if err != nil {
		return nil, fmt.Errorf("storage media type %q: %w", mediaType, err)
	}
	info, ok := runtime.SerializerInfoForMediaType(Codecs.SupportedMediaTypes(), mt)
	if !ok || info.Serializer == nil {
		return nil, fmt.Errorf("storage media type %q: no serializer for it", mediaType)
	}
	// The universal deserializer recognises each media type by its bytes
	// (protobuf's "k8s\x00" prefix, JSON's brace).
	return Codecs.CodecForVersions(info.Serializer, Codecs.UniversalDeserializer(), StorageVersions, runtime.InternalGroupVersioner), nil
}
