// Package auth holds skiff's standalone authentication and authorization:
// who a request is (x509 client certificates and static tokens) and what
// each identity may do.
package auth

import (
	"context"
	"fmt"
	"slices"

	apiserverapi "k8s.io/apiserver/pkg/apis/apiserver"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/group"
	"k8s.io/apiserver/pkg/authentication/request/anonymous"
	"k8s.io/apiserver/pkg/authentication/request/bearertoken"
	"k8s.io/apiserver/pkg/authentication/request/union"
	"k8s.io/apiserver/pkg/authentication/request/x509"
	"k8s.io/apiserver/pkg/authentication/token/tokenfile"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	"k8s.io/utils/clock"
)

// NewAuthenticator authenticates requests by client certificate signed by
// clientCA and, when tokenFile is set, by bearer token from that CSV file
// (token,user,uid,"group1,group2"). A request with neither is anonymous on
// the health and version endpoints and unauthenticated (401) everywhere else.
func NewAuthenticator(clientCA dynamiccertificates.CAContentProvider, tokenFile string) (authenticator.Request, error) {
	var authenticators []authenticator.Request
	if clientCA != nil {
		certs := x509.NewDynamic(clientCA.VerifyOptions, x509.CommonNameUserConversion)
		authenticators = append(authenticators, newCachedX509(certs, clientCA.VerifyOptions, x509CacheSize, x509CacheTTL, clock.RealClock{}))
	}
	if tokenFile != "" {
		tokens, err := tokenfile.NewCSV(tokenFile)
		if err != nil {
			return nil, fmt.Errorf("read --token-auth-file %s: %w", tokenFile, err)
		}
		authenticators = append(authenticators, bearertoken.New(tokens))
	}
	var conditions []apiserverapi.AnonymousAuthCondition
	for _, p := range publicPaths {
		conditions = append(conditions, apiserverapi.AnonymousAuthCondition{Path: p})
	}
	// Fail on error, as kube-apiserver does: a bad token or certificate is
	// refused (401) even where an anonymous request would get in.
	return union.NewFailOnError(
		group.NewAuthenticatedGroupAdder(union.New(authenticators...)),
		anonymous.NewAuthenticator(conditions),
	), nil
}

// NewTokenReviewAuthenticator authenticates the bearer tokens of
// TokenReviews: the static tokens of tokenFile, users in
// system:authenticated as NewAuthenticator makes them. It is nil without a
// token file: no token is then valid. Client certificates cannot be
// reviewed; whoever asks checks them against the cluster CA itself.
func NewTokenReviewAuthenticator(tokenFile string) (authenticator.Token, error) {
	if tokenFile == "" {
		return nil, nil
	}
	tokens, err := tokenfile.NewCSV(tokenFile)
	if err != nil {
		return nil, fmt.Errorf("read --token-auth-file %s: %w", tokenFile, err)
	}
	return authenticatedTokens{tokens}, nil
}

// authenticatedTokens puts every user it authenticates in
// system:authenticated, as NewAuthenticator's group adder does for requests,
// so a TokenReview reports the user a request with the token would be.
type authenticatedTokens struct{ authenticator.Token }

func (a authenticatedTokens) AuthenticateToken(ctx context.Context, token string) (*authenticator.Response, bool, error) {
	resp, ok, err := a.Token.AuthenticateToken(ctx, token)
	if err != nil || !ok || resp == nil || resp.User == nil || slices.Contains(resp.User.GetGroups(), user.AllAuthenticated) {
		return resp, ok, err
	}
	u := resp.User
	out := *resp
	out.User = &user.DefaultInfo{Name: u.GetName(), UID: u.GetUID(), Extra: u.GetExtra(),
		Groups: append(slices.Clone(u.GetGroups()), user.AllAuthenticated)}
	return &out, true, nil
}
