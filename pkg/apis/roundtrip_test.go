// Package apis_test round-trips every kind of every skiff API group through
// JSON and protobuf, with random contents, as upstream's serialization tests
// do: internal -> versioned -> JSON or protobuf -> versioned -> internal, and
// versioned -> JSON or protobuf -> versioned.
package apis_test

import (
	"math/rand"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/api/apitesting/fuzzer"
	"k8s.io/apimachinery/pkg/api/apitesting/roundtrip"
	metafuzzer "k8s.io/apimachinery/pkg/apis/meta/fuzzer"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/randfill"

	appsinstall "skiff.dev/skiff/pkg/apis/apps/install"
	coreinstall "skiff.dev/skiff/pkg/apis/core/install"
)

// installs are skiff's API groups; a new group adds its Install here.
var installs = []func(*runtime.Scheme){coreinstall.Install, appsinstall.Install}

func newScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	for _, install := range installs {
		install(scheme)
	}
	return scheme
}

func newFuzzer(scheme *runtime.Scheme, codecs serializer.CodecFactory) *randfill.Filler {
	seed := rand.Int63()
	return fuzzer.FuzzerFor(
		fuzzer.MergeFuzzerFuncs(metafuzzer.Funcs, defaultedFuzzerFuncs(scheme)),
		rand.NewSource(seed),
		codecs,
	)
}

func TestRoundTripInternalTypes(t *testing.T) {
	scheme := newScheme()
	codecs := serializer.NewCodecFactory(scheme)
	roundtrip.RoundTripTypes(t, scheme, codecs, newFuzzer(scheme, codecs), nil)
}

func TestRoundTripVersionedTypes(t *testing.T) {
	scheme := newScheme()
	codecs := serializer.NewCodecFactory(scheme)
	roundtrip.RoundTripExternalTypes(t, scheme, codecs, newFuzzer(scheme, codecs), nil)
}

// defaultedFuzzerFuncs fill each internal kind at random and then give it
// its versioned defaults (through the preferred version, as the decoder
// does), so that what comes back from a decode, defaulted, equals what went
// in. Upstream's fuzzers set each defaulted field by hand instead; deriving
// it keeps this right as defaults change.
func defaultedFuzzerFuncs(scheme *runtime.Scheme) fuzzer.FuzzerFuncs {
	return func(serializer.CodecFactory) []interface{} {
		continueType := reflect.TypeOf(randfill.Continue{})
		var funcs []interface{}
		for gvk, typ := range scheme.AllKnownTypes() {
			if gvk.Version != runtime.APIVersionInternal {
				continue
			}
			versions := scheme.PrioritizedVersionsForGroup(gvk.Group)
			if len(versions) == 0 {
				continue
			}
			external := versions[0]
			fnType := reflect.FuncOf([]reflect.Type{reflect.PointerTo(typ), continueType}, nil, false)
			funcs = append(funcs, reflect.MakeFunc(fnType, func(args []reflect.Value) []reflect.Value {
				obj := args[0].Interface().(runtime.Object)
				c := args[1].Interface().(randfill.Continue)
				c.FillNoCustom(obj)
				defaultThrough(scheme, obj, external)
				return nil
			}).Interface())
		}
		return funcs
	}
}

func defaultThrough(scheme *runtime.Scheme, obj runtime.Object, gv schema.GroupVersion) {
	versioned, err := scheme.ConvertToVersion(obj.DeepCopyObject(), gv)
	if err != nil {
		panic(err)
	}
	scheme.Default(versioned)
	if err := scheme.Convert(versioned, obj, nil); err != nil {
		panic(err)
	}
}
