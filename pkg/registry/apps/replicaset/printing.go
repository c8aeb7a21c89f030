package replicaset

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/pkg/apis/apps"
	"skiff.dev/skiff/pkg/registry/table"
)

// The columns of upstream's ReplicaSet printer.
var tableConvertor = table.New([]metav1.TableColumnDefinition{
	table.Column("Name", "string", "Name of the ReplicaSet.", false),
	table.Column("Desired", "integer", "Number of desired pods.", false),
	table.Column("Current", "integer", "Number of pods that exist.", false),
	table.Column("Ready", "integer", "Number of pods that are ready.", false),
	table.Column("Age", "string", "Time since the ReplicaSet was created.", false),
	table.Column("Containers", "string", "Names of each container in the template.", true),
	table.Column("Images", "string", "Images referenced by each container in the template.", true),
	table.Column("Selector", "string", "Label selector of the pods the ReplicaSet counts.", true),
}, printReplicaSet)

func printReplicaSet(obj runtime.Object) ([]interface{}, error) {
	rs, ok := obj.(*apps.ReplicaSet)
	if !ok {
		return nil, fmt.Errorf("not a ReplicaSet: %T", obj)
	}
	var desired int64
	if rs.Spec.Replicas != nil {
		desired = int64(*rs.Spec.Replicas)
	}
	containers, images := table.ContainersAndImages(rs.Spec.Template.Spec.Containers)
	return []interface{}{
		rs.Name,
		desired,
		int64(rs.Status.Replicas),
		int64(rs.Status.ReadyReplicas),
		table.Age(rs.CreationTimestamp),
		containers,
		images,
		table.Selector(rs.Spec.Selector),
	}, nil
}
