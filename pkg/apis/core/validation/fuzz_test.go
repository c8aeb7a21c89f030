package validation

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/pkg/apis/core"
	"skiff.dev/skiff/pkg/apis/core/install"
)

// decoder decodes JSON or YAML of any skiff kind into the internal types,
// defaulting on the way, as the apiserver does with a request body.
var decoder = func() runtime.Decoder {
	scheme := runtime.NewScheme()
	install.Install(scheme)
	return serializer.NewCodecFactory(scheme).UniversalDecoder()
}()

// A seed is a manifest and whether, once decoded and defaulted, it is a
// valid object. More seeds live in testdata/fuzz/<FuzzName>/.
type seed struct {
	name     string
	manifest string
	valid    bool
}

var podSeeds = []seed{
	{name: "minimal pod in YAML", valid: true, manifest: `
apiVersion: core.skiff.dev/v1alpha1
kind: Pod
metadata: {name: web, namespace: default}
spec:
  containers:
  - name: nginx
    image: nginx:1.25
`},
	{name: "full pod in JSON", valid: true, manifest: `{"apiVersion":"core.skiff.dev/v1alpha1","kind":"Pod",
"metadata":{"name":"web","namespace":"default","labels":{"app":"web"}},
"spec":{"containers":[{"name":"nginx","image":"nginx","command":["nginx"],"env":[{"name":"A","value":"b"}],
"ports":[{"name":"http","containerPort":80},{"containerPort":53,"protocol":"UDP","hostPort":5353}],
"resources":{"requests":{"cpu":"100m","memory":"64Mi"},"limits":{"cpu":"1","memory":"128Mi"}}}],
"restartPolicy":"OnFailure","terminationGracePeriodSeconds":10,"nodeSelector":{"disk":"ssd"},
"tolerations":[{"key":"k","value":"v","effect":"NoExecute","tolerationSeconds":60},{"operator":"Exists"}],
"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"zone","operator":"In","values":["a"]}]}]},
"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":5,"preference":{"matchExpressions":[{"key":"cores","operator":"Gt","values":["2"]}]}}]}}},
"status":{"phase":"Running","podIP":"10.0.0.1","containerStatuses":[{"name":"nginx","restartCount":1,"state":{"running":{}}}]}}`},
	{name: "pod with many mistakes", manifest: `{"apiVersion":"core.skiff.dev/v1alpha1","kind":"Pod",
"metadata":{"name":"Bad_Name","namespace":"default"},
"spec":{"containers":[{"name":"a","image":"","ports":[{"containerPort":70000,"protocol":"HTTP"}],
"resources":{"requests":{"cpu":"2","gpu":"-1"},"limits":{"cpu":"1"}}},{"name":"a","image":"x"}],
"restartPolicy":"Sometimes","tolerations":[{"operator":"Like","effect":"NoRun"}],
"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[]}}}}}`},
	{name: "pod without containers", manifest: `{"apiVersion":"core.skiff.dev/v1alpha1","kind":"Pod","metadata":{"name":"p","namespace":"d"},"spec":{}}`},
	{name: "pod with a null affinity branch", valid: true, manifest: `{"apiVersion":"core.skiff.dev/v1alpha1","kind":"Pod","metadata":{"name":"p","namespace":"d"},
"spec":{"containers":[{"name":"c","image":"i"}],"affinity":{"nodeAffinity":null}}}`},
	{name: "pod with a quantity costly to compare", manifest: `{"apiVersion":"core.skiff.dev/v1alpha1","kind":"Pod","metadata":{"name":"p","namespace":"d"},
"spec":{"containers":[{"name":"c","image":"i","resources":{"requests":{"memory":"9e999999"},"limits":{"memory":"1Gi"}}}]}}`},
	{name: "pod with a huge quantity", manifest: `{"apiVersion":"core.skiff.dev/v1alpha1","kind":"Pod","metadata":{"name":"p","namespace":"d"},
"spec":{"containers":[{"name":"c","image":"i","resources":{"requests":{"cpu":"1e300","example.com/gpu":"9e18"},"limits":{"cpu":"1e-300"}}}]}}`},
	{name: "pod with an exponent too costly to compare", manifest: `{"apiVersion":"core.skiff.dev/v1alpha1","kind":"Pod","metadata":{"name":"p","namespace":"d"},
"spec":{"containers":[{"name":"c","image":"i","resources":{"requests":{"cpu":"1e2147483647"},"limits":{"cpu":"1"}}}]}}`},
	{name: "node where a pod is expected", manifest: `{"apiVersion":"core.skiff.dev/v1alpha1","kind":"Node","metadata":{"name":"n"}}`},
	{name: "truncated JSON", manifest: `{"apiVersion":"core.skiff.dev/v1alpha1","kind":"Pod","spec":{"containers":[`},
	{name: "unknown kind", manifest: `{"apiVersion":"core.skiff.dev/v1alpha1","kind":"Widget"}`},
	{name: "empty input", manifest: ``},
}

var nodeSeeds = []seed{
	{name: "registered node in YAML", valid: true, manifest: `
apiVersion: core.skiff.dev/v1alpha1
kind: Node
metadata: {name: node-1}
spec:
  taints:
  - {key: dedicated, value: gpu, effect: NoSchedule}
status:
  capacity: {cpu: "4", memory: 8Gi, pods: "110"}
  allocatable: {cpu: 3800m, memory: 7Gi, pods: "110"}
  conditions: [{type: Ready, status: "True"}]
  addresses: [{type: InternalIP, address: 10.0.0.5}]
  daemonEndpoints: {kubeletEndpoint: {Port: 10250}}
`},
	{name: "bare node in JSON", valid: true, manifest: `{"apiVersion":"core.skiff.dev/v1alpha1","kind":"Node","metadata":{"name":"n"}}`},
	{name: "node with many mistakes", manifest: `{"apiVersion":"core.skiff.dev/v1alpha1","kind":"Node","metadata":{"name":"N_1","namespace":"default"},
"spec":{"taints":[{"key":"","effect":""},{"key":"a","effect":"NoSchedule"},{"key":"a","effect":"NoSchedule"}]},
"status":{"capacity":{"cpu":"-1","pods":"0.5"},"conditions":[{"type":"Ready","status":"Maybe"},{"type":"Ready"}],
"addresses":[{"type":"","address":""}],"daemonEndpoints":{"kubeletEndpoint":{"Port":-1}}}}`},
	{name: "node with an exponent too costly to compare", manifest: `{"apiVersion":"core.skiff.dev/v1alpha1","kind":"Node","metadata":{"name":"n"},
"status":{"capacity":{"cpu":"1e2147483647","memory":"-1e2147483647"}}}`},
	{name: "pod where a node is expected", manifest: `{"apiVersion":"core.skiff.dev/v1alpha1","kind":"Pod","metadata":{"name":"p","namespace":"d"}}`},
	{name: "wrong field types", manifest: `{"apiVersion":"core.skiff.dev/v1alpha1","kind":"Node","spec":{"taints":"none"}}`},
	{name: "YAML that is not an object", manifest: "- a\n- b\n"},
}

// checkErrorsRender makes sure every error has a path and a message (the
// apiserver renders them into the 422 response).
func checkErrorsRender(t *testing.T, errs field.ErrorList) {
	t.Helper()
	for _, e := range errs {
		if e.Field == "" {
			t.Errorf("error without a field path: %v", e)
		}
		_ = e.Error()
	}
}

// unchangedUpdateForbids reports errors an update that changes nothing must
// never raise: only real changes are forbidden.
func unchangedUpdateForbids(t *testing.T, errs field.ErrorList, paths ...string) {
	t.Helper()
	for _, e := range errs {
		if e.Type != field.ErrorTypeForbidden {
			continue
		}
		for _, p := range paths {
			if e.Field == p {
				t.Errorf("an unchanged object was refused: %v", e)
			}
		}
	}
}

func decodeAndValidatePod(t *testing.T, data []byte) (decoded bool, errs field.ErrorList) {
	obj, _, err := decoder.Decode(data, nil, nil)
	if err != nil {
		return false, nil
	}
	pod, ok := obj.(*core.Pod)
	if !ok {
		return false, nil
	}
	errs = ValidatePod(pod)
	checkErrorsRender(t, errs)

	// Updates compare old and new: feed the same pod as both.
	pod.ResourceVersion = "1"
	upd := ValidatePodUpdate(pod.DeepCopy(), pod)
	checkErrorsRender(t, upd)
	unchangedUpdateForbids(t, upd, "spec", "spec.nodeName", "spec.tolerations", "spec.containers")

	st := ValidatePodStatusUpdate(pod.DeepCopy(), pod)
	checkErrorsRender(t, st)
	unchangedUpdateForbids(t, st, "spec.nodeName", "status.phase")

	checkErrorsRender(t, ValidatePodBinding(&core.Binding{ObjectMeta: pod.ObjectMeta,
		Target: core.ObjectReference{Kind: "Node", Name: pod.Spec.NodeName}}))
	return true, errs
}

func decodeAndValidateNode(t *testing.T, data []byte) (decoded bool, errs field.ErrorList) {
	obj, _, err := decoder.Decode(data, nil, nil)
	if err != nil {
		return false, nil
	}
	node, ok := obj.(*core.Node)
	if !ok {
		return false, nil
	}
	errs = ValidateNode(node)
	checkErrorsRender(t, errs)

	node.ResourceVersion = "1"
	checkErrorsRender(t, ValidateNodeUpdate(node.DeepCopy(), node))
	checkErrorsRender(t, ValidateNodeStatusUpdate(node.DeepCopy(), node))
	return true, errs
}

// FuzzDecodeAndValidatePod feeds arbitrary bytes through the apiserver's
// decoding and pod validation: neither may panic, whatever the input.
func FuzzDecodeAndValidatePod(f *testing.F) {
	for _, s := range podSeeds {
		f.Add([]byte(s.manifest))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		decodeAndValidatePod(t, data)
	})
}

// FuzzDecodeAndValidateNode does the same for nodes.
func FuzzDecodeAndValidateNode(f *testing.F) {
	for _, s := range nodeSeeds {
		f.Add([]byte(s.manifest))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		decodeAndValidateNode(t, data)
	})
}

// TestFuzzSeeds checks that the seeds mean what they say: the valid ones
// decode into the internal type and pass, so the fuzzers start from inputs
// that reach every check and not from ones the decoder throws away.
func TestFuzzSeeds(t *testing.T) {
	run := func(t *testing.T, seeds []seed, fn func(*testing.T, []byte) (bool, field.ErrorList)) {
		for _, s := range seeds {
			t.Run(s.name, func(t *testing.T) {
				decoded, errs := fn(t, []byte(s.manifest))
				if s.valid && (!decoded || len(errs) > 0) {
					t.Errorf("valid seed: decoded=%v, errors:\n%s", decoded, describe(errs))
				}
				if !s.valid && decoded && len(errs) == 0 {
					t.Errorf("broken seed decoded and passed validation")
				}
			})
		}
	}
	t.Run("pods", func(t *testing.T) { run(t, podSeeds, decodeAndValidatePod) })
	t.Run("nodes", func(t *testing.T) { run(t, nodeSeeds, decodeAndValidateNode) })
}
