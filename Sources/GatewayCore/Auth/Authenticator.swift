import Foundation
import NIOHTTP1
import Tokens

/// Decides whether a request may pass a route, from its `Authorization` header and the route's
/// `auth` mode (DESIGN.md section 5). Synchronous and allocation-light: it runs on the event loop for
/// every request, so verification is a `TokenVerifier` (the cached one in production), never an actor.
public struct Authenticator: Sendable {
    public let verifier: any TokenVerifier

    public init(verifier: any TokenVerifier) {
        self.verifier = verifier
    }

    public func authenticate(_ headers: HTTPHeaders, mode: RouteConfig.AuthMode, now: Date) -> AuthDecision {
        if mode == .none { return .anonymous }
        switch claims(headers, now: now) {
        case .success(let claims):
            return .authenticated(Identity(openid: claims.subject, unionid: claims.unionid, appid: claims.appid, jti: claims.jti))
        case .failure(.missingToken):
            return mode == .required ? .rejected(.missingToken) : .anonymous
        case .failure(let rejection):
            return .rejected(rejection)
        }
    }

    /// The verified claims of the request's bearer token, or why there are none. The proxy path and the
    /// control endpoints that need a caller (logout, user data, phone) both decide through here.
    public func claims(_ headers: HTTPHeaders, now: Date) -> Result<VerifiedClaims, AuthRejection> {
        // Whole field lines, not `canonicalForm` (which splits on commas and drops empty values): an empty
        // second line still makes two Authorization headers.
        let lines = headers["authorization"]
        guard let first = lines.first.map({ $0.trimmingSpaces() }), !(lines.count == 1 && first.isEmpty) else {
            return .failure(.missingToken)
        }
        // Two Authorization headers are ambiguous: which one an upstream would read is not ours to guess.
        guard lines.count == 1 else { return .failure(.malformedAuthorization) }
        // RFC 6750 section 3.1: credentials of another scheme (Basic...) count as no bearer token at all.
        guard first.utf8.count >= 6, ASCIICase.equals(first.prefix(6), "bearer"),
            first.utf8.count == 6 || first.dropFirst(6).first == " "
        else {
            return .failure(.missingToken)
        }
        guard let token = Self.bearerToken(first[...]) else { return .failure(.malformedAuthorization) }
        switch verifier.verify(token, now: now) {
        case .valid(let claims): return .success(claims)
        case .invalid(let rejection): return .failure(.invalidToken(rejection))
        }
    }

    /// The credentials of `Bearer <token>` (RFC 6750 section 2.1: the scheme is case-insensitive,
    /// then one or more spaces, then a token68).
    static func bearerToken(_ value: Substring) -> Substring? {
        let utf8 = value.utf8
        guard utf8.count > 7 else { return nil }
        let scheme = value.prefix(6)
        guard ASCIICase.equals(scheme, "bearer"), value.dropFirst(6).first == " " else { return nil }
        let token = value.dropFirst(7).drop(while: { $0 == " " })
        guard !token.isEmpty, token.utf8.allSatisfy(isToken68Byte) else { return nil }
        return token
    }

    private static func isToken68Byte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "~") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "/")
                || byte == UInt8(ascii: "=")
        }
    }
}
