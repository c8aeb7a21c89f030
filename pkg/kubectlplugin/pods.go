package kubectlplugin

import (
	"fmt"
	"io"
	"strings"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

// podName is the name in a POD or pod/POD argument. For another kind it
// fails with refusal ("only pods have logs"), as kubectl refuses it.
func podName(podArg, refusal string) (string, error) {
	kind, name, ok := strings.Cut(podArg, "/")
	if !ok {
		return podArg, nil
	}
	if kind != "pod" && kind != "pods" && kind != "po" {
		return "", fmt.Errorf("%q: %s", podArg, refusal)
	}
	return name, nil
}

// defaultContainer is the container kubectl picks when -c is not given:
// the one the kubectl.kubernetes.io/default-container annotation names,
// else the first, saying so on errOut when there were several (a nil
// errOut keeps quiet).
func defaultContainer(pod *v1alpha1.Pod, errOut io.Writer) (string, error) {
	if len(pod.Spec.Containers) == 0 {
		return "", fmt.Errorf("pod %s/%s has no containers", pod.Namespace, pod.Name)
	}
	if def := pod.Annotations[defaultContainerAnnotation]; def != "" {
		return def, nil
	}
	name := pod.Spec.Containers[0].Name
	if len(pod.Spec.Containers) > 1 && errOut != nil {
		fmt.Fprintf(errOut, "Defaulted container %q out of: %s\n", name, strings.Join(containerNames(pod), ", "))
	}
	return name, nil
}

func containerNames(pod *v1alpha1.Pod) []string {
	names := make([]string, 0, len(pod.Spec.Containers))
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name)
	}
	return names
}
