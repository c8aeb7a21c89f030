package v1alpha1

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/protobuf/encoding/protowire"
)

// CheckProtobufQuantities refuses a protobuf message of Go type t (a
// versioned API type with go-to-protobuf's struct tags, such as Pod, Node or
// apps.skiff.dev's Deployment) when a ResourceList anywhere in it holds a
// quantity too costly to parse: the protobuf counterpart of
// ResourceList.UnmarshalJSON. The generated Unmarshal code parses every
// quantity with resource.ParseQuantity and offers no hook, so this walks the
// wire format first, guided by the struct tags, and looks only at the fields
// that can lead to a ResourceList; it allocates nothing for a message that
// passes (once the type's plan is built). The error names the field path
// and the resource. An element's index counts within one occurrence of its
// enclosing message: a message given twice, which the decoder merges, is
// counted from zero again (only a hand-made body does that).
//
// Malformed data passes: the generated decoder rejects it, with its own
// error.
func CheckProtobufQuantities(data []byte, t reflect.Type) error {
	p := planFor(t)
	if p == nil || len(p.fields) == 0 {
		return nil
	}
	if err := p.check(data); err != nil {
		return err
	}
	return nil
}

// resourceListType is what the walk looks for.
var resourceListType = reflect.TypeOf(ResourceList{})

// plan lists, for one message type, the fields that can lead to a
// ResourceList, by field number. It is a decoding aid, not an API type.
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
	// list is true for a ResourceList; otherwise sub is the message's plan.
	list bool
	sub  *plan
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

var plans sync.Map // reflect.Type -> *plan (nil when nothing leads to a ResourceList)

// planFor is t's plan, nil when no ResourceList can be reached from t.
func planFor(t reflect.Type) *plan {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	p := buildPlan(t, map[reflect.Type]bool{})
	plans.Store(t, p)
	return p
}

func buildPlan(t reflect.Type, visiting map[reflect.Type]bool) *plan {
	if t.Kind() != reflect.Struct || visiting[t] {
		return nil
	}
	visiting[t] = true
	defer delete(visiting, t)
	p := &plan{fields: map[protowire.Number]*planField{}}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		num, name, repeated, ok := parseProtobufTag(f.Tag.Get("protobuf"))
		if !ok {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() != reflect.Uint8 {
			ft = ft.Elem()
		}
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft == resourceListType:
			p.fields[num] = &planField{name: name, slot: -1, list: true}
		case ft.Kind() == reflect.Struct:
			if sub := buildPlan(ft, visiting); sub != nil {
				pf := &planField{name: name, slot: -1, sub: sub}
				if repeated {
					pf.slot = p.repeated
					p.repeated++
				}
				p.fields[num] = pf
			}
		}
	}
	if len(p.fields) == 0 {
		return nil
	}
	return p
}

// parseProtobufTag reads `protobuf:"bytes,2,rep,name=containers"`.
func parseProtobufTag(tag string) (num protowire.Number, name string, repeated, ok bool) {
	parts := strings.Split(tag, ",")
	if len(parts) < 3 || parts[0] != "bytes" {
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

func (p *plan) check(b []byte) *costlyQuantityError {
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
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil
		}
		b = b[n:]
		index := -1
		if f.slot >= 0 {
			index = counts[f.slot]
			counts[f.slot]++
		}
		var err *costlyQuantityError
		if f.list {
			err = checkResourceListEntry(v)
		} else {
			err = f.sub.check(v)
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
