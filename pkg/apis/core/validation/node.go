package validation

import (
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/pkg/apis/core"
)

var nodeAddressTypes = []core.NodeAddressType{
	core.NodeHostName, core.NodeInternalIP, core.NodeExternalIP, core.NodeInternalDNS, core.NodeExternalDNS,
}

// wellKnownNodeConditions may be written without a domain prefix.
var wellKnownNodeConditions = map[core.NodeConditionType]bool{
	core.NodeReady:       true,
	"MemoryPressure":     true,
	"DiskPressure":       true,
	"PIDPressure":        true,
	"NetworkUnavailable": true,
}

// ValidateNode checks a node on creation (nodes are cluster-scoped). The
// status is optional at registration, but what is there must be sane.
func ValidateNode(node *core.Node) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&node.ObjectMeta, false, ValidateNodeName, field.NewPath("metadata"))
	allErrs = append(allErrs, validateNodeSpec(&node.Spec, field.NewPath("spec"))...)
	allErrs = append(allErrs, validateNodeStatus(&node.Status, field.NewPath("status"))...)
	return allErrs
}

// ValidateNodeUpdate checks an update through the main nodes endpoint.
func ValidateNodeUpdate(newNode, oldNode *core.Node) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newNode.ObjectMeta, &oldNode.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateNodeSpec(&newNode.Spec, field.NewPath("spec"))...)
	allErrs = append(allErrs, validateNodeStatus(&newNode.Status, field.NewPath("status"))...)
	return allErrs
}

// ValidateNodeStatusUpdate checks an update through nodes/status.
func ValidateNodeStatusUpdate(newNode, oldNode *core.Node) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newNode.ObjectMeta, &oldNode.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateNodeStatus(&newNode.Status, field.NewPath("status"))...)
	return allErrs
}

func validateNodeSpec(spec *core.NodeSpec, fldPath *field.Path) field.ErrorList {
	return validateTaints(spec.Taints, fldPath.Child("taints"))
}

// validateNodeStatus checks resources, conditions, addresses and the kubelet
// port a node reports.
func validateNodeStatus(status *core.NodeStatus, fldPath *field.Path) field.ErrorList {
	allErrs := validateResourceList(status.Capacity, fldPath.Child("capacity"))
	allErrs = append(allErrs, validateResourceList(status.Allocatable, fldPath.Child("allocatable"))...)

	seen := map[string]bool{}
	for i, c := range status.Conditions {
		idxPath := fldPath.Child("conditions").Index(i)
		allErrs = append(allErrs, validateConditionType(string(c.Type), wellKnownNodeConditions[c.Type], seen, idxPath.Child("type"))...)
		allErrs = append(allErrs, validateConditionStatus(c.Status, idxPath.Child("status"))...)
	}

	allErrs = append(allErrs, validateNodeAddresses(status.Addresses, fldPath.Child("addresses"))...)

	if port := status.DaemonEndpoints.KubeletEndpoint.Port; port != 0 {
		portPath := fldPath.Child("daemonEndpoints", "kubeletEndpoint", "Port")
		for _, msg := range validation.IsValidPortNum(int(port)) {
			allErrs = append(allErrs, field.Invalid(portPath, port, msg))
		}
	}
	return allErrs
}

// validateNodeAddresses checks each address against its type: InternalIP
// and ExternalIP are IP addresses, Hostname, InternalDNS and ExternalDNS
// DNS-1123 subdomains, and no address is listed twice (upstream's
// duplicate check). Upstream's API validation stops at duplicates and skips
// unparseable IPs where it uses them; skiff refuses them at the door,
// because the API server dials a node's address for pods/log, and an
// address like "evil.example@127.0.0.1" or "127.0.0.1:36443/x?" would
// otherwise steer that connection.
func validateNodeAddresses(addresses []core.NodeAddress, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	seen := map[core.NodeAddress]bool{}
	for i, addr := range addresses {
		idxPath := fldPath.Index(i)
		addrPath := idxPath.Child("address")
		switch {
		case addr.Address == "":
			allErrs = append(allErrs, field.Required(addrPath, ""))
		case addr.Type == core.NodeInternalIP || addr.Type == core.NodeExternalIP:
			allErrs = append(allErrs, validation.IsValidIP(addrPath, addr.Address)...)
		case addr.Type == core.NodeHostName || addr.Type == core.NodeInternalDNS || addr.Type == core.NodeExternalDNS:
			for _, msg := range validation.IsDNS1123Subdomain(addr.Address) {
				allErrs = append(allErrs, field.Invalid(addrPath, addr.Address, msg))
			}
		}
		switch addr.Type {
		case core.NodeHostName, core.NodeInternalIP, core.NodeExternalIP, core.NodeInternalDNS, core.NodeExternalDNS:
		case "":
			allErrs = append(allErrs, field.Required(idxPath.Child("type"), ""))
		default:
			allErrs = append(allErrs, field.NotSupported(idxPath.Child("type"), addr.Type, nodeAddressTypes))
		}
		if seen[addr] {
			allErrs = append(allErrs, field.Duplicate(idxPath, addr))
		}
		seen[addr] = true
	}
	return allErrs
}
