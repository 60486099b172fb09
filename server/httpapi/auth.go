package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/weirdb/weir/internal/sqlerr"
)

// authenticate lets a request through when no token is configured or it carries the
// token as "Authorization: Bearer <token>" (RFC 6750). Subscriptions may instead pass
// ?access_token=<token>, because a browser's EventSource cannot set headers. Anything
// else gets 401 with WWW-Authenticate: Bearer. The comparison takes the same time
// whatever the token sent: both sides are hashed to a fixed length and compared with
// subtle.ConstantTimeCompare, so neither the token's bytes nor its length leak.
func (a *API) authenticate(next http.Handler) http.Handler {
	if a.cfg.Token == "" {
		return next
	}
	want := sha256.Sum256([]byte(a.cfg.Token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, sent := bearerToken(r)
		sum := sha256.Sum256([]byte(got))
		if sent && subtle.ConstantTimeCompare(sum[:], want[:]) == 1 {
			next.ServeHTTP(w, r)
			return
		}
		challenge := `Bearer realm="weir"`
		msg := "this endpoint needs the server's token: Authorization: Bearer <token>"
		if sent {
			challenge += `, error="invalid_token"`
			msg = "the bearer token is not the server's token"
		}
		w.Header().Set("WWW-Authenticate", challenge)
		writeError(w, withStatus(http.StatusUnauthorized, sqlerr.New(codeInvalidAuthorization, "%s", msg)))
	})
}

// bearerToken returns the request's bearer token and whether it sent one.
func bearerToken(r *http.Request) (string, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return "", true // some other scheme: a credential, just not ours
		}
		return strings.TrimSpace(token), true
	}
	if strings.HasSuffix(r.URL.Path, "/subscribe") && r.URL.Query().Has("access_token") {
		return r.URL.Query().Get("access_token"), true
	}
	return "", false
}
