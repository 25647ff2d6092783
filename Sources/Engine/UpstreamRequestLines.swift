import CCurl
import GatewayCore

/// The upstream request's header list and URL, written straight from the byte view into memory one transfer keeps
/// from one request to the next (like `CurlHTTP.HeaderLines`): no `String` per field, no `curl_slist_append`.
///
/// The rewrite follows the planner's rules (`HeaderRewriter.requestFieldRule`): hop-by-hop fields, the fields
/// `Connection` names, identity headers in any spelling and the gateway's own fields are dropped; `Authorization` only
/// where the route forwards it; then `X-Forwarded-For`, `-Proto`, `-Host`, `X-Request-Id` and the identity headers
/// are added, and `Expect:`/`Accept:` (empty) keep libcurl from adding its own.
struct UpstreamRequestLines {
    private var bytes: UnsafeMutablePointer<UInt8>
    private(set) var byteCapacity: Int
    private var nodes: UnsafeMutablePointer<curl_slist>
    private var nodeCapacity: Int
    /// Bytes written by the last `build`; never above `byteCapacity` (checked by the engine's fuzz target).
    private(set) var used = 0
    private var nodeCount = 0
    /// The URL, NUL-terminated, in `bytes` after the lines.
    private(set) var url: UnsafePointer<CChar>?

    init() {
        byteCapacity = 4096
        nodeCapacity = 64
        bytes = .allocate(capacity: byteCapacity)
        nodes = .allocate(capacity: nodeCapacity)
    }

    func deallocate() {
        bytes.deallocate()
        nodes.deallocate()
    }

    var list: UnsafeMutablePointer<curl_slist>? { nodeCount > 0 ? nodes : nil }

    mutating func build(
        head: RequestHead, rules: [RequestFieldRule], buffer: UnsafeRawPointer, plan: ForwardPlan,
        identity: IdentityConfig, peer: String, trustedPeer: Bool = false, trace: RequestSpan? = nil,
        overTLS: Bool = false
    ) {
        build(
            head: head, rules: rules, buffer: buffer, plan: plan, identity: identity, peer: peer,
            trustedPeer: trustedPeer, traceParent: trace?.forwarded, tracestate: trace?.tracestate, overTLS: overTLS)
    }

    /// As `build(head:...trace:overTLS:)`, given the two parts of the request's trace the lines carry: the worker
    /// reads them where the request keeps its span (`request?.trace?.forwarded`), where passing the `RequestSpan?`
    /// copied the whole optional struct and destroyed it again (profile: `outlined init with copy of RequestSpan?`
    /// and its destroy under `build`, 0.13%).
    mutating func build(
        head: RequestHead, rules: [RequestFieldRule], buffer: UnsafeRawPointer, plan: ForwardPlan,
        identity: IdentityConfig, peer: String, trustedPeer: Bool, traceParent: TraceParent?, tracestate: String?,
        overTLS: Bool
    ) {
        let fields = head.fields
        var needed = plan.requestID.utf8.count + peer.utf8.count + 512
        for field in fields { needed += field.name.count + field.value.count + 3 }
        needed += plan.target.path.utf8.count + plan.target.query.utf8.count + plan.upstream.authority.utf8.count
        needed += plan.upstream.basePath.utf8.count
        // The client's Host goes out twice, as Host and as X-Forwarded-Host: a long one overran the buffer (a heap
        // overflow with the client's bytes, found with Fuzz/Sources/FuzzEngineHead).
        needed += plan.host?.count ?? 0
        if let claims = plan.claims {
            needed += claims.subject.utf8.count + (claims.unionid?.utf8.count ?? 0) + (claims.appid?.utf8.count ?? 0)
            needed += identity.openidHeader.utf8.count + identity.unionidHeader.utf8.count + 256
            needed += identity.appidHeader.utf8.count + identity.appKindHeader.utf8.count + 32
        }
        if traceParent != nil { needed += 96 + (tracestate?.utf8.count ?? 0) }
        reserve(bytes: needed, nodes: fields.count + 15)
        used = 0
        nodeCount = 0

        var connectionNamed = ConnectionNames()
        var hasAccept = false
        // A trusted proxy's X-Forwarded-* are kept: its list is appended to, its proto and host used.
        var forwardedFor: [ByteSpan] = []
        var forwardedProto: ByteSpan?
        var forwardedHost: ByteSpan?
        // The fields and their rules (one each, from the planner) read through their buffers: one check here, not a
        // bounds check per `rules[index]` (three a field) and an `enumerated()` iterator per loop.
        precondition(rules.count >= fields.count, "a rule per field")
        rules.withUnsafeBufferPointer { rules in
            fields.withUnsafeBufferPointer { fields in
                for index in 0..<fields.count where rules[index] == .connection {
                    connectionNamed.add(listedIn: fields[index].value.bytes(in: buffer))
                }
                for index in 0..<fields.count {
                    let field = fields[index]
                    let rule = rules[index]
                    let name = field.name.bytes(in: buffer)
                    if trustedPeer && rule == .drop && name.count >= 15 && name.count <= 17 {
                        if ConnectionNames.equalsLowercased(name, "x-forwarded-for") {
                            forwardedFor.append(field.value)
                        } else if ConnectionNames.equalsLowercased(name, "x-forwarded-proto") {
                            forwardedProto = forwardedProto ?? field.value
                        } else if ConnectionNames.equalsLowercased(name, "x-forwarded-host") {
                            forwardedHost = forwardedHost ?? field.value
                        }
                        continue
                    }
                    if traceParent != nil && rule == .forward && EngineRequestPlanner.isTraceContextField(name) {
                        continue
                    }
                    switch rule {
                    case .drop, .connection, .requestID: continue
                    case .authorization where !plan.forwardAuthorization: continue
                    case .authorization, .host, .forward: break
                    }
                    if connectionNamed.contains(name) { continue }
                    if name.count == 6 && ConnectionNames.equalsLowercased(name, "accept") { hasAccept = true }
                    appendLine(name: name, value: field.value.bytes(in: buffer))
                }
            }
        }
        if forwardedFor.isEmpty {
            appendLine(named: "X-Forwarded-For", peer)
        } else {
            let start = used
            append("X-Forwarded-For: " as StaticString)
            for value in forwardedFor {
                append(value.bytes(in: buffer))
                append(", " as StaticString)
            }
            append(peer)
            finishLine(from: start)
        }
        if let forwardedProto {
            appendLine(name: Self.raw("X-Forwarded-Proto"), value: forwardedProto.bytes(in: buffer))
        } else {
            // The client's own scheme: https on the TLS listener.
            appendLine(named: "X-Forwarded-Proto", overTLS ? "https" : "http")
        }
        if let host = forwardedHost ?? plan.host {
            appendLine(name: Self.raw("X-Forwarded-Host"), value: host.bytes(in: buffer))
        }
        appendLine(named: "X-Request-Id", plan.requestID)
        if let traceParent {
            let start = used
            append("traceparent: " as StaticString)
            traceParent.write(
                into: UnsafeMutableBufferPointer(start: bytes + used, count: TraceParent.headerValueCount))
            used += TraceParent.headerValueCount
            finishLine(from: start)
            if let tracestate { appendLine(named: "tracestate", tracestate) }
        }
        if let claims = plan.claims {
            appendLine(identity.openidHeader, claims.subject)
            if let unionid = claims.unionid { appendLine(identity.unionidHeader, unionid) }
            if let appid = claims.appid { appendLine(identity.appidHeader, appid) }
            appendLine(identity.appKindHeader, claims.appKind.rawValue)
        }
        appendLine(named: "Expect", "")
        if !hasAccept { appendLine(named: "Accept", "") }
        writeURL(plan)
    }

    private mutating func writeURL(_ plan: ForwardPlan) {
        let start = used
        append(plan.upstream.scheme.rawValue)
        append("://" as StaticString)
        append(plan.upstream.authority)
        append(plan.upstream.basePath)
        let path = plan.stripPrefix ? plan.target.strippingPrefix(plan.routePrefix) : plan.target.path
        append(path)
        append(plan.target.query)
        bytes[used] = 0
        used += 1
        url = UnsafeRawPointer(bytes + start).assumingMemoryBound(to: CChar.self)
    }

    /// `Name: value`, or `Name:` alone for an empty value: libcurl's spelling of "remove this header", which is what
    /// `Expect:` and `Accept:` are for. A client's empty field is sent as `Name;` (libcurl's empty header).
    private mutating func appendLine(_ name: String, _ value: String) {
        let start = used
        append(name)
        appendValue(value, ofLineFrom: start)
    }

    /// A line whose name the gateway spells (`X-Forwarded-For`...): the name's bytes are in the binary.
    private mutating func appendLine(named name: StaticString, _ value: String) {
        let start = used
        append(name)
        appendValue(value, ofLineFrom: start)
    }

    private mutating func appendValue(_ value: String, ofLineFrom start: Int) {
        if value.isEmpty {
            append(":" as StaticString)
        } else {
            append(": " as StaticString)
            append(value)
        }
        finishLine(from: start)
    }

    private mutating func appendLine(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        let start = used
        append(name)
        if value.isEmpty {
            append(";" as StaticString)
        } else {
            append(": " as StaticString)
            append(value)
        }
        finishLine(from: start)
    }

    private mutating func finishLine(from start: Int) {
        bytes[used] = 0
        used += 1
        let line = UnsafeMutableRawPointer(bytes + start).assumingMemoryBound(to: CChar.self)
        nodes[nodeCount] = curl_slist(data: line, next: nil)
        if nodeCount > 0 { nodes[nodeCount - 1].next = nodes + nodeCount }
        nodeCount += 1
    }

    private mutating func append(_ text: String) {
        // A native String lends its bytes as they are; only a bridged or lazy one is copied first.
        if text.utf8.withContiguousStorageIfAvailable({ append(UnsafeRawBufferPointer($0)) }) != nil { return }
        var text = text
        text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    private mutating func append(_ text: StaticString) {
        append(Self.raw(text))
    }

    private mutating func append(_ text: Substring) {
        var text = text
        text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    private mutating func append(_ raw: UnsafeRawBufferPointer) {
        guard let base = raw.baseAddress, raw.count > 0 else { return }
        UnsafeMutableRawPointer(bytes + used).copyMemory(from: base, byteCount: raw.count)
        used += raw.count
    }

    private static func raw(_ text: StaticString) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
    }

    private mutating func reserve(bytes needed: Int, nodes neededNodes: Int) {
        if needed > byteCapacity {
            bytes.deallocate()
            byteCapacity = needed
            bytes = .allocate(capacity: byteCapacity)
        }
        if neededNodes > nodeCapacity {
            nodes.deallocate()
            nodeCapacity = neededNodes
            nodes = .allocate(capacity: nodeCapacity)
        }
    }
}
