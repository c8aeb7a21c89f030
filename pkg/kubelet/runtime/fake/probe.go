package fake

import (
	"strings"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/runtime"
)

// SimulatedProbeAnnotation sets the outcome of a fake-runtime pod's probes,
// which have no process to check. Its value is a comma-separated list of
// rules, the first matching one wins:
//
//	success | failure                     every probe of every container
//	<probe>=success|failure               liveness, readiness or startup probes
//	<container>.<probe>=success|failure   one probe of one container
//
// for example "readiness=failure" or "web.liveness=failure,success". Without
// a matching rule an exec probe succeeds (there is nothing to run it in) and
// an httpGet, tcpSocket or grpc probe is really sent to its address, so a
// benchmark can point probes at a local server.
const SimulatedProbeAnnotation = "skiff.dev/simulated-probe-result"

var _ runtime.ProbeSimulator = &Runtime{}

// SimulateProbe implements runtime.ProbeSimulator.
func (f *Runtime) SimulateProbe(pod *v1alpha1.Pod, name, probeType string, handler *v1alpha1.ProbeHandler) (bool, string, bool) {
	if rules, ok := pod.Annotations[SimulatedProbeAnnotation]; ok {
		for _, rule := range strings.Split(rules, ",") {
			rule = strings.TrimSpace(rule)
			target, result, found := strings.Cut(rule, "=")
			if !found {
				target, result = "", rule
			}
			if target != "" && target != probeType && target != name+"."+probeType {
				continue
			}
			switch result {
			case "success":
				return true, "", true
			case "failure":
				return false, "simulated failure (" + SimulatedProbeAnnotation + ")", true
			}
		}
	}
	if handler.Exec != nil {
		return true, "", true
	}
	return false, "", false
}
