import CurlHTTP
import Foundation
import NIOCore
import NIOHTTP1

/// The WebSocket upgrade: opening the tunnel, relaying its events, handing the connection over.
extension ProxyHandler {
    // MARK: WebSocket upgrade

    /// Takes a place under `[websocket] max_tunnels` (503 when none is left) and `max_tunnels_per_user` (429), and
    /// checks the token again once the tunnel is recorded (`TunnelRegistry.admit`), all before any upstream
    /// connection; then opens the tunnel. Reads stay held until the upstream has answered.
    func openTunnel(_ plan: TunnelPlan, record: RequestRecord) {
        guard let context, let tunnels, let tunnelInbox = tunnels.inbox(for: context.eventLoop) else {
            return answer(
                .internalError("websocket tunnels are not available"), record: record, version: .http1_1,
                isHeadRequest: false, keepAlive: false, bodyUnread: false)
        }
        let session = TunnelSession(plan: plan, services: tunnels, inbox: tunnelInbox, record: record, proxy: self)
        let tunnel = tunnels.client.makeTunnel(plan.request, delegate: session, affinity: tunnelInbox.index)
        let limits = runtime.config.websocket
        let refusal: GatewayError
        switch tunnels.registry.admit(
            tunnel, identity: plan.identity, limit: limits.maxTunnels, perUserLimit: limits.maxTunnelsPerUser)
        {
        case .admitted:
            session.tunnel = tunnel
            state = .openingTunnel(session)
            readsHeld = true
            tunnels.client.open(tunnel)
            return
        case .full: refusal = .tooManyTunnels
        case .userFull: refusal = .tooManyTunnelsForUser
        case .revoked: refusal = .authentication(.invalidToken(.revoked))
        }
        session.proxy = nil
        answer(refusal, record: record, version: .http1_1, isHeadRequest: false, keepAlive: false, bodyUnread: false)
    }

    /// The upstream's answer to the upgrade. Returns whether bytes were written that the inbox should flush.
    func receive(tunnelEvent event: CurlTunnelEvent, for session: TunnelSession) -> Bool {
        guard case .openingTunnel(let current) = state, current === session, let context, let writer else {
            return false
        }
        var record = session.record
        record.log.upstream = session.plan.pool.upstreams[session.plan.upstreamIndex].description
        switch event {
        case .switched(let head):
            session.plan.pool.recordSuccess(session.plan.upstreamIndex)
            guard writer.writeSwitchingHead(head, requestID: record.log.requestID) else {
                session.tunnel?.close(reason: "upstream_broken: invalid 101 answer")
                state = .idle
                session.proxy = nil
                record.log.error = "upstream_broken: invalid 101 answer"
                answer(
                    .upstreamBroken, record: record, version: .http1_1, isHeadRequest: false, keepAlive: false,
                    bodyUnread: false)
                return false
            }
            session.record = record
            handOver(session, context: context)
            return false
        case .refused(let head, let body):
            session.plan.pool.recordSuccess(session.plan.upstreamIndex)
            state = .idle
            session.proxy = nil
            record.log.status = head.status
            guard
                let (framing, _) = writer.writeUpstreamHead(
                    head, requestID: record.log.requestID, version: .http1_1, keepAlive: false, isHeadRequest: false,
                    cors: record.cors)
            else {
                record.log.error = "upstream_broken: invalid response header"
                answer(
                    .upstreamBroken, record: record, version: .http1_1, isHeadRequest: false, keepAlive: false,
                    bodyUnread: false)
                return false
            }
            if framing != .noBody && body.readableBytes > 0 {
                writer.writeBodyPart(body, framing: framing)
                record.log.bytesOut = body.readableBytes
            }
            writer.writeEnd(framing: framing)
            finish(record, .forwarded)
            let channel = context.channel
            context.writeAndFlush(NIOAny(IOData.byteBuffer(ByteBuffer()))).whenComplete { _ in
                channel.close(promise: nil)
            }
            return false
        case .closed(let end):
            state = .idle
            session.proxy = nil
            let error: GatewayError
            switch end {
            case .failed(let failure):
                if case .couldNotConnect = failure {
                    session.plan.pool.recordConnectFailure(session.plan.upstreamIndex)
                }
                record.log.error = Self.describe(failure)
                error = GatewayError(failure)
            case .closedByGateway("revoked"):
                error = .authentication(.invalidToken(.revoked))
            case .closedByGateway(let reason):
                record.log.error = reason
                error = .upstreamUnreachable
            case .clientClosed, .upstreamClosed:
                error = .upstreamBroken
            }
            answer(error, record: record, version: .http1_1, isHeadRequest: false, keepAlive: false, bodyUnread: false)
            return false
        case .data, .canSendMore:
            return false
        }
    }

    /// The upstream switched protocols and its 101 is written: the HTTP handlers leave the pipeline and
    /// `TunnelRelay` takes the connection. Bytes the client sent after its request head (NIO's parser kept them)
    /// reach the relay first.
    func handOver(_ session: TunnelSession, context: ChannelHandlerContext) {
        guard let tunnel = session.tunnel else { return }
        state = .idle
        timer = .none
        deadlines.unregister(self)
        context.flush()
        let relay = TunnelRelay(session: session, tunnel: tunnel)
        session.proxy = nil
        session.relay = relay
        let pipeline = context.pipeline.syncOperations
        do {
            try pipeline.addHandler(relay, position: .before(self))
            if let decoder = try? pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self) {
                pipeline.removeHandler(decoder, promise: nil)
            }
            if let detector = try? pipeline.handler(type: RequestStartDetector.self) {
                pipeline.removeHandler(detector, promise: nil)
            }
            pipeline.removeHandler(context: context, promise: nil)
        } catch {
            tunnel.close(reason: "internal_error")
            context.close(promise: nil)
        }
    }
}
