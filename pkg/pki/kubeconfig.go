package pki

import (
	"fmt"
	"net"
	"net/url"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Kubeconfig mints a client certificate for user in groups and returns a
// kubeconfig that reaches server with it, trusting this CA. The context is
// named "skiff" so scripts can rely on it.
//
// A server on a loopback address gets disable-compression: on one machine
// gzip saves no transfer time and costs CPU at both ends. The API server
// gzips every flush of a WatchList stream that asked for it, which was 8 %
// of the scheduler's CPU and 5 % of the API server's while binding pods.
func (ca *CA) Kubeconfig(server, user string, groups []string) ([]byte, error) {
	kp, err := ca.ClientCert(user, groups)
	if err != nil {
		return nil, err
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["skiff"] = &clientcmdapi.Cluster{
		Server:                   server,
		CertificateAuthorityData: ca.CertPEM,
		DisableCompression:       isLoopback(server),
	}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: kp.CertPEM, ClientKeyData: kp.KeyPEM}
	cfg.Contexts["skiff"] = &clientcmdapi.Context{Cluster: "skiff", AuthInfo: user}
	cfg.CurrentContext = "skiff"
	out, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("encode kubeconfig for %s: %w", user, err)
	}
	return out, nil
}

// isLoopback reports whether server's host is localhost or a loopback IP.
func isLoopback(server string) bool {
	u, err := url.Parse(server)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
