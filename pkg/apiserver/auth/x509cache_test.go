package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	asn1util "k8s.io/apimachinery/pkg/apis/asn1"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	x509request "k8s.io/apiserver/pkg/authentication/request/x509"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	testingclock "k8s.io/utils/clock/testing"
)

// testCA is a self-signed ECDSA P-256 CA, the kind pkg/pki makes.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

var serial atomic.Int64

func newTestCA(t testing.TB, name string, notBefore, notAfter time.Time) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: name},
		NotBefore: notBefore, NotAfter: notAfter,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key}
}

// client signs a client certificate for cn (with uid, when set) in groups.
func (ca *testCA) client(t testing.TB, cn, uid string, groups []string, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	subject := pkix.Name{CommonName: cn, Organization: groups}
	if uid != "" {
		subject.ExtraNames = []pkix.AttributeTypeAndValue{{Type: asn1util.X509UID(), Value: uid}}
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: subject,
		NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// intermediate signs an intermediate CA valid until notAfter.
func (ca *testCA) intermediate(t testing.TB, name string, notBefore, notAfter time.Time) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: name},
		NotBefore: notBefore, NotAfter: notAfter,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key}
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

func (ca *testCA) pem() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})
}

// tlsRequest is a request over a connection that presented chain. Each
// call parses the chain afresh, as a new connection's handshake does.
func tlsRequest(t testing.TB, chain ...*x509.Certificate) *http.Request {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "https://skiff.test/apis", nil)
	req.TLS = &tls.ConnectionState{}
	for _, c := range chain {
		parsed, err := x509.ParseCertificate(c.Raw)
		if err != nil {
			t.Fatal(err)
		}
		req.TLS.PeerCertificates = append(req.TLS.PeerCertificates, parsed)
	}
	return req
}

// countingAuthenticator counts the requests that reach the verifier.
type countingAuthenticator struct {
	authenticator.Request
	calls atomic.Int64
}

func (c *countingAuthenticator) AuthenticateRequest(req *http.Request) (*authenticator.Response, bool, error) {
	c.calls.Add(1)
	return c.Request.AuthenticateRequest(req)
}

// fakeCA hands out verify options with the current roots and the fake
// clock's time, so the inner verifier and the cache agree on now.
type fakeCA struct {
	roots atomic.Pointer[x509.CertPool]
	clock *testingclock.FakePassiveClock
}

func (f *fakeCA) VerifyOptions() (x509.VerifyOptions, bool) {
	opts := x509request.DefaultVerifyOptions()
	opts.Roots = f.roots.Load()
	opts.CurrentTime = f.clock.Now()
	return opts, true
}

type fixture struct {
	clock *testingclock.FakePassiveClock
	ca    *fakeCA
	inner *countingAuthenticator
	authn *cachedX509
}

func newFixture(t testing.TB, ca *testCA, size int) *fixture {
	clock := testingclock.NewFakePassiveClock(time.Now())
	fca := &fakeCA{clock: clock}
	fca.roots.Store(ca.pool())
	inner := &countingAuthenticator{Request: x509request.NewDynamic(fca.VerifyOptions, x509request.CommonNameUserConversion)}
	return &fixture{clock: clock, ca: fca, inner: inner,
		authn: newCachedX509(inner, fca.VerifyOptions, size, time.Minute, clock)}
}

// authenticate expects req to be authenticated as name.
func (f *fixture) authenticate(t *testing.T, req *http.Request, name string) *authenticator.Response {
	t.Helper()
	resp, ok, err := f.authn.AuthenticateRequest(req)
	if err != nil || !ok {
		t.Fatalf("AuthenticateRequest = %v, %v; want authenticated", ok, err)
	}
	if got := resp.User.GetName(); got != name {
		t.Fatalf("user = %q, want %q", got, name)
	}
	return resp
}

func (f *fixture) wantCalls(t *testing.T, want int64) {
	t.Helper()
	if got := f.inner.calls.Load(); got != want {
		t.Fatalf("inner verifications = %d, want %d", got, want)
	}
}

// TestCachedX509VerifiesOnce: the same chain, on the same or on another
// connection, is verified once and gets the same identity every time.
func TestCachedX509VerifiesOnce(t *testing.T) {
	now := time.Now()
	ca := newTestCA(t, "ca", now.Add(-time.Hour), now.Add(24*time.Hour))
	cert := ca.client(t, "system:kube-scheduler", "uid-1", []string{"g1", "g2"}, now.Add(-time.Hour), now.Add(time.Hour))
	f := newFixture(t, ca, 8)

	req := tlsRequest(t, cert)
	first := f.authenticate(t, req, "system:kube-scheduler")
	second := f.authenticate(t, req, "system:kube-scheduler")
	third := f.authenticate(t, tlsRequest(t, cert), "system:kube-scheduler")
	f.wantCalls(t, 1)
	for _, r := range []*authenticator.Response{second, third} {
		if r.User.GetUID() != first.User.GetUID() || !slices.Equal(r.User.GetGroups(), first.User.GetGroups()) ||
			!slices.Equal(r.User.GetExtra()[user.CredentialIDKey], first.User.GetExtra()[user.CredentialIDKey]) {
			t.Errorf("cached user = %+v, want %+v", r.User, first.User)
		}
	}

	// Not a certificate request: the cache has no say.
	plain, _ := http.NewRequest(http.MethodGet, "https://skiff.test/apis", nil)
	if _, ok, _ := f.authn.AuthenticateRequest(plain); ok {
		t.Error("a request without a client certificate was authenticated")
	}
	f.wantCalls(t, 2)
}

// TestCachedX509CAChange: a new CA file ends every entry; a certificate of
// the old CA is then refused. An unchanged file keeps its pool, and the
// entries with it.
func TestCachedX509CAChange(t *testing.T) {
	now := time.Now()
	oldCA := newTestCA(t, "old-ca", now.Add(-time.Hour), now.Add(24*time.Hour))
	newCA := newTestCA(t, "new-ca", now.Add(-time.Hour), now.Add(24*time.Hour))
	cert := oldCA.client(t, "kubelet", "", nil, now.Add(-time.Hour), now.Add(time.Hour))

	caFile := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, oldCA.pem(), 0o600); err != nil {
		t.Fatal(err)
	}
	content, err := dynamiccertificates.NewDynamicCAContentFromFile("client-ca", caFile)
	if err != nil {
		t.Fatal(err)
	}
	inner := &countingAuthenticator{Request: x509request.NewDynamic(content.VerifyOptions, x509request.CommonNameUserConversion)}
	authn := newCachedX509(inner, content.VerifyOptions, 8, time.Minute, testingclock.NewFakePassiveClock(now))

	for range 2 {
		if _, ok, err := authn.AuthenticateRequest(tlsRequest(t, cert)); !ok || err != nil {
			t.Fatalf("old CA's certificate under the old CA: %v, %v", ok, err)
		}
		// Rereading an unchanged file keeps the pool: still a hit.
		if err := content.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := inner.calls.Load(); got != 1 {
		t.Fatalf("inner verifications = %d, want 1 while the CA file is unchanged", got)
	}

	if err := os.WriteFile(caFile, newCA.pem(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := content.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := authn.AuthenticateRequest(tlsRequest(t, cert)); ok || err == nil {
		t.Errorf("old CA's certificate under the new CA: %v, %v; want refused", ok, err)
	}
	if got := inner.calls.Load(); got != 2 {
		t.Errorf("inner verifications = %d, want 2: the new CA must verify again", got)
	}
}

// TestCachedX509Expiry: an entry ends with its certificate's NotAfter, and
// with the TTL even while the certificate is valid.
func TestCachedX509Expiry(t *testing.T) {
	now := time.Now()
	ca := newTestCA(t, "ca", now.Add(-time.Hour), now.Add(24*time.Hour))
	short := ca.client(t, "short", "", nil, now.Add(-time.Hour), now.Add(30*time.Second))
	long := ca.client(t, "long", "", nil, now.Add(-time.Hour), now.Add(time.Hour))
	f := newFixture(t, ca, 8)

	f.authenticate(t, tlsRequest(t, short), "short")
	f.authenticate(t, tlsRequest(t, long), "long")
	f.wantCalls(t, 2)

	f.clock.SetTime(now.Add(40 * time.Second)) // short expired, both entries inside the TTL
	if _, ok, err := f.authn.AuthenticateRequest(tlsRequest(t, short)); ok || err == nil {
		t.Errorf("expired certificate: %v, %v; want refused", ok, err)
	}
	f.wantCalls(t, 3)
	f.authenticate(t, tlsRequest(t, long), "long")
	f.wantCalls(t, 3)

	f.clock.SetTime(now.Add(61 * time.Second)) // past the TTL
	f.authenticate(t, tlsRequest(t, long), "long")
	f.wantCalls(t, 4)
	f.authenticate(t, tlsRequest(t, long), "long")
	f.wantCalls(t, 4)
}

// TestCachedX509IntermediateExpiry: an entry ends with the earliest
// NotAfter of the presented chain, here an intermediate's before the leaf's.
func TestCachedX509IntermediateExpiry(t *testing.T) {
	now := time.Now()
	root := newTestCA(t, "root", now.Add(-time.Hour), now.Add(24*time.Hour))
	mid := root.intermediate(t, "intermediate", now.Add(-time.Hour), now.Add(30*time.Second))
	leaf := mid.client(t, "node-1", "", nil, now.Add(-time.Hour), now.Add(time.Hour))
	f := newFixture(t, root, 8)

	f.authenticate(t, tlsRequest(t, leaf, mid.cert), "node-1")
	f.authenticate(t, tlsRequest(t, leaf, mid.cert), "node-1")
	f.wantCalls(t, 1)
	f.clock.SetTime(now.Add(40 * time.Second))
	if _, ok, err := f.authn.AuthenticateRequest(tlsRequest(t, leaf, mid.cert)); ok || err == nil {
		t.Errorf("chain with an expired intermediate: %v, %v; want refused", ok, err)
	}
	f.wantCalls(t, 2)
}

// TestCachedX509FailuresNotCached: a refused certificate is checked anew
// every time, and stays refused.
func TestCachedX509FailuresNotCached(t *testing.T) {
	now := time.Now()
	ca := newTestCA(t, "ca", now.Add(-time.Hour), now.Add(24*time.Hour))
	stranger := newTestCA(t, "stranger", now.Add(-time.Hour), now.Add(24*time.Hour))
	bad := stranger.client(t, "mallory", "", nil, now.Add(-time.Hour), now.Add(time.Hour))
	f := newFixture(t, ca, 8)

	for range 3 {
		if _, ok, err := f.authn.AuthenticateRequest(tlsRequest(t, bad)); ok || err == nil {
			t.Fatalf("certificate of an unknown CA: %v, %v; want refused", ok, err)
		}
	}
	f.wantCalls(t, 3)
	if n := f.authn.cache.Len(); n != 0 {
		t.Errorf("cache holds %d entries after failures only", n)
	}
}

// TestCachedX509Bounded: the cache holds at most its size; the least
// recently used chain is the one verified again.
func TestCachedX509Bounded(t *testing.T) {
	now := time.Now()
	ca := newTestCA(t, "ca", now.Add(-time.Hour), now.Add(24*time.Hour))
	f := newFixture(t, ca, 2)
	var certs []*x509.Certificate
	for _, name := range []string{"a", "b", "c"} {
		certs = append(certs, ca.client(t, name, "", nil, now.Add(-time.Hour), now.Add(time.Hour)))
	}
	for i, name := range []string{"a", "b", "c"} {
		f.authenticate(t, tlsRequest(t, certs[i]), name)
	}
	f.wantCalls(t, 3)
	if n := f.authn.cache.Len(); n != 2 {
		t.Errorf("cache holds %d entries, want its size 2", n)
	}
	f.authenticate(t, tlsRequest(t, certs[2]), "c")
	f.wantCalls(t, 3)
	f.authenticate(t, tlsRequest(t, certs[0]), "a") // evicted
	f.wantCalls(t, 4)
}

// TestCachedX509DistinctIdentities: two certificates with one CN but
// different UIDs and groups are two identities, cached or not.
func TestCachedX509DistinctIdentities(t *testing.T) {
	now := time.Now()
	ca := newTestCA(t, "ca", now.Add(-time.Hour), now.Add(24*time.Hour))
	one := ca.client(t, "alice", "uid-1", []string{"dev"}, now.Add(-time.Hour), now.Add(time.Hour))
	two := ca.client(t, "alice", "uid-2", []string{"ops", "admins"}, now.Add(-time.Hour), now.Add(time.Hour))
	f := newFixture(t, ca, 8)

	for range 2 {
		r1 := f.authenticate(t, tlsRequest(t, one), "alice")
		r2 := f.authenticate(t, tlsRequest(t, two), "alice")
		if r1.User.GetUID() != "uid-1" || !slices.Equal(r1.User.GetGroups(), []string{"dev"}) {
			t.Errorf("first certificate: uid %q groups %v", r1.User.GetUID(), r1.User.GetGroups())
		}
		if r2.User.GetUID() != "uid-2" || !slices.Equal(r2.User.GetGroups(), []string{"ops", "admins"}) {
			t.Errorf("second certificate: uid %q groups %v", r2.User.GetUID(), r2.User.GetGroups())
		}
	}
	f.wantCalls(t, 2)
}

// TestCachedX509ResponsesIndependent: whatever a filter does to one
// response's user reaches neither the cache nor the next request.
func TestCachedX509ResponsesIndependent(t *testing.T) {
	now := time.Now()
	ca := newTestCA(t, "ca", now.Add(-time.Hour), now.Add(24*time.Hour))
	cert := ca.client(t, "bob", "uid-b", []string{"readers"}, now.Add(-time.Hour), now.Add(time.Hour))
	f := newFixture(t, ca, 8)

	for range 3 { // the first response is the inner one, the others cached copies
		r := f.authenticate(t, tlsRequest(t, cert), "bob")
		if g := r.User.GetGroups(); !slices.Equal(g, []string{"readers"}) {
			t.Fatalf("groups = %v, want [readers]", g)
		}
		if ex := r.User.GetExtra(); len(ex) != 1 || len(ex[user.CredentialIDKey]) != 1 {
			t.Fatalf("extra = %v, want only the credential id", ex)
		}
		u := r.User.(*user.DefaultInfo)
		u.Groups[0] = "system:masters"
		u.Extra[user.CredentialIDKey][0] = "forged"
		u.Extra["added"] = []string{"x"}
	}
	f.wantCalls(t, 1)
}

// TestAuthenticatorClientCertificate: NewAuthenticator's certificate path,
// cache included, is the user of the certificate in system:authenticated
// exactly once, on the first request and on the cached ones.
func TestAuthenticatorClientCertificate(t *testing.T) {
	now := time.Now()
	ca := newTestCA(t, "ca", now.Add(-time.Hour), now.Add(24*time.Hour))
	content, err := dynamiccertificates.NewStaticCAContent("client-ca", ca.pem())
	if err != nil {
		t.Fatal(err)
	}
	authn, err := NewAuthenticator(content, "")
	if err != nil {
		t.Fatal(err)
	}
	cert := ca.client(t, "system:kube-controller-manager", "", []string{"g"}, now.Add(-time.Hour), now.Add(time.Hour))
	for range 3 {
		resp, ok, err := authn.AuthenticateRequest(tlsRequest(t, cert))
		if !ok || err != nil {
			t.Fatalf("AuthenticateRequest = %v, %v", ok, err)
		}
		if n, g := resp.User.GetName(), resp.User.GetGroups(); n != "system:kube-controller-manager" ||
			!slices.Equal(g, []string{"g", user.AllAuthenticated}) {
			t.Fatalf("user %q groups %v", n, g)
		}
	}
	stranger := newTestCA(t, "stranger", now.Add(-time.Hour), now.Add(24*time.Hour))
	if _, ok, _ := authn.AuthenticateRequest(tlsRequest(t, stranger.client(t, "x", "", nil, now.Add(-time.Hour), now.Add(time.Hour)))); ok {
		t.Error("a certificate of an unknown CA was authenticated")
	}
}

// BenchmarkX509Authenticate: upstream's authenticator, which verifies
// every request, against the cached one, for one client certificate
// presented again and again.
func BenchmarkX509Authenticate(b *testing.B) {
	now := time.Now()
	ca := newTestCA(b, "ca", now.Add(-time.Hour), now.Add(24*time.Hour))
	cert := ca.client(b, "system:kube-scheduler", "", []string{"g"}, now.Add(-time.Hour), now.Add(time.Hour))
	content, err := dynamiccertificates.NewStaticCAContent("client-ca", ca.pem())
	if err != nil {
		b.Fatal(err)
	}
	inner := x509request.NewDynamic(content.VerifyOptions, x509request.CommonNameUserConversion)
	for _, bm := range []struct {
		name  string
		authn authenticator.Request
	}{
		{"uncached", inner},
		{"cached", newCachedX509(inner, content.VerifyOptions, x509CacheSize, x509CacheTTL, testingclock.NewFakePassiveClock(now))},
	} {
		b.Run(bm.name, func(b *testing.B) {
			req := tlsRequest(b, cert)
			b.ReportAllocs()
			for b.Loop() {
				if _, ok, err := bm.authn.AuthenticateRequest(req); !ok || err != nil {
					b.Fatalf("AuthenticateRequest = %v, %v", ok, err)
				}
			}
		})
	}
}
