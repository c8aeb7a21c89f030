package deployment

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/pkg/apis/apps"
	"skiff.dev/skiff/pkg/registry/table"
)

// The columns of upstream's Deployment printer.
var tableConvertor = table.New([]metav1.TableColumnDefinition{
	table.Column("Name", "string", "Name of the Deployment.", false),
	table.Column("Ready", "string", "Ready pods out of desired pods.", false),
	table.Column("Up-to-date", "integer", "Number of pods from the current template.", false),
	table.Column("Available", "integer", "Number of pods available (ready for at least minReadySeconds).", false),
	table.Column("Age", "string", "Time since the Deployment was created.", false),
	table.Column("Containers", "string", "Names of each container in the template.", true),
	table.Column("Images", "string", "Images referenced by each container in the template.", true),
	table.Column("Selector", "string", "Label selector of the pods the Deployment owns.", true),
}, printDeployment)

func printDeployment(obj runtime.Object) ([]interface{}, error) {
	d, ok := obj.(*apps.Deployment)
	if !ok {
		return nil, fmt.Errorf("not a Deployment: %T", obj)
	}
	var desired int32
	if d.Spec.Replicas != nil {
		desired = *d.Spec.Replicas
	}
	containers, images := table.ContainersAndImages(d.Spec.Template.Spec.Containers)
	return []interface{}{
		d.Name,
		fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, desired),
		int64(d.Status.UpdatedReplicas),
		int64(d.Status.AvailableReplicas),
		table.Age(d.CreationTimestamp),
		containers,
		images,
		table.Selector(d.Spec.Selector),
	}, nil
}
