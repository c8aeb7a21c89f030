// Package pki keeps a cluster's certificate authority in a directory and
// mints the certificates every skiff identity uses: the API server's serving
// certificate and the client certificates of users, nodes and the scheduler.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"
)

const (
	// CACertFile and CAKeyFile are the CA's file names inside a PKI directory.
	CACertFile = "ca.crt"
	CAKeyFile  = "ca.key"

	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 365 * 24 * time.Hour
)

// CA is a certificate authority that signs skiff's certificates.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// CertPEM is Cert, PEM-encoded, as clients put it in a kubeconfig.
	CertPEM []byte
}

// LoadOrCreateCA reads the CA from dir, or creates and writes a new one when
// dir has none. A directory holding only one of the two files is an error:
// silently replacing a CA would invalidate every certificate it signed.
func LoadOrCreateCA(dir string) (*CA, error) {
	certPath, keyPath := filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile)
	_, certErr := os.Stat(certPath)
	_, keyErr := os.Stat(keyPath)
	switch {
	case certErr == nil && keyErr == nil:
		return LoadCA(dir)
	case errors.Is(certErr, os.ErrNotExist) && errors.Is(keyErr, os.ErrNotExist):
	default:
		return nil, fmt.Errorf("%s holds only part of a CA (%s, %s): remove it or restore the missing file", dir, CACertFile, CAKeyFile)
	}

	key, err := newKey()
	if err != nil {
		return nil, err
	}
	cert, err := certutil.NewSelfSignedCACert(certutil.Config{CommonName: "skiff-ca"}, key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	ca := &CA{Cert: cert, Key: key, CertPEM: encodeCert(cert)}
	if err := writeCertAndKey(dir, CACertFile, CAKeyFile, ca.CertPEM, key); err != nil {
		return nil, err
	}
	return ca, nil
}

// LoadCA reads an existing CA from dir.
func LoadCA(dir string) (*CA, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, CACertFile))
	if err != nil {
		return nil, fmt.Errorf("read CA certificate: %w", err)
	}
	certs, err := certutil.ParseCertsPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate %s: %w", filepath.Join(dir, CACertFile), err)
	}
	keyAny, err := keyutil.PrivateKeyFromFile(filepath.Join(dir, CAKeyFile))
	if err != nil {
		return nil, fmt.Errorf("read CA key: %w", err)
	}
	key, ok := keyAny.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("CA key %s cannot sign", filepath.Join(dir, CAKeyFile))
	}
	return &CA{Cert: certs[0], Key: key, CertPEM: certPEM}, nil
}

// KeyPair is a PEM-encoded certificate and its private key.
type KeyPair struct {
	CertPEM []byte
	KeyPEM  []byte
}

// ClientCert mints a client certificate for user in groups, the form the
// x509 authenticator reads: CommonName is the user, Organizations the groups.
func (ca *CA) ClientCert(user string, groups []string) (*KeyPair, error) {
	return ca.sign(&x509.Certificate{
		Subject:     pkix.Name{CommonName: user, Organization: groups},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
}

// ServingCert mints a serving certificate for the given host names and IPs.
func (ca *CA) ServingCert(commonName string, hosts []string, ips []net.IP) (*KeyPair, error) {
	return ca.sign(&x509.Certificate{
		Subject:     pkix.Name{CommonName: commonName},
		DNSNames:    hosts,
		IPAddresses: ips,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
}

func (ca *CA) sign(tmpl *x509.Certificate) (*KeyPair, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).SetInt64(math.MaxInt64))
	if err != nil {
		return nil, fmt.Errorf("generate serial number: %w", err)
	}
	now := time.Now()
	tmpl.SerialNumber = serial
	tmpl.NotBefore = now.Add(-5 * time.Minute).UTC() // tolerate clock skew
	tmpl.NotAfter = now.Add(leafValidity).UTC()
	tmpl.BasicConstraintsValid = true
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, fmt.Errorf("sign certificate for %q: %w", tmpl.Subject.CommonName, err)
	}
	keyPEM, err := keyutil.MarshalPrivateKeyToPEM(key)
	if err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse signed certificate: %w", err)
	}
	return &KeyPair{CertPEM: encodeCert(cert), KeyPEM: keyPEM}, nil
}

// WriteFiles writes the pair into dir as certName and keyName, the key
// readable only by its owner.
func (kp *KeyPair) WriteFiles(dir, certName, keyName string) error {
	if err := certutil.WriteCert(filepath.Join(dir, certName), kp.CertPEM); err != nil {
		return fmt.Errorf("write %s: %w", certName, err)
	}
	if err := keyutil.WriteKey(filepath.Join(dir, keyName), kp.KeyPEM); err != nil {
		return fmt.Errorf("write %s: %w", keyName, err)
	}
	return nil
}

func writeCertAndKey(dir, certName, keyName string, certPEM []byte, key crypto.Signer) error {
	keyPEM, err := keyutil.MarshalPrivateKeyToPEM(key)
	if err != nil {
		return fmt.Errorf("encode key: %w", err)
	}
	return (&KeyPair{CertPEM: certPEM, KeyPEM: keyPEM}).WriteFiles(dir, certName, keyName)
}

func newKey() (crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return key, nil
}

func encodeCert(cert *x509.Certificate) []byte {
	pemBytes, _ := certutil.EncodeCertificates(cert) // encoding a parsed certificate cannot fail
	return pemBytes
}

// KubeletServingCert mints a kubelet's serving certificate for its node
// name and every address it reports (IPs and DNS names), which the API
// server verifies when it connects for pods/log. The subject is the one
// upstream's kubelet-serving signer requires: system:node:<name> in
// system:nodes.
func (ca *CA) KubeletServingCert(nodeName string, addresses []string) (*KeyPair, error) {
	hosts := []string{nodeName}
	var ips []net.IP
	for _, a := range addresses {
		if ip := net.ParseIP(a); ip != nil {
			ips = append(ips, ip)
		} else if a != "" && a != nodeName {
			hosts = append(hosts, a)
		}
	}
	return ca.sign(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "system:node:" + nodeName, Organization: []string{"system:nodes"}},
		DNSNames:    hosts,
		IPAddresses: ips,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
}
