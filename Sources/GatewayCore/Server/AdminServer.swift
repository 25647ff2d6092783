import JSON
import NIOCore
import NIOHTTP1
import NIOPosix
import SmallHTTP

/// The admin listener (docs/architecture.md, "Beside the serving path"): `/healthz`, `/readyz`, `/metrics` and
/// `/sessions*` (AdminSessions), on its own address, never on the public listener. Served by the same
/// `SmallHTTPServer` as the simulator and the demo echo upstream.
public final class AdminServer: Sendable {
    /// What the admin endpoints report on.
    public struct Probes: Sendable {
        public var metrics: GatewayMetrics
        /// Config loaded and the store answering; not ready while draining.
        public var readiness: @Sendable () async -> Readiness
        /// Called before each scrape, to sample gauges (open connections, transfers in flight).
        public var beforeScrape: @Sendable () -> Void
        /// `[server] admin_token`, asked for on `/metrics` and `/sessions*`.
        public var credential = AdminCredential(token: nil)
        /// `/sessions*`; nil answers them 404 (a listener with nothing to act on).
        var sessions: AdminSessions?

        public init(
            metrics: GatewayMetrics, readiness: @escaping @Sendable () async -> Readiness,
            beforeScrape: @escaping @Sendable () -> Void = {}
        ) {
            self.metrics = metrics
            self.readiness = readiness
            self.beforeScrape = beforeScrape
        }
    }

    private let server: SmallHTTPServer

    public init(group: any EventLoopGroup, probes: Probes) {
        server = SmallHTTPServer(group: group, limits: .init(maxBodyBytes: 4096)) { request in
            await Self.respond(to: request, probes: probes)
        }
    }

    public func bind(host: String, port: Int) async throws -> any Channel {
        try await server.bind(host: host, port: port)
    }

    static func respond(to request: SmallRequest, probes: Probes) async -> SmallResponse {
        let noStore = [("Cache-Control", "no-store")]
        let endpoint = AdminEndpoint(method: request.method, uri: request.uri)
        if endpoint.requiresAdminToken,
            !probes.credential.admits(authorization: request.head.headers.first(name: "Authorization"))
        {
            // RFC 6750 section 3: the challenge names the scheme; no error code for a request without credentials.
            return .json(
                .unauthorized, "{\"error\":\"unauthorized\"}",
                headers: [("WWW-Authenticate", "Bearer realm=\"gateway-admin\"")] + noStore)
        }
        switch endpoint {
        case .health:
            return .json(.ok, "{\"status\":\"up\"}", headers: noStore)
        case .metrics:
            probes.beforeScrape()
            // The text format's media type (Prometheus "Exposition formats", version 0.0.4).
            return SmallResponse(
                status: .ok, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")] + noStore,
                body: ByteBuffer(bytes: probes.metrics.exposition()))
        case .readiness:
            switch await probes.readiness() {
            case .ready:
                return .json(.ok, "{\"status\":\"ready\"}", headers: noStore)
            case .notReady(let reason):
                return .json(
                    .serviceUnavailable,
                    "{\"status\":\"not_ready\",\"reason\":\"\(JSONString.escape(reason))\"}", headers: noStore)
            }
        case .listSessions, .revokeSessions:
            guard let sessions = probes.sessions else {
                return .json(.notFound, "{\"error\":\"not_found\"}", headers: noStore)
            }
            let parsed =
                endpoint == .listSessions
                ? AdminSessionsRequest.listing(uri: request.uri)
                : AdminSessionsRequest.revocation(body: Array(request.body.readableBytesView))
            switch parsed {
            case .failure(let error): return AdminSessions.badRequest(error.message)
            case .success(let asked):
                return endpoint == .listSessions ? await sessions.list(asked) : await sessions.revoke(asked)
            }
        case .notFound:
            return .json(.notFound, "{\"error\":\"not_found\"}", headers: noStore)
        case .methodNotAllowed:
            return .json(
                .methodNotAllowed, "{\"error\":\"method_not_allowed\"}",
                headers: [("Allow", AdminEndpoint.allowedMethods(uri: request.uri))] + noStore)
        }
    }
}
