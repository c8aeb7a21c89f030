package apiserver

import (
	"encoding/json"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/test/integration/framework"
)

// TestBadInput sends what a careless client or an attacker sends: each gets
// a clear 4xx naming what is wrong, and nothing is stored.
func TestBadInput(t *testing.T) {
	s := framework.StartTestServer(t)
	ctx := testContext(t)
	const ns = "bad"
	pods := s.Client.CoreV1alpha1().Pods(ns)

	t.Run("every validation error at once, with its field path", func(t *testing.T) {
		p := newPod("Bad_Name")
		p.Spec.RestartPolicy = "Sometimes"
		p.Spec.Containers = append(p.Spec.Containers,
			v1alpha1.Container{Name: "main", Image: ""},
		)
		_, err := pods.Create(ctx, p, metav1.CreateOptions{})
		st := expectStatus(t, err, 422, "create of an invalid pod")
		if st.Reason != metav1.StatusReasonInvalid {
			t.Errorf("reason = %s, want Invalid", st.Reason)
		}
		for _, f := range []string{"metadata.name", "spec.restartPolicy", "spec.containers[1].name", "spec.containers[1].image"} {
			if !hasCause(st, f) {
				t.Errorf("causes %s lack %s", causesOf(st), f)
			}
		}
		if st.Details == nil || st.Details.Kind != "Pod" || st.Details.Group != "core.skiff.dev" {
			t.Errorf("details = %+v, want kind Pod in core.skiff.dev", st.Details)
		}
	})

	t.Run("an invalid node names its fields", func(t *testing.T) {
		n := newNode("bad-node")
		n.Spec.Taints = []v1alpha1.Taint{{Key: "k", Effect: "Sometimes"}}
		n.Status.Addresses = []v1alpha1.NodeAddress{{Type: "Telepathic", Address: ""}}
		_, err := s.Client.CoreV1alpha1().Nodes().Create(ctx, n, metav1.CreateOptions{})
		st := expectStatus(t, err, 422, "create of an invalid node")
		for _, f := range []string{"spec.taints[0].effect", "status.addresses[0].type", "status.addresses[0].address"} {
			if !hasCause(st, f) {
				t.Errorf("causes %s lack %s", causesOf(st), f)
			}
		}
	})

	validPod, _ := json.Marshal(newPod("ok"))
	big := newPod("big")
	big.Annotations = map[string]string{"filler": strings.Repeat("x", 4<<20)}
	bigBody, _ := json.Marshal(big)

	tests := []struct {
		name        string
		contentType string
		body        []byte
		path        string
		wantCode    int
		wantWords   []string
	}{
		{name: "a body over the 3 MiB limit", body: bigBody, wantCode: 413},
		{name: "malformed JSON", body: []byte(`{"apiVersion":"core.skiff.dev/v1alpha1","kind":"Pod","metadata":{"name":`), wantCode: 400},
		{name: "not JSON at all", body: []byte("this is not a pod"), wantCode: 400},
		{name: "a Node posted to pods", body: mustJSON(t, &v1alpha1.Node{TypeMeta: metav1.TypeMeta{APIVersion: "core.skiff.dev/v1alpha1", Kind: "Node"}, ObjectMeta: metav1.ObjectMeta{Name: "n"}}),
			wantCode: 400, wantWords: []string{"Pod"}},
		{name: "an unknown kind", body: []byte(`{"apiVersion":"core.skiff.dev/v1alpha1","kind":"Spaceship","metadata":{"name":"x"}}`), wantCode: 400},
		{name: "a wrong apiVersion", body: []byte(`{"apiVersion":"core.skiff.dev/v9","kind":"Pod","metadata":{"name":"x"},"spec":{"containers":[{"name":"c","image":"i"}]}}`), wantCode: 400},
		{name: "a field of the wrong type", body: []byte(`{"apiVersion":"core.skiff.dev/v1alpha1","kind":"Pod","metadata":{"name":"x"},"spec":{"containers":"many"}}`), wantCode: 400},
		{name: "an unknown field under strict validation", path: podsPath(ns) + "?fieldValidation=Strict",
			body:     []byte(`{"apiVersion":"core.skiff.dev/v1alpha1","kind":"Pod","metadata":{"name":"x"},"spec":{"containers":[{"name":"c","image":"i"}],"bogusField":1}}`),
			wantCode: 400, wantWords: []string{"bogusField"}},
		{name: "an unsupported content type", contentType: "text/plain", body: validPod, wantCode: 415},
		{name: "a namespace in the body other than the URL's", body: []byte(`{"apiVersion":"core.skiff.dev/v1alpha1","kind":"Pod","metadata":{"name":"x","namespace":"other"},"spec":{"containers":[{"name":"c","image":"i"}]}}`),
			wantCode: 400, wantWords: []string{"namespace"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct := tt.contentType
			if ct == "" {
				ct = "application/json"
			}
			path := tt.path
			if path == "" {
				path = podsPath(ns)
			}
			res := doRaw(t, s.AdminConfig, "POST", path, ct, tt.body)
			if res.code != tt.wantCode {
				t.Fatalf("HTTP %d (%s), want %d", res.code, truncate(res.body), tt.wantCode)
			}
			if res.status == nil {
				t.Fatalf("answer is not a Status: %s", truncate(res.body))
			}
			for _, w := range tt.wantWords {
				if !strings.Contains(res.status.Message, w) {
					t.Errorf("message %q does not mention %q", res.status.Message, w)
				}
			}
		})
	}

	// Nothing of the above was stored, and the server still answers.
	list, err := pods.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list after bad input: %v", err)
	}
	if len(list.Items) != 0 {
		t.Errorf("bad input stored pods: %s", names(list.Items))
	}
	if res := doRaw(t, s.AdminConfig, "POST", podsPath(ns), "application/json", validPod); res.code != 201 {
		t.Errorf("a valid create after bad input = HTTP %d (%s), want 201", res.code, truncate(res.body))
	}
}

func mustJSON(t *testing.T, v interface{}) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}
