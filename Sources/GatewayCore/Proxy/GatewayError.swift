import CurlHTTP
import Foundation
import JSON
import NIOHTTP1

/// Every answer the gateway makes up itself, with its status, in one table (STYLE.md, "Errors").
/// Each case says where the failure came from (downstream client, upstream, the gateway itself).
public enum GatewayError: Error, Sendable, Equatable {
    // downstream: the client's request
    case badRequestTarget
    case routeNotFound
    case authentication(AuthRejection)
    case bodyTooLarge
    case headersTooLarge
    case malformedRequest
    case unsupportedTransferCoding
    case clientTimeout
    /// An `Upgrade: websocket` on a route without `websocket = true`.
    case webSocketNotEnabled
    /// An upgrade without `Sec-WebSocket-Version: 13` and a 16-byte `Sec-WebSocket-Key` (RFC 6455 section 4.1).
    case webSocketHandshakeInvalid
    /// A valid token of an app the route's `apps` does not list (RFC 6750 section 3.1, `insufficient_scope`).
    case appNotAllowed
    /// A CORS preflight, or with `[cors] check_websocket_origin` a WebSocket upgrade, from an origin `[cors]
    /// allow_origins` does not list: answered without CORS fields, so the browser blocks the request.
    case originNotAllowed
    // the gateway's own limits
    /// `[websocket] max_tunnels` tunnels are open.
    case tooManyTunnels
    /// `[websocket] max_tunnels_per_user` tunnels of the caller's openid are open.
    case tooManyTunnelsForUser
    // upstream
    case upstreamUnreachable
    case upstreamTimeout
    case upstreamBroken
    // internal
    case internalError(String)

    public var status: HTTPResponseStatus {
        switch self {
        case .badRequestTarget, .malformedRequest, .webSocketNotEnabled, .webSocketHandshakeInvalid: return .badRequest
        case .tooManyTunnels: return .serviceUnavailable
        case .tooManyTunnelsForUser: return .tooManyRequests
        case .routeNotFound: return .notFound
        case .appNotAllowed, .originNotAllowed: return .forbidden
        case .authentication(.malformedAuthorization): return .badRequest
        case .authentication: return .unauthorized
        case .bodyTooLarge: return .payloadTooLarge
        case .headersTooLarge: return .requestHeaderFieldsTooLarge
        case .unsupportedTransferCoding: return .notImplemented
        case .clientTimeout: return .requestTimeout
        case .upstreamUnreachable, .upstreamBroken: return .badGateway
        case .upstreamTimeout: return .gatewayTimeout
        case .internalError: return .internalServerError
        }
    }

    /// Whether the connection is closed after this answer even when the request asked to keep it: a request that is
    /// not valid HTTP, or whose body framing the gateway cannot read, says nothing good about the bytes after it.
    /// nginx closes after a 400 and a 501 too.
    public var closesConnection: Bool {
        switch self {
        case .malformedRequest, .unsupportedTransferCoding: return true
        default: return false
        }
    }

    /// The `error` field of the JSON body, and the access log's error reason.
    public var code: String {
        switch self {
        case .badRequestTarget: return "invalid_request_target"
        case .routeNotFound: return "not_found"
        case .authentication(.missingToken): return "unauthorized"
        case .authentication(.malformedAuthorization): return "invalid_request"
        case .authentication(.invalidToken): return "invalid_token"
        case .bodyTooLarge: return "request_entity_too_large"
        case .headersTooLarge: return "request_header_fields_too_large"
        case .malformedRequest: return "bad_request"
        case .unsupportedTransferCoding: return "not_implemented"
        case .clientTimeout: return "request_timeout"
        case .webSocketNotEnabled: return "websocket_not_enabled"
        case .webSocketHandshakeInvalid: return "invalid_websocket_handshake"
        case .appNotAllowed: return "insufficient_scope"
        case .originNotAllowed: return "origin_not_allowed"
        case .tooManyTunnels, .tooManyTunnelsForUser: return "too_many_tunnels"
        case .upstreamUnreachable: return "bad_gateway"
        case .upstreamTimeout: return "gateway_timeout"
        case .upstreamBroken: return "bad_gateway"
        case .internalError: return "internal_error"
        }
    }

    /// A sentence for people; never a token, secret or upstream internals.
    public var message: String {
        switch self {
        case .badRequestTarget: return "the request path is not acceptable (dot segments or invalid characters)"
        case .routeNotFound: return "no route matches this request"
        case .authentication(.missingToken): return "a bearer access token is required"
        case .authentication(.malformedAuthorization):
            return "the Authorization header must be a single 'Bearer <token>'"
        case .authentication(.invalidToken(let rejection)): return rejection.description
        case .bodyTooLarge: return "the request body is larger than the gateway accepts"
        case .headersTooLarge: return "the request headers are larger than the gateway accepts"
        case .malformedRequest: return "the request is not valid HTTP/1.1"
        case .unsupportedTransferCoding: return "the only Transfer-Encoding the gateway accepts is a single chunked"
        case .clientTimeout: return "the request was not received in time"
        case .webSocketNotEnabled: return "this route does not accept WebSocket upgrades"
        case .webSocketHandshakeInvalid:
            return "a WebSocket upgrade needs Sec-WebSocket-Version: 13 and a Sec-WebSocket-Key of 16 bytes in base64"
        case .appNotAllowed: return "this route does not accept tokens of this mini-program"
        case .originNotAllowed: return "this origin is not allowed to call the gateway ([cors] allow_origins)"
        case .tooManyTunnels: return "the gateway has as many WebSocket connections open as it allows; retry later"
        case .tooManyTunnelsForUser:
            return "this user has as many WebSocket connections open as allowed; close one first"
        case .upstreamUnreachable: return "the upstream service could not be reached"
        case .upstreamTimeout: return "the upstream service did not answer in time"
        case .upstreamBroken: return "the upstream service sent an invalid answer"
        case .internalError: return "the gateway failed to handle the request"
        }
    }

    /// Maps a libcurl failure that happened before any response byte reached the client.
    public init(_ error: CurlError) {
        switch error {
        case .couldNotConnect: self = .upstreamUnreachable
        case .timedOut: self = .upstreamTimeout
        case .brokenResponse: self = .upstreamBroken
        case .cancelled, .requestBodyFailed: self = .malformedRequest
        case .other(_, let message): self = .internalError(message)
        }
    }

    /// The field that marks an answer as the gateway's own: `X-Gateway-Error: <code>`. The gateway removes every copy
    /// an upstream sends (`HeaderRewriter`), so a client can trust it: a 401 that carries it never reached the
    /// upstream, and is safe to replay after a token refresh; one without it is the upstream's and may have had
    /// effects (RFC 9110 section 9.2.2: a POST is not idempotent).
    public static let markField = "X-Gateway-Error"

    /// Extra response headers: the mark (`markField`), and RFC 6750 section 3 challenges on authentication failures.
    public func headers(realm: String) -> [(String, String)] {
        let mark = (Self.markField, code)
        let realm = Self.quotedStringContent(realm)
        switch self {
        case .authentication(.missingToken):
            return [mark, ("WWW-Authenticate", "Bearer realm=\"\(realm)\"")]
        case .authentication(.malformedAuthorization):
            return [mark, ("WWW-Authenticate", "Bearer realm=\"\(realm)\", error=\"invalid_request\"")]
        case .authentication(.invalidToken(let rejection)):
            let description = Self.quotedStringContent(rejection.description)
            return [
                mark,
                (
                    "WWW-Authenticate",
                    "Bearer realm=\"\(realm)\", error=\"invalid_token\", error_description=\"\(description)\""
                ),
            ]
        case .appNotAllowed:
            return [mark, ("WWW-Authenticate", "Bearer realm=\"\(realm)\", error=\"insufficient_scope\"")]
        case .tooManyTunnels, .tooManyTunnelsForUser:
            return [mark, ("Retry-After", "1")]
        default:
            return [mark]
        }
    }

    /// RFC 6750 section 3 allows only %x20-21 / %x23-5B / %x5D-7E inside these quoted values: no `"`,
    /// no `\`, no control or non-ASCII characters (`missingClaim` descriptions quote the claim name).
    static func quotedStringContent(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 < 0x20 || $0 > 0x7E || $0 == 0x22 || $0 == 0x5C }) else { return text }
        return String(
            decoding: text.utf8.compactMap { byte -> UInt8? in
                if byte == 0x22 { return UInt8(ascii: "'") }
                return byte < 0x20 || byte > 0x7E || byte == 0x5C ? nil : byte
            }, as: UTF8.self)
    }

    /// `{"error": ..., "error_description": ..., "request_id": ...}`
    public func jsonBody(requestID: String) -> String {
        "{\"error\":\"\(code)\",\"error_description\":\"\(JSONString.escape(message))\","
            + "\"request_id\":\"\(JSONString.escape(requestID))\"}"
    }
}
