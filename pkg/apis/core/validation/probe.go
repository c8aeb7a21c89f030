package validation

import (
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/pkg/apis/core"
)

var uriSchemes = []core.URIScheme{core.URISchemeHTTP, core.URISchemeHTTPS}

// probeKind says which of a container's probes is checked: each has a rule
// of its own on top of validateProbe's.
type probeKind int

const (
	livenessProbe probeKind = iota
	readinessProbe
	startupProbe
)

// validateContainerProbes checks a container's three probes, with field
// paths and messages as kube-apiserver gives them.
func validateContainerProbes(ctr *core.Container, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	allErrs = append(allErrs, validateProbe(ctr.LivenessProbe, livenessProbe, ctr.Ports, fldPath.Child("livenessProbe"))...)
	allErrs = append(allErrs, validateProbe(ctr.ReadinessProbe, readinessProbe, ctr.Ports, fldPath.Child("readinessProbe"))...)
	allErrs = append(allErrs, validateProbe(ctr.StartupProbe, startupProbe, ctr.Ports, fldPath.Child("startupProbe"))...)
	return allErrs
}

func validateProbe(probe *core.Probe, kind probeKind, ports []core.ContainerPort, fldPath *field.Path) field.ErrorList {
	if probe == nil {
		return nil
	}
	allErrs := validateProbeHandler(&probe.ProbeHandler, ports, fldPath)
	allErrs = append(allErrs, validateNonnegative(int64(probe.InitialDelaySeconds), fldPath.Child("initialDelaySeconds"))...)
	// Defaulting turns an unset value into a positive one; what is left at
	// zero or below would make a probe that never runs or never counts.
	for _, f := range []struct {
		name  string
		value int32
	}{
		{"timeoutSeconds", probe.TimeoutSeconds},
		{"periodSeconds", probe.PeriodSeconds},
		{"successThreshold", probe.SuccessThreshold},
		{"failureThreshold", probe.FailureThreshold},
	} {
		if f.value <= 0 {
			allErrs = append(allErrs, field.Invalid(fldPath.Child(f.name), f.value, "must be greater than 0"))
		}
	}
	if g := probe.TerminationGracePeriodSeconds; g != nil && *g <= 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("terminationGracePeriodSeconds"), *g, "must be greater than 0"))
	}
	switch kind {
	case livenessProbe, startupProbe:
		// Liveness and startup act on a single success.
		if probe.SuccessThreshold != 1 {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("successThreshold"), probe.SuccessThreshold, "must be 1"))
		}
	case readinessProbe:
		// A readiness failure restarts nothing, so it has no grace.
		if probe.TerminationGracePeriodSeconds != nil {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("terminationGracePeriodSeconds"), *probe.TerminationGracePeriodSeconds, "must not be set for readinessProbes"))
		}
	}
	return allErrs
}

// validateProbeHandler checks that exactly one action is set, and that
// action.
func validateProbeHandler(h *core.ProbeHandler, ports []core.ContainerPort, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	n := 0
	one := func(name string, set bool, check func(*field.Path) field.ErrorList) {
		if !set {
			return
		}
		if n > 0 {
			allErrs = append(allErrs, field.Forbidden(fldPath.Child(name), "may not specify more than 1 handler type"))
			return
		}
		n++
		allErrs = append(allErrs, check(fldPath.Child(name))...)
	}
	one("exec", h.Exec != nil, func(p *field.Path) field.ErrorList {
		if len(h.Exec.Command) == 0 {
			return field.ErrorList{field.Required(p.Child("command"), "")}
		}
		return nil
	})
	one("httpGet", h.HTTPGet != nil, func(p *field.Path) field.ErrorList {
		var errs field.ErrorList
		a := h.HTTPGet
		if a.Path == "" {
			errs = append(errs, field.Required(p.Child("path"), ""))
		}
		errs = append(errs, validateProbePort(a.Port, ports, p.Child("port"))...)
		switch a.Scheme {
		case core.URISchemeHTTP, core.URISchemeHTTPS:
		default:
			errs = append(errs, field.NotSupported(p.Child("scheme"), a.Scheme, uriSchemes))
		}
		for i, hdr := range a.HTTPHeaders {
			for _, msg := range validation.IsHTTPHeaderName(hdr.Name) {
				errs = append(errs, field.Invalid(p.Child("httpHeaders").Index(i).Child("name"), hdr.Name, msg))
			}
		}
		return errs
	})
	one("tcpSocket", h.TCPSocket != nil, func(p *field.Path) field.ErrorList {
		return validateProbePort(h.TCPSocket.Port, ports, p.Child("port"))
	})
	one("grpc", h.GRPC != nil, func(p *field.Path) field.ErrorList {
		var errs field.ErrorList
		for _, msg := range validation.IsValidPortNum(int(h.GRPC.Port)) {
			errs = append(errs, field.Invalid(p.Child("port"), h.GRPC.Port, msg))
		}
		return errs
	})
	if n == 0 {
		allErrs = append(allErrs, field.Required(fldPath, "must specify a handler type"))
	}
	return allErrs
}

// validateProbePort checks a port number, or a port name, which must also
// name one of the container's ports: kube-apiserver leaves that to the
// kubelet, where a typo only shows as a probe failing for ever.
func validateProbePort(port intstr.IntOrString, ports []core.ContainerPort, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	switch port.Type {
	case intstr.Int:
		for _, msg := range validation.IsValidPortNum(port.IntValue()) {
			allErrs = append(allErrs, field.Invalid(fldPath, port.IntValue(), msg))
		}
	case intstr.String:
		msgs := validation.IsValidPortName(port.StrVal)
		for _, msg := range msgs {
			allErrs = append(allErrs, field.Invalid(fldPath, port.StrVal, msg))
		}
		if len(msgs) > 0 {
			break
		}
		for _, p := range ports {
			if p.Name == port.StrVal {
				return allErrs
			}
		}
		allErrs = append(allErrs, field.Invalid(fldPath, port.StrVal, "must be the name of one of the container's ports"))
	default:
		allErrs = append(allErrs, field.Invalid(fldPath, port.String(), "must be a port number or name"))
	}
	return allErrs
}
