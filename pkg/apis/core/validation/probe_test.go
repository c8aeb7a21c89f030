package validation

import (
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"

	"skiff.dev/skiff/pkg/apis/core"
)

// validProbe is a probe as it looks after defaulting.
func validProbe() *core.Probe {
	return &core.Probe{
		ProbeHandler:   core.ProbeHandler{HTTPGet: &core.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http"), Scheme: core.URISchemeHTTP}},
		TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3,
	}
}

func TestValidateProbes(t *testing.T) {
	const c0 = "spec.containers[0]"
	tests := []struct {
		name   string
		mutate func(c *core.Container)
		want   []want
	}{
		{name: "three valid probes", mutate: func(c *core.Container) {
			c.LivenessProbe, c.ReadinessProbe, c.StartupProbe = validProbe(), validProbe(), validProbe()
			c.ReadinessProbe.SuccessThreshold = 3
			c.LivenessProbe.TerminationGracePeriodSeconds = ptrTo[int64](5)
		}},
		{name: "each kind of handler", mutate: func(c *core.Container) {
			c.LivenessProbe = &core.Probe{ProbeHandler: core.ProbeHandler{Exec: &core.ExecAction{Command: []string{"true"}}},
				TimeoutSeconds: 1, PeriodSeconds: 1, SuccessThreshold: 1, FailureThreshold: 1}
			c.ReadinessProbe = &core.Probe{ProbeHandler: core.ProbeHandler{TCPSocket: &core.TCPSocketAction{Port: intstr.FromInt32(80)}},
				TimeoutSeconds: 1, PeriodSeconds: 1, SuccessThreshold: 1, FailureThreshold: 1}
			c.StartupProbe = &core.Probe{ProbeHandler: core.ProbeHandler{GRPC: &core.GRPCAction{Port: 9090}},
				TimeoutSeconds: 1, PeriodSeconds: 1, SuccessThreshold: 1, FailureThreshold: 1}
		}},
		{name: "a handler is required", mutate: func(c *core.Container) {
			c.LivenessProbe = validProbe()
			c.LivenessProbe.HTTPGet = nil
		}, want: []want{required(c0 + ".livenessProbe").with("must specify a handler type")}},
		{name: "only one handler", mutate: func(c *core.Container) {
			c.ReadinessProbe = validProbe()
			c.ReadinessProbe.TCPSocket = &core.TCPSocketAction{Port: intstr.FromInt32(80)}
			c.ReadinessProbe.GRPC = &core.GRPCAction{Port: 80}
		}, want: []want{
			forbidden(c0 + ".readinessProbe.tcpSocket").with("may not specify more than 1 handler type"),
			forbidden(c0 + ".readinessProbe.grpc"),
		}},
		{name: "liveness successThreshold must be 1", mutate: func(c *core.Container) {
			c.LivenessProbe = validProbe()
			c.LivenessProbe.SuccessThreshold = 2
		}, want: []want{invalid(c0 + ".livenessProbe.successThreshold").with("must be 1")}},
		{name: "startup successThreshold must be 1", mutate: func(c *core.Container) {
			c.StartupProbe = validProbe()
			c.StartupProbe.SuccessThreshold = 2
		}, want: []want{invalid(c0 + ".startupProbe.successThreshold")}},
		{name: "readiness may not have a grace period", mutate: func(c *core.Container) {
			c.ReadinessProbe = validProbe()
			c.ReadinessProbe.TerminationGracePeriodSeconds = ptrTo[int64](5)
		}, want: []want{invalid(c0 + ".readinessProbe.terminationGracePeriodSeconds").with("must not be set for readinessProbes")}},
		{name: "values must be positive", mutate: func(c *core.Container) {
			c.ReadinessProbe = validProbe()
			c.ReadinessProbe.InitialDelaySeconds = -1
			c.ReadinessProbe.TimeoutSeconds = 0
			c.ReadinessProbe.PeriodSeconds = -5
			c.ReadinessProbe.FailureThreshold = 0
			c.LivenessProbe = validProbe()
			c.LivenessProbe.TerminationGracePeriodSeconds = ptrTo[int64](0)
		}, want: []want{
			invalid(c0 + ".readinessProbe.initialDelaySeconds"),
			invalid(c0 + ".readinessProbe.timeoutSeconds").with("must be greater than 0"),
			invalid(c0 + ".readinessProbe.periodSeconds"),
			invalid(c0 + ".readinessProbe.failureThreshold"),
			invalid(c0 + ".livenessProbe.terminationGracePeriodSeconds"),
		}},
		{name: "port out of range", mutate: func(c *core.Container) {
			c.LivenessProbe = validProbe()
			c.LivenessProbe.HTTPGet.Port = intstr.FromInt32(70000)
			c.ReadinessProbe = validProbe()
			c.ReadinessProbe.HTTPGet = nil
			c.ReadinessProbe.GRPC = &core.GRPCAction{Port: 0}
		}, want: []want{invalid(c0 + ".livenessProbe.httpGet.port"), invalid(c0 + ".readinessProbe.grpc.port")}},
		{name: "named port must be one of the container's", mutate: func(c *core.Container) {
			c.LivenessProbe = validProbe()
			c.LivenessProbe.HTTPGet = nil
			c.LivenessProbe.TCPSocket = &core.TCPSocketAction{Port: intstr.FromString("metrics")}
		}, want: []want{invalid(c0 + ".livenessProbe.tcpSocket.port").with("must be the name of one of the container's ports")}},
		{name: "bad port name", mutate: func(c *core.Container) {
			c.LivenessProbe = validProbe()
			c.LivenessProbe.HTTPGet.Port = intstr.FromString("Not_A_Name")
		}, want: []want{invalid(c0 + ".livenessProbe.httpGet.port")}},
		{name: "http path, scheme and header names", mutate: func(c *core.Container) {
			c.LivenessProbe = validProbe()
			c.LivenessProbe.HTTPGet.Path = ""
			c.LivenessProbe.HTTPGet.Scheme = "FTP"
			c.LivenessProbe.HTTPGet.HTTPHeaders = []core.HTTPHeader{{Name: "X-Ok", Value: "1"}, {Name: "bad header", Value: "2"}}
		}, want: []want{
			required(c0 + ".livenessProbe.httpGet.path"),
			notSupported(c0 + ".livenessProbe.httpGet.scheme"),
			invalid(c0 + ".livenessProbe.httpGet.httpHeaders[1].name"),
		}},
		{name: "exec needs a command", mutate: func(c *core.Container) {
			c.StartupProbe = validProbe()
			c.StartupProbe.HTTPGet = nil
			c.StartupProbe.Exec = &core.ExecAction{}
		}, want: []want{required(c0 + ".startupProbe.exec.command")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := validPod()
			tc.mutate(&pod.Spec.Containers[0])
			expectErrors(t, ValidatePod(pod), tc.want...)
		})
	}
}
