import NIOHTTP1
import SmallHTTP

/// Builds the header list sent upstream from the client's headers (README.md, "What the upstream
/// receives"). Pure: given the same input it returns the same list, and it is tested without sockets.
///
/// The identity headers are the whole point of the gateway, so they are removed in every spelling an
/// upstream framework might fold together (any case, `_` for `-`), however many copies arrive, before the
/// gateway adds its own. The client's `Connection` header is dropped with the fields it names, so it
/// cannot be used to strip the injected headers on the way either.
public struct HeaderRewriter: Sendable {
    public let identity: IdentityConfig
    public let trustedProxies: [IPAddressRange]
    let identityNames: Set<String>

    public init(identity: IdentityConfig, trustedProxies: [IPAddressRange]) {
        self.identity = identity
        self.trustedProxies = trustedProxies
        let names = [identity.openidHeader, identity.unionidHeader, identity.appidHeader, identity.appKindHeader]
        self.identityNames = names.reduce(into: []) { $0.insert(HeaderName.canonical($1)) }
    }

    /// Headers the gateway sets itself; client copies are replaced, not forwarded.
    static let gatewayOwned: Set<String> = [
        "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-request-id", "forwarded",
        // Framing is decided by libcurl from the body we stream; Expect is answered by the gateway.
        "content-length", "expect",
    ]

    /// How the rewriter treats a request header, decided by name without allocating (this runs for every
    /// header of every request).
    enum RequestHeaderKind {
        case hopByHop, authorization, forwardedFor, forwardedProto, forwardedHost, gatewayOwned, host, other
        /// `GatewayError.markField`: passed on in a request, never in an answer (only the gateway's own carry it).
        case gatewayMark
    }

    static func classify(_ name: String) -> RequestHeaderKind {
        switch name.utf8.count {
        case 2: if ASCIICase.equals(name, "te") { return .hopByHop }
        case 4: if ASCIICase.equals(name, "host") { return .host }
        case 6: if ASCIICase.equals(name, "expect") { return .gatewayOwned }
        case 7: if ASCIICase.equals(name, "trailer") || ASCIICase.equals(name, "upgrade") { return .hopByHop }
        case 9: if ASCIICase.equals(name, "forwarded") { return .gatewayOwned }
        case 10: if ASCIICase.equals(name, "connection") || ASCIICase.equals(name, "keep-alive") { return .hopByHop }
        case 12: if ASCIICase.equals(name, "x-request-id") { return .gatewayOwned }
        case 13: if ASCIICase.equals(name, "authorization") { return .authorization }
        case 14:
            if ASCIICase.equals(name, "content-length") { return .gatewayOwned }
            // RFC 9113 section 3.1 (RFC 7540 section 3.2.1): connection-specific, only for an h2c switch never taken.
            if ASCIICase.equals(name, "http2-settings") { return .hopByHop }
        case 15:
            if ASCIICase.equals(name, "x-forwarded-for") { return .forwardedFor }
            if ASCIICase.equals(name, "x-gateway-error") { return .gatewayMark }
        case 16:
            if ASCIICase.equals(name, "x-forwarded-host") { return .forwardedHost }
            if ASCIICase.equals(name, "proxy-connection") { return .hopByHop }
        case 17:
            if ASCIICase.equals(name, "transfer-encoding") { return .hopByHop }
            if ASCIICase.equals(name, "x-forwarded-proto") { return .forwardedProto }
        case 18: if ASCIICase.equals(name, "proxy-authenticate") { return .hopByHop }
        case 19: if ASCIICase.equals(name, "proxy-authorization") { return .hopByHop }
        default: break
        }
        return .other
    }

    private func isIdentityHeader(_ name: String) -> Bool {
        for canonical in identityNames where ASCIICase.equalsCanonical(name, canonical) { return true }
        return false
    }

    /// The upstream request's headers, in the client's order, then the gateway's own.
    public func upstreamHeaders(
        for request: HTTPHeaders, identity caller: Identity?, forwardAuthorization: Bool, context: ForwardingContext
    ) -> [(name: String, value: String)] {
        // Fields the client's Connection header names are hop-by-hop too; computed only when one is present.
        var connectionNamed: [String] = []
        for (name, value) in request where Self.classify(name) == .hopByHop && ASCIICase.equals(name, "connection") {
            Self.appendNames(listedIn: value, to: &connectionNamed)
        }
        let peerIsTrusted =
            !trustedProxies.isEmpty
            && (context.peerAddress.map { address in trustedProxies.contains { $0.contains(address) } } ?? false)
        var result: [(name: String, value: String)] = []
        result.reserveCapacity(request.count + 6)
        var forwardedFor: [String] = []
        var forwardedProto: String?
        var forwardedHost: String?
        var host: String?
        for (name, value) in request {
            let kind = Self.classify(name)
            if kind == .hopByHop { continue }
            if isIdentityHeader(name) { continue }
            if !connectionNamed.isEmpty, connectionNamed.contains(where: { ASCIICase.equals(name, $0) }) { continue }
            switch kind {
            case .authorization:
                if !forwardAuthorization { continue }
            case .forwardedFor:
                if peerIsTrusted { forwardedFor.append(value) }
                continue
            case .forwardedProto:
                if peerIsTrusted { forwardedProto = forwardedProto ?? value }
                continue
            case .forwardedHost:
                if peerIsTrusted { forwardedHost = forwardedHost ?? value }
                continue
            case .gatewayOwned:
                continue
            case .host:
                host = host ?? value
            case .other:
                if context.traceparent != nil, Self.isTraceContextField(name) { continue }
            case .hopByHop, .gatewayMark:
                break
            }
            result.append((name, value))
        }
        if let peer = context.peerAddress {
            // Only a trusted proxy's list is kept; the common case appends to nothing and needs no array.
            result.append(
                ("X-Forwarded-For", forwardedFor.isEmpty ? peer : (forwardedFor + [peer]).joined(separator: ", ")))
        } else if !forwardedFor.isEmpty {
            result.append(("X-Forwarded-For", forwardedFor.joined(separator: ", ")))
        }
        result.append(("X-Forwarded-Proto", forwardedProto ?? context.scheme))
        if let forwardedHost = forwardedHost ?? host {
            result.append(("X-Forwarded-Host", forwardedHost))
        }
        result.append(("X-Request-Id", context.requestID))
        if let traceparent = context.traceparent {
            result.append(("traceparent", traceparent))
            if let tracestate = context.tracestate { result.append(("tracestate", tracestate)) }
        }
        if let caller {
            result.append((identity.openidHeader, caller.openid))
            if let unionid = caller.unionid { result.append((identity.unionidHeader, unionid)) }
            if let appid = caller.appid { result.append((identity.appidHeader, appid)) }
            result.append((identity.appKindHeader, caller.appKind.rawValue))
        }
        return result
    }

    /// `traceparent` or `tracestate` (W3C Trace Context section 3): replaced by the gateway's when it sends its own.
    static func isTraceContextField(_ name: String) -> Bool {
        switch name.utf8.count {
        case 10: ASCIICase.equals(name, "tracestate")
        case 11: ASCIICase.equals(name, "traceparent")
        default: false
        }
    }

    /// Writes the client's head for an upstream answer with `status` and `upstream` fields into `head`: hop-by-hop
    /// fields removed (libcurl has already de-chunked the body, so `Transfer-Encoding` goes too, and with it any
    /// `Content-Length` sent alongside), repeated fields such
    /// as `Set-Cookie` kept apart, the request id added, the body's framing (`ResponseFraming`) and the `Connection`
    /// field set for the client's `version`. A connection that can no longer be kept (`keepAlive` false, or an
    /// HTTP/1.0 body without a length) is announced with `Connection: close`.
    ///
    /// Returns nil when a field may not be passed on: a name that is not a token, a value with control characters,
    /// Content-Length values that disagree or are not 64-bit numbers, or a Transfer-Encoding other than one `chunked`
    /// make a broken answer (502), as nginx treats them. An answer without `Date` gets one (RFC 9110 section 6.6.1).
    static func writeClientHead(
        status: Int, fields upstream: [(name: String, value: String)], requestID: String, version: HTTPVersion,
        keepAlive: Bool, isHeadRequest: Bool, into head: inout ResponseHeadWriter
    ) -> (framing: ResponseFraming, closesConnection: Bool)? {
        // 1xx, 204 and 304 have no body: their framing fields are dropped, whatever they say.
        let isBodyless = ResponseFraming(status: status, hasContentLength: true, version: version) == .noBody
        var connectionNamed: [String] = []
        var isChunked = false
        var contentLength: Substring?
        var lengthIsBroken = false
        var hasDate = false
        for (name, value) in upstream {
            switch name.utf8.count {
            case 4 where ASCIICase.equals(name, "date"): hasDate = true
            case 10 where ASCIICase.equals(name, "connection"): Self.appendNames(listedIn: value, to: &connectionNamed)
            case 14 where ASCIICase.equals(name, "content-length"):
                // libcurl takes the last of two different lengths; a client may take the first and read the rest
                // as the next answer. Repeats of one number are one length (RFC 9110 section 8.6); anything else
                // is a broken answer (502), as nginx treats it. So is a length past 64 bits, which libcurl ignores
                // (reading until close) while the client would trust it.
                FieldValueList.forEachElement(of: value) { element in
                    if !element.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
                        || Int64(element) == nil
                        || (contentLength.map { $0 != element } ?? false)
                    {
                        lengthIsBroken = true
                    }
                    contentLength = contentLength ?? element
                    return !lengthIsBroken
                }
            case 17 where ASCIICase.equals(name, "transfer-encoding"):
                // libcurl removes the chunking only; with decoding off it passes any other coding (gzip...) through,
                // and the client would get coded bytes under our own `chunked` with nothing to say how to decode them.
                // Read element by element over all lines, as a list field is (RFC 9110 section 5.3).
                var codingIsBroken = false
                FieldValueList.forEachElement(of: value) { coding in
                    codingIsBroken = isChunked || !ASCIICase.equals(coding, "chunked")
                    isChunked = true
                    return !codingIsBroken
                }
                if codingIsBroken && !isBodyless { return nil }
            default: break
            }
        }
        if lengthIsBroken && !isChunked && !isBodyless { return nil }
        // RFC 9112 section 6.3: with a Transfer-Encoding the Content-Length is wrong by definition, and libcurl
        // delivers the decoded body whatever it said; passing it on would let the client read the rest of this
        // body as the next answer.
        let dropsLength = isChunked || isBodyless
        var hasContentLength = false
        var sawRequestID = false
        for (name, value) in upstream {
            guard HeaderName.isValid(name), HeaderName.isValidValue(value) else { return nil }
            let kind = classify(name)
            // Proxy-Authorization never comes back, but Authorization-like names are not hop-by-hop here. The
            // gateway's mark is dropped in every case and copy: an upstream could otherwise pass its own 401 off as
            // the gateway's, and have a client replay a POST it has already acted on.
            if kind == .hopByHop || kind == .gatewayMark { continue }
            if !connectionNamed.isEmpty, connectionNamed.contains(where: { ASCIICase.equals(name, $0) }) { continue }
            if kind == .gatewayOwned {
                if ASCIICase.equals(name, "x-request-id") {
                    sawRequestID = true
                } else if ASCIICase.equals(name, "content-length") {
                    continue  // written once below, however many lines carried it
                }
            }
            head.add(name: name, value: value)
        }
        if let contentLength, !dropsLength {
            head.add(name: "Content-Length", value: String(contentLength))
            hasContentLength = true
        }
        if !sawRequestID { head.add(name: "X-Request-Id", value: requestID) }
        // RFC 9110 section 6.6.1: a proxy adds the Date an upstream without a clock left out, as nginx does.
        if !hasDate { head.add(name: "Date", value: HTTPDate.now()) }
        let framing = ResponseFraming(status: status, hasContentLength: hasContentLength, version: version)
        if framing == .chunked { head.add(name: "Transfer-Encoding", value: "chunked") }
        // A HEAD answer has no body to delimit, so it needs no close to end one.
        let closes = !keepAlive || (framing == .untilClose && !isHeadRequest)
        writeConnectionField(closes: closes, version: version, into: &head)
        return (framing, closes)
    }

    /// The head of an upstream's `101 Switching Protocols`, passed on with its own fields (`Sec-WebSocket-Accept`,
    /// `-Protocol`, `-Extensions`) and the switch itself (`Connection: Upgrade` and the upstream's `Upgrade`), which
    /// the usual rewrite drops as hop-by-hop. False when a field cannot be passed on or the 101 names no protocol.
    static func writeSwitchingHead(
        fields upstream: [(name: String, value: String)], requestID: String, into head: inout ResponseHeadWriter
    ) -> Bool {
        var connectionNamed: [String] = []
        for (name, value) in upstream where ASCIICase.equals(name, "connection") {
            Self.appendNames(listedIn: value, to: &connectionNamed)
        }
        var upgrade: String?
        var sawRequestID = false
        for (name, value) in upstream {
            guard HeaderName.isValid(name), HeaderName.isValidValue(value) else { return false }
            if ASCIICase.equals(name, "upgrade") {
                upgrade = upgrade ?? value
                continue
            }
            let kind = classify(name)
            if kind == .hopByHop || kind == .gatewayMark { continue }  // the mark is the gateway's only
            if connectionNamed.contains(where: { ASCIICase.equals(name, $0) }) { continue }
            if kind == .gatewayOwned {
                if ASCIICase.equals(name, "x-request-id") {
                    sawRequestID = true
                } else if ASCIICase.equals(name, "content-length") {
                    continue
                }
            }
            head.add(name: name, value: value)
        }
        guard let upgrade, !upgrade.isEmpty else { return false }
        if !sawRequestID { head.add(name: "X-Request-Id", value: requestID) }
        head.add(name: "Connection", value: "Upgrade")
        head.add(name: "Upgrade", value: upgrade)
        return true
    }

    /// `Connection: close` when the gateway closes after this answer; `Connection: keep-alive` for an HTTP/1.0 client
    /// whose connection stays open (HTTP/1.1 keeps it without saying so).
    static func writeConnectionField(closes: Bool, version: HTTPVersion, into head: inout ResponseHeadWriter) {
        if closes {
            head.add(name: "Connection", value: "close")
        } else if version.major == 1 && version.minor == 0 {
            head.add(name: "Connection", value: "keep-alive")
        }
    }

    /// Appends the field names a `Connection` value lists, lower-cased, leaving out `keep-alive` and `close`
    /// (connection options, not fields). Allocates nothing for a value that lists only those, by far the most
    /// common: this runs for every request and every response that carries the header.
    static func appendNames(listedIn connectionValue: String, to names: inout [String]) {
        FieldValueList.forEachElement(of: connectionValue) { token in
            if !ASCIICase.equals(token, "keep-alive") && !ASCIICase.equals(token, "close") {
                names.append(token.lowercased())
            }
            return true
        }
    }
}
