package pod

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/pkg/apis/core"
)

// NodeGetter finds a node by name; the connection-info getter asks it where
// a node's kubelet listens.
type NodeGetter interface {
	Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error)
}

// KubeletConnection is how the API server reaches kubelets: a transport that
// presents the API server's kubelet-client certificate.
type KubeletConnection struct {
	Transport http.RoundTripper
}

// ConnectionInfo says where a node's kubelet listens and how to reach it,
// as upstream's kubelet client ConnectionInfo does.
type ConnectionInfo struct {
	// Node is the node's name, for the errors that name it.
	Node      string
	Scheme    string
	Hostname  string
	Port      string
	Transport http.RoundTripper
}

// URL is the kubelet's URL for path and query.
func (c *ConnectionInfo) URL(path string, query url.Values) *url.URL {
	return &url.URL{Scheme: c.Scheme, Host: net.JoinHostPort(c.Hostname, c.Port), Path: path, RawQuery: query.Encode()}
}

// ConnectionInfoGetter finds the kubelet of a node: pods/log, exec, attach
// and portforward all ask it, so they reach kubelets and fail alike.
type ConnectionInfoGetter interface {
	GetConnectionInfo(ctx context.Context, nodeName string) (*ConnectionInfo, error)
}

// NodeConnectionInfoGetter reads the kubelet's address and port from the
// Node object (status.addresses, status.daemonEndpoints), as upstream's
// NodeConnectionInfoGetter does.
type NodeConnectionInfoGetter struct {
	Nodes   NodeGetter
	Kubelet KubeletConnection
}

var _ ConnectionInfoGetter = &NodeConnectionInfoGetter{}

// GetConnectionInfo implements ConnectionInfoGetter. A node that is gone,
// or has not said where its kubelet listens, is 503 naming the node: the
// request is right, the node cannot serve it now.
func (g *NodeConnectionInfoGetter) GetConnectionInfo(ctx context.Context, nodeName string) (*ConnectionInfo, error) {
	if g.Kubelet.Transport == nil {
		return nil, apierrors.NewServiceUnavailable("this API server has no kubelet client configured")
	}
	obj, err := g.Nodes.Get(ctx, nodeName, &metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("node %s does not exist", nodeName))
	}
	if err != nil {
		return nil, fmt.Errorf("find node %s: %w", nodeName, err)
	}
	node := obj.(*core.Node)
	host := NodeAddress(node)
	port := node.Status.DaemonEndpoints.KubeletEndpoint.Port
	if host == "" || port <= 0 {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("node %s has not reported its kubelet's address and port", nodeName))
	}
	return &ConnectionInfo{
		Node:      nodeName,
		Scheme:    "https",
		Hostname:  host,
		Port:      strconv.Itoa(int(port)),
		Transport: g.Kubelet.Transport,
	}, nil
}

// NodeAddress picks the address to reach a node at, in upstream's order of
// preference.
func NodeAddress(node *core.Node) string {
	for _, t := range []core.NodeAddressType{core.NodeInternalIP, core.NodeExternalIP, core.NodeInternalDNS, core.NodeExternalDNS, core.NodeHostName} {
		for _, a := range node.Status.Addresses {
			if a.Type == t && a.Address != "" {
				return a.Address
			}
		}
	}
	return ""
}
