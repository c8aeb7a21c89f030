package rules

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// MaxValidationErrors is how many field errors an answer lists. An object
// can carry tens of thousands of mistakes (one per bad label, say), and the
// generic server turns the list into its message with work that grows with
// the square of its length (k8s.io/apimachinery's aggregate error message,
// the duplicate-error check of k8s.io/apiserver's BeforeUpdate): a 1 MB
// body of bad labels held a CPU for minutes and the server's memory past a
// gigabyte. A hundred errors are plenty to fix an object by.
const MaxValidationErrors = 100

// LimitErrors keeps the first MaxValidationErrors errors and replaces the
// rest with one that says how many there were.
func LimitErrors(errs field.ErrorList) field.ErrorList {
	if len(errs) <= MaxValidationErrors {
		return errs
	}
	more := len(errs) - MaxValidationErrors
	return append(errs[:MaxValidationErrors:MaxValidationErrors], &field.Error{
		Type:     field.ErrorTypeInvalid,
		Field:    "<object>",
		BadValue: field.OmitValueType{},
		Detail:   fmt.Sprintf("%d more errors not listed", more),
	})
}
