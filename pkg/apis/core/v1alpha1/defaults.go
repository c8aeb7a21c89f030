package v1alpha1

import (
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
)

const (
	// DefaultSchedulerName is the scheduler a pod gets when it names none.
	DefaultSchedulerName = "skiff-scheduler"
	// DefaultTerminationGracePeriodSeconds is the grace a pod gets when it names none.
	DefaultTerminationGracePeriodSeconds int64 = 30
)

func addDefaultingFuncs(scheme *runtime.Scheme) error {
	return RegisterDefaults(scheme)
}

// SetDefaults_PodSpec fills in what a pod spec leaves out, as core/v1 does.
func SetDefaults_PodSpec(spec *PodSpec) {
	if spec.RestartPolicy == "" {
		spec.RestartPolicy = RestartPolicyAlways
	}
	if spec.TerminationGracePeriodSeconds == nil {
		grace := DefaultTerminationGracePeriodSeconds
		spec.TerminationGracePeriodSeconds = &grace
	}
	if spec.SchedulerName == "" {
		spec.SchedulerName = DefaultSchedulerName
	}
}

// SetDefaults_Container defaults the image pull policy the way core/v1 does:
// Always for an untagged or :latest image, IfNotPresent for any other tag or
// a digest.
func SetDefaults_Container(c *Container) {
	if c.ImagePullPolicy == "" {
		if imageIsLatest(c.Image) {
			c.ImagePullPolicy = PullAlways
		} else {
			c.ImagePullPolicy = PullIfNotPresent
		}
	}
}

// SetDefaults_ContainerPort defaults the protocol to TCP.
func SetDefaults_ContainerPort(p *ContainerPort) {
	if p.Protocol == "" {
		p.Protocol = ProtocolTCP
	}
}

// SetDefaults_Toleration makes the implicit Equal operator explicit.
func SetDefaults_Toleration(t *Toleration) {
	if t.Operator == "" {
		t.Operator = TolerationOpEqual
	}
}

// imageIsLatest reports whether an image reference has no tag, or the tag
// "latest", and no digest.
func imageIsLatest(image string) bool {
	if strings.Contains(image, "@") {
		return false
	}
	// A tag follows the last colon after the last slash (a colon before it
	// belongs to a registry port).
	name := image[strings.LastIndex(image, "/")+1:]
	i := strings.LastIndex(name, ":")
	return i < 0 || name[i+1:] == "latest"
}

// SetDefaults_Probe fills in a probe's timing as core/v1 does: every 10 s,
// 1 s timeout, one success, three failures.
func SetDefaults_Probe(p *Probe) {
	if p.TimeoutSeconds == 0 {
		p.TimeoutSeconds = 1
	}
	if p.PeriodSeconds == 0 {
		p.PeriodSeconds = 10
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = 1
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = 3
	}
}

// SetDefaults_HTTPGetAction defaults the path to / and the scheme to HTTP.
func SetDefaults_HTTPGetAction(a *HTTPGetAction) {
	if a.Path == "" {
		a.Path = "/"
	}
	if a.Scheme == "" {
		a.Scheme = URISchemeHTTP
	}
}

// SetDefaults_PriorityClass defaults the preemption policy to
// PreemptLowerPriority, as scheduling.k8s.io/v1 does. A pod's own
// preemptionPolicy is not defaulted here: the Priority admission plugin
// copies it from the pod's class.
func SetDefaults_PriorityClass(pc *PriorityClass) {
	if pc.PreemptionPolicy == nil {
		p := PreemptLowerPriority
		pc.PreemptionPolicy = &p
	}
}
