/// The field names `HeaderRewriter`'s rules name (`HeaderRewriter+ByteView.swift`), recognised from a name's bytes in
/// one pass: by length, then one case-insensitive compare. `classify(bytes:)`, `requestFieldRule(name:)` and
/// `responseFieldRule(name:)` all map this one value, so a name is compared once per rule rather than once to find its
/// kind and again to tell `Connection` from the other hop-by-hop fields (issue 23: the upstream answer path compared
/// `Content-Length`, `Connection` and `Date` twice per field).
enum KnownFieldName {
    case te, host, date, expect, trailer, upgrade, forwarded, connection, keepAlive, requestID, authorization
    case contentLength, http2Settings, forwardedFor, gatewayMark, forwardedHost, proxyConnection, transferEncoding
    case forwardedProto, proxyAuthenticate, proxyAuthorization

    /// The name `name` spells in any ASCII case, or nil for every other name.
    @inline(__always)
    static func named(_ name: UnsafeRawBufferPointer) -> KnownFieldName? {
        typealias Rewriter = HeaderRewriter
        switch name.count {
        case 2: if Rewriter.equals(name, "te") { return .te }
        case 4:
            if Rewriter.equals(name, "date") { return .date }
            if Rewriter.equals(name, "host") { return .host }
        case 6: if Rewriter.equals(name, "expect") { return .expect }
        case 7:
            if Rewriter.equals(name, "trailer") { return .trailer }
            if Rewriter.equals(name, "upgrade") { return .upgrade }
        case 9: if Rewriter.equals(name, "forwarded") { return .forwarded }
        case 10:
            if Rewriter.equals(name, "connection") { return .connection }
            if Rewriter.equals(name, "keep-alive") { return .keepAlive }
        case 12: if Rewriter.equals(name, "x-request-id") { return .requestID }
        case 13: if Rewriter.equals(name, "authorization") { return .authorization }
        case 14:
            if Rewriter.equals(name, "content-length") { return .contentLength }
            if Rewriter.equals(name, "http2-settings") { return .http2Settings }
        case 15:
            if Rewriter.equals(name, "x-forwarded-for") { return .forwardedFor }
            if Rewriter.equals(name, "x-gateway-error") { return .gatewayMark }
        case 16:
            if Rewriter.equals(name, "x-forwarded-host") { return .forwardedHost }
            if Rewriter.equals(name, "proxy-connection") { return .proxyConnection }
        case 17:
            if Rewriter.equals(name, "transfer-encoding") { return .transferEncoding }
            if Rewriter.equals(name, "x-forwarded-proto") { return .forwardedProto }
        case 18: if Rewriter.equals(name, "proxy-authenticate") { return .proxyAuthenticate }
        case 19: if Rewriter.equals(name, "proxy-authorization") { return .proxyAuthorization }
        default: break
        }
        return nil
    }

    /// The rewriter's kind for this name (`HeaderRewriter.classify`); `Date` has no kind of its own.
    var kind: HeaderRewriter.RequestHeaderKind {
        switch self {
        case .te, .trailer, .upgrade, .connection, .keepAlive, .http2Settings, .proxyConnection, .transferEncoding,
            .proxyAuthenticate, .proxyAuthorization:
            return .hopByHop
        case .host: return .host
        case .date: return .other
        case .expect, .forwarded, .requestID, .contentLength: return .gatewayOwned
        case .authorization: return .authorization
        case .forwardedFor: return .forwardedFor
        case .forwardedHost: return .forwardedHost
        case .forwardedProto: return .forwardedProto
        case .gatewayMark: return .gatewayMark
        }
    }
}
