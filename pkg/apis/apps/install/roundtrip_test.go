package install

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/apitesting/roundtrip"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeserializer "k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/randfill"

	"skiff.dev/skiff/pkg/apis/apps"
	"skiff.dev/skiff/pkg/apis/core"
)

// TestRoundTrip fills every kind of the group with random values and
// checks that internal → v1alpha1 → JSON → internal changes nothing: the
// generated conversions, including those of core's PodTemplateSpec, lose no
// field.
func TestRoundTrip(t *testing.T) {
	roundtrip.RoundTripTestForAPIGroup(t, Install, fuzzerFuncs)
}

// fuzzerFuncs fill what defaulting would otherwise fill on decoding, so a
// difference is a conversion's, not a default's.
func fuzzerFuncs(runtimeserializer.CodecFactory) []interface{} {
	nonNil := func(p **int32, c randfill.Continue) {
		if *p == nil {
			v := c.Int31()
			*p = &v
		}
	}
	intOrPercent := func(p **intstr.IntOrString, c randfill.Continue) {
		if *p == nil {
			v := intstr.FromInt32(c.Int31())
			if c.Bool() {
				v = intstr.FromString("25%")
			}
			*p = &v
		}
	}
	// JSON omits an empty list: the decoded object has none at all.
	noEmptyManagedFields := func(m *metav1.ObjectMeta) {
		if len(m.ManagedFields) == 0 {
			m.ManagedFields = nil
		}
	}
	return []interface{}{
		func(rs *apps.ReplicaSet, c randfill.Continue) {
			c.FillNoCustom(rs)
			nonNil(&rs.Spec.Replicas, c)
			noEmptyManagedFields(&rs.ObjectMeta)
			noEmptyManagedFields(&rs.Spec.Template.ObjectMeta)
		},
		func(d *apps.Deployment, c randfill.Continue) {
			c.FillNoCustom(d)
			nonNil(&d.Spec.Replicas, c)
			nonNil(&d.Spec.RevisionHistoryLimit, c)
			nonNil(&d.Spec.ProgressDeadlineSeconds, c)
			noEmptyManagedFields(&d.ObjectMeta)
			noEmptyManagedFields(&d.Spec.Template.ObjectMeta)
			s := &d.Spec.Strategy
			if s.Type == "" {
				s.Type = apps.RollingUpdateDeploymentStrategyType
			}
			if s.Type == apps.RollingUpdateDeploymentStrategyType {
				if s.RollingUpdate == nil {
					s.RollingUpdate = &apps.RollingUpdateDeployment{}
				}
				intOrPercent(&s.RollingUpdate.MaxSurge, c)
				intOrPercent(&s.RollingUpdate.MaxUnavailable, c)
			}
		},
		func(s *core.PodSpec, c randfill.Continue) {
			c.FillNoCustom(s)
			if s.RestartPolicy == "" {
				s.RestartPolicy = core.RestartPolicyAlways
			}
			if s.SchedulerName == "" {
				s.SchedulerName = "skiff-scheduler"
			}
			if s.TerminationGracePeriodSeconds == nil {
				v := c.Int63()
				s.TerminationGracePeriodSeconds = &v
			}
		},
		func(ctr *core.Container, c randfill.Continue) {
			c.FillNoCustom(ctr)
			if ctr.ImagePullPolicy == "" {
				ctr.ImagePullPolicy = core.PullIfNotPresent
			}
			// Quantities have their own round-trip tests in core; a random
			// one need not survive skiff's decoding guard.
			ctr.Resources = core.ResourceRequirements{}
			// JSON omits an empty list: the decoded container has none.
			if len(ctr.Command) == 0 {
				ctr.Command = nil
			}
			if len(ctr.Args) == 0 {
				ctr.Args = nil
			}
		},
		func(p *core.Probe, c randfill.Continue) {
			c.FillNoCustom(p)
			// core/v1's probe defaults fill what is zero.
			for _, f := range []struct {
				v   *int32
				def int32
			}{{&p.TimeoutSeconds, 1}, {&p.PeriodSeconds, 10}, {&p.SuccessThreshold, 1}, {&p.FailureThreshold, 3}} {
				if *f.v == 0 {
					*f.v = f.def
				}
			}
		},
		func(a *core.HTTPGetAction, c randfill.Continue) {
			c.FillNoCustom(a)
			if a.Path == "" {
				a.Path = "/"
			}
			if a.Scheme == "" {
				a.Scheme = core.URISchemeHTTP
			}
		},
		func(a *core.ExecAction, c randfill.Continue) {
			c.FillNoCustom(a)
			if len(a.Command) == 0 {
				a.Command = nil // JSON omits an empty list
			}
		},
		func(a *core.GRPCAction, c randfill.Continue) {
			c.FillNoCustom(a)
			if a.Service == nil {
				a.Service = ptr.To("") // defaulted, as core/v1's
			}
		},
		func(p *core.ContainerPort, c randfill.Continue) {
			c.FillNoCustom(p)
			if p.Protocol == "" {
				p.Protocol = core.ProtocolTCP
			}
		},
		func(tol *core.Toleration, c randfill.Continue) {
			c.FillNoCustom(tol)
			if tol.Operator == "" {
				tol.Operator = core.TolerationOpEqual
			}
		},
	}
}
