// Package calltoken is the mesh's per-call authentication: every call
// carries a short-lived JWT (EdDSA, signed with the caller's NKey) that names
// the caller (sub, iss = its public NKey), the callee (aud) and the paths it
// may call there; a bridge calling for someone else adds itself as the actor
// ("act": {"sub": ...}, RFC 8693) and signs with its own key.
//
// A Signer makes and reuses the tokens on the client side; a Verifier checks
// them in the booth, against the same Policy (the Access & Authorization
// Matrix). Both plug into pkg/rpc as middlewares; pkg/mesh installs them, so
// most programs never use this package directly. It is apart from pkg/rpc so
// that the call model does not bring JWT and NKey code to those who only
// want its types.
package calltoken
