// Package noderestriction holds a kubelet to the objects named after its own
// node when it creates them. The authorizer cannot do this: a create names
// its object in the body, which authorization never sees.
package noderestriction

import (
	"context"
	"fmt"

	"k8s.io/apiserver/pkg/admission"

	"skiff.dev/skiff/pkg/apis/core"
	"skiff.dev/skiff/pkg/apiserver/auth"
)

// Plugin is the NodeRestriction admission plugin.
type Plugin struct {
	*admission.Handler
}

var _ admission.ValidationInterface = &Plugin{}

// New returns the plugin; it acts on creates only.
func New() *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create)}
}

// Validate refuses a node identity's create of a Node or Lease that is not
// its own.
func (p *Plugin) Validate(_ context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	u := a.GetUserInfo()
	if u == nil {
		return nil
	}
	nodeName, isNode := auth.NodeIdentity(u)
	if !isNode {
		return nil
	}
	if a.GetResource().Group != core.GroupName || a.GetSubresource() != "" {
		return nil
	}
	switch a.GetResource().Resource {
	case "nodes":
		if a.GetName() != nodeName {
			return admission.NewForbidden(a, fmt.Errorf("node %q may not create node %q", nodeName, a.GetName()))
		}
	case "leases":
		if a.GetNamespace() != auth.NodeLeaseNamespace || a.GetName() != nodeName {
			return admission.NewForbidden(a, fmt.Errorf("node %q may create only the lease %s/%s", nodeName, auth.NodeLeaseNamespace, nodeName))
		}
	}
	return nil
}
