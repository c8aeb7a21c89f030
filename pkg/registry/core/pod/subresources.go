package pod

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/proxy"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/endpoints/filters"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	translator "k8s.io/apiserver/pkg/util/proxy"
	"k8s.io/streaming/pkg/httpstream/wsstream"

	"skiff.dev/skiff/pkg/apis/core"
)

// The subresources exec, attach and portforward proxy an upgraded
// connection (SPDY, or WebSocket) to the kubelet of the pod's node, as
// kube-apiserver's do. Kubelets speak SPDY only: a client speaking the
// WebSocket v5 channel protocol (client-go's default for exec and attach)
// has its streams translated to SPDY here, and a WebSocket port-forward
// client has its SPDY tunnelled, by k8s.io/apiserver's translators.

// podGetter reads pods: the pod store.
type podGetter interface {
	Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error)
}

// upgradeableMethods: GET for WebSockets (browsers can only GET), POST for SPDY.
var upgradeableMethods = []string{"GET", "POST"}

// streamREST holds what the three subresources share.
type streamREST struct {
	store podGetter
	conn  ConnectionInfoGetter
	// authz re-authorizes a WebSocket request (a GET, authorized as get)
	// as create, which is what the subresources need whatever the method.
	authz authorizer.Authorizer
}

// Destroy does nothing: the main store owns the storage.
func (r *streamREST) Destroy() {}

// ConnectMethods implements rest.Connecter.
func (r *streamREST) ConnectMethods() []string { return upgradeableMethods }

// ExecREST is pods/exec.
type ExecREST struct{ streamREST }

// AttachREST is pods/attach.
type AttachREST struct{ streamREST }

// PortForwardREST is pods/portforward.
type PortForwardREST struct{ streamREST }

var (
	_ rest.Connecter = &ExecREST{}
	_ rest.Connecter = &AttachREST{}
	_ rest.Connecter = &PortForwardREST{}
)

// New implements rest.Storage.
func (r *ExecREST) New() runtime.Object { return &core.PodExecOptions{} }

// NewConnectOptions implements rest.Connecter.
func (r *ExecREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &core.PodExecOptions{}, false, ""
}

// Connect implements rest.Connecter.
func (r *ExecREST) Connect(ctx context.Context, name string, opts runtime.Object, responder rest.Responder) (http.Handler, error) {
	o, ok := opts.(*core.PodExecOptions)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid options object: %T", opts))
	}
	if err := r.authorizeCreate(ctx); err != nil {
		return nil, err
	}
	var errs field.ErrorList
	if len(o.Command) == 0 {
		errs = append(errs, field.Required(field.NewPath("command"), "the command to run"))
	}
	errs = append(errs, validateStreams(o.Stdin, o.Stdout, o.Stderr)...)
	if len(errs) > 0 {
		return nil, apierrors.NewInvalid(core.Kind("PodExecOptions"), name, errs)
	}
	pod, container, err := r.runningContainer(ctx, name, o.Container, "exec into")
	if err != nil {
		return nil, err
	}
	q := streamQuery(o.Stdin, o.Stdout, o.Stderr, o.TTY)
	for _, c := range o.Command {
		q.Add("command", c)
	}
	return r.remoteCommand(ctx, pod, "/exec/"+pod.Namespace+"/"+pod.Name+"/"+container, q, o.Stdin, o.Stdout, o.Stderr, o.TTY, responder)
}

// New implements rest.Storage.
func (r *AttachREST) New() runtime.Object { return &core.PodAttachOptions{} }

// NewConnectOptions implements rest.Connecter.
func (r *AttachREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &core.PodAttachOptions{}, false, ""
}

// Connect implements rest.Connecter.
func (r *AttachREST) Connect(ctx context.Context, name string, opts runtime.Object, responder rest.Responder) (http.Handler, error) {
	o, ok := opts.(*core.PodAttachOptions)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid options object: %T", opts))
	}
	if err := r.authorizeCreate(ctx); err != nil {
		return nil, err
	}
	if errs := validateStreams(o.Stdin, o.Stdout, o.Stderr); len(errs) > 0 {
		return nil, apierrors.NewInvalid(core.Kind("PodAttachOptions"), name, errs)
	}
	pod, container, err := r.runningContainer(ctx, name, o.Container, "attach to")
	if err != nil {
		return nil, err
	}
	q := streamQuery(o.Stdin, o.Stdout, o.Stderr, o.TTY)
	return r.remoteCommand(ctx, pod, "/attach/"+pod.Namespace+"/"+pod.Name+"/"+container, q, o.Stdin, o.Stdout, o.Stderr, o.TTY, responder)
}

// New implements rest.Storage.
func (r *PortForwardREST) New() runtime.Object { return &core.PodPortForwardOptions{} }

// NewConnectOptions implements rest.Connecter.
func (r *PortForwardREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &core.PodPortForwardOptions{}, false, ""
}

// Connect implements rest.Connecter.
func (r *PortForwardREST) Connect(ctx context.Context, name string, opts runtime.Object, responder rest.Responder) (http.Handler, error) {
	o, ok := opts.(*core.PodPortForwardOptions)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid options object: %T", opts))
	}
	if err := r.authorizeCreate(ctx); err != nil {
		return nil, err
	}
	var errs field.ErrorList
	for i, p := range o.Ports {
		if p < 1 || p > 65535 {
			errs = append(errs, field.Invalid(field.NewPath("ports").Index(i), p, "must be between 1 and 65535, inclusive"))
		}
	}
	if len(errs) > 0 {
		return nil, apierrors.NewInvalid(core.Kind("PodPortForwardOptions"), name, errs)
	}
	pod, err := r.runningPod(ctx, name, "forward ports of")
	if err != nil {
		return nil, err
	}
	info, err := r.conn.GetConnectionInfo(ctx, pod.Spec.NodeName)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	for _, p := range o.Ports {
		q.Add("port", strconv.Itoa(int(p)))
	}
	loc := info.URL("/portForward/"+pod.Namespace+"/"+pod.Name, q)
	handler := newUpgradeHandler(loc, newKubeletDial(info), responder)
	// A WebSocket client tunnels SPDY through the WebSocket; the kubelet
	// gets plain SPDY.
	return translator.NewTranslatingHandler(handler, translator.NewTunnelingHandler(handler), wsstream.IsWebSocketRequestWithTunnelingProtocol), nil
}

// remoteCommand proxies exec or attach to the kubelet at path, translating
// a WebSocket v5 client's streams to SPDY.
func (r *streamREST) remoteCommand(ctx context.Context, pod *core.Pod, path string, q url.Values, stdin, stdout, stderr, tty bool, responder rest.Responder) (http.Handler, error) {
	info, err := r.conn.GetConnectionInfo(ctx, pod.Spec.NodeName)
	if err != nil {
		return nil, err
	}
	loc := info.URL(path, q)
	handler := newUpgradeHandler(loc, newKubeletDial(info), responder)
	streams := translator.Options{Stdin: stdin, Stdout: stdout, Stderr: stderr, Tty: tty}
	// The translator reports a failure to reach the kubelet inside the
	// WebSocket, after the upgrade, as an internal error with the dial
	// error's message, which kubeletDial makes name the node.
	ws := translator.NewStreamTranslatorHandler(loc, newKubeletDial(info).transport, 0, streams)
	return translator.NewTranslatingHandler(handler, ws, wsstream.IsWebSocketRequestWithStreamCloseProtocol), nil
}

// newUpgradeHandler is the upgrade-aware proxy to the kubelet, whose
// failures to reach the kubelet are 503 or 502 naming the node.
func newUpgradeHandler(loc *url.URL, dial *kubeletDial, responder rest.Responder) http.Handler {
	return proxy.NewUpgradeAwareHandler(loc, dial.transport, false, true,
		&kubeletErrorResponder{dial: dial, hostPort: loc.Host, responder: responder})
}

// kubeletDial is the kubelet transport of one request, whose dial errors
// are mapped by kubeletError and kept: the upgrade-aware proxy and the
// stream translator both flatten the error they get into a message, so
// the responder answers the kept one, with its status code.
type kubeletDial struct {
	node      string
	transport http.RoundTripper
	mu        sync.Mutex
	err       error
}

func newKubeletDial(info *ConnectionInfo) *kubeletDial {
	d := &kubeletDial{node: info.Node, transport: info.Transport}
	ht, ok := info.Transport.(*http.Transport)
	if !ok {
		return d
	}
	t := ht.Clone()
	dial := t.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			err = kubeletError(d.node, addr, err)
			d.mu.Lock()
			d.err = err
			d.mu.Unlock()
			return nil, err
		}
		return conn, nil
	}
	d.transport = t
	return d
}

func (d *kubeletDial) dialError() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// kubeletErrorResponder answers a failed dial or upgrade as kubeletError
// maps it, instead of the generic 500.
type kubeletErrorResponder struct {
	dial      *kubeletDial
	hostPort  string
	responder rest.Responder
}

func (e *kubeletErrorResponder) Error(_ http.ResponseWriter, _ *http.Request, err error) {
	if dialErr := e.dial.dialError(); dialErr != nil {
		err = dialErr
	}
	e.responder.Error(kubeletError(e.dial.node, e.hostPort, err))
}

// runningPod returns the pod, which must be bound and running.
func (r *streamREST) runningPod(ctx context.Context, name, what string) (*core.Pod, error) {
	obj, err := r.store.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	pod := obj.(*core.Pod)
	if pod.Spec.NodeName == "" {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", pod.Name))
	}
	switch pod.Status.Phase {
	case core.PodRunning:
		return pod, nil
	case core.PodSucceeded, core.PodFailed:
		return nil, apierrors.NewBadRequest(fmt.Sprintf("cannot %s a container in a completed pod; current phase is %s", what, pod.Status.Phase))
	default:
		return nil, apierrors.NewBadRequest(fmt.Sprintf("pod %s is not running; current phase is %s", pod.Name, pod.Status.Phase))
	}
}

// runningContainer returns the running pod and the container to use: the
// named one, or the only one; it must be running.
func (r *streamREST) runningContainer(ctx context.Context, name, container, what string) (*core.Pod, string, error) {
	pod, err := r.runningPod(ctx, name, what)
	if err != nil {
		return nil, "", err
	}
	container, err = chooseContainer(pod, container)
	if err != nil {
		return nil, "", err
	}
	for _, s := range pod.Status.ContainerStatuses {
		if s.Name == container && s.State.Running == nil {
			return nil, "", apierrors.NewBadRequest(fmt.Sprintf("container %s in pod %s is not running", container, pod.Name))
		}
	}
	return pod, container, nil
}

// authorizeCreate makes sure the caller may create the subresource: the
// request filter authorized a WebSocket GET as get, which reading rights
// must not be enough for, as upstream does since 1.35.
func (r *streamREST) authorizeCreate(ctx context.Context) error {
	info, ok := genericapirequest.RequestInfoFrom(ctx)
	if !ok {
		return apierrors.NewInternalError(errors.New("no request info in the context"))
	}
	if info.Verb == "create" {
		return nil
	}
	if r.authz == nil {
		return apierrors.NewInternalError(errors.New("no authorizer to authorize the upgrade"))
	}
	attrs, err := filters.GetAuthorizerAttributes(ctx)
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("build authorizer attributes: %w", err))
	}
	decision, reason, err := r.authz.Authorize(ctx, createVerb{attrs})
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("authorize create %s/%s: %w", info.Resource, info.Subresource, err))
	}
	if decision != authorizer.DecisionAllow {
		return apierrors.NewForbidden(core.Resource(info.Resource+"/"+info.Subresource), info.Name, errors.New(reason))
	}
	return nil
}

type createVerb struct{ authorizer.Attributes }

func (createVerb) GetVerb() string { return "create" }

// validateStreams: at least one stream, as the kubelet requires.
func validateStreams(stdin, stdout, stderr bool) field.ErrorList {
	if !stdin && !stdout && !stderr {
		return field.ErrorList{field.Required(field.NewPath("stdout"), "at least one of stdin, stdout and stderr must be true")}
	}
	return nil
}

// streamQuery is the kubelet's query for the streams: upstream's kubelet
// parameter names.
func streamQuery(stdin, stdout, stderr, tty bool) url.Values {
	q := url.Values{}
	for name, on := range map[string]bool{"input": stdin, "output": stdout, "error": stderr, "tty": tty} {
		if on {
			q.Set(name, "1")
		}
	}
	return q
}
