package v1alpha1

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/protobuf/encoding/protowire"
)

// CheckProtobuf looks at a protobuf message of Go type t (a versioned API
// type with go-to-protobuf's struct tags, such as Pod, Node or
// apps.skiff.dev's Deployment) before the generated code decodes it, and
// returns what that decoding would cost beyond the message itself:
//
//   - an error when a ResourceList anywhere in it holds a quantity too costly
//     to parse: the protobuf counterpart of ResourceList.UnmarshalJSON. The
//     generated Unmarshal code parses every quantity with
//     resource.ParseQuantity and offers no hook. The error names the field
//     path and the resource;
//   - elementBytes, the Go memory the elements of its repeated fields and
//     maps take once decoded (the size of each element's type, not counting
//     what it points to). A two-byte empty container becomes a Container
//     struct hundreds of bytes long, so a body within the request size limit
//     can ask for gigabytes; the caller compares this with a budget.
//
// It walks the wire format guided by the struct tags and allocates nothing
// for a message that passes (once the type's plan is built). An element's
// index in a path counts within one occurrence of its enclosing message: a
// message given twice, which the decoder merges, is counted from zero again
// (only a hand-made body does that). Malformed data is the decoder's to
// refuse: the walk stops there, without an error.
func CheckProtobuf(data []byte, t reflect.Type) (elementBytes uint64, err error) {
	p := planFor(t)
	if p == nil {
		return 0, nil
	}
	w := walk{}
	if err := w.message(p, data, 0); err != nil {
		return w.elementBytes, err
	}
	return w.elementBytes, nil
}

// maxDepth bounds the walk's recursion. skiff's types nest a few levels;
// only a recursive type could go deeper, and there the walk stops.
const maxDepth = 64

// resourceListType is where quantities are checked.
var resourceListType = reflect.TypeOf(ResourceList{})

// plan lists the fields of one message type by field number. It is a
// decoding aid, not an API type.
//
// +k8s:deepcopy-gen=false
// +k8s:openapi-gen=false
type plan struct {
	fields map[protowire.Number]*planField
	// repeated counts the repeated message fields, each of which has a slot
	// for the index of its current element.
	repeated int
}

// planField is one field of a plan.
//
// +k8s:deepcopy-gen=false
// +k8s:openapi-gen=false
type planField struct {
	name string
	// slot is the index counter of a repeated message field, -1 for others.
	slot int
	// elemSize is what one occurrence costs once decoded: the element type's
	// size for a repeated field or a map entry, 0 for a singular field.
	elemSize uint64
	// packed is a repeated number, whose occurrence holds several elements
	// of at least a byte each.
	packed bool
	// list is a ResourceList; sub is the plan of a message field.
	list bool
	sub  *plan
}

var plans sync.Map // reflect.Type -> *plan

// planFor is t's plan, nil when t is not a struct.
func planFor(t reflect.Type) *plan {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	p := buildPlan(t, map[reflect.Type]*plan{})
	plans.Store(t, p)
	return p
}

func buildPlan(t reflect.Type, building map[reflect.Type]*plan) *plan {
	if t.Kind() != reflect.Struct {
		return nil
	}
	if p, ok := building[t]; ok {
		return p // a recursive type refers to its own plan
	}
	p := &plan{fields: map[protowire.Number]*planField{}}
	building[t] = p
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		num, name, repeated, ok := parseProtobufTag(f.Tag.Get("protobuf"))
		if !ok {
			continue
		}
		pf := &planField{name: name, slot: -1}
		ft := f.Type
		switch {
		case ft == resourceListType:
			pf.list = true
			pf.elemSize = uint64(ft.Key().Size() + ft.Elem().Size())
		case ft.Kind() == reflect.Map:
			pf.elemSize = uint64(ft.Key().Size() + ft.Elem().Size())
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() != reflect.Uint8:
			elem := ft.Elem()
			pf.elemSize = uint64(elem.Size())
			for elem.Kind() == reflect.Pointer {
				elem = elem.Elem()
			}
			if elem.Kind() == reflect.Struct {
				pf.sub = buildPlan(elem, building)
				pf.slot = p.repeated
				p.repeated++
			} else {
				pf.packed = elem.Kind() != reflect.String
			}
		default:
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			pf.sub = buildPlan(ft, building)
		}
		if repeated || pf.list || pf.sub != nil || pf.elemSize > 0 {
			p.fields[num] = pf
		}
	}
	return p
}

// parseProtobufTag reads `protobuf:"bytes,2,rep,name=containers"`.
func parseProtobufTag(tag string) (num protowire.Number, name string, repeated, ok bool) {
	parts := strings.Split(tag, ",")
	if len(parts) < 3 {
		return 0, "", false, false
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil {
		return 0, "", false, false
	}
	for _, p := range parts[3:] {
		if v, found := strings.CutPrefix(p, "name="); found {
			name = v
		}
	}
	return protowire.Number(n), name, parts[2] == "rep", true
}

// costlyQuantityError names the field path of a costly quantity. The walk
// builds the path on its way back up, so that a message that passes costs
// no allocation.
//
// +k8s:deepcopy-gen=false
// +k8s:openapi-gen=false
type costlyQuantityError struct {
	// reversed is the path, innermost field first.
	reversed []string
	resource string
	err      error
}

func (e *costlyQuantityError) Error() string {
	path := make([]string, len(e.reversed))
	for i, s := range e.reversed {
		path[len(path)-1-i] = s
	}
	return fmt.Sprintf("%s: resource %s: %v", strings.Join(path, "."), truncateForError(e.resource), e.err)
}

func (e *costlyQuantityError) Unwrap() error { return e.err }

// walk is the state of one CheckProtobuf.
//
// +k8s:deepcopy-gen=false
// +k8s:openapi-gen=false
type walk struct {
	elementBytes uint64
}

func (w *walk) message(p *plan, b []byte, depth int) *costlyQuantityError {
	if depth > maxDepth {
		return nil
	}
	var fixed [8]int
	counts := fixed[:]
	if p.repeated > len(fixed) {
		counts = make([]int, p.repeated)
	}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil
		}
		b = b[n:]
		f := p.fields[num]
		if f == nil || typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return nil
			}
			b = b[n:]
			if f != nil {
				w.elementBytes += f.elemSize // one unpacked number
			}
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil
		}
		b = b[n:]
		if f.packed {
			w.elementBytes += f.elemSize * uint64(len(v))
			continue
		}
		w.elementBytes += f.elemSize
		index := -1
		if f.slot >= 0 {
			index = counts[f.slot]
			counts[f.slot]++
		}
		var err *costlyQuantityError
		switch {
		case f.list:
			err = checkResourceListEntry(v)
		case f.sub != nil:
			err = w.message(f.sub, v, depth+1)
		}
		if err != nil {
			name := f.name
			if index >= 0 {
				name += "[" + strconv.Itoa(index) + "]"
			}
			err.reversed = append(err.reversed, name)
			return err
		}
	}
	return nil
}

// checkResourceListEntry checks one map entry of a ResourceList: key 1 is
// the resource name, value 2 a resource.Quantity message whose field 1 is
// the quantity's string.
func checkResourceListEntry(entry []byte) *costlyQuantityError {
	var name, quantity []byte
	for len(entry) > 0 {
		num, typ, n := protowire.ConsumeTag(entry)
		if n < 0 {
			return nil
		}
		entry = entry[n:]
		if typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, entry); n < 0 {
				return nil
			}
			entry = entry[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(entry)
		if n < 0 {
			return nil
		}
		entry = entry[n:]
		switch num {
		case 1:
			name = v
		case 2:
			if q, ok := quantityString(v); ok {
				quantity = q
			}
		}
	}
	if quantity == nil {
		return nil
	}
	if err := checkQuantityCost(quantity); err != nil {
		return &costlyQuantityError{resource: string(name), err: err}
	}
	return nil
}

// quantityString is field 1 of a resource.Quantity message (its last
// occurrence, as the decoder keeps).
func quantityString(msg []byte) (s []byte, found bool) {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return nil, false
		}
		msg = msg[n:]
		if num == 1 && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(msg)
			if n < 0 {
				return nil, false
			}
			s, found = v, true
			msg = msg[n:]
			continue
		}
		if n = protowire.ConsumeFieldValue(num, typ, msg); n < 0 {
			return nil, false
		}
		msg = msg[n:]
	}
	return s, found
}
