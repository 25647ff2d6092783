#if canImport(Glibc)
import Foundation
import GatewayCore

/// CORS answers the engine makes itself (docs/configuration.md, `[cors]`): a preflight from an allowed origin
/// gets 204 with the policy's fields, any other preflight (and, with `check_websocket_origin`, an upgrade from a
/// foreign origin) a 403 `origin_not_allowed`; neither reaches routing, authentication or an upstream.
extension EngineWorker {
    /// True: the request was answered here.
    func answerCors(
        _ decision: CorsPolicy.Decision, _ client: EngineClient, head: RequestHead,
        shape: EngineConnection.RequestShape, body: EngineConnection.RequestBody
    ) -> Bool {
        let route: String?
        switch decision {
        case .decorate: return false
        case .answerPreflight, .refusePreflight: route = "preflight"
        case .refuseWebSocket: route = nil
        }
        // A head the planner refuses (no single valid Host, over the size limit) is answered that way, preflight or
        // not: left to the usual path, which keeps these CORS answer fields.
        if settings.planner.admissionRefusal(head, in: client.input) != nil { return false }
        let target = head.target.bytes(in: client.input)
        let path = String(decoding: target.prefix { $0 != UInt8(ascii: "?") }, as: UTF8.self)[...]
        client.request = InFlightRequest(
            requestID: RequestID.generate(), method: head.method, path: path, route: route, upstream: nil,
            openid: nil, isHead: shape.isHead, isHTTP10: shape.isHTTP10, startedAt: Date())
        client.request?.cors = EngineRequestPlanner.answerFields(decision)
        guard case .answer(let then) = client.connection.headReceived(shape, forward: false, body: body) else {
            destroy(client)
            return true
        }
        guard case .answerPreflight(let fields) = decision else {
            answer(client, .originNotAllowed, then: then, shape: shape)
            return true
        }
        ClientHeadWriter.writePreflight(
            fields, requestID: client.request?.requestID ?? "", closes: then != .next, isHTTP10: shape.isHTTP10,
            into: &client.output)
        client.request?.status = 204
        finish(client, error: nil)
        markDirty(client)
        proceed(client, then)
        return true
    }
}
#endif
