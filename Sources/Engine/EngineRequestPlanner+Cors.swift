import GatewayCore

/// CORS on the engine's path (issue 23): what `CorsPolicy` reads of a request head, taken from the byte view. Only
/// looked at when `[cors]` is on; `Origin` and `Access-Control-Request-Method` become strings only when present.
extension EngineRequestPlanner {
    /// `cors`'s decision for `head`, made before anything else; nil with CORS off.
    func corsDecision(_ head: RequestHead, in buffer: UnsafeRawPointer) -> CorsPolicy.Decision? {
        guard let cors else { return nil }
        return cors.decide(Self.corsRequest(head, in: buffer))
    }

    /// The fields every answer to an ordinary request gets: a refused preflight or
    /// upgrade has CORS on but no fields.
    static func answerFields(_ decision: CorsPolicy.Decision?) -> CorsPolicy.AnswerFields {
        switch decision {
        case nil: return .none
        case .decorate(let fields): return fields
        case .answerPreflight, .refusePreflight, .refuseWebSocket:
            var active = CorsPolicy.AnswerFields.none
            active.isActive = true
            return active
        }
    }

    static func corsRequest(_ head: RequestHead, in buffer: UnsafeRawPointer) -> CorsRequest {
        var origin: String?
        var originCount = 0
        var requestMethod: String?
        var upgradesToWebSocket = false
        for field in head.fields {
            let name = field.name.bytes(in: buffer)
            switch name.count {
            case 6 where ConnectionNames.equalsLowercased(name, "origin"):
                originCount += 1
                if origin == nil { origin = String(decoding: field.value.bytes(in: buffer), as: UTF8.self) }
            case 29
            where requestMethod == nil
                && ConnectionNames.equalsLowercased(name, "access-control-request-method"):
                requestMethod = String(decoding: field.value.bytes(in: buffer), as: UTF8.self)
            case 7 where ConnectionNames.equalsLowercased(name, "upgrade"):
                // RFC 9110 section 7.8: a list of protocols, case-insensitive.
                let value = String(decoding: field.value.bytes(in: buffer), as: UTF8.self).lowercased()
                upgradesToWebSocket = upgradesToWebSocket || value.contains("websocket")
            default: break
            }
        }
        return CorsRequest(
            method: head.method, origin: origin, originCount: originCount, requestMethod: requestMethod,
            isWebSocketUpgrade: upgradesToWebSocket)
    }
}
