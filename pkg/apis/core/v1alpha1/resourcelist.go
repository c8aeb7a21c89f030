package v1alpha1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Limits on the quantities a ResourceList accepts from JSON, checked before
// apimachinery parses them. resource.ParseQuantity builds big integers whose
// size follows the number's digits and decimal exponent: "1e-100000000"
// takes about a minute and "1e-2147483647" does not finish, a 1 MB string
// of digits takes seconds, and an exponent past the int32 range is silently
// wrapped ("1e4294967297" parses as 10). See kubernetes/kubernetes#141306
// and #141203. Every quantity skiff means is far inside these limits: the
// largest valid one is 2^63-1 base units (19 digits), and anything below
// 1e-9 is rounded up to 1n anyway.
const (
	// MaxQuantityLength is the longest quantity string accepted.
	MaxQuantityLength = 128
	// MaxQuantityExponent bounds the magnitude of a decimal exponent
	// ("1e100", "5E-100"). Parsing costs microseconds at this bound, so a
	// body filled with such quantities still decodes quickly.
	MaxQuantityExponent = 100
)

// UnmarshalJSON decodes a ResourceList as encoding/json would, except that
// it refuses a quantity too long or with too large an exponent before
// parsing it, so that no request body can make the API server spend minutes
// or gigabytes on one number. The API server decodes request bodies, the
// results of JSON and merge patches, and (through the unstructured
// converter) strategic-merge and apply patches with this method, so the
// check covers every way a quantity can arrive.
//
// A resource name given twice keeps its last value, as without strict field
// validation; strict validation no longer reports the duplicate.
func (rl *ResourceList) UnmarshalJSON(data []byte) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		*rl = nil
		return nil
	}
	var guarded map[ResourceName]guardedQuantity
	if err := json.Unmarshal(data, &guarded); err != nil {
		return nameCostlyQuantity(data, err)
	}
	if *rl == nil {
		*rl = make(ResourceList, len(guarded))
	}
	for name, q := range guarded {
		(*rl)[name] = q.Quantity
	}
	return nil
}

// nameCostlyQuantity turns err into an error that names the resource whose
// quantity is too costly to parse, if that is why decoding failed: the
// decoder does not say which map key a value's error belongs to. Of
// several such quantities the first by name is reported, so the answer
// does not depend on map order. Only failed decodes pay for this pass.
func nameCostlyQuantity(data []byte, err error) error {
	var raw map[ResourceName]json.RawMessage
	if json.Unmarshal(data, &raw) != nil {
		return err
	}
	var bad ResourceName
	var badErr error
	for name, value := range raw {
		if cerr := checkQuantityCost(value); cerr != nil && (badErr == nil || name < bad) {
			bad, badErr = name, cerr
		}
	}
	if badErr == nil {
		return err
	}
	return fmt.Errorf("resource %s: %w", truncateForError(string(bad)), badErr)
}

// guardedQuantity is a Quantity whose JSON is checked for cost before
// apimachinery parses it. It is a decoding aid, not an API type.
//
// +k8s:deepcopy-gen=false
// +k8s:openapi-gen=false
type guardedQuantity struct{ resource.Quantity }

func (q *guardedQuantity) UnmarshalJSON(value []byte) error {
	if err := checkQuantityCost(value); err != nil {
		return err
	}
	return q.Quantity.UnmarshalJSON(value)
}

// checkQuantityCost looks at a quantity as resource.Quantity's UnmarshalJSON
// will hand it to ParseQuantity (quotes stripped, spaces trimmed) and
// refuses it if parsing could be costly. Malformed input passes: the parser
// rejects that cheaply, with its own message.
func checkQuantityCost(value []byte) error {
	s := value
	if l := len(s); l >= 2 && s[0] == '"' && s[l-1] == '"' {
		s = s[1 : l-1]
	}
	s = bytes.TrimSpace(s)
	if len(s) > MaxQuantityLength {
		return fmt.Errorf("quantity %s is %d characters long; at most %d are accepted",
			truncateForError(string(s)), len(s), MaxQuantityLength)
	}
	// A quantity's number is digits and dots, so the first e or E starts
	// its suffix; only a decimal exponent is digits after it ("Ei" and
	// "E" are binary and SI suffixes). Most quantities have neither, and
	// are let through without an allocation: this runs on every decode.
	i := bytes.IndexAny(s, "eE")
	if i < 0 {
		return nil
	}
	str := string(s)
	digits := str[i+1:]
	if digits != "" && (digits[0] == '+' || digits[0] == '-') {
		digits = digits[1:]
	}
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return nil
	}
	exp, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || exp > MaxQuantityExponent {
		return fmt.Errorf("quantity %s has a decimal exponent beyond %d in magnitude", truncateForError(str), MaxQuantityExponent)
	}
	return nil
}

// truncateForError keeps error messages short whatever the input's size.
func truncateForError(s string) string {
	const n = 40
	if len(s) <= n {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%q...", s[:n])
}
