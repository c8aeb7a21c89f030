package framework

import (
	"errors"
	"strings"
)

// Code says how a plugin judged a pod.
type Code int

const (
	// Success: the plugin has nothing against the pod (on this node).
	Success Code = iota
	// Error: the plugin failed; the scheduling attempt fails with an error
	// and the pod is retried after a back-off.
	Error
	// Unschedulable: the pod does not fit now, but could after the cluster
	// changes.
	Unschedulable
	// UnschedulableAndUnresolvable: the pod does not fit this node and
	// nothing about other pods would change that (a label, a taint).
	UnschedulableAndUnresolvable
	// Skip: returned by PreFilter when the plugin has nothing to check for
	// this pod, so its Filter is not called.
	Skip
	// Wait: a Permit plugin holds the pod until it is allowed or rejected.
	Wait
)

var codeNames = []string{"Success", "Error", "Unschedulable", "UnschedulableAndUnresolvable", "Skip", "Wait"}

func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "Unknown"
}

// Status is the result of a plugin call. A nil *Status means Success, so
// plugins return nil when they have no objection.
type Status struct {
	code    Code
	reasons []string
	err     error
	plugin  string
}

// NewStatus returns a status with the code and the reasons the user will
// read (in FailedScheduling events and the PodScheduled condition).
func NewStatus(code Code, reasons ...string) *Status {
	return &Status{code: code, reasons: reasons}
}

// AsStatus wraps an unexpected error in an Error status.
func AsStatus(err error) *Status {
	if err == nil {
		return nil
	}
	return &Status{code: Error, reasons: []string{err.Error()}, err: err}
}

// Code returns the status code; Success for nil.
func (s *Status) Code() Code {
	if s == nil {
		return Success
	}
	return s.code
}

// IsSuccess reports whether the status is nil or Success.
func (s *Status) IsSuccess() bool { return s.Code() == Success }

// IsSkip reports whether the plugin asked to be skipped.
func (s *Status) IsSkip() bool { return s.Code() == Skip }

// IsRejected reports whether the status says the pod does not fit.
func (s *Status) IsRejected() bool {
	c := s.Code()
	return c == Unschedulable || c == UnschedulableAndUnresolvable
}

// Reasons returns the reasons given for the status.
func (s *Status) Reasons() []string {
	if s == nil {
		return nil
	}
	return s.reasons
}

// Message joins the reasons.
func (s *Status) Message() string {
	if s == nil {
		return ""
	}
	return strings.Join(s.reasons, ", ")
}

// WithPlugin records which plugin returned the status. A status that
// already names the plugin is not written, so a plugin may return one status
// of its own for every node it rejects (see RejectionStatus), from as many
// filter goroutines as run at once.
func (s *Status) WithPlugin(name string) *Status {
	if s != nil && s.plugin != name {
		s.plugin = name
	}
	return s
}

// RejectionStatus is a status for plugin to return for every node it
// rejects with the same code and reasons, one for all of them: a filter
// that rejects half of 2000 nodes a cycle otherwise allocates a status and
// its reasons for each. Nothing may change it after this.
func RejectionStatus(plugin string, code Code, reasons ...string) *Status {
	return NewStatus(code, reasons...).WithPlugin(plugin)
}

// Plugin is the name of the plugin that returned the status, if recorded.
func (s *Status) Plugin() string {
	if s == nil {
		return ""
	}
	return s.plugin
}

// AsError returns nil for Success and Skip, and an error carrying the
// message otherwise.
func (s *Status) AsError() error {
	if s.IsSuccess() || s.IsSkip() {
		return nil
	}
	if s.err != nil {
		return s.err
	}
	return errors.New(s.Message())
}
