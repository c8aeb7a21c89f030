package pod

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	genericrest "k8s.io/apiserver/pkg/registry/generic/rest"
)

// kubeletStreamer is a LocationStreamer to a node's kubelet whose failures
// to reach the kubelet are answered as a gateway's, naming the node: the
// streamer returns the transport's error as it is, and the handler answers
// an error it does not recognize with 500, which tells the client the API
// server is broken when it is the node that is unreachable.
type kubeletStreamer struct {
	*genericrest.LocationStreamer
	node string
}

// InputStream opens the stream from the kubelet.
func (s *kubeletStreamer) InputStream(ctx context.Context, apiVersion, acceptHeader string) (io.ReadCloser, bool, string, error) {
	stream, flush, contentType, err := s.LocationStreamer.InputStream(ctx, apiVersion, acceptHeader)
	if err != nil {
		return nil, false, "", kubeletError(s.node, s.Location.Host, err)
	}
	return stream, flush, contentType, nil
}

// kubeletError maps a failure to talk to the kubelet of node at hostPort:
//   - an API status (the kubelet answered, and the response checker read
//     its answer) and the client going away pass unchanged;
//   - nothing answering there (refused, unresolvable, unroutable, timed
//     out): 503 Service Unavailable;
//   - something answering that is not a kubelet's HTTPS endpoint (plain
//     HTTP, a TLS failure, a certificate that does not verify, a broken
//     response): 502 Bad Gateway.
func kubeletError(node, hostPort string, err error) error {
	var status apierrors.APIStatus
	if errors.As(err, &status) || errors.Is(err, context.Canceled) {
		return err
	}
	if isUnreachable(err) {
		return apierrors.NewServiceUnavailable(fmt.Sprintf("the kubelet of node %s at %s is unreachable: %v", node, hostPort, err))
	}
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status:  metav1.StatusFailure,
		Code:    http.StatusBadGateway,
		Reason:  metav1.StatusReasonServiceUnavailable,
		Message: fmt.Sprintf("the kubelet of node %s at %s did not answer as a kubelet: %v", node, hostPort, err),
	}}
}

// isUnreachable reports whether err says no connection could be made, as
// opposed to a connection to something that is not a kubelet.
func isUnreachable(err error) bool {
	var (
		recordHeader tls.RecordHeaderError
		unknownCA    x509.UnknownAuthorityError
		hostname     x509.HostnameError
		invalid      x509.CertificateInvalidError
		verify       *tls.CertificateVerificationError
	)
	if errors.As(err, &recordHeader) || errors.As(err, &unknownCA) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &verify) {
		return false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}
