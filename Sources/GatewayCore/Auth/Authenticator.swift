import Foundation
import NIOHTTP1
import Tokens

/// The caller of a control-plane request that needs one (logout, user data, phone), from its `Authorization` header
/// (RFC 6750 section 2.1). Proxied requests are decided by the engine's planner on the head's bytes, by the same rule
/// (`EngineRequestPlanner`). Verification is a `TokenVerifier` (the cached one in production), never an actor.
public struct Authenticator: Sendable {
    public let verifier: any TokenVerifier

    public init(verifier: any TokenVerifier) {
        self.verifier = verifier
    }

    /// The verified claims of the request's bearer token, or why there are none.
    public func claims(_ headers: HTTPHeaders, now: Date) -> Result<VerifiedClaims, AuthRejection> {
        // Whole field lines: an empty second line still makes two Authorization headers. Byte-wise throughout:
        // this runs on every request.
        let (field, fieldCount) = headers.fieldLines("authorization")
        guard let field else { return .failure(.missingToken) }
        var first = Substring(field).trimmingOptionalWhitespace()
        if fieldCount == 1 && first.isEmpty { return .failure(.missingToken) }
        // Two Authorization headers are ambiguous: which one an upstream would read is not ours to guess.
        guard fieldCount == 1 else { return .failure(.malformedAuthorization) }
        // RFC 6750 section 3.1: credentials of another scheme (Basic...) count as no bearer token at all.
        let isBearer = first.withUTF8 { bytes in
            Self.startsWithBearerScheme(bytes) && (bytes.count == 6 || bytes[6] == UInt8(ascii: " "))
        }
        guard isBearer else { return .failure(.missingToken) }
        guard let token = Self.bearerToken(first) else { return .failure(.malformedAuthorization) }
        switch verifier.verify(token, now: now) {
        case .valid(let claims): return .success(claims)
        case .invalid(let rejection): return .failure(.invalidToken(rejection))
        }
    }

    /// The credentials of `Bearer <token>` (RFC 6750 section 2.1: the scheme is case-insensitive,
    /// then one or more spaces, then a token68).
    static func bearerToken(_ value: Substring) -> Substring? {
        // On the contiguous bytes (no copy for a native string): walking a String view byte by byte costs an
        // index computation per byte, and a token is a few hundred bytes checked on every request.
        var value = value
        let tokenStart: Int? = value.withUTF8 { bytes in
            guard bytes.count > 7, startsWithBearerScheme(bytes), bytes[6] == UInt8(ascii: " ") else { return nil }
            var start = 6
            while start < bytes.count, bytes[start] == UInt8(ascii: " ") { start += 1 }
            guard start < bytes.count else { return nil }
            for index in start..<bytes.count where !isToken68Byte(bytes[index]) { return nil }
            return start
        }
        guard let tokenStart else { return nil }
        let utf8 = value.utf8
        return Substring(utf8[utf8.index(utf8.startIndex, offsetBy: tokenStart)...])
    }

    /// The first six bytes spell "bearer" in any case.
    private static func startsWithBearerScheme(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count >= 6 else { return false }
        for (index, expected) in "bearer".utf8.enumerated() where ASCIICase.lower(bytes[index]) != expected {
            return false
        }
        return true
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
