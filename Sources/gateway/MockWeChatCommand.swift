import ArgumentParser
import GatewayCore
import Logging
import ServiceLifecycle
import WeChatSimulator

/// `gateway mock-wechat`: runs the WeChat API simulator (docs/architecture.md, "Beside the serving
/// path") until SIGTERM/SIGINT.
struct MockWeChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-wechat",
        abstract: "Run the WeChat API simulator for development and tests.",
        discussion: """
            Speaks WeChat's real paths and JSON (jscode2session, stable_token, getuserphonenumber) and the web
            login (/connect/oauth2/authorize, /connect/qrconnect, /sns/oauth2/access_token, /sns/userinfo;
            see docs/wechat.md). Authorize pages redirect only to loopback hosts and --redirect-host ones.
            Codes: 'invalid…' → 40029, 'busy…' → -1, 'limit…' → 45011, 'blocked…' → 40226, a second use → 40163,
            'openid:X' → openid X, '…+union' → with a unionid, 'slow…' → answers after a delay,
            'snapshot…' → a snapshot-mode virtual user (web login; sim_user=snapshot on the authorize pages).
            Apps come from --appid/--secret, or from [[wechat.apps]] of --config when that file exists.
            """
    )

    @Option(help: "Address to listen on.")
    var listen: String = "127.0.0.1:9100"

    @Option(help: "An appid to accept (with --secret).")
    var appid: String?

    @Option(help: "The secret of --appid.")
    var secret: String?

    @Option(help: "A host (besides loopback ones) the authorize pages may redirect to; repeatable.")
    var redirectHost: [String] = []

    @Option(help: "Read the apps from this gateway.conf when --appid is not given.")
    var config: String = "./gateway.conf"

    func run() async throws {
        guard let address = ListenAddress(configText: listen) else {
            throw ValidationError("--listen \"\(listen)\" is not host:port")
        }
        var apps: [String: String] = [:]
        if let appid {
            guard let secret else { throw ValidationError("--appid needs --secret") }
            apps[appid] = secret
        } else if case .success(let loaded) = ConfigLoader().load(file: config) {
            for app in loaded.wechat.apps { apps[app.appid] = app.secret }
        } else {
            apps["wx0000000000000001"] = "dev-secret"
        }
        let logger = bootstrapLogging(level: .info)
        let simulator = WeChatSimulator(
            configuration: WeChatSimulatorConfiguration(
                apps: apps, host: address.host, port: address.port, redirectHosts: redirectHost))
        let service = SimulatorService(simulator: simulator, logger: logger)
        try await ServiceGroup(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger).run()
    }
}

/// Runs a `WeChatSimulator` under service-lifecycle.
struct SimulatorService: Service {
    let simulator: WeChatSimulator
    let logger: Logger

    func run() async throws {
        let port = try await simulator.start()
        logger.info(
            "WeChat simulator listening",
            metadata: [
                "listen": "\(simulator.configuration.host):\(port)",
                "apps": "\(simulator.configuration.apps.keys.sorted().joined(separator: ","))",
            ])
        try? await gracefulShutdown()
        await simulator.stop()
    }
}
