extension KeyRing {
    /// The JWK Set (RFC 7517 section 5) served at `/.well-known/jwks.json`: the public halves of the
    /// current and previous asymmetric keys. HMAC keys never appear (their only material is the secret),
    /// so an HS256-only ring gives `{"keys":[]}`.
    public func jwks() -> String {
        "{\"keys\":[" + keys.compactMap(\.jwk).joined(separator: ",") + "]}"
    }
}
