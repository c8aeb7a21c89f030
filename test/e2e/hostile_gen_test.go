package e2e

// A seeded generator of malformed and hostile API requests for
// TestHostileRequestsAtVolume. Request i is a pure function of (seed, i): it
// draws from its own random source, so a failure reproduces from the seed and
// the index whatever order the workers sent the requests in.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"sort"
	"strings"
	"testing"
)

const (
	hostileGroupPath = "/apis/core.skiff.dev/v1alpha1"
	hostileNSPath    = hostileGroupPath + "/namespaces/default"
	// Events are core/v1 Events, in the legacy core group.
	hostileEventsPath = "/api/v1/namespaces/default/events"
	hostileAPIVersion = "core.skiff.dev/v1alpha1"
	// maxBodyBytes is genericapiserver's default MaxRequestBodyBytes, which
	// skiff-apiserver keeps: a larger body must be refused with 413.
	maxBodyBytes = 3 * 1024 * 1024
	// maxJSONDepth is the nesting depth past which apimachinery's JSON (and
	// Go's encoding/json) decoders refuse input.
	maxJSONDepth = 10000
	// etcdMaxRequestBytes is embedded etcd's default request size limit.
	etcdMaxRequestBytes = 1536 * 1024
	// utf8Marker stands in for invalid UTF-8 until the body is encoded:
	// encoding/json would replace raw invalid bytes with U+FFFD, so they are
	// spliced into the encoded body instead.
	utf8Marker = "QQBADUTF8QQ"
)

// The fixed objects that updates, patches and subresource requests aim at;
// TestHostileRequestsAtVolume creates them before the storm.
var (
	hostileTargetPods = []string{"hostile-target-0", "hostile-target-1", "hostile-target-2", "hostile-target-3"}
	hostileTargetNode = "hostile-node-0"
	hostileTargetEvt  = "hostile-event-0"
	hostileTargetLse  = "hostile-lease-0"
)

// expectation is what the server must answer to a generated request.
type expectation int

const (
	// want4xx: the input is invalid by construction and must be refused
	// with a 4xx.
	want4xx expectation = iota
	// wantEither: input that may or may not make a valid object (a blind
	// mutation, invalid UTF-8 in free-form text, which decoding replaces
	// with U+FFFD); 2xx and 4xx are both right, 5xx and hangs are not.
	wantEither
	// wantWarned: a valid object carrying unknown or duplicate fields, sent
	// without strict field validation: accepted (2xx) with a Warning header,
	// as kube-apiserver does.
	wantWarned
)

func (e expectation) String() string {
	return [...]string{"4xx", "2xx-or-4xx", "2xx+Warning"}[e]
}

// hostileRequest is one generated request. The body is a list of parts so
// that multi-megabyte bodies can share one padding buffer instead of each
// allocating its own.
type hostileRequest struct {
	Index       int
	Category    string
	Variant     string
	Method      string
	Path        string
	ContentType string
	Parts       [][]byte
	// Chunked sends the body without a Content-Length, so the server cannot
	// refuse it by its declared size and must stop reading on its own.
	Chunked bool
	Expect  expectation
}

// Size is the body's length in bytes.
func (r *hostileRequest) Size() int64 {
	var n int64
	for _, p := range r.Parts {
		n += int64(len(p))
	}
	return n
}

// Body returns a fresh reader over the body.
func (r *hostileRequest) Body() io.Reader {
	readers := make([]io.Reader, len(r.Parts))
	for i, p := range r.Parts {
		readers[i] = bytes.NewReader(p)
	}
	return io.MultiReader(readers...)
}

type obj = map[string]any
type arr = []any

// hostileGen generates requests; its buffers are shared and read-only.
type hostileGen struct {
	seed int64
	// pad is 'a' repeated: a valid DNS label character, a valid label value
	// character and plain string content, whatever field it fills.
	pad []byte
	// openArrays and closeArrays, openObjects and closeObjects build nesting
	// up to 100k deep.
	openArrays, closeArrays   []byte
	openObjects, closeObjects []byte
}

const maxNesting = 100000

func newHostileGen(seed int64) *hostileGen {
	return &hostileGen{
		seed:         seed,
		pad:          bytes.Repeat([]byte("a"), 5*1024*1024),
		openArrays:   bytes.Repeat([]byte("["), maxNesting),
		closeArrays:  bytes.Repeat([]byte("]"), maxNesting),
		openObjects:  bytes.Repeat([]byte(`{"a":`), maxNesting),
		closeObjects: bytes.Repeat([]byte("}"), maxNesting),
	}
}

// genCtx is the state of generating one request.
type genCtx struct {
	*hostileGen
	rng *rand.Rand
	req *hostileRequest
}

// hostileCategories are the kinds of bad input, with their weights (per
// mille, roughly). Huge bodies are rare: each moves megabytes.
var hostileCategories = []struct {
	name   string
	weight int
	gen    func(*genCtx)
}{
	{"huge-body", 12, (*genCtx).hugeBody},
	{"huge-stream", 3, (*genCtx).hugeStream},
	{"huge-string", 15, (*genCtx).hugeString},
	{"deep-nesting", 70, (*genCtx).deepNesting},
	{"invalid-utf8", 70, (*genCtx).invalidUTF8},
	{"utf8-freeform", 30, (*genCtx).utf8Freeform},
	{"unknown-strict", 60, (*genCtx).unknownStrict},
	{"unknown-warn", 20, (*genCtx).unknownWarn},
	{"wrong-kind", 60, (*genCtx).wrongKind},
	{"wrong-type", 80, (*genCtx).wrongType},
	{"overlong-name", 60, (*genCtx).overlongName},
	{"bad-labels", 70, (*genCtx).badLabels},
	{"bad-quantity", 80, (*genCtx).badQuantity},
	{"truncated", 60, (*genCtx).truncated},
	{"content-type", 50, (*genCtx).contentType},
	{"bad-patch", 90, (*genCtx).badPatch},
	{"bad-status", 30, (*genCtx).badStatus},
	{"bad-binding", 30, (*genCtx).badBinding},
	{"bad-metadata", 40, (*genCtx).badMetadata},
	{"huge-list", 20, (*genCtx).hugeList},
	{"mutated", 100, (*genCtx).mutated},
}

// request generates request i.
func (g *hostileGen) request(i int) hostileRequest {
	rng := rand.New(rand.NewSource(g.seed*1000003 + int64(i)))
	total := 0
	for _, c := range hostileCategories {
		total += c.weight
	}
	n := rng.Intn(total)
	c := &genCtx{hostileGen: g, rng: rng, req: &hostileRequest{Index: i, ContentType: "application/json", Expect: want4xx}}
	for _, cat := range hostileCategories {
		if n < cat.weight {
			c.req.Category = cat.name
			cat.gen(c)
			break
		}
		n -= cat.weight
	}
	return *c.req
}

// --- endpoints and valid base objects ---

// resKind is the kind of object a request writes.
type resKind int

const (
	resPod resKind = iota
	resNode
	resEvent
	resLease
	resPodStatus
	resBinding
)

// endpoint is where a body goes and the valid object it starts from.
type endpoint struct {
	res    resKind
	method string
	path   string
	name   string // the name the body carries
	create bool
}

// uniqueName is a fresh object name for request i, so creates never collide.
func (c *genCtx) uniqueName() string { return fmt.Sprintf("hz-%d", c.req.Index) }

func (c *genCtx) targetPod() string { return hostileTargetPods[c.rng.Intn(len(hostileTargetPods))] }

// pickEndpoint chooses a write endpoint. allowed restricts the resources.
func (c *genCtx) pickEndpoint(allowed ...resKind) endpoint {
	if len(allowed) == 0 {
		allowed = []resKind{resPod, resPod, resPod, resPod, resNode, resNode, resEvent, resLease, resPodStatus, resBinding}
	}
	res := allowed[c.rng.Intn(len(allowed))]
	update := c.rng.Intn(4) == 0
	switch res {
	case resPod:
		if update {
			t := c.targetPod()
			return endpoint{res, "PUT", hostileNSPath + "/pods/" + t, t, false}
		}
		return endpoint{res, "POST", hostileNSPath + "/pods", c.uniqueName(), true}
	case resNode:
		if update {
			return endpoint{res, "PUT", hostileGroupPath + "/nodes/" + hostileTargetNode, hostileTargetNode, false}
		}
		return endpoint{res, "POST", hostileGroupPath + "/nodes", c.uniqueName(), true}
	case resEvent:
		if update {
			return endpoint{res, "PUT", hostileEventsPath + "/" + hostileTargetEvt, hostileTargetEvt, false}
		}
		return endpoint{res, "POST", hostileEventsPath, c.uniqueName(), true}
	case resLease:
		if update {
			return endpoint{res, "PUT", hostileNSPath + "/leases/" + hostileTargetLse, hostileTargetLse, false}
		}
		return endpoint{res, "POST", hostileNSPath + "/leases", c.uniqueName(), true}
	case resPodStatus:
		t := c.targetPod()
		return endpoint{res, "PUT", hostileNSPath + "/pods/" + t + "/status", t, false}
	default:
		t := c.targetPod()
		return endpoint{resBinding, "POST", hostileNSPath + "/pods/" + t + "/binding", t, true}
	}
}

// base returns the valid object an endpoint's body starts from.
func (ep endpoint) base() obj {
	switch ep.res {
	case resPod, resPodStatus:
		p := validPodObject(ep.name)
		if ep.res == resPodStatus {
			p["status"] = obj{"phase": "Pending"}
		}
		return p
	case resNode:
		return obj{"apiVersion": hostileAPIVersion, "kind": "Node",
			"metadata": obj{"name": ep.name, "labels": obj{"zone": "a"}},
			"spec":     obj{"unschedulable": false, "taints": arr{obj{"key": "k", "value": "v", "effect": "NoSchedule"}}},
			"status": obj{
				"capacity":    obj{"cpu": "4", "memory": "8Gi", "pods": "110"},
				"allocatable": obj{"cpu": "4", "memory": "8Gi", "pods": "110"},
				"conditions":  arr{obj{"type": "Ready", "status": "True"}},
				"addresses":   arr{obj{"type": "InternalIP", "address": "10.0.0.9"}},
			}}
	case resEvent:
		return obj{"apiVersion": "v1", "kind": "Event",
			"metadata":       obj{"name": ep.name, "namespace": "default"},
			"involvedObject": obj{"kind": "Pod", "namespace": "default", "name": "hostile-target-0"},
			"reason":         "Tested", "message": "hello", "type": "Normal", "count": 1,
			"source":             obj{"component": "hostile"},
			"reportingComponent": "", "reportingInstance": ""}
	case resLease:
		return obj{"apiVersion": hostileAPIVersion, "kind": "Lease",
			"metadata": obj{"name": ep.name, "namespace": "default"},
			"spec":     obj{"holderIdentity": "holder", "leaseDurationSeconds": 10, "leaseTransitions": 0}}
	default:
		return obj{"apiVersion": hostileAPIVersion, "kind": "Binding",
			"metadata": obj{"name": ep.name, "namespace": "default"},
			"target":   obj{"kind": "Node", "name": hostileTargetNode}}
	}
}

// validPodObject is a valid pod touching most of the pod schema.
func validPodObject(name string) obj {
	return obj{"apiVersion": hostileAPIVersion, "kind": "Pod",
		"metadata": obj{"name": name, "namespace": "default", "labels": obj{"app": "hostile"}, "annotations": obj{"note": "x"}},
		"spec": obj{
			"containers": arr{obj{
				"name": "c", "image": "busybox", "imagePullPolicy": "IfNotPresent",
				"command": arr{"sleep", "3600"},
				"env":     arr{obj{"name": "A", "value": "b"}},
				"ports":   arr{obj{"containerPort": 80, "protocol": "TCP"}},
				"resources": obj{
					"requests": obj{"cpu": "100m", "memory": "64Mi"},
					"limits":   obj{"cpu": "1", "memory": "128Mi"},
				},
			}},
			"restartPolicy":                 "Always",
			"terminationGracePeriodSeconds": 30,
			"nodeSelector":                  obj{"disk": "ssd"},
			"tolerations":                   arr{obj{"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule"}},
		}}
}

// metadata returns the metadata map of a base object.
func metadata(o obj) obj { return o["metadata"].(obj) }

// container returns the first container of a pod object.
func container(o obj) obj { return o["spec"].(obj)["containers"].(arr)[0].(obj) }

// setBody encodes o as the JSON body.
func (c *genCtx) setBody(o any) {
	c.req.Parts = [][]byte{c.encode(o)}
}

func (c *genCtx) encode(o any) []byte {
	b, err := json.Marshal(o)
	if err != nil {
		panic(fmt.Sprintf("hostile generator: encode: %v", err))
	}
	return b
}

func (c *genCtx) useEndpoint(ep endpoint) {
	c.req.Method, c.req.Path = ep.method, ep.path
}

func (c *genCtx) pick(options ...string) string { return options[c.rng.Intn(len(options))] }

// dnsString is n characters that each may appear in a DNS subdomain.
func (c *genCtx) dnsString(n int) string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[c.rng.Intn(len(chars))]
	}
	return string(b)
}

// --- categories ---

// hugeBody sends a pod whose body exceeds the server's limit, with an honest
// Content-Length: the server must answer 413 without reading it all.
func (c *genCtx) hugeBody() {
	ep := c.pickEndpoint()
	c.useEndpoint(ep)
	size := maxBodyBytes + 1
	if c.rng.Intn(4) != 0 {
		size += c.rng.Intn(2 * 1024 * 1024)
	}
	c.req.Variant = fmt.Sprintf("%d bytes", size)
	c.req.Parts = c.paddedBody(ep, size)
}

// paddedBody is the endpoint's object with an annotation of 'a's that makes
// the body exactly size bytes.
func (c *genCtx) paddedBody(ep endpoint, size int) [][]byte {
	o := ep.base()
	metadata(o)["annotations"] = obj{"pad": "PADHERE"}
	enc := c.encode(o)
	i := bytes.Index(enc, []byte("PADHERE"))
	head, tail := enc[:i], enc[i+len("PADHERE"):]
	n := size - len(head) - len(tail)
	parts := [][]byte{head}
	for n > 0 {
		k := min(n, len(c.pad))
		parts = append(parts, c.pad[:k])
		n -= k
	}
	return append(parts, tail)
}

// hugeStream sends 8 to 32 MB without a Content-Length: only reading can
// tell the server the body is too big, and it must stop at its limit.
func (c *genCtx) hugeStream() {
	ep := c.pickEndpoint(resPod, resNode)
	c.useEndpoint(ep)
	size := (8 + c.rng.Intn(25)) * 1024 * 1024
	c.req.Variant = fmt.Sprintf("chunked %d MiB", size>>20)
	c.req.Parts = c.paddedBody(ep, size)
	c.req.Chunked = true
}

// hugeString fits under the body limit but puts megabytes into one field.
// Each is refused by validation (names, labels, annotations) or by storage
// (free-form strings make an object larger than etcd accepts).
func (c *genCtx) hugeString() {
	ep := c.pickEndpoint(resPod, resPod, resNode, resEvent, resLease)
	c.useEndpoint(ep)
	size := 300*1024 + c.rng.Intn(maxBodyBytes-400*1024)
	o := ep.base()
	const mark = "PADHERE"
	fields := []string{"name", "label-value", "label-key", "annotation"}
	if ep.res == resPod {
		fields = append(fields, "image", "env-value", "command")
	}
	if ep.res == resEvent {
		// A legacy event's message has no length limit, so only storage
		// stops it; an eventTime makes validation cap it at 1 KiB.
		fields = append(fields, "event-message")
	}
	field := fields[c.rng.Intn(len(fields))]
	switch {
	case c.rng.Intn(8) == 0:
		size = maxBodyBytes // exactly at the limit: read, then refused
	case field == "image" || field == "env-value" || field == "command" || field == "event-message":
		// No validation bounds these: only etcd's request limit (1.5 MiB by
		// default) does, so stay above it.
		size = etcdMaxRequestBytes + 64*1024 + c.rng.Intn(maxBodyBytes-etcdMaxRequestBytes-64*1024)
	}
	c.req.Variant = fmt.Sprintf("%s of ~%d bytes", field, size)
	switch field {
	case "name":
		metadata(o)["name"] = mark
		if !ep.create {
			c.req.Path = c.req.Path[:strings.LastIndex(c.req.Path, "/")+1] + "toolong"
			c.req.Variant += " (update of another name)"
		}
	case "label-value":
		metadata(o)["labels"] = obj{"big": mark}
	case "label-key":
		metadata(o)["labels"] = obj{mark: "v"}
	case "annotation":
		metadata(o)["annotations"] = obj{"big": mark}
	case "image":
		container(o)["image"] = mark
	case "env-value":
		container(o)["env"] = arr{obj{"name": "BIG", "value": mark}}
	case "command":
		container(o)["command"] = arr{"echo", mark}
	case "event-message":
		o["message"] = mark
	}
	enc := c.encode(o)
	i := bytes.Index(enc, []byte(mark))
	head, tail := enc[:i], enc[i+len(mark):]
	n := size - len(head) - len(tail)
	c.req.Parts = [][]byte{head, c.pad[:n], tail}
}

// deepNesting nests arrays or objects past the decoders' depth limit, in
// the whole body, in a field, in an unknown field, in patches and in YAML.
func (c *genCtx) deepNesting() {
	depth := []int{maxJSONDepth + 1, maxJSONDepth + 500, 20000, 50000, maxNesting}[c.rng.Intn(5)]
	objects := c.rng.Intn(2) == 0
	open, closing := c.openArrays[:depth], c.closeArrays[:depth]
	leaf := []byte("1")
	if objects {
		open, closing = c.openObjects[:depth*5], c.closeObjects[:depth]
	}
	place := c.pick("body", "label-value", "unknown-field", "spec", "merge-patch", "strategic-patch", "json-patch-value", "yaml-body", "apply-yaml")
	c.req.Variant = fmt.Sprintf("%d-deep %s in %s", depth, map[bool]string{true: "objects", false: "arrays"}[objects], place)
	const mark = "\"NESTHERE\""
	var o any
	switch place {
	case "body", "yaml-body":
		ep := c.pickEndpoint()
		c.useEndpoint(ep)
		if place == "yaml-body" {
			c.req.ContentType = "application/yaml"
			// Mostly in a field, so a YAML parser has to descend.
			if c.rng.Intn(2) == 0 {
				b := ep.base()
				metadata(b)["labels"] = "NESTHERE"
				o = b
				break
			}
		}
		c.req.Parts = [][]byte{open, leaf, closing}
		return
	case "label-value", "unknown-field", "spec":
		ep := c.pickEndpoint()
		c.useEndpoint(ep)
		b := ep.base()
		switch place {
		case "label-value":
			metadata(b)["labels"] = obj{"x": "NESTHERE"}
		case "unknown-field":
			b["hostileUnknown"] = "NESTHERE"
			if c.rng.Intn(2) == 0 {
				c.req.Path += "?fieldValidation=Strict"
			}
		default:
			b["spec"] = "NESTHERE"
		}
		o = b
	case "merge-patch", "strategic-patch", "json-patch-value", "apply-yaml":
		t := c.targetPod()
		c.req.Method, c.req.Path = "PATCH", hostileNSPath+"/pods/"+t
		switch place {
		case "merge-patch":
			c.req.ContentType = "application/merge-patch+json"
			o = obj{"metadata": obj{"labels": "NESTHERE"}}
		case "strategic-patch":
			c.req.ContentType = "application/strategic-merge-patch+json"
			o = obj{"spec": obj{"containers": arr{obj{"name": "c", "args": "NESTHERE"}}}}
		case "json-patch-value":
			c.req.ContentType = "application/json-patch+json"
			o = arr{obj{"op": "add", "path": "/metadata/annotations/deep", "value": "NESTHERE"}}
		default:
			c.req.ContentType = "application/apply-patch+yaml"
			c.req.Path += "?fieldManager=hostile"
			b := validPodObject(t)
			metadata(b)["labels"] = "NESTHERE"
			o = b
		}
	}
	enc := c.encode(o)
	i := bytes.Index(enc, []byte(mark))
	c.req.Parts = [][]byte{enc[:i], open, leaf, closing, enc[i+len(mark):]}
}

// badUTF8 are byte sequences that are not UTF-8, and JSON escapes that
// decode to something no name may contain.
var badUTF8 = []string{"\xff", "\xfe\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\x80", "\xc3", "\xf8\x88\x80\x80\x80",
	`\ud800`, `\udfff`, `\u0000`, `\u202e`}

// spliceUTF8 replaces each marker in the encoded body with a bad sequence.
func (c *genCtx) spliceUTF8(enc []byte) []byte {
	for bytes.Contains(enc, []byte(utf8Marker)) {
		enc = bytes.Replace(enc, []byte(utf8Marker), []byte(badUTF8[c.rng.Intn(len(badUTF8))]), 1)
	}
	return enc
}

// invalidUTF8 puts invalid UTF-8 into fields that validation checks:
// names, label keys and values, namespaces, container and node names.
func (c *genCtx) invalidUTF8() {
	ep := c.pickEndpoint()
	c.useEndpoint(ep)
	o := ep.base()
	fields := []string{"name", "label-key", "label-value", "namespace", "annotation-key"}
	switch ep.res {
	case resPod:
		fields = append(fields, "container-name", "node-name", "node-selector")
	case resEvent:
		fields = append(fields, "event-type")
	case resBinding:
		// A binding's labels and annotations are not validated.
		fields = []string{"name", "namespace", "target-name", "target-kind"}
	case resPodStatus:
		fields = append(fields, "phase")
	case resNode:
		fields = append(fields, "taint-key")
	}
	if ep.res == resNode {
		// Nodes are cluster-scoped: a namespace in the body is dropped.
		fields = fields[:3]
	}
	field := fields[c.rng.Intn(len(fields))]
	c.req.Variant = field
	bad := func(s string) string {
		i := c.rng.Intn(len(s) + 1)
		return s[:i] + utf8Marker + s[i:]
	}
	md := metadata(o)
	switch field {
	case "name":
		md["name"] = bad(ep.name)
	case "label-key":
		md["labels"] = obj{bad("app"): "x"}
	case "label-value":
		md["labels"] = obj{"app": bad("hostile")}
	case "namespace":
		md["namespace"] = bad("default")
	case "annotation-key":
		md["annotations"] = obj{bad("note"): "x"}
	case "container-name":
		container(o)["name"] = bad("c")
	case "node-name":
		o["spec"].(obj)["nodeName"] = bad("node")
	case "node-selector":
		o["spec"].(obj)["nodeSelector"] = obj{"disk": bad("ssd")}
	case "event-type":
		o["type"] = bad("Normal")
	case "target-name":
		o["target"].(obj)["name"] = bad(hostileTargetNode)
	case "target-kind":
		o["target"].(obj)["kind"] = bad("Node")
	case "phase":
		o["status"].(obj)["phase"] = bad("Running")
	case "taint-key":
		o["spec"].(obj)["taints"] = arr{obj{"key": bad("k"), "effect": "NoSchedule"}}
	}
	if c.rng.Intn(4) == 0 {
		c.req.ContentType = "application/yaml" // JSON is YAML
	}
	c.req.Parts = [][]byte{c.spliceUTF8(c.encode(o))}
}

// utf8Freeform puts invalid UTF-8 into free-form strings (images, env
// values, annotation values, messages). Upstream decoding replaces such
// bytes with U+FFFD and the object is then valid, so either answer is right;
// the point is that nothing breaks.
func (c *genCtx) utf8Freeform() {
	ep := c.pickEndpoint(resPod, resPod, resEvent, resLease, resNode)
	c.useEndpoint(ep)
	o := ep.base()
	c.req.Expect = wantEither
	bad := "x" + utf8Marker + "y"
	switch ep.res {
	case resPod:
		switch c.rng.Intn(4) {
		case 0:
			container(o)["image"] = "busybox" + utf8Marker
		case 1:
			container(o)["env"] = arr{obj{"name": "A", "value": bad}}
		case 2:
			container(o)["command"] = arr{"echo", bad}
		default:
			metadata(o)["annotations"] = obj{"note": bad}
		}
	case resEvent:
		o["message"] = bad
	case resLease:
		o["spec"].(obj)["holderIdentity"] = bad
	default:
		metadata(o)["annotations"] = obj{"note": bad}
	}
	if c.rng.Intn(4) == 0 {
		c.req.ContentType = "application/yaml"
	}
	c.req.Parts = [][]byte{c.spliceUTF8(c.encode(o))}
}

// freeFormMaps hold arbitrary keys: a new key there is data, not an
// unknown field.
var freeFormMaps = map[string]bool{"labels": true, "annotations": true, "nodeSelector": true,
	"requests": true, "limits": true, "capacity": true, "allocatable": true}

// structMaps lists the maps of o that decode into structs, where a new key
// is an unknown field.
func structMaps(o obj) []obj {
	out := []obj{o}
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys) // map order would make the generator irreproducible
	for _, k := range keys {
		if freeFormMaps[k] {
			continue
		}
		switch v := o[k].(type) {
		case obj:
			out = append(out, structMaps(v)...)
		case arr:
			for _, e := range v {
				if m, ok := e.(obj); ok {
					out = append(out, structMaps(m)...)
				}
			}
		}
	}
	return out
}

// addUnknownFields adds unknown fields, mis-cased field names, or a
// duplicate field to a valid body.
func (c *genCtx) addUnknownFields(o obj) ([]byte, string) {
	maps := structMaps(o)
	switch c.rng.Intn(3) {
	case 0:
		n := 1 + c.rng.Intn(3)
		for i := 0; i < n; i++ {
			m := maps[c.rng.Intn(len(maps))]
			m[fmt.Sprintf("hostileUnknown%d", i)] = []any{"x", 1, true, obj{"k": "v"}, arr{1, 2}}[c.rng.Intn(5)]
		}
		return c.encode(o), "unknown fields"
	case 1:
		// Field names are matched case-sensitively.
		m := maps[c.rng.Intn(len(maps))]
		for _, k := range sortedKeys(m) {
			if k == "apiVersion" || k == "kind" {
				continue // a mis-cased kind also loses the kind
			}
			m[strings.ToUpper(k[:1])+k[1:]] = m[k]
			delete(m, k)
			// The misnamed field is then missing: keep a copy under its
			// real name so the object stays valid.
			m[k] = m[strings.ToUpper(k[:1])+k[1:]]
			break
		}
		return c.encode(o), "mis-cased field"
	default:
		enc := c.encode(o)
		dup := []byte(`{"metadata":{"name":"dup"},`)
		if c.rng.Intn(2) == 0 {
			dup = []byte(`{"kind":"` + fmt.Sprint(o["kind"]) + `",`)
		}
		return append(dup, enc[1:]...), "duplicate field"
	}
}

func sortedKeys(m obj) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// unknownStrict sends unknown fields with fieldValidation=Strict: 400.
func (c *genCtx) unknownStrict() {
	ep := c.pickEndpoint()
	c.useEndpoint(ep)
	c.req.Path += "?fieldValidation=Strict"
	body, variant := c.addUnknownFields(ep.base())
	c.req.Variant = variant
	if c.rng.Intn(4) == 0 {
		c.req.ContentType = "application/yaml"
	}
	c.req.Parts = [][]byte{body}
}

// unknownWarn sends otherwise valid new objects with unknown fields under
// the default (Warn) field validation: accepted, with a warning.
func (c *genCtx) unknownWarn() {
	ep := c.pickEndpoint(resPod, resNode, resEvent, resLease)
	ep = endpoint{ep.res, "POST", ep.path, c.uniqueName(), true}
	switch ep.res {
	case resPod:
		ep.path = hostileNSPath + "/pods"
	case resNode:
		ep.path = hostileGroupPath + "/nodes"
	case resEvent:
		ep.path = hostileEventsPath
	case resLease:
		ep.path = hostileNSPath + "/leases"
	}
	c.useEndpoint(ep)
	if c.rng.Intn(2) == 0 {
		c.req.Path += "?fieldValidation=Warn"
	}
	body, variant := c.addUnknownFields(ep.base())
	if variant == "duplicate field" {
		// A duplicated name would make the creates collide: duplicate
		// the kind only.
		body = append([]byte(`{"kind":"`+fmt.Sprint(ep.base()["kind"])+`",`), c.encode(ep.base())[1:]...)
	}
	c.req.Variant = variant
	c.req.Expect = wantWarned
	c.req.Parts = [][]byte{body}
}

// wrongKind sends a body whose apiVersion or kind is not the endpoint's.
func (c *genCtx) wrongKind() {
	ep := c.pickEndpoint()
	c.useEndpoint(ep)
	o := ep.base()
	kind := o["kind"].(string)
	if c.rng.Intn(2) == 0 {
		kinds := []string{"Pod", "Node", "Event", "Lease", "Binding", "PodList", "Status", "List", "Widget", "pod", "POD", kind + " ", kind + "s", "Deployment", "CreateOptions"}
		for o["kind"] == kind {
			o["kind"] = kinds[c.rng.Intn(len(kinds))]
		}
		c.req.Variant = "kind " + o["kind"].(string)
	} else {
		right := o["apiVersion"]
		for o["apiVersion"] == right {
			o["apiVersion"] = c.pick("v1", "core.skiff.dev/v1", "core.skiff.dev/v2alpha9", "apps/v1",
				"/v1alpha1", "core.skiff.dev/v1alpha1/x", "not a version", "core.k8s.io/v1alpha1", "meta.k8s.io/v1", "core.skiff.dev/v1alpha1 ")
		}
		c.req.Variant = "apiVersion " + o["apiVersion"].(string)
	}
	c.setBody(o)
}

// leaf is one place in a body, with a setter.
type leaf struct {
	path  string
	value any
	set   func(any)
}

// leaves lists every value below the root of o, depth first, sorted.
func leaves(o obj, prefix string) []leaf {
	var out []leaf
	for _, k := range sortedKeys(o) {
		k := k
		p := prefix + "." + k
		out = append(out, leaf{p, o[k], func(v any) { o[k] = v }})
		switch v := o[k].(type) {
		case obj:
			out = append(out, leaves(v, p)...)
		case arr:
			for i := range v {
				i := i
				ip := fmt.Sprintf("%s[%d]", p, i)
				out = append(out, leaf{ip, v[i], func(nv any) { v[i] = nv }})
				if m, ok := v[i].(obj); ok {
					out = append(out, leaves(m, ip)...)
				}
			}
		}
	}
	return out
}

// isQuantityPath reports whether a leaf is a resource quantity, which
// decodes from a JSON number as well as from a string.
func isQuantityPath(p string) bool {
	for _, m := range []string{".requests.", ".limits.", ".capacity.", ".allocatable."} {
		if strings.Contains(p, m) {
			return true
		}
	}
	return false
}

// wrongType replaces one value with a value of another JSON type (never
// null, which decodes as absent), or a number no field can hold.
func (c *genCtx) wrongType() {
	ep := c.pickEndpoint()
	c.useEndpoint(ep)
	o := ep.base()
	ls := leaves(o, "")
	l := ls[c.rng.Intn(len(ls))]
	var options []any
	switch l.value.(type) {
	case string:
		options = []any{7, 1.5, true, obj{"x": "y"}, arr{"x"}}
		if isQuantityPath(l.path) {
			options = []any{true, obj{"x": "y"}, arr{"x"}}
		}
	case int:
		options = []any{"7", true, obj{}, arr{1}, 1.5, 1e30, json.Number("9223372036854775808"), json.Number("1e400")}
	case bool:
		options = []any{"true", 1, obj{}, arr{true}}
	case obj:
		options = []any{"x", 1, true, arr{obj{}}}
	case arr:
		options = []any{"x", 1, true, obj{"0": "x"}}
	}
	v := options[c.rng.Intn(len(options))]
	l.set(v)
	c.req.Variant = fmt.Sprintf("%s = %T %v", l.path, v, v)
	c.setBody(o)
}

// overlongName puts a name longer than its field allows: object names past
// 253, container names past 63, node names past 253, binding targets.
func (c *genCtx) overlongName() {
	ep := c.pickEndpoint()
	o := ep.base()
	n := 254 + c.rng.Intn(60)
	if c.rng.Intn(10) == 0 {
		n = 1000 + c.rng.Intn(100000)
	}
	long := c.dnsString(n)
	field := "name"
	switch {
	case ep.res == resPod && c.rng.Intn(3) == 0:
		field = "container-name"
		container(o)["name"] = c.dnsString(64 + c.rng.Intn(200))
	case ep.res == resPod && c.rng.Intn(3) == 0:
		field = "node-name"
		o["spec"].(obj)["nodeName"] = long
	case ep.res == resBinding && c.rng.Intn(2) == 0:
		field = "target-name"
		o["target"].(obj)["name"] = long
	case ep.res == resEvent && c.rng.Intn(3) == 0:
		// An event with an eventTime must keep reason within 128 bytes.
		field = "event-reason"
		o["eventTime"] = "2026-01-01T00:00:00.000000Z"
		o["reportingComponent"], o["reportingInstance"] = "hostile", "i"
		o["reason"] = long
	default:
		metadata(o)["name"] = long
		if !ep.create || ep.res == resBinding {
			// The URL names the object too; keep URLs under 10k.
			if n < 10000 {
				ep.path = strings.Replace(ep.path, "/"+ep.name, "/"+long, 1)
			}
		}
	}
	c.useEndpoint(ep)
	c.req.Variant = fmt.Sprintf("%s of %d", field, n)
	c.setBody(o)
}

// badLabels sends label keys and values (and annotations) that break the
// label syntax or length rules.
func (c *genCtx) badLabels() {
	ep := c.pickEndpoint(resPod, resPod, resNode, resEvent, resLease, resPodStatus)
	c.useEndpoint(ep)
	o := ep.base()
	md := metadata(o)
	variants := []string{"key-name>63", "key-prefix>253", "value>63", "bad-key", "bad-value", "annotations>256KiB", "bad-annotation-key", "many-with-one-bad", "many-bad"}
	if ep.res == resPod {
		variants = append(variants, "node-selector")
	}
	v := variants[c.rng.Intn(len(variants))]
	c.req.Variant = v
	switch v {
	case "key-name>63":
		md["labels"] = obj{c.dnsString(64 + c.rng.Intn(300)): "v"}
	case "key-prefix>253":
		md["labels"] = obj{c.dnsString(254+c.rng.Intn(300)) + "/a": "v"}
	case "value>63":
		md["labels"] = obj{"k": c.dnsString(64 + c.rng.Intn(1000))}
	case "bad-key":
		md["labels"] = obj{c.pick("bad key", "-a", "a-", "a/b/c", "", "/a", "a/", "é", "a b/c", "UPPER_/x", ".a", "a*"): "v"}
	case "bad-value":
		md["labels"] = obj{"k": c.pick("bad value", "-x", "x-", "a/b", "é", "x y", "_x", "x_", ".x", "a\nb")}
	case "annotations>256KiB":
		md["annotations"] = obj{"big": string(c.pad[:256*1024+1+c.rng.Intn(100000)])}
	case "bad-annotation-key":
		md["annotations"] = obj{c.pick("bad key", "-a", "", "a/b/c", "é"): "v"}
	case "many-with-one-bad":
		labels := obj{}
		for i := 0; i < 500+c.rng.Intn(2000); i++ {
			labels[fmt.Sprintf("l%d", i)] = "v"
		}
		labels["bad key"] = "v"
		md["labels"] = labels
	case "many-bad":
		// Every label is wrong: one error each, tens of thousands in all.
		labels := obj{}
		n := 10000 + c.rng.Intn(50000)
		for i := 0; i < n; i++ {
			labels[fmt.Sprintf("bad key %d", i)] = "v"
		}
		md["labels"] = labels
		c.req.Variant = fmt.Sprintf("%d bad labels", n)
	case "node-selector":
		o["spec"].(obj)["nodeSelector"] = obj{c.pick("bad key", "-a", c.dnsString(64)): "v"}
	}
	c.setBody(o)
}

// badQuantities are quantities that are malformed, negative, beyond what
// validation accepts, or so costly to parse that skiff refuses them before
// apimachinery's ParseQuantity sees them (kubernetes/kubernetes#141306).
var badQuantities = []string{
	"abc", "", "1.2.3", "1Qi", "0x10", "NaN", "Inf", "1e", "--1", "1 Gi", "1e1.5", "é", "1,000",
	"-1", "-100m", "-1e1000000000",
	"1e1000000000", "1e2147483647", "1e19", "99999999999999999999", "1e300",
	"1e-1000000000", "1e-2147483647", "1.5e-2147483647", "1e-10000000", "1e-99999999", "1e4294967297", "1e-4294967295",
}

// badQuantity puts one bad quantity into a pod's requests or limits or a
// node's capacity, or an extended resource amount that is not whole.
func (c *genCtx) badQuantity() {
	ep := c.pickEndpoint(resPod, resPod, resPod, resNode)
	if ep.res == resNode && !ep.create {
		// An update through the main nodes endpoint keeps the stored
		// status, so a bad capacity there is ignored, rightly: create.
		ep = endpoint{resNode, "POST", hostileGroupPath + "/nodes", c.uniqueName(), true}
	}
	c.useEndpoint(ep)
	o := ep.base()
	var q string
	switch c.rng.Intn(12) {
	case 0:
		q = "0." + strings.Repeat("0", 100000+c.rng.Intn(400000)) + "1"
	case 1:
		q = strings.Repeat("9", 100000+c.rng.Intn(400000))
	default:
		q = badQuantities[c.rng.Intn(len(badQuantities))]
	}
	var list obj
	name := c.pick("cpu", "memory")
	if ep.res == resNode {
		list = o["status"].(obj)[c.pick("capacity", "allocatable")].(obj)
		name = c.pick("cpu", "memory", "pods")
	} else {
		res := container(o)["resources"].(obj)
		list = res[c.pick("requests", "limits")].(obj)
		if c.rng.Intn(6) == 0 {
			// An extended resource must be whole, and request must equal
			// limit: 1.5 breaks the first rule.
			res["requests"].(obj)["example.com/gpu"] = "1500m"
			res["limits"].(obj)["example.com/gpu"] = "1500m"
			q = "1500m"
			name = "example.com/gpu"
		}
	}
	list[name] = q
	if c.rng.Intn(8) == 0 && ep.res != resNode {
		// Request above limit: each valid alone.
		res := container(o)["resources"].(obj)
		res["requests"].(obj)["cpu"], res["limits"].(obj)["cpu"] = "2", "1"
		q, name = "2 over 1", "cpu"
	}
	short := q
	if len(short) > 24 {
		short = fmt.Sprintf("%s...(%d chars)", short[:12], len(q))
	}
	c.req.Variant = fmt.Sprintf("%s=%q", name, short)
	if c.rng.Intn(5) == 0 {
		c.req.ContentType = "application/yaml"
	}
	c.setBody(o)
}

// truncated sends a valid body cut short, or followed by garbage.
func (c *genCtx) truncated() {
	ep := c.pickEndpoint()
	c.useEndpoint(ep)
	enc := c.encode(ep.base())
	switch c.rng.Intn(4) {
	case 0:
		garbage := c.pick("}", "xx", "{}", `{"a":1}`, "\x00", "]", ",")
		c.req.Variant = fmt.Sprintf("trailing %q", garbage)
		c.req.Parts = [][]byte{append(enc, garbage...)}
	default:
		n := c.rng.Intn(len(enc))
		c.req.Variant = fmt.Sprintf("cut at %d of %d", n, len(enc))
		c.req.Parts = [][]byte{enc[:n]}
	}
}

// contentType sends a valid body under a content type the endpoint does
// not take: 415, or 400 where the type is known but the body is not it.
func (c *genCtx) contentType() {
	ep := c.pickEndpoint()
	c.useEndpoint(ep)
	o := ep.base()
	if ep.create {
		// Valid bodies must not collide with each other.
		metadata(o)["name"] = c.uniqueName()
	}
	body := c.encode(o)
	if c.rng.Intn(4) == 0 {
		// Content types a patch does not take, on a patch.
		c.req.Method = "PATCH"
		c.req.Path = strings.TrimSuffix(c.req.Path, "/binding")
		if ep.create && ep.res != resBinding {
			c.req.Path += "/" + ep.name
		}
		c.req.ContentType = c.pick("application/json", "application/yaml", "text/plain", "application/merge-patch+yaml",
			"application/strategic-merge-patch+yaml", "application/x-www-form-urlencoded", "application/json-patch+yaml")
		body = []byte(`{"metadata":{"labels":{"x":"y"}}}`)
	} else {
		c.req.ContentType = c.pick("text/plain", "application/xml", "text/html", "application/x-www-form-urlencoded",
			"multipart/form-data; boundary=zz", "application/octet-stream", "application/vnd.kubernetes.protobuf",
			"application/cbor", "application/json-patch+json", "application/merge-patch+json", "image/png",
			"*/*", "application/*", "json", "application/json-seq", strings.Repeat("x", 10000)+"/json",
			"application/apply-patch+yaml")
		if c.req.ContentType == "application/vnd.kubernetes.protobuf" && c.rng.Intn(2) == 0 {
			// What a protobuf body starts with, then junk.
			body = append([]byte("k8s\x00"), body...)
		}
	}
	c.req.Variant = c.req.ContentType
	if len(c.req.Variant) > 40 {
		c.req.Variant = c.req.Variant[:40] + "..."
	}
	c.req.Parts = [][]byte{body}
}

// patchVariant is one bad patch. podOnly variants are bad only for the pods
// endpoint itself: elsewhere their fields are unknown (dropped with a
// warning) or, for pods/status, reset from the stored spec.
type patchVariant struct {
	name        string
	contentType string
	body        any // a string is sent as is; a func() any is called
	podOnly     bool
	manager     string
}

// badPatch sends JSON, merge, strategic and apply patches that are
// malformed, break validation, exceed limits, or change what may not
// change, to existing (and a few missing) objects.
func (c *genCtx) badPatch() {
	t := c.targetPod()
	c.req.Method, c.req.Path = "PATCH", hostileNSPath+"/pods/"+t
	onPod := true
	switch c.rng.Intn(10) {
	case 0:
		c.req.Path = c.pick(hostileGroupPath+"/nodes/"+hostileTargetNode, hostileNSPath+"/leases/"+hostileTargetLse,
			hostileEventsPath+"/"+hostileTargetEvt, hostileNSPath+"/pods/"+t+"/status")
		onPod = false
	case 1:
		c.req.Path = hostileNSPath + "/pods/hz-missing-" + fmt.Sprint(c.req.Index)
	}
	variants := c.patchVariants(t)
	v := variants[c.rng.Intn(len(variants))]
	for v.podOnly && !onPod {
		v = variants[c.rng.Intn(len(variants))]
	}
	c.req.Variant = v.name
	c.req.ContentType = v.contentType
	if v.manager != "" {
		c.req.Path += "?fieldManager=" + v.manager
	}
	body := v.body
	if lazy, ok := body.(func() any); ok {
		body = lazy()
	}
	if s, ok := body.(string); ok {
		c.req.Parts = [][]byte{[]byte(s)}
		return
	}
	c.setBody(body)
}

func (c *genCtx) patchVariants(t string) []patchVariant {
	const (
		jsonPatch  = "application/json-patch+json"
		mergePatch = "application/merge-patch+json"
		smp        = "application/strategic-merge-patch+json"
		apply      = "application/apply-patch+yaml"
	)
	// The two big bodies are built only when chosen.
	copies := func() any {
		ops := arr{obj{"op": "add", "path": "/metadata/annotations/a0", "value": string(c.pad[:100*1024])}}
		for i := 1; i <= 40; i++ {
			ops = append(ops, obj{"op": "copy", "from": fmt.Sprintf("/metadata/annotations/a%d", i-1), "path": fmt.Sprintf("/metadata/annotations/a%d", i)})
		}
		return ops
	}
	nOps := 10001 + c.rng.Intn(3000)
	many := func() any {
		ops := make(arr, nOps)
		for i := range ops {
			ops[i] = obj{"op": "test", "path": "/metadata/name", "value": t}
		}
		return ops
	}
	podYAML := "apiVersion: core.skiff.dev/v1alpha1\nkind: Pod\nmetadata:\n  name: " + t + "\n"
	return []patchVariant{
		{"json-patch: not json", jsonPatch, "[{", false, ""},
		{"json-patch: object not array", jsonPatch, obj{"op": "add", "path": "/metadata/labels/x", "value": "y"}, false, ""},
		{"json-patch: unknown op", jsonPatch, arr{obj{"op": "frobnicate", "path": "/metadata/labels/x", "value": "y"}}, false, ""},
		{"json-patch: missing path", jsonPatch, arr{obj{"op": "add", "value": "y"}}, false, ""},
		{"json-patch: relative path", jsonPatch, arr{obj{"op": "add", "path": "metadata/labels/x", "value": "y"}}, false, ""},
		{"json-patch: remove missing", jsonPatch, arr{obj{"op": "remove", "path": "/metadata/labels/doesnotexist"}}, false, ""},
		{"json-patch: failing test", jsonPatch, arr{obj{"op": "test", "path": "/metadata/name", "value": "someone-else"}}, false, ""},
		{"json-patch: too many ops", jsonPatch, many, false, ""},
		{"json-patch: rename", jsonPatch, arr{obj{"op": "replace", "path": "/metadata/name", "value": "renamed"}}, false, ""},
		{"json-patch: bad label", jsonPatch, arr{obj{"op": "add", "path": "/metadata/labels", "value": obj{"bad key": "x"}}}, false, ""},
		{"json-patch: copy amplification", jsonPatch, copies, false, ""},
		{"json-patch: wrong value type", jsonPatch, arr{obj{"op": "add", "path": "/metadata/labels", "value": 5}}, false, ""},
		{"json-patch: null op", jsonPatch, arr{nil}, false, ""},
		{"json-patch: empty op", jsonPatch, arr{obj{}}, false, ""},
		{"json-patch: add container", jsonPatch, arr{obj{"op": "add", "path": "/spec/containers/-", "value": obj{"name": "x", "image": "y"}}}, true, ""},
		{"json-patch: index out of range", jsonPatch, arr{obj{"op": "replace", "path": "/spec/containers/99/image", "value": "x"}}, true, ""},
		{"json-patch: huge index", jsonPatch, arr{obj{"op": "replace", "path": "/spec/containers/99999999999999999999/image", "value": "x"}}, true, ""},
		{"json-patch: costly quantity", jsonPatch, arr{obj{"op": "add", "path": "/spec/containers/0/resources/limits/cpu", "value": "1e-2147483647"}}, true, ""},
		{"json-patch: costly quantity by copy", jsonPatch, arr{
			obj{"op": "add", "path": "/metadata/annotations/q", "value": "1e-1000000000"},
			obj{"op": "copy", "from": "/metadata/annotations/q", "path": "/spec/containers/0/resources/requests/cpu"}}, true, ""},

		{"merge-patch: array", mergePatch, arr{1, 2}, false, ""},
		{"merge-patch: string", mergePatch, "\"x\"", false, ""},
		{"merge-patch: number", mergePatch, "5", false, ""},
		{"merge-patch: truncated", mergePatch, `{"metadata":{`, false, ""},
		{"merge-patch: rename", mergePatch, obj{"metadata": obj{"name": "renamed"}}, false, ""},
		{"merge-patch: bad label", mergePatch, obj{"metadata": obj{"labels": obj{"bad key": "x"}}}, false, ""},
		{"merge-patch: bad resourceVersion", mergePatch, obj{"metadata": obj{"resourceVersion": "not-a-number", "labels": obj{"x": "y"}}}, false, ""},
		{"merge-patch: other uid", mergePatch, obj{"metadata": obj{"uid": "00000000-0000-0000-0000-000000000000"}}, false, ""},
		{"merge-patch: other kind", mergePatch, obj{"kind": "Widget"}, false, ""},
		// An apiVersion no target has: "v1" is the events' own.
		{"merge-patch: other apiVersion", mergePatch, obj{"apiVersion": "other.example/v9"}, false, ""},
		// A node is cluster-scoped: a namespace in its patch is dropped.
		{"merge-patch: new namespace", mergePatch, obj{"metadata": obj{"namespace": "elsewhere"}}, true, ""},
		{"merge-patch: wrong type", mergePatch, obj{"spec": obj{"containers": "x"}}, true, ""},
		{"merge-patch: costly quantity", mergePatch, obj{"spec": obj{"containers": arr{obj{"name": "c", "image": "busybox",
			"resources": obj{"limits": obj{"cpu": "1e-2147483647"}}}}}}, true, ""},

		{"strategic-patch: bad directive", smp, obj{"$patch": "bogus"}, false, ""},
		{"strategic-patch: bad label", smp, obj{"metadata": obj{"labels": obj{"bad key": "v"}}}, false, ""},
		{"strategic-patch: rename", smp, obj{"metadata": obj{"name": "renamed"}}, false, ""},
		{"strategic-patch: delete without merge key", smp, obj{"spec": obj{"containers": arr{obj{"$patch": "delete"}}}}, true, ""},
		{"strategic-patch: wrong element type", smp, obj{"spec": obj{"containers": arr{obj{"name": "c", "image": 5}}}}, true, ""},
		{"strategic-patch: list as object", smp, obj{"spec": obj{"containers": obj{"name": "c"}}}, true, ""},
		{"strategic-patch: tolerations as string", smp, obj{"spec": obj{"tolerations": "x"}}, true, ""},
		{"strategic-patch: costly quantity", smp, obj{"spec": obj{"containers": arr{obj{"name": "c",
			"resources": obj{"limits": obj{"cpu": "1e-2147483647"}}}}}}, true, ""},
		{"strategic-patch: new container", smp, obj{"spec": obj{"containers": arr{obj{"name": "d", "image": "busybox"}}}}, true, ""},

		{"apply: no fieldManager", apply, podYAML, false, ""},
		{"apply: invalid yaml", apply, "a: b: c", false, "hostile"},
		{"apply: tab indent", apply, "metadata:\n\tname: x", false, "hostile"},
		{"apply: unclosed flow", apply, "{metadata: [", false, "hostile"},
		{"apply: alias bomb", apply, yamlBomb(), false, "hostile"},
		{"apply: other name", apply, "apiVersion: core.skiff.dev/v1alpha1\nkind: Pod\nmetadata:\n  name: someone-else\n", false, "hostile"},
		{"apply: long fieldManager", apply, podYAML, false, c.dnsString(200)},
		{"apply: wrong kind", apply, "apiVersion: core.skiff.dev/v1alpha1\nkind: Node\nmetadata:\n  name: " + t + "\n", true, "hostile"},
		{"apply: bad label", apply, podYAML + "  labels:\n    'bad key': v\n", true, "hostile"},
		{"apply: add container", apply, podYAML + "spec:\n  containers:\n  - name: d\n    image: busybox\n", true, "hostile"},
		{"apply: costly quantity", apply, podYAML + "spec:\n  containers:\n  - name: c\n    image: busybox\n    resources:\n      limits:\n        cpu: 1e-2147483647\n", true, "hostile"},
	}
}

// yamlBomb is the "billion laughs" of YAML: aliases that expand
// exponentially.
func yamlBomb() string {
	var b strings.Builder
	b.WriteString("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		fmt.Fprintf(&b, "%s: &%s [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]\n", name, name, prev, prev, prev, prev, prev, prev, prev, prev, prev)
		prev = name
	}
	b.WriteString("metadata:\n  labels: *i\n")
	return b.String()
}

// badStatus writes a pod status validation refuses, through PUT or PATCH
// of pods/status.
func (c *genCtx) badStatus() {
	t := c.targetPod()
	variants := []struct {
		name   string
		status obj
	}{
		{"unknown phase", obj{"phase": "Exploding"}},
		{"bad podIP", obj{"phase": "Running", "podIP": "999.1.1.1"}},
		{"bad hostIP", obj{"hostIP": "not-an-ip"}},
		{"condition without type", obj{"conditions": arr{obj{"type": "", "status": "True"}}}},
		{"bad condition type", obj{"conditions": arr{obj{"type": "bad type!", "status": "True"}}}},
		{"bad condition status", obj{"conditions": arr{obj{"type": "Ready", "status": "Maybe"}}}},
		{"duplicate condition", obj{"conditions": arr{obj{"type": "Ready", "status": "True"}, obj{"type": "Ready", "status": "False"}}}},
		{"status of unknown container", obj{"containerStatuses": arr{obj{"name": "nope", "ready": true, "restartCount": 0, "image": "x"}}}},
		{"negative restarts", obj{"containerStatuses": arr{obj{"name": "c", "ready": true, "restartCount": -1, "image": "x"}}}},
		{"two states", obj{"containerStatuses": arr{obj{"name": "c", "ready": true, "restartCount": 0, "image": "x",
			"state": obj{"running": obj{}, "terminated": obj{"exitCode": 0}}}}}},
	}
	v := variants[c.rng.Intn(len(variants))]
	c.req.Variant = v.name
	c.req.Path = hostileNSPath + "/pods/" + t + "/status"
	if c.rng.Intn(2) == 0 {
		c.req.Method = "PUT"
		o := validPodObject(t)
		o["status"] = v.status
		c.setBody(o)
		return
	}
	c.req.Method = "PATCH"
	c.req.ContentType = c.pick("application/merge-patch+json", "application/strategic-merge-patch+json")
	c.setBody(obj{"status": v.status})
}

// badBinding posts bindings that must not bind: bad targets, a name that is
// not the URL's, a pod that does not exist, a failed precondition.
func (c *genCtx) badBinding() {
	t := c.targetPod()
	c.req.Method, c.req.Path = "POST", hostileNSPath+"/pods/"+t+"/binding"
	b := endpoint{res: resBinding, name: t}.base()
	target := b["target"].(obj)
	v := c.pick("target kind", "empty target", "bad target name", "name mismatch", "missing pod", "other namespace", "uid mismatch",
		"resourceVersion mismatch", "empty body", "target kind lowercase", "bad annotation key", "annotations>256KiB")
	c.req.Variant = v
	switch v {
	case "target kind":
		target["kind"] = c.pick("Pod", "Service", "Lease")
	case "target kind lowercase":
		target["kind"] = "node"
	case "empty target":
		target["name"] = ""
	case "bad target name":
		target["name"] = c.pick("Bad_Name", "a..b", "-x", "x y", c.dnsString(300))
	case "name mismatch":
		metadata(b)["name"] = "someone-else"
	case "missing pod":
		name := fmt.Sprintf("hz-missing-%d", c.req.Index)
		metadata(b)["name"] = name
		c.req.Path = hostileNSPath + "/pods/" + name + "/binding"
	case "other namespace":
		metadata(b)["namespace"] = "elsewhere"
	case "uid mismatch":
		metadata(b)["uid"] = "00000000-0000-0000-0000-000000000000"
	case "resourceVersion mismatch":
		metadata(b)["resourceVersion"] = "1"
	case "empty body":
		c.req.Parts = [][]byte{[]byte("{}")}
		return
	case "bad annotation key":
		// A binding's annotations are copied onto the pod, so they must
		// be valid pod annotations.
		metadata(b)["annotations"] = obj{c.pick("bad key", "-a", "a/b/c", "é"): "x"}
	case "annotations>256KiB":
		metadata(b)["annotations"] = obj{"big": string(c.pad[:256*1024+1+c.rng.Intn(100000)])}
	}
	c.setBody(b)
}

// badMetadata sends object metadata the server must refuse: resource
// versions that are not numbers (or are set on create), timestamps and
// generations of the wrong form, bad finalizers and owner references, an
// empty name, a namespace that is not the URL's.
func (c *genCtx) badMetadata() {
	ep := c.pickEndpoint(resPod, resPod, resNode, resEvent, resLease, resPodStatus)
	o := ep.base()
	md := metadata(o)
	v := c.pick("resourceVersion", "resourceVersion on create", "creationTimestamp", "generation", "finalizer", "ownerReference",
		"empty name", "other namespace", "uid on update")
	switch v {
	case "resourceVersion", "uid on update":
		// Only an update reads them: on create both are ignored.
		if ep.create {
			ep = c.pickEndpoint(resPodStatus)
			o = ep.base()
			md = metadata(o)
		}
		if v == "uid on update" {
			md["uid"] = c.pick("not-a-uid", "00000000-0000-0000-0000-000000000000")
			break
		}
		rv := c.pick("not-a-number", "-1", "99999999999999999999999", "1.5", " 5", "0x10")
		md["resourceVersion"] = rv
		v += " " + rv
	case "resourceVersion on create":
		if !ep.create {
			ep = endpoint{resPod, "POST", hostileNSPath + "/pods", c.uniqueName(), true}
			o = ep.base()
			md = metadata(o)
		}
		md["resourceVersion"] = c.pick("5", "1", "18446744073709551615")
	case "creationTimestamp":
		md["creationTimestamp"] = c.pick("yesterday", "2026-13-45T99:00:00Z", "1")
	case "generation":
		md["generation"] = c.pick("x", "1.5", "99999999999999999999")
		if md["generation"] != "x" {
			md["generation"] = json.Number(md["generation"].(string))
		}
	case "finalizer":
		md["finalizers"] = arr{c.pick("bad finalizer!", "-x", "a/b/c", c.dnsString(400))}
	case "ownerReference":
		if ep.res == resPodStatus {
			// pods/status keeps the stored owner references.
			ep = endpoint{resPod, "POST", hostileNSPath + "/pods", c.uniqueName(), true}
			o = ep.base()
			md = metadata(o)
		}
		md["ownerReferences"] = arr{obj{"apiVersion": "v1", "kind": "Pod", "name": "x", "uid": ""}}
	case "empty name":
		md["name"] = ""
	case "other namespace":
		if ep.res == resNode {
			ep = endpoint{resPod, "POST", hostileNSPath + "/pods", c.uniqueName(), true}
			o = ep.base()
			md = metadata(o)
		}
		md["namespace"] = "elsewhere"
	}
	c.useEndpoint(ep)
	c.req.Variant = v
	c.setBody(o)
}

// hugeList sends a list of tens of thousands of items, each wrong: every
// one costs validation an error, so validation must stay linear and the
// answer short.
func (c *genCtx) hugeList() {
	ep := c.pickEndpoint(resPod, resPod, resPod, resNode)
	c.useEndpoint(ep)
	o := ep.base()
	n := 5000 + c.rng.Intn(35000)
	items := make(arr, n)
	var v string
	if ep.res == resNode {
		v = c.pick("taints", "conditions", "addresses")
		if v != "taints" && !ep.create {
			// The main endpoint keeps a node's stored status on update.
			ep = endpoint{resNode, "POST", hostileGroupPath + "/nodes", c.uniqueName(), true}
			c.useEndpoint(ep)
			o = ep.base()
		}
		for i := range items {
			switch v {
			case "taints":
				items[i] = obj{"key": fmt.Sprintf("k%d", i), "effect": "Bogus"}
			case "conditions":
				items[i] = obj{"type": "Ready", "status": "Maybe"}
			default:
				items[i] = obj{"type": "Elsewhere", "address": ""}
			}
		}
		if v == "taints" {
			o["spec"].(obj)["taints"] = items
		} else {
			o["status"].(obj)[v] = items
		}
	} else {
		v = c.pick("containers", "tolerations", "env", "ports", "node-selector-terms", "resources")
		spec := o["spec"].(obj)
		for i := range items {
			switch v {
			case "containers":
				items[i] = obj{"name": fmt.Sprintf("C_%d", i), "image": "busybox"}
			case "tolerations":
				items[i] = obj{"key": fmt.Sprintf("k%d", i), "operator": "Like"}
			case "env":
				items[i] = obj{"name": "", "value": "x"}
			case "ports":
				items[i] = obj{"containerPort": 80, "protocol": "TCP"}
			case "node-selector-terms":
				items[i] = obj{"matchExpressions": arr{obj{"key": "k", "operator": "Resembles"}}}
			}
		}
		switch v {
		case "containers":
			spec["containers"] = items
		case "tolerations":
			spec["tolerations"] = items
		case "env":
			container(o)["env"] = items
		case "ports":
			container(o)["ports"] = items
		case "node-selector-terms":
			spec["affinity"] = obj{"nodeAffinity": obj{"requiredDuringSchedulingIgnoredDuringExecution": obj{"nodeSelectorTerms": items}}}
		case "resources":
			// Many quantities at the largest exponent the decoder
			// accepts, under names no container may request.
			requests := obj{}
			for i := 0; i < n; i++ {
				requests[fmt.Sprintf("r%d", i)] = "1e-100"
			}
			container(o)["resources"] = obj{"requests": requests}
		}
	}
	c.req.Variant = fmt.Sprintf("%d %s", n, v)
	c.setBody(o)
}

// interestingTokens are spliced into mutated bodies.
var interestingTokens = []string{"null", "{}", "[]", `""`, "-1", "1e999", `\u0000`, "\xff", "0", "true", `"`, ",", ":", "{", "}", "[", "]",
	"99999999999999999999999", "-0", "1e-2147483647"}

// mutated flips, inserts and deletes random bytes of a valid body: a blind
// mutation fuzzer. The result may still be valid (a flipped label
// character), so 2xx is as right as 4xx.
func (c *genCtx) mutated() {
	ep := c.pickEndpoint(resPod, resPod, resPod, resNode, resEvent, resLease, resPodStatus)
	c.useEndpoint(ep)
	c.req.Expect = wantEither
	b := c.encode(ep.base())
	n := 1 + c.rng.Intn(6)
	var ops []string
	for i := 0; i < n && len(b) > 1; i++ {
		p := c.rng.Intn(len(b))
		switch c.rng.Intn(7) {
		case 0:
			b[p] = byte(c.rng.Intn(256))
			ops = append(ops, fmt.Sprintf("set@%d", p))
		case 1:
			b[p] ^= 1 << c.rng.Intn(8)
			ops = append(ops, fmt.Sprintf("flip@%d", p))
		case 2:
			b = append(b[:p], append([]byte{byte(c.rng.Intn(256))}, b[p:]...)...)
			ops = append(ops, fmt.Sprintf("insert@%d", p))
		case 3:
			b = append(b[:p], b[p+1:]...)
			ops = append(ops, fmt.Sprintf("delete@%d", p))
		case 4:
			end := min(len(b), p+1+c.rng.Intn(20))
			b = append(b[:p], b[end:]...)
			ops = append(ops, fmt.Sprintf("cut@%d-%d", p, end))
		case 5:
			end := min(len(b), p+1+c.rng.Intn(40))
			chunk := append([]byte(nil), b[p:end]...)
			b = append(b[:end], append(chunk, b[end:]...)...)
			ops = append(ops, fmt.Sprintf("dup@%d-%d", p, end))
		default:
			tok := interestingTokens[c.rng.Intn(len(interestingTokens))]
			b = append(b[:p], append([]byte(tok), b[p:]...)...)
			ops = append(ops, fmt.Sprintf("token@%d", p))
		}
	}
	if c.rng.Intn(10) == 0 {
		c.req.ContentType = "application/yaml"
	}
	c.req.Variant = strings.Join(ops, ",")
	c.req.Parts = [][]byte{b}
}

// TestHostileGeneratorIsReproducible checks what the fault test relies on to
// reproduce a failure: request i depends on the seed and i alone, and every
// category comes up.
func TestHostileGeneratorIsReproducible(t *testing.T) {
	a, b := newHostileGen(42), newHostileGen(42)
	for _, i := range []int{5, 3, 299, 0, 17} {
		// Out of order on purpose: no state may carry between requests.
		b.request(i)
	}
	seen := map[string]int{}
	for i := 0; i < 3000; i++ {
		ra := a.request(i)
		seen[ra.Category]++
		if i >= 300 {
			continue // comparing bodies is the slow part
		}
		rb := b.request(i)
		if ra.Category != rb.Category || ra.Variant != rb.Variant || ra.Path != rb.Path || bodyDigest(&ra) != bodyDigest(&rb) {
			t.Fatalf("request %d differs between two generators of one seed: %s/%s vs %s/%s", i, ra.Category, ra.Variant, rb.Category, rb.Variant)
		}
	}
	for _, c := range hostileCategories {
		if seen[c.name] == 0 {
			t.Errorf("category %s never generated in 3000 requests", c.name)
		}
	}
	t.Logf("categories in 3000 requests: %v", seen)
}

func bodyDigest(r *hostileRequest) string {
	h := sha256.New()
	_, _ = io.Copy(h, r.Body())
	return hex.EncodeToString(h.Sum(nil))
}
