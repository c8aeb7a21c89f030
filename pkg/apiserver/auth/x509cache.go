package auth

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"net/http"
	"slices"
	"time"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	x509request "k8s.io/apiserver/pkg/authentication/request/x509"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/utils/clock"
	"k8s.io/utils/lru"
)

const (
	// x509CacheSize bounds the verified chains kept: skiff's clients are a
	// handful of components and one kubelet per node, each with one
	// certificate, so 1024 holds them all while a flood of distinct
	// certificates only evicts (and each of those still costs a verify).
	x509CacheSize = 1024
	// x509CacheTTL bounds how long one verification is trusted. A new CA
	// and the presented certificates' own validity end an entry at once; the
	// TTL covers what the entry cannot see, chiefly the expiry of the root
	// the chain was verified against.
	x509CacheTTL = time.Minute
)

// cachedX509 remembers the identities of client certificate chains that
// verified, so a client pays for one chain verification rather than one
// per request.
//
// Why: upstream's x509 authenticator verifies the presented chain on every
// request (an ECDSA P-256 signature check per certificate), although a
// client presents the same chain on every request of its HTTP/2
// connection. At ~400 pods/s created and bound this was 5-6 % of the API
// server's CPU. Upstream's per-connection cache (kubernetes/kubernetes
// PR #100902) was closed unmerged, and k8s.io/apiserver has none.
//
// Only successes are kept, so a refused certificate costs what it did
// without the cache. An entry answers only while the verify options carry
// the very same Roots and Intermediates pools it was verified with
// (DynamicFileCAContent and static CA content keep one pool until the CA
// content changes; content that builds a pool per call simply never hits),
// while the clock is inside every presented certificate's validity, and for
// at most ttl. The key hashes the whole presented chain, so a chain shares
// an entry only with the byte-identical chain, across connections too.
//
// It is correct only for an inner authenticator whose answer depends on
// nothing but the presented chain and the verify options, as
// x509.CommonNameUserConversion's does. Upstream's
// apiserver_client_certificate_expiration_seconds histogram is observed by
// the inner authenticator, so now once per verification, not per request.
type cachedX509 struct {
	inner         authenticator.Request
	verifyOptions x509request.VerifyOptionFunc
	clock         clock.PassiveClock
	ttl           time.Duration
	cache         *lru.Cache // [sha256.Size]byte -> *x509CacheEntry
}

type x509CacheEntry struct {
	// roots and intermediates are the pools the chain was verified against;
	// holding them also keeps their addresses from being reused.
	roots, intermediates *x509.CertPool
	// notBefore and notAfter bound the presented certificates' validity.
	notBefore, notAfter time.Time
	expires             time.Time
	audiences           authenticator.Audiences
	user                user.DefaultInfo
}

// newCachedX509 wraps inner, an x509 authenticator built on verifyOptions,
// with a cache of at most size verified chains, each trusted for at most
// ttl by clock.
func newCachedX509(inner authenticator.Request, verifyOptions x509request.VerifyOptionFunc, size int, ttl time.Duration, clock clock.PassiveClock) *cachedX509 {
	return &cachedX509{inner: inner, verifyOptions: verifyOptions, clock: clock, ttl: ttl, cache: lru.New(size)}
}

func (c *cachedX509) AuthenticateRequest(req *http.Request) (*authenticator.Response, bool, error) {
	if req.TLS == nil || len(req.TLS.PeerCertificates) == 0 {
		return c.inner.AuthenticateRequest(req)
	}
	// Read the pools before the inner authenticator does: if the CA changes
	// in between, the entry records the older pool and the next request
	// verifies again, never the other way round.
	opts, ok := c.verifyOptions()
	if !ok {
		return c.inner.AuthenticateRequest(req)
	}
	chain := req.TLS.PeerCertificates
	key := chainKey(chain)
	now := c.clock.Now()
	if v, found := c.cache.Get(key); found {
		e := v.(*x509CacheEntry)
		if e.roots == opts.Roots && e.intermediates == opts.Intermediates &&
			!now.Before(e.notBefore) && !now.After(e.notAfter) && now.Before(e.expires) {
			return e.response(), true, nil
		}
		c.cache.Remove(key)
	}

	resp, ok, err := c.inner.AuthenticateRequest(req)
	if err != nil || !ok || resp == nil || resp.User == nil {
		return resp, ok, err
	}
	e := &x509CacheEntry{
		roots:         opts.Roots,
		intermediates: opts.Intermediates,
		notBefore:     chain[0].NotBefore,
		notAfter:      chain[0].NotAfter,
		expires:       now.Add(c.ttl),
		audiences:     slices.Clone(resp.Audiences),
		user:          copyUser(resp.User),
	}
	for _, cert := range chain[1:] {
		if cert.NotBefore.After(e.notBefore) {
			e.notBefore = cert.NotBefore
		}
		if cert.NotAfter.Before(e.notAfter) {
			e.notAfter = cert.NotAfter
		}
	}
	c.cache.Add(key, e)
	return resp, true, nil
}

// response is a copy of the cached identity: the filters after
// authentication get their own slices and map, so nothing they do reaches
// the entry or another request.
func (e *x509CacheEntry) response() *authenticator.Response {
	u := copyUser(&e.user)
	return &authenticator.Response{Audiences: slices.Clone(e.audiences), User: &u}
}

func copyUser(u user.Info) user.DefaultInfo {
	var extra map[string][]string
	if ex := u.GetExtra(); ex != nil {
		extra = make(map[string][]string, len(ex))
		for k, v := range ex {
			extra[k] = slices.Clone(v)
		}
	}
	return user.DefaultInfo{Name: u.GetName(), UID: u.GetUID(), Groups: slices.Clone(u.GetGroups()), Extra: extra}
}

// chainKey hashes every presented certificate, each prefixed by its length
// so that no two different chains concatenate to the same bytes.
func chainKey(chain []*x509.Certificate) [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	for _, cert := range chain {
		binary.BigEndian.PutUint64(n[:], uint64(len(cert.Raw)))
		h.Write(n[:])
		h.Write(cert.Raw)
	}
	var key [sha256.Size]byte
	h.Sum(key[:0])
	return key
}
