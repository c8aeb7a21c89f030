package core

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DefaultPriorityWhenNoDefaultClassExists is the priority of a pod that
// names no class when no class is globalDefault.
const DefaultPriorityWhenNoDefaultClassExists int32 = 0

// SystemPriorityClasses returns new copies of the classes the API server
// creates at start, as kube-apiserver's bootstrap does: their names start
// with SystemPriorityClassPrefix and their values are above every user
// class's.
func SystemPriorityClasses() []*PriorityClass {
	lower := PreemptLowerPriority
	return []*PriorityClass{
		{
			ObjectMeta:       metav1.ObjectMeta{Name: SystemNodeCritical},
			Value:            SystemCriticalPriority + 1000,
			Description:      "For pods a node cannot do without; they are not moved off their node.",
			PreemptionPolicy: &lower,
		},
		{
			ObjectMeta:       metav1.ObjectMeta{Name: SystemClusterCritical},
			Value:            SystemCriticalPriority,
			Description:      "For pods the cluster cannot do without; they may be moved to another node.",
			PreemptionPolicy: &lower,
		},
	}
}

// IsKnownSystemPriorityClass reports whether name, value and globalDefault
// are exactly those of a system class, and if not, why not.
func IsKnownSystemPriorityClass(name string, value int32, globalDefault bool) error {
	for _, pc := range SystemPriorityClasses() {
		if pc.Name != name {
			continue
		}
		if pc.Value != value {
			return fmt.Errorf("value of %s PriorityClass must be %d", name, pc.Value)
		}
		if pc.GlobalDefault != globalDefault {
			return fmt.Errorf("globalDefault of %s PriorityClass must be %t", name, pc.GlobalDefault)
		}
		return nil
	}
	return fmt.Errorf("%s is not a known system priority class", name)
}
