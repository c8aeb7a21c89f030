package apiserver

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	appsv1alpha1 "skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/test/integration/framework"
)

// TestProtobufBadInput sends protobuf bodies a broken or hostile client
// sends: each gets a 400 that says what is wrong, never a 5xx, and the
// server goes on serving.
func TestProtobufBadInput(t *testing.T) {
	s := framework.StartTestServer(t)
	const ns = "proto-bad"
	protobuf := protobufSerializer(t)
	encode := func(obj runtime.Object) []byte {
		var buf bytes.Buffer
		if err := protobuf.Encode(obj, &buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	pod := newPod("p")
	pod.APIVersion, pod.Kind = v1alpha1.SchemeGroupVersion.String(), "Pod"
	validPod := encode(pod)
	node := newNode("n")
	node.APIVersion, node.Kind = v1alpha1.SchemeGroupVersion.String(), "Node"
	// envelope is a protobuf body: the prefix and a runtime.Unknown of
	// apiVersion/kind around raw.
	envelope := func(apiVersion, kind string, raw []byte) []byte {
		typeMeta := append(field(1, []byte(apiVersion)), field(2, []byte(kind))...)
		return append(append(append([]byte{}, protobufMagic...), field(1, typeMeta)...), field(2, raw)...)
	}
	rawPod, err := pod.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	hugeLength := func(num protowire.Number) []byte {
		return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.BytesType), 1<<62)
	}
	// The costly bodies carry their spec once: a message given twice is
	// merged by the decoder, and the guard's path counts elements within
	// one occurrence.
	podMeta, err := (&v1alpha1.Pod{ObjectMeta: pod.ObjectMeta}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	costlyPod := append(podMeta, field(2, field(1, append(append(field(1, []byte("c")), field(2, []byte("i"))...),
		field(9, field(1, append(field(1, []byte("cpu")), field(2, field(1, []byte("1e-2147483647")))...)))...)))...)
	rs := newReplicaSet("rs")
	rs.APIVersion, rs.Kind = appsv1alpha1.SchemeGroupVersion.String(), "ReplicaSet"
	rsMeta, err := (&appsv1alpha1.ReplicaSet{ObjectMeta: rs.ObjectMeta}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// ReplicaSet.spec(2).template(4).spec(2).containers(1).resources(9).limits(1)
	costlyRS := append(rsMeta, field(2, field(4, field(2, field(1, append(append(field(1, []byte("c")), field(2, []byte("i"))...),
		field(9, field(1, append(field(1, []byte("memory")), field(2, field(1, []byte("1e1000000000")))...)))...)))))...)

	pods := podsPath(ns)
	cases := []struct {
		name, path string
		body       []byte
		// wantIn is part of the message the answer should carry.
		wantIn string
	}{
		{name: "garbage without the protobuf prefix", path: pods, body: []byte("this is not protobuf at all"), wantIn: "protobuf"},
		{name: "garbage after the prefix", path: pods, body: append(append([]byte{}, protobufMagic...), bytes.Repeat([]byte{0xff}, 300)...)},
		{name: "only the prefix", path: pods, body: protobufMagic, wantIn: "empty"},
		{name: "truncated by one byte", path: pods, body: validPod[:len(validPod)-1]},
		{name: "truncated in half", path: pods, body: validPod[:len(validPod)/2]},
		{name: "a huge length prefix in the envelope", path: pods, body: append(append([]byte{}, protobufMagic...), hugeLength(2)...)},
		{name: "a huge length prefix in the pod", path: pods, body: envelope("core.skiff.dev/v1alpha1", "Pod", append(append([]byte{}, rawPod...), hugeLength(2)...))},
		{name: "a varint that never ends", path: pods, body: envelope("core.skiff.dev/v1alpha1", "Pod", append(protowire.AppendTag(nil, 1, protowire.VarintType), bytes.Repeat([]byte{0x80}, 20)...))},
		{name: "a node sent as a pod", path: pods, body: encode(node)},
		{name: "an unknown kind", path: pods, body: envelope("core.skiff.dev/v1alpha1", "Pony", rawPod)},
		{name: "an unknown group version", path: pods, body: envelope("nope.skiff.dev/v9", "Pod", rawPod)},
		{name: "2 MiB of empty containers (200 MB of them once decoded)", path: pods,
			body: envelope("core.skiff.dev/v1alpha1", "Pod", append(append([]byte{}, podMeta...), field(2, bytes.Repeat([]byte{0x0a, 0x00}, 1<<20))...)), wantIn: "once decoded"},
		{name: "a costly quantity in a pod", path: pods, body: envelope("core.skiff.dev/v1alpha1", "Pod", costlyPod), wantIn: `spec.containers[0].resources.limits: resource \"cpu\"`},
		{name: "a costly quantity in a replicaset's template", path: "/apis/apps.skiff.dev/v1alpha1/namespaces/" + ns + "/replicasets",
			body: envelope("apps.skiff.dev/v1alpha1", "ReplicaSet", costlyRS), wantIn: `spec.template.spec.containers[0].resources.limits: resource \"memory\"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := doRaw(t, s.AdminConfig, http.MethodPost, c.path, runtime.ContentTypeProtobuf, c.body)
			if got.code != http.StatusBadRequest {
				t.Fatalf("HTTP %d, want 400: %q", got.code, truncate(got.body))
			}
			if c.wantIn != "" && !strings.Contains(string(got.body), c.wantIn) {
				t.Errorf("answer %q lacks %q", truncate(got.body), c.wantIn)
			}
		})
	}
	// Nothing was stored, and the server still serves.
	list, err := s.Client.CoreV1alpha1().Pods(ns).List(testContext(t), metav1.ListOptions{})
	if err != nil || len(list.Items) != 0 {
		t.Errorf("after the bad bodies: %v, %d pods stored", err, len(list.Items))
	}
	if got := doRaw(t, s.AdminConfig, http.MethodPost, pods, runtime.ContentTypeProtobuf, validPod); got.code != http.StatusCreated {
		t.Errorf("a valid protobuf pod after the bad ones: HTTP %d: %q", got.code, truncate(got.body))
	}
}

// field is one length-delimited protobuf field.
func field(num protowire.Number, value []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), value)
}
